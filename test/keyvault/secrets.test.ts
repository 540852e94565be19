// Secrets through @azure/keyvault-secrets over HTTPS: versions, properties, what a disabled or
// expired secret does, soft delete with recovery and purge, backup and restore, paging, the
// vault's deletion settings, and values sealed at rest (never plaintext in SQLite or PostgreSQL).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { KV_VERSIONS } from '../../src/services/keyvault/records.js';
import { adminVaultToken, arm, assignRole, createGroup, createVault, kv, raw, ROLES, type Arm, type Vault } from './helpers.js';

const RG = 'kv-secrets';
const DAY = 86_400;

describe('Key Vault secrets', () => {
  let m: TestMimic;
  let a: Arm;
  let vault: Vault;
  let token: string;

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    await createGroup(a, RG);
    vault = await createVault(a, RG, 'secretsvault');
    await assignRole(a, `${a.sub}/resourceGroups/${RG}`, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    token = adminVaultToken(m);
  });
  after(() => m.dispose());

  test('versions, properties, disabled and expired secrets, soft delete, recover, purge', async () => {
    const past = new Date(Date.now() - 3600_000).toISOString();
    const r = await kv(m, vault, { admin: true }, [
      { op: 'setSecret', name: 'conn', value: 'v1', options: { contentType: 'text/plain', tags: { env: 'dev' } } },
      { op: 'setSecret', name: 'conn', value: 'v2' },
      { op: 'listVersions', name: 'conn' },
      { op: 'getSecret', name: 'conn' },
      { op: 'setSecret', name: 'old', value: 'expired but readable', options: { expiresOn: past } },
      { op: 'getSecret', name: 'old' },
    ]);
    assert.ok(r.every((x) => x.ok), JSON.stringify(r));
    const [first, second] = [r[0]!.value, r[1]!.value];
    assert.deepEqual({ contentType: first.contentType, tags: first.tags, recoveryLevel: first.recoveryLevel }, { contentType: 'text/plain', tags: { env: 'dev' }, recoveryLevel: 'Recoverable+Purgeable' });
    assert.match(first.version, /^[0-9a-f]{32}$/);
    assert.deepEqual(r[2]!.value, [first.version, second.version].sort());
    assert.equal(r[3]!.value.value, 'v2');
    assert.equal(r[5]!.value.value, 'expired but readable');
    assert.equal(r[5]!.value.expiresOn, new Date(Math.floor(Date.parse(past) / 1000) * 1000).toISOString());

    const r2 = await kv(m, vault, { admin: true }, [
      { op: 'getSecret', name: 'conn', version: first.version },
      { op: 'updateSecret', name: 'conn', version: second.version, props: { enabled: false, tags: { env: 'prod' } } },
      { op: 'getSecret', name: 'conn' },
      { op: 'deleteSecret', name: 'conn' },
      { op: 'getSecret', name: 'conn', version: first.version },
      { op: 'setSecret', name: 'conn', value: 'reuse' },
      { op: 'listDeletedSecrets' },
      { op: 'recoverSecret', name: 'conn' },
      { op: 'getSecret', name: 'conn', version: first.version },
    ]);
    assert.equal(r2[0]!.value.value, 'v1');
    assert.deepEqual(r2[1]!.value, { enabled: false, tags: { env: 'prod' } });
    assert.equal(r2[2]!.status, 403);
    assert.match(r2[2]!.message!, /disabled secret/);
    assert.equal(r2[3]!.value.recoveryId, `${vault.uri}deletedsecrets/conn`);
    const purgeIn = (Date.parse(r2[3]!.value.scheduledPurgeDate) - Date.parse(r2[3]!.value.deletedOn)) / 1000;
    assert.equal(purgeIn, 90 * DAY);
    assert.equal(r2[4]!.status, 404);
    assert.equal(r2[5]!.status, 409);
    assert.deepEqual(r2[6]!.value, ['conn']);
    assert.equal(r2[7]!.value, 'conn');
    assert.equal(r2[8]!.value.value, 'v1');

    const r3 = await kv(m, vault, { admin: true }, [
      { op: 'deleteSecret', name: 'old' },
      { op: 'purgeSecret', name: 'old' },
      { op: 'getDeletedSecret', name: 'old' },
      { op: 'setSecret', name: 'old', value: 'fresh' },
    ]);
    assert.ok(r3[1]!.ok, JSON.stringify(r3[1]));
    assert.equal(r3[2]!.status, 404);
    assert.equal(r3[3]!.value.value, 'fresh');
  });

  test('backup and restore, into the same vault after a purge and into another vault', async () => {
    const other = await createVault(a, RG, 'secretsvault2');
    const r = await kv(m, vault, { admin: true }, [
      { op: 'setSecret', name: 'carry', value: 'first' },
      { op: 'setSecret', name: 'carry', value: 'second' },
      { op: 'backupSecret', name: 'carry' },
    ]);
    const backup = r[2]!.value as string;
    assert.ok(!Buffer.from(backup, 'base64url').toString('latin1').includes('second'), 'the blob is sealed');
    const elsewhere = await kv(m, other, { admin: true }, [
      { op: 'restoreSecret', backup },
      { op: 'getSecret', name: 'carry' },
      { op: 'listVersions', name: 'carry' },
      { op: 'restoreSecret', backup },
    ]);
    assert.equal(elsewhere[1]!.value.value, 'second');
    assert.equal(elsewhere[2]!.value.length, 2);
    assert.equal(elsewhere[3]!.status, 409);
    const back = await kv(m, vault, { admin: true }, [
      { op: 'deleteSecret', name: 'carry' },
      { op: 'purgeSecret', name: 'carry' },
      { op: 'restoreSecret', backup },
      { op: 'getSecret', name: 'carry' },
    ]);
    assert.equal(back[3]!.value.value, 'second', JSON.stringify(back));
  });

  test('lists page with nextLink', async () => {
    const paging = await createVault(a, RG, 'pagingvault');
    for (let i = 0; i < 5; i++) assert.equal((await raw(m, paging, 'PUT', `/secrets/p${i}`, { token, body: { value: String(i) } })).status, 200);
    const seen: string[] = [];
    let path: string | null = '/secrets?maxresults=2';
    let pages = 0;
    while (path && pages < 10) {
      const page = await raw(m, paging, 'GET', path, { token });
      assert.equal(page.status, 200, page.text);
      const body = page.json();
      assert.ok(body.value.length <= 2);
      seen.push(...body.value.map((s: { id: string }) => s.id.split('/').pop()));
      pages++;
      if (!body.nextLink) break;
      const next = new URL(body.nextLink);
      assert.equal(next.hostname, 'pagingvault.vault.azure.net');
      next.searchParams.delete('api-version');
      path = next.pathname + next.search;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['p0', 'p1', 'p2', 'p3', 'p4']);
    assert.equal((await raw(m, paging, 'GET', '/secrets?maxresults=26', { token })).status, 400);
    assert.equal(seen.length, 5);
  });

  test('purge protection and a short retention period', async () => {
    const guarded = await createVault(a, RG, 'guardedvault', { enablePurgeProtection: true, softDeleteRetentionInDays: 7 });
    assert.equal(guarded.body.properties.enablePurgeProtection, true);
    const r = await kv(m, guarded, { admin: true }, [
      { op: 'setSecret', name: 's', value: 'x' },
      { op: 'deleteSecret', name: 's' },
      { op: 'purgeSecret', name: 's' },
      { op: 'getDeletedSecret', name: 's' },
    ]);
    assert.equal(r[0]!.value.recoveryLevel, 'CustomizedRecoverable');
    assert.equal((Date.parse(r[1]!.value.scheduledPurgeDate) - Date.parse(r[1]!.value.deletedOn)) / 1000, 7 * DAY);
    assert.equal(r[2]!.status, 403);
    assert.match(r[2]!.message!, /purge protection/);
    assert.ok(r[3]!.ok, 'still recoverable');
  });

  test('secret values are sealed at rest in SQLite', async () => {
    const marker = `plaintext-marker-${Date.now()}`;
    assert.equal((await raw(m, vault, 'PUT', '/secrets/sealed', { token, body: { value: marker } })).status, 200);
    const versions = await m.store.list<{ sealedValue?: string }>(KV_VERSIONS, { prefix: 'secretsvault/secrets/sealed/' });
    assert.equal(versions.length, 1);
    assert.match(versions[0]!.value.sealedValue!, /^v1\./);
    for (const f of await readdir(m.dataDir)) {
      if (!f.startsWith('mimic.db')) continue;
      const bytes = await readFile(join(m.dataDir, f));
      assert.equal(bytes.indexOf(marker), -1, `${f} holds the plaintext`);
      assert.equal(bytes.indexOf(Buffer.from(marker, 'utf16le')), -1, `${f} holds the plaintext`);
    }
    assert.equal((await raw(m, vault, 'GET', '/secrets/sealed/', { token })).json().value, marker);
  });
});

describe('Key Vault secrets on PostgreSQL', () => {
  test('values are sealed in the shared database and readable by another instance', async () => {
    const m = await startTestMimic('postgres');
    try {
      const a = await arm(m);
      await createGroup(a, RG);
      const vault = await createVault(a, RG, 'pgvault');
      await assignRole(a, vault.id, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
      const marker = `pg-plaintext-${Date.now()}`;
      const token = adminVaultToken(m);
      assert.equal((await raw(m, vault, 'PUT', '/secrets/s', { token, body: { value: marker } })).status, 200);
      const stored = await m.store.list(KV_VERSIONS, { prefix: 'pgvault/' });
      assert.equal(stored.length, 1);
      assert.ok(!JSON.stringify(stored).includes(marker));
      const again = await m.restart();
      m.dispose = again.dispose;
      assert.equal((await raw(again, vault, 'GET', '/secrets/s/', { token })).json().value, marker);
    } finally {
      await m.dispose();
    }
  });
});
