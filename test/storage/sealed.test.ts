// Storage contents sealed at rest, through the real SDKs (@azure/storage-blob,
// @azure/storage-queue, @azure/data-tables): small and multi-MB parallel uploads, range
// downloads, append and page blobs, queue messages, table entities, all read back after a
// restart; an altered extent cutting a download off after its last intact frame; a data dir
// left in clear by an older Mimic sealed at start and still readable; and the storage of one
// master key refused under another, with nothing changed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { storageCall } from '../../src/services/storage/client.js';
import type { SigningService } from '../../src/services/storage/sharedKey.js';
import { arm, assignRole, createAccount, createChild, sdk, ROLE, type Account, type Arm } from './helpers.js';

const MiB = 1024 * 1024;
const BIG = { seed: 'big', size: 6 * MiB + 12_345 };

const gone = (err: unknown) => {
  // A running emulator renames its saves into place: a file listed a moment ago may be gone.
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  return undefined;
};

async function* walk(path: string): AsyncGenerator<string> {
  const st = await lstat(path).catch(gone);
  if (!st) return;
  if (!st.isDirectory()) yield path;
  else for (const name of (await readdir(path).catch(gone)) ?? []) yield* walk(join(path, name));
}

async function filesContaining(dir: string, text: string): Promise<string[]> {
  const found: string[] = [];
  for await (const f of walk(dir)) if ((await readFile(f).catch(gone))?.includes(text)) found.push(f.slice(dir.length + 1));
  return found;
}

async function treeHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  const files: string[] = [];
  for await (const f of walk(dir)) files.push(f);
  for (const f of files.sort()) h.update(f).update((await readFile(f).catch(gone)) ?? '');
  return h.digest('hex');
}

