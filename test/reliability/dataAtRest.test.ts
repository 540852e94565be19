// Data at rest, tried as a new user would: a data dir created beforehand with mode 755 under
// umask 022. Every file and folder Mimic and its embedded Azurite write must be owner-only;
// Key Vault values are sealed, and so are blob contents, blob names and metadata, queue
// messages and table entities (names and values): no marker is found in clear on disk.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { createAccount, createChild, raw as storageRaw } from '../storage/helpers.js';
import { arm, createVault, raw as kvRaw, ROLES as KV_ROLES, assignRole } from '../keyvault/helpers.js';
import { ROLE } from '../storage/helpers.js';

async function* walk(path: string): AsyncGenerator<{ path: string; mode: number; dir: boolean }> {
  const st = await lstat(path);
  yield { path, mode: st.mode & 0o777, dir: st.isDirectory() };
  if (st.isDirectory()) for (const name of await readdir(path)) yield* walk(join(path, name));
}

async function filesContaining(dir: string, marker: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of walk(dir)) if (!e.dir && (await readFile(e.path)).includes(marker)) found.push(e.path.slice(dir.length + 1));
  return found;
}

describe('data at rest in a data dir pre-created 0755', () => {
  let m: TestMimic;
  let dataDir: string;
  const marker = (what: string) => `MIMIC-MARKER-${what}-${randomBytes(8).toString('hex')}`;
  const markers = {
    secret: marker('secret'),
    blob: marker('blob'),
    blobName: marker('blobname'),
    blobMetadata: marker('blobmeta'),
    queue: marker('queue'),
    table: marker('table'),
    tableProperty: `P${randomBytes(8).toString('hex')}`,
  };

  before(async () => {
    process.umask(0o022);
    dataDir = await mkdtemp(join(tmpdir(), 'mimic-rest-'));
    await chmod(dataDir, 0o755);
    await writeFile(join(dataDir, 'notes.txt'), 'left by the user\n', { mode: 0o644 });
    m = await startTestMimic('sqlite', { dataDir });
    const a = await arm(m);
    const rg = `${a.sub}/resourceGroups/rest`;
    assert.equal((await a.call('PUT', rg, { location: 'eastus' }, '2025-04-01')).status, 201);
    const admin = m.context.tenant.adminObjectId;
    const token = (resource: string) => m.tokens.mint(m.directory.byObject(admin)!, { resource, lifetimeSeconds: 3600, appidacr: '1' }).accessToken;
    const vault = await createVault(a, 'rest', 'mimic-rest', { enableRbacAuthorization: true });
    await assignRole(a, rg, KV_ROLES.secretsOfficer, admin);
    assert.equal((await kvRaw(m, vault, 'PUT', '/secrets/s', { token: token('https://vault.azure.net'), body: { value: markers.secret } })).status, 200);
    const account = await createAccount(a, 'rest', 'mimicrest');
    await createChild(a, account, 'container', 'box');
    await createChild(a, account, 'queue', 'inbox');
    await createChild(a, account, 'table', 'ledger');
    for (const role of [ROLE.blobContributor, '974c5e8b-45b9-4653-ba55-5f855dd0fb88', ROLE.tableContributor]) await assignRole(a, rg, role, admin);
    const st = { authorization: `Bearer ${token('https://storage.azure.com')}` };
    assert.equal((await storageRaw(m, 'PUT', `${account.endpoints.blob}box/${markers.blobName}`, { ...st, 'x-ms-blob-type': 'BlockBlob', 'x-ms-meta-note': markers.blobMetadata }, markers.blob)).status, 201);
    assert.equal((await storageRaw(m, 'POST', `${account.endpoints.queue}inbox/messages`, { ...st, 'content-type': 'application/xml' }, `<QueueMessage><MessageText>${markers.queue}</MessageText></QueueMessage>`)).status, 201);
    const t = await storageRaw(m, 'POST', `${account.endpoints.table}ledger`, { ...st, 'content-type': 'application/json', accept: 'application/json;odata=nometadata' }, JSON.stringify({ PartitionKey: 'p', RowKey: 'r', note: markers.table, [markers.tableProperty]: 1 }));
    assert.equal(t.status, 201, t.text);
    // Stop, so every store and Azurite database is flushed to disk.
    await m.close();
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('no file or folder under it is readable, writable or searchable by group or others', async () => {
    let n = 0;
    for await (const e of walk(dataDir)) {
      assert.equal(e.mode & 0o077, 0, `${e.path} is ${e.mode.toString(8)}`);
      n++;
    }
    assert.ok(n > 10, `only ${n} entries: did Azurite write nothing?`);
  });

  test('Key Vault values are sealed: the secret is nowhere in clear', async () => {
    assert.deepEqual(await filesContaining(dataDir, markers.secret), []);
  });

  test('blob contents, names and metadata, queue messages and table entities are nowhere in clear', async () => {
    for (const [what, value] of Object.entries(markers)) assert.deepEqual(await filesContaining(dataDir, value), [], `the ${what} marker is in clear`);
  });

  test("the emulator's databases and extents are in Mimic's sealed formats", async () => {
    const azurite = join(dataDir, 'azurite');
    const marker = JSON.parse(await readFile(join(azurite, 'sealed.json'), 'utf8')) as { format: string };
    assert.equal(marker.format, 'mimic-sealed-storage-v1');
    for (const db of ['blob/__azurite_db_blob__.json', 'blob/__azurite_db_blob_extent__.json', 'queue/__azurite_db_queue__.json', 'queue/__azurite_db_queue_extent__.json', 'table/__azurite_db_table__.json']) {
      assert.equal((await readFile(join(azurite, db))).subarray(0, 4).toString('latin1'), 'MSD1', db);
    }
    for (const service of ['blob', 'queue']) {
      const extents = await readdir(join(azurite, service, 'sealed-extents'));
      assert.ok(extents.length > 0, `no ${service} extent written`);
      for (const e of extents) assert.equal((await readFile(join(azurite, service, 'sealed-extents', e))).subarray(0, 4).toString('latin1'), 'MSX1', e);
      await assert.rejects(lstat(join(azurite, service, 'extents')), { code: 'ENOENT' });
    }
  });
});
