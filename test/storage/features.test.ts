// Storage behaviours beyond the basic role checks: add-only writes, conditions on blob index
// tags, conditions refused at assignment time, data-plane creations visible in the Resource
// Manager, user delegation keys, table transactions, Azure host names, account lifecycle
// (keys, name uniqueness, purge) and persistence across a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { asEnvironment } from '../../src/cli/commands/identityRuntime.js';
import { arm, assignRole, containerAppWithIdentity, createAccount, createChild, raw, sdk, ROLE, type Account, type Arm, type Host } from './helpers.js';

const RG = 'feat-rg';
const BLOB_READ = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read';

describe('storage features', () => {
  let m: TestMimic;
  let a: Arm;
  let account: Account;
  let admin: { key: true; env: Record<string, string> };
  let worker: Host;
  let builder: Host;
  const scopes: Record<string, string> = {};

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/${RG}`, { location: 'eastus' }, '2025-04-01')).status, 201);
    account = await createAccount(a, RG, 'mimicfeat');
    for (const c of ['drop', 'tagged']) scopes[c] = await createChild(a, account, 'container', c);
    scopes.ledger = await createChild(a, account, 'table', 'ledger');
    worker = await containerAppWithIdentity(m, a, RG, 'worker');
    builder = await containerAppWithIdentity(m, a, RG, 'builder');
    admin = { key: true, env: m.adminEnv };
    const seeded = await sdk(account, admin, [
      { op: 'upload', container: 'drop', blob: 'existing.txt', text: 'old' },
      { op: 'upload', container: 'tagged', blob: 'alpha.txt', text: 'a', tags: { project: 'alpha' } },
      { op: 'upload', container: 'tagged', blob: 'beta.txt', text: 'b', tags: { project: 'beta' } },
    ]);
    assert.ok(seeded.every((r) => r.ok), JSON.stringify(seeded));
  });
  after(() => m.dispose());

  test('blobs/add/action alone creates new blobs but cannot overwrite one', async () => {
    const guid = randomUUID();
    const role = await a.call('PUT', `${a.sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`, {
      properties: { roleName: 'Blob Adder', permissions: [{ actions: [], dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'] }], assignableScopes: [a.sub] },
    }, '2022-04-01');
    assert.equal(role.status, 201, role.text);
    assert.equal((await assignRole(a, scopes.drop!, guid, worker.principalId)).status, 201);
    const r = await sdk(account, worker, [
      { op: 'upload', container: 'drop', blob: 'new.txt', text: 'fresh' },
      { op: 'upload', container: 'drop', blob: 'existing.txt', text: 'overwrite' },
      { op: 'download', container: 'drop', blob: 'new.txt' },
    ]);
    assert.deepEqual(r[0], { ok: true, value: null });
    assert.equal(r[1]!.code, 'AuthorizationPermissionMismatch');
    assert.equal(r[2]!.code, 'AuthorizationPermissionMismatch');
    const check = await sdk(account, admin, [{ op: 'download', container: 'drop', blob: 'existing.txt' }]);
    assert.equal(check[0]!.value, 'old');
  });

  test('a condition on blob index tags reads the blob\'s tags', async () => {
    const condition = `((!(ActionMatches{'${BLOB_READ}'} AND NOT SubOperationMatches{'Blob.List'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:project<$key_case_sensitive$>] StringEquals 'alpha'))`;
    const put = await assignRole(a, scopes.tagged!, ROLE.blobReader, worker.principalId, { condition, conditionVersion: '2.0' });
    assert.equal(put.status, 201, put.text);
    const r = await sdk(account, worker, [
      { op: 'download', container: 'tagged', blob: 'alpha.txt' },
      { op: 'download', container: 'tagged', blob: 'beta.txt' },
    ]);
    assert.deepEqual(r[0], { ok: true, value: 'a' });
    assert.equal(r[1]!.code, 'AuthorizationPermissionMismatch');
  });

  test('conditions on attributes the gate does not supply are refused when assigned', async () => {
    const unsupported = `((!(ActionMatches{'${BLOB_READ}'})) OR (@Resource[Microsoft.Storage/storageAccounts/encryptionScopes:name] StringEquals 'scope1'))`;
    const r = await assignRole(a, scopes.drop!, ROLE.blobReader, builder.principalId, { condition: unsupported, conditionVersion: '2.0' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'InvalidCondition');
    assert.match(r.body.error.message, /encryptionScopes:name/);
    const principal = await assignRole(a, scopes.drop!, ROLE.blobReader, builder.principalId, {
      condition: `((!(ActionMatches{'${BLOB_READ}'})) OR (@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Eng_Team] StringEquals 'x'))`,
    });
    assert.equal(principal.status, 400);
    assert.match(principal.body.error.message, /custom security attributes/);
    const list = await a.call('GET', `${scopes.drop}/providers/Microsoft.Authorization/roleAssignments`, undefined, '2022-04-01');
    assert.ok(!list.body.value.some((x: { properties: { principalId: string } }) => x.properties.principalId === builder.principalId));
  });

  test('containers, queues and tables created through the data plane appear in the Resource Manager', async () => {
    assert.equal((await assignRole(a, account.id, ROLE.blobContributor, builder.principalId)).status, 201);
    assert.equal((await assignRole(a, account.id, '974c5e8b-45b9-4653-ba55-5f855dd0fb88', builder.principalId)).status, 201);
    assert.equal((await assignRole(a, account.id, ROLE.tableContributor, builder.principalId)).status, 201);
    const r = await sdk(account, builder, [
      { op: 'createContainer', container: 'madehere' },
      { op: 'createQueue', queue: 'made-queue' },
      { op: 'createTable', table: 'MadeTable' },
      { op: 'delegationKey' },
    ]);
    assert.ok(r.every((x) => x.ok), JSON.stringify(r));
    // The user delegation key is issued to the caller.
    assert.equal(r[3]!.value, builder.principalId);
    for (const path of ['blobServices/default/containers/madehere', 'queueServices/default/queues/made-queue', 'tableServices/default/tables/MadeTable']) {
      const got = await a.call('GET', `${account.id}/${path}`);
      assert.equal(got.status, 200, `${path}: ${got.text}`);
      assert.equal(got.body.systemData.createdByType, 'ManagedIdentity');
    }
    // So a role assignment can target the container made through the data plane.
    assert.equal((await assignRole(a, `${account.id}/blobServices/default/containers/madehere`, ROLE.blobReader, worker.principalId)).status, 201);
  });

  test('SAS: account SAS works with the key; a user delegation SAS is held to its signer\'s RBAC', async () => {
    const [accountSas] = await sdk(account, admin, [{ op: 'accountSas', container: 'tagged', blob: 'beta.txt' }]);
    assert.ok(accountSas!.ok, JSON.stringify(accountSas));
    assert.deepEqual((await sdk(account, admin, [{ op: 'downloadUrl', url: accountSas!.value }]))[0], { ok: true, value: 'b' });
    // The worker may read tagged/alpha.txt (tag condition) but nothing in drop/ (add only).
    assert.equal((await assignRole(a, account.id, ROLE.blobDelegator, worker.principalId)).status, 201);
    const sas = await sdk(account, worker, [
      { op: 'userDelegationSas', container: 'tagged', blob: 'alpha.txt', version: '2025-11-05' },
      { op: 'userDelegationSas', container: 'drop', blob: 'existing.txt' },
    ]);
    assert.ok(sas.every((x) => x.ok), JSON.stringify(sas));
    const viaSas = await sdk(account, admin, [
      { op: 'downloadUrl', url: sas[0]!.value },
      { op: 'downloadUrl', url: sas[1]!.value },
    ]);
    assert.deepEqual(viaSas[0], { ok: true, value: 'a' });
    assert.equal(viaSas[1]!.status, 403);
    assert.equal(viaSas[1]!.code, 'AuthorizationPermissionMismatch');
  });

  test('table transactions are authorized per operation', async () => {
    assert.equal((await assignRole(a, scopes.ledger!, ROLE.tableReader, worker.principalId)).status, 201);
    const denied = await sdk(account, worker, [{ op: 'transaction', table: 'ledger', pk: 'p', rows: ['1', '2'] }]);
    assert.equal(denied[0]!.ok, false);
    assert.equal(denied[0]!.status, 403);
    const allowed = await sdk(account, builder, [
      { op: 'transaction', table: 'ledger', pk: 'p', rows: ['1', '2'] },
      { op: 'query', table: 'ledger' },
    ]);
    assert.deepEqual(allowed, [{ ok: true, value: null }, { ok: true, value: ['1', '2'] }]);
  });

  test("Azure's host names reach the gates (virtual-host style through the preload module)", async () => {
    const azure = { ...account, endpoints: { blob: `https://${account.name}.blob.core.windows.net/`, queue: `https://${account.name}.queue.core.windows.net/`, table: `https://${account.name}.table.core.windows.net/` } };
    const r = await sdk(azure, builder, [
      { op: 'upload', container: 'madehere', blob: 'vhost.txt', text: 'via azure name' },
      { op: 'download', container: 'madehere', blob: 'vhost.txt' },
      { op: 'query', table: 'ledger' },
    ]);
    assert.deepEqual(r, [{ ok: true, value: null }, { ok: true, value: 'via azure name' }, { ok: true, value: ['1', '2'] }]);
  });

  test('account lifecycle: regenerated keys, unique names, purge on delete', async () => {
    const other = await createAccount(a, RG, 'mimiclife');
    await createChild(a, other, 'container', 'stuff');
    assert.ok((await sdk(other, admin, [{ op: 'upload', container: 'stuff', blob: 'x.txt', text: 'x' }]))[0]!.ok);
    const regenerated = await a.call('POST', `${other.id}/regenerateKey`, { keyName: 'key1' });
    assert.equal(regenerated.status, 200);
    assert.notEqual(regenerated.body.keys[0].value, other.key);
    const oldKey = await sdk(other, admin, [{ op: 'list', container: 'stuff' }]);
    assert.equal(oldKey[0]!.status, 403);
    assert.equal(oldKey[0]!.code, 'AuthenticationFailed');
    const newKey = await sdk({ ...other, key: regenerated.body.keys[0].value }, admin, [{ op: 'list', container: 'stuff' }]);
    assert.deepEqual(newKey[0]!.value, ['x.txt']);
    const taken = await a.call('POST', `${a.sub}/providers/Microsoft.Storage/checkNameAvailability`, { name: 'mimiclife', type: 'Microsoft.Storage/storageAccounts' });
    assert.deepEqual([taken.body.nameAvailable, taken.body.reason], [false, 'AlreadyExists']);
    assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/other-rg`, { location: 'eastus' }, '2025-04-01')).status, 201);
    const dup = await a.call('PUT', `${a.sub}/resourceGroups/other-rg/providers/Microsoft.Storage/storageAccounts/mimiclife`, { location: 'eastus', kind: 'StorageV2', sku: { name: 'Standard_LRS' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'StorageAccountAlreadyTaken');
    assert.equal((await a.call('DELETE', other.id)).status, 200);
    const gone = await raw(m, 'GET', `${other.endpoints.blob}stuff?restype=container&comp=list`);
    assert.equal(gone.status, 404);
    const again = await createAccount(a, RG, 'mimiclife');
    const empty = await sdk(again, admin, [{ op: 'list', container: 'stuff' }]);
    assert.equal(empty[0]!.code, 'ContainerNotFound');
  });

  test('data and permissions survive a restart', async () => {
    m = await m.restart();
    a = await arm(m);
    // Ports are new after a restart (port 0): read the endpoints and the host's environment again.
    const endpoints = (await a.call('GET', account.id)).body.properties.primaryEndpoints;
    const env = (await asEnvironment({ as: worker.id, dataDir: m.dataDir })).env;
    const r = await sdk({ ...account, endpoints }, { ...worker, env }, [{ op: 'download', container: 'tagged', blob: 'alpha.txt' }]);
    assert.deepEqual(r[0], { ok: true, value: 'a' });
  });
});