/** A download that reports how much arrived and whether the response was cut off. */
function get(m: TestMimic, url: string, token: string, range?: string): Promise<{ status: number; received: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: m.context.tls.caCertPem, headers: { authorization: `Bearer ${token}`, 'x-ms-version': '2025-11-05', ...(range ? { range } : {}) } }, (res) => {
      let received = 0;
      res.on('data', (c: Buffer) => (received += c.length));
      res.on('error', () => undefined); // the cut-off is reported through `complete`
      res.on('close', () => resolve({ status: res.statusCode ?? 0, received, complete: res.complete }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The account's endpoints after a restart (ports are new with port 0). */
async function reopened(m: TestMimic, account: Account): Promise<{ a: Arm; account: Account }> {
  const a = await arm(m);
  const endpoints = (await a.call('GET', account.id)).body.properties.primaryEndpoints;
  return { a, account: { ...account, endpoints } };
}

const ok = (results: { ok: boolean }[]) => assert.ok(results.every((r) => r.ok), JSON.stringify(results));

describe('storage contents sealed at rest, through the real SDKs', () => {
  let m: TestMimic;
  let account: Account;
  let admin: { key: true; env: Record<string, string> };
  const marker = `MIMIC-SEALED-${randomBytes(6).toString('hex')}`;

  before(async () => {
    m = await startTestMimic('sqlite');
    const a = await arm(m);
    assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/seal`, { location: 'eastus' }, '2025-04-01')).status, 201);
    account = await createAccount(a, 'seal', 'mimicseal');
    await createChild(a, account, 'container', 'files');
    await createChild(a, account, 'queue', 'jobs');
    await createChild(a, account, 'table', 'rows');
    admin = { key: true, env: m.adminEnv };
  });
  after(() => m.dispose());

  test('a small upload and a multi-MB parallel block upload read back whole and in ranges', async () => {
    const r = await sdk(account, admin, [
      { op: 'upload', container: 'files', blob: 'small.txt', text: `hello ${marker}` },
      { op: 'uploadPattern', container: 'files', blob: 'big.bin', ...BIG, blockSize: MiB, concurrency: 4 },
      { op: 'download', container: 'files', blob: 'small.txt' },
      { op: 'checkPattern', container: 'files', blob: 'big.bin', ...BIG },
      { op: 'checkPattern', container: 'files', blob: 'big.bin', ...BIG, offset: 0, count: 100 },
      { op: 'checkPattern', container: 'files', blob: 'big.bin', ...BIG, offset: 65_530, count: 20 },
      { op: 'checkPattern', container: 'files', blob: 'big.bin', ...BIG, offset: MiB - 10, count: 3 * MiB },
      { op: 'checkPattern', container: 'files', blob: 'big.bin', ...BIG, offset: 5 * MiB + 7 },
      { op: 'downloadRange', container: 'files', blob: 'small.txt', offset: 6, count: 12 },
    ]);
    ok(r);
    assert.equal(r[1]!.value, 7, 'committed blocks');
    assert.equal(r[2]!.value, `hello ${marker}`);
    assert.deepEqual(r[3]!.value, { length: BIG.size, equal: true, contentRange: null });
    assert.deepEqual(r[4]!.value, { length: 100, equal: true, contentRange: `bytes 0-99/${BIG.size}` });
    assert.deepEqual(r[5]!.value, { length: 20, equal: true, contentRange: `bytes 65530-65549/${BIG.size}` });
    assert.deepEqual(r[6]!.value, { length: 3 * MiB, equal: true, contentRange: `bytes ${MiB - 10}-${4 * MiB - 11}/${BIG.size}` });
    assert.equal((r[7]!.value as { length: number; equal: boolean }).length, BIG.size - 5 * MiB - 7);
    assert.equal((r[7]!.value as { equal: boolean }).equal, true);
    assert.equal(r[8]!.value, marker.slice(0, 12));
  });

  test('append blobs and page blobs', async () => {
    const r = await sdk(account, admin, [
      { op: 'appendBlob', container: 'files', blob: 'log.txt', parts: ['alpha-', 'beta-', `gamma-${marker}`] },
      { op: 'download', container: 'files', blob: 'log.txt' },
      { op: 'downloadRange', container: 'files', blob: 'log.txt', offset: 3, count: 8 },
      { op: 'pageBlob', container: 'files', blob: 'disk.vhd', size: 2048, pages: [{ offset: 0, text: 'first page' }, { offset: 1024, text: 'third page' }] },
      { op: 'downloadBase64', container: 'files', blob: 'disk.vhd' },
      { op: 'downloadBase64', container: 'files', blob: 'disk.vhd', offset: 1026, count: 8 },
    ]);
    ok(r);
    assert.equal(r[1]!.value, `alpha-beta-gamma-${marker}`);
    assert.equal(r[2]!.value, 'ha-beta-');
    const disk = Buffer.from(r[4]!.value as string, 'base64');
    const page = (text: string) => Buffer.from(text.padEnd(512, '.'));
    assert.ok(disk.equals(Buffer.concat([page('first page'), Buffer.alloc(512), page('third page'), Buffer.alloc(512)])));
    assert.equal(Buffer.from(r[5]!.value as string, 'base64').toString(), 'ird page');
  });

  test('queue messages: send, peek, receive', async () => {
    const r = await sdk(account, admin, [
      { op: 'send', queue: 'jobs', text: `one ${marker}` },
      { op: 'send', queue: 'jobs', text: 'two' },
      { op: 'peek', queue: 'jobs' },
      { op: 'receive', queue: 'jobs' },
      { op: 'send', queue: 'jobs', text: `kept ${marker}` },
    ]);
    ok(r);
    assert.deepEqual(r[2]!.value, [`one ${marker}`, 'two']);
    assert.deepEqual(r[3]!.value, [`one ${marker}`, 'two']);
  });

  test('table entities: insert, query, get', async () => {
    const r = await sdk(account, admin, [
      { op: 'insert', table: 'rows', pk: 'p', rk: 'r1', props: { note: `n1 ${marker}`, count: 3 } },
      { op: 'insert', table: 'rows', pk: 'p', rk: 'r2', props: { note: 'n2' } },
      { op: 'query', table: 'rows' },
      { op: 'getEntity', table: 'rows', pk: 'p', rk: 'r1' },
    ]);
    ok(r);
    assert.deepEqual(r[2]!.value, ['r1', 'r2']);
    assert.deepEqual(r[3]!.value, { note: `n1 ${marker}`, count: 3 });
  });

  test('everything reads back after a restart, and nothing of it is in clear on disk', async () => {
    m = await m.restart();
    const again = (await reopened(m, account)).account;
    const r = await sdk(again, admin, [
      { op: 'download', container: 'files', blob: 'small.txt' },
      { op: 'checkPattern', container: 'files', blob: 'big.bin', ...BIG },
      { op: 'checkPattern', container: 'files', blob: 'big.bin', ...BIG, offset: 2 * MiB - 1, count: 2 },
      { op: 'download', container: 'files', blob: 'log.txt' },
      { op: 'peek', queue: 'jobs' },
      { op: 'getEntity', table: 'rows', pk: 'p', rk: 'r1' },
      { op: 'appendBlob', container: 'files', blob: 'log.txt', parts: ['-delta'] },
      { op: 'download', container: 'files', blob: 'log.txt' },
    ]);
    ok(r);
    assert.equal(r[0]!.value, `hello ${marker}`);
    assert.equal((r[1]!.value as { equal: boolean }).equal, true);
    assert.deepEqual(r[2]!.value, { length: 2, equal: true, contentRange: `bytes ${2 * MiB - 1}-${2 * MiB}/${BIG.size}` });
    assert.equal(r[3]!.value, `alpha-beta-gamma-${marker}`);
    // The two received messages are invisible for 30 s; the one sent after them is there.
    assert.deepEqual(r[4]!.value, [`kept ${marker}`]);
    assert.deepEqual(r[5]!.value, { note: `n1 ${marker}`, count: 3 });
    assert.equal(r[7]!.value, `alpha-beta-gamma-${marker}-delta`);
    assert.deepEqual(await filesContaining(m.dataDir, marker), []);
  });

  test('an altered extent breaks the download off instead of returning wrong bytes', async () => {
    const { a, account: again } = await reopened(m, account);
    const extents = join(m.dataDir, 'azurite', 'blob', 'sealed-extents');
    const before = new Set(await readdir(extents));
    ok(await sdk(again, admin, [{ op: 'uploadPattern', container: 'files', blob: 'victim.bin', seed: 'victim', size: 300_000, blockSize: 300_000, concurrency: 1 }]));
    const added = (await readdir(extents)).filter((f) => !before.has(f));
    assert.equal(added.length, 1, added.join());
    const path = join(extents, added[0]!);
    const bytes = await readFile(path);
    bytes[bytes.length - 3]! ^= 1;
    await writeFile(path, bytes);
    const adminOid = m.context.tenant.adminObjectId;
    assert.equal((await assignRole(a, `${account.id}/blobServices/default/containers/files`, ROLE.blobReader, adminOid)).status, 201);
    const token = m.tokens.mint(m.directory.byObject(adminOid)!, { resource: 'https://storage.azure.com', lifetimeSeconds: 600, appidacr: '1' }).accessToken;
    const url = `${again.endpoints.blob}files/victim.bin`;
    const whole = await get(m, url, token);
    // Only the frames before the altered one (64 KiB each) went out, then the connection was cut.
    assert.deepEqual(whole, { status: 200, received: 4 * 65_536, complete: false });
    // The intact frames before it still read.
    assert.deepEqual(await get(m, url, token, 'bytes=0-99'), { status: 206, received: 100, complete: true });
  });
});

/**
 * Runs the emulator as Mimic did before storage was sealed: Azurite's own server classes, with
 * the same layout under `location` (clear LokiJS databases, clear shared extent files).
 */
async function asAnOlderMimic(location: string, account: { name: string; key: Buffer }, work: (call: (service: SigningService, method: string, path: string, headers?: Record<string, string>, body?: string) => Promise<number>) => Promise<void>): Promise<void> {
  const require = createRequire(import.meta.url);
  const load = (path: string) => (require(`azurite/dist/src/${path}`) as { default: new (...args: unknown[]) => any }).default;
  const d = (s: string) => join(location, s);
  const common = [false, undefined, false, undefined, true, true, '', '', '', 'basic', false, false];
  const servers = {
    blob: new (load('blob/BlobServer'))(new (load('blob/BlobConfiguration'))('127.0.0.1', 0, 30, d('blob/__azurite_db_blob__.json'), d('blob/__azurite_db_blob_extent__.json'), [{ locationId: 'Default', locationPath: d('blob/extents'), maxConcurrency: 10 }], ...common)),
    queue: new (load('queue/QueueServer'))(new (load('queue/QueueConfiguration'))('127.0.0.1', 0, 30, d('queue/__azurite_db_queue__.json'), d('queue/__azurite_db_queue_extent__.json'), [{ locationId: 'Default', locationPath: d('queue/extents'), maxConcurrency: 1 }], ...common)),
    table: new (load('table/TableServer'))(new (load('table/TableConfiguration'))('127.0.0.1', 0, 30, d('table/__azurite_db_table__.json'), false, false, undefined, undefined, true, true, '', '', '', 'basic', false, false)),
  };
  const origins: Record<string, string> = {};
  const started: { close(): Promise<void> }[] = [];
  try {
    for (const [service, server] of Object.entries(servers)) {
      await mkdir(d(service), { recursive: true });
      server.accountDataStore.getAccount = (name: string) => (name === account.name ? { name, key1: account.key } : undefined);
      await server.start();
      started.push(server);
      origins[service] = `http://127.0.0.1:${((server.httpServer as Server).address() as AddressInfo).port}`;
    }
    await work(async (service, method, path, headers = {}, body) => {
      const r = await storageCall({ method, url: `${origins[service]}/${account.name}${path}`, headers, ...(body !== undefined ? { body } : {}), sharedKey: { service, account: account.name, key: account.key } });
      return r.status;
    });
  } finally {
    for (const server of started) await server.close();
  }
}

describe('a data dir left in clear by an older Mimic', () => {
  let m: TestMimic;
  let account: Account;
  const marker = `MIMIC-LEGACY-${randomBytes(6).toString('hex')}`;
  const blocks = ['block-one-', `block-two-${marker}-`, 'block-three'];

  before(async () => {
    m = await startTestMimic('sqlite');
    const a = await arm(m);
    assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/old`, { location: 'eastus' }, '2025-04-01')).status, 201);
    account = await createAccount(a, 'old', 'mimicold');
    await createChild(a, account, 'container', 'legacy');
    await createChild(a, account, 'queue', 'legacyq');
    await createChild(a, account, 'table', 'legacyt');
    await m.close();
    // What an older Mimic would have left: the same containers and data, all in clear.
    const location = join(m.dataDir, 'azurite');
    await rm(location, { recursive: true, force: true });
    await asAnOlderMimic(location, { name: account.name, key: Buffer.from(account.key, 'base64') }, async (call) => {
      assert.equal(await call('blob', 'PUT', '/legacy?restype=container'), 201);
      assert.equal(await call('blob', 'PUT', '/legacy/first.txt', { 'x-ms-blob-type': 'BlockBlob' }, `first ${marker}`), 201);
      // Several blocks: appended one after another into the same shared extent file.
      const ids = blocks.map((_, i) => Buffer.from(`block-${i}`).toString('base64'));
      for (const [i, text] of blocks.entries()) assert.equal(await call('blob', 'PUT', `/legacy/blocks.txt?comp=block&blockid=${encodeURIComponent(ids[i]!)}`, {}, text), 201);
      const list = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`;
      assert.equal(await call('blob', 'PUT', '/legacy/blocks.txt?comp=blocklist', { 'content-type': 'application/xml' }, list), 201);
      assert.equal(await call('queue', 'PUT', '/legacyq'), 201);
      assert.equal(await call('queue', 'POST', '/legacyq/messages', { 'content-type': 'application/xml' }, `<QueueMessage><MessageText>msg ${marker}</MessageText></QueueMessage>`), 201);
      assert.equal(await call('table', 'POST', '/Tables', { 'content-type': 'application/json', accept: 'application/json;odata=nometadata' }, JSON.stringify({ TableName: 'legacyt' })), 201);
      assert.equal(await call('table', 'POST', '/legacyt', { 'content-type': 'application/json', accept: 'application/json;odata=nometadata' }, JSON.stringify({ PartitionKey: 'p', RowKey: 'r', note: `entity ${marker}` })), 201);
    });
  });
  after(() => m.dispose());

  test('the older layout really is in clear (the premise of the migration)', async () => {
    const found = await filesContaining(join(m.dataDir, 'azurite'), marker);
    assert.ok(found.some((f) => f.startsWith('blob/extents/')), found.join());
    assert.ok(found.some((f) => f.startsWith('queue/extents/')), found.join());
    assert.ok(found.includes('table/__azurite_db_table__.json'), found.join());
  });

  test('is sealed at start, and everything in it reads back through the SDKs', async () => {
    m = await m.restart();
    assert.deepEqual(await filesContaining(m.dataDir, marker), []);
    for (const service of ['blob', 'queue']) await assert.rejects(lstat(join(m.dataDir, 'azurite', service, 'extents')), { code: 'ENOENT' });
    const { account: again } = await reopened(m, account);
    const r = await sdk(again, { key: true, env: m.adminEnv }, [
      { op: 'download', container: 'legacy', blob: 'first.txt' },
      { op: 'download', container: 'legacy', blob: 'blocks.txt' },
      { op: 'downloadRange', container: 'legacy', blob: 'blocks.txt', offset: 5, count: 20 },
      { op: 'peek', queue: 'legacyq' },
      { op: 'getEntity', table: 'legacyt', pk: 'p', rk: 'r' },
      { op: 'upload', container: 'legacy', blob: 'after.txt', text: 'written sealed' },
      { op: 'download', container: 'legacy', blob: 'after.txt' },
    ]);
    ok(r);
    assert.equal(r[0]!.value, `first ${marker}`);
    assert.equal(r[1]!.value, blocks.join(''));
    assert.equal(r[2]!.value, blocks.join('').slice(5, 25));
    assert.deepEqual(r[3]!.value, [`msg ${marker}`]);
    assert.deepEqual(r[4]!.value, { note: `entity ${marker}` });
    assert.equal(r[6]!.value, 'written sealed');
  });
});

describe('storage sealed under one master key', () => {
  test('is refused under another at start, with its files left as they were', async () => {
    const keyA = randomBytes(32).toString('base64');
    const keyB = randomBytes(32).toString('base64');
    const first = await startTestMimic('sqlite', { env: { MIMIC_MASTER_KEY: keyA } });
    const other = await mkdtemp(join(tmpdir(), 'mimic-otherkey-'));
    try {
      const a = await arm(first);
      assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/k`, { location: 'eastus' }, '2025-04-01')).status, 201);
      const account = await createAccount(a, 'k', 'mimickeyed');
      await createChild(a, account, 'container', 'box');
      ok(await sdk(account, { key: true, env: first.adminEnv }, [{ op: 'upload', container: 'box', blob: 'b', text: 'under key A' }]));
      await first.close();
      // The emulator's directory in a data dir whose own store is under key B (the store's own
      // check would otherwise refuse key B first).
      await cp(join(first.dataDir, 'azurite'), join(other, 'azurite'), { recursive: true });
      const before = await treeHash(join(other, 'azurite'));
      await assert.rejects(startTestMimic('sqlite', { dataDir: other, env: { MIMIC_MASTER_KEY: keyB } }), /storage emulator's data in .* was sealed under a different master key/);
      assert.equal(await treeHash(join(other, 'azurite')), before);
      // Without the directory's marker, opening its databases still refuses the key.
      await rm(join(other, 'azurite', 'sealed.json'));
      const withoutMarker = await treeHash(join(other, 'azurite'));
      await assert.rejects(startTestMimic('sqlite', { dataDir: other, env: { MIMIC_MASTER_KEY: keyB } }), /could not be opened: it was sealed under another master key/);
      assert.equal(await treeHash(join(other, 'azurite')), withoutMarker);
    } finally {
      await rm(first.dataDir, { recursive: true, force: true });
      await rm(other, { recursive: true, force: true });
    }
  });
});
