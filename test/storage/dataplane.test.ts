// Storage data planes through the real SDKs over HTTPS, as a container app's user-assigned
// managed identity: RBAC roles at container/queue/table scope decide what it may do, with
// Storage's own error codes; the administrator keeps using the account key.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { arm, assignRole, containerAppWithIdentity, createAccount, createChild, sdk, ROLE, type Account, type Arm, type Host } from './helpers.js';

const RG = 'data-rg';

describe('storage data planes with Entra ID and RBAC', () => {
  let m: TestMimic;
  let a: Arm;
  let account: Account;
  let app: Host;
  let admin: { key: true; env: Record<string, string> };
  const scopes: Record<string, string> = {};

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/${RG}`, { location: 'eastus' }, '2025-04-01')).status, 201);
    account = await createAccount(a, RG, 'mimicdata');
    for (const c of ['reports', 'secrets', 'data']) scopes[c] = await createChild(a, account, 'container', c);
    scopes.jobs = await createChild(a, account, 'queue', 'jobs');
    scopes.orders = await createChild(a, account, 'table', 'orders');
    app = await containerAppWithIdentity(m, a, RG, 'worker');
    admin = { key: true, env: m.adminEnv };
    // The administrator seeds data with the account key (Shared Key through the gate).
    const seeded = await sdk(account, admin, [
      { op: 'upload', container: 'reports', blob: 'q1.txt', text: 'first quarter' },
      { op: 'upload', container: 'secrets', blob: 'key.txt', text: 'do not read' },
      { op: 'upload', container: 'data', blob: 'logs/app.log', text: 'log line' },
      { op: 'upload', container: 'data', blob: 'private/notes.txt', text: 'private' },
      { op: 'insert', table: 'orders', pk: 'p', rk: 'r1', props: { amount: 5 } },
    ]);
    assert.deepEqual(seeded.map((r) => r.ok), [true, true, true, true, true], JSON.stringify(seeded));
  });
  after(() => m.dispose());

  test('Storage Blob Data Reader on one container: download and list there, no upload, no other container', async () => {
    assert.equal((await assignRole(a, scopes.reports!, ROLE.blobReader, app.principalId)).status, 201);
    const r = await sdk(account, app, [
      { op: 'download', container: 'reports', blob: 'q1.txt' },
      { op: 'list', container: 'reports' },
      { op: 'upload', container: 'reports', blob: 'q2.txt', text: 'second' },
      { op: 'download', container: 'secrets', blob: 'key.txt' },
      { op: 'list', container: 'secrets' },
    ]);
    assert.deepEqual(r[0], { ok: true, value: 'first quarter' });
    assert.deepEqual(r[1], { ok: true, value: ['q1.txt'] });
    assert.equal(r[2]!.status, 403);
    assert.equal(r[2]!.code, 'AuthorizationPermissionMismatch');
    assert.equal(r[3]!.status, 403);
    assert.equal(r[3]!.code, 'AuthorizationPermissionMismatch');
    assert.equal(r[4]!.code, 'AuthorizationPermissionMismatch');
    // The refused upload reached nothing.
    const check = await sdk(account, admin, [{ op: 'list', container: 'reports' }]);
    assert.deepEqual(check[0]!.value, ['q1.txt']);
  });

  test('Storage Blob Data Contributor on the container: upload, snapshot and delete', async () => {
    assert.equal((await assignRole(a, scopes.reports!, ROLE.blobContributor, app.principalId)).status, 201);
    const r = await sdk(account, app, [
      { op: 'upload', container: 'reports', blob: 'q2.txt', text: 'second quarter' },
      { op: 'snapshot', container: 'reports', blob: 'q2.txt' },
      { op: 'download', container: 'reports', blob: 'q2.txt' },
      { op: 'delete', container: 'reports', blob: 'q2.txt' },
      { op: 'list', container: 'reports' },
      { op: 'upload', container: 'secrets', blob: 'x.txt', text: 'no' },
    ]);
    assert.ok(r.slice(0, 5).every((x) => x.ok), JSON.stringify(r));
    assert.match(r[1]!.value, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(r[2]!.value, 'second quarter');
    assert.deepEqual(r[4]!.value, ['q1.txt']);
    assert.equal(r[5]!.code, 'AuthorizationPermissionMismatch');
  });

  test('Storage Queue Data Message Sender may send but not receive; Storage Table Data Reader may query but not insert', async () => {
    assert.equal((await assignRole(a, scopes.jobs!, ROLE.queueSender, app.principalId)).status, 201);
    assert.equal((await assignRole(a, scopes.orders!, ROLE.tableReader, app.principalId)).status, 201);
    const r = await sdk(account, app, [
      { op: 'send', queue: 'jobs', text: 'job-1' },
      { op: 'receive', queue: 'jobs' },
      { op: 'peek', queue: 'jobs' },
      { op: 'query', table: 'orders' },
      { op: 'insert', table: 'orders', pk: 'p', rk: 'r2' },
    ]);
    assert.deepEqual(r[0], { ok: true, value: null });
    assert.equal(r[1]!.status, 403);
    assert.equal(r[1]!.code, 'AuthorizationPermissionMismatch');
    assert.equal(r[2]!.code, 'AuthorizationPermissionMismatch');
    assert.deepEqual(r[3], { ok: true, value: ['r1'] });
    assert.equal(r[4]!.status, 403);
    assert.equal(r[4]!.code, 'AuthorizationPermissionMismatch');
    // The message was sent and the entity was not inserted.
    const check = await sdk(account, admin, [
      { op: 'peek', queue: 'jobs' },
      { op: 'query', table: 'orders' },
    ]);
    assert.deepEqual(check[0]!.value, ['job-1']);
    assert.deepEqual(check[1]!.value, ['r1']);
  });

  test('a condition limiting reads to blobs under logs/ is enforced', async () => {
    const read = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read';
    const condition = `((!(ActionMatches{'${read}'} AND NOT SubOperationMatches{'Blob.List'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringLike 'logs/*'))`;
    const put = await assignRole(a, scopes.data!, ROLE.blobReader, app.principalId, { condition, conditionVersion: '2.0' });
    assert.equal(put.status, 201, put.text);
    const r = await sdk(account, app, [
      { op: 'download', container: 'data', blob: 'logs/app.log' },
      { op: 'download', container: 'data', blob: 'private/notes.txt' },
      { op: 'list', container: 'data' },
    ]);
    assert.deepEqual(r[0], { ok: true, value: 'log line' });
    assert.equal(r[1]!.status, 403);
    assert.equal(r[1]!.code, 'AuthorizationPermissionMismatch');
    assert.deepEqual(r[2], { ok: true, value: ['logs/app.log', 'private/notes.txt'] });
  });
});
