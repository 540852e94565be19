// Faults beyond Key Vault's 503s: every service fails in its own shape, and the real SDKs come
// through on their own retry policies: @azure/keyvault-secrets through dropped connections,
// @azure/storage-blob through 503 ServerBusy, @azure/arm-msi through 429 with Retry-After,
// ManagedIdentityCredential through IMDS 503s and 500s, a client-secret credential through the
// token service's 503s.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, runFixture, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { adminVaultToken, arm as kvArm, assignRole, createGroup, createVault, kv, raw as kvRaw, ROLES, type Arm, type Vault } from '../keyvault/helpers.js';
import { createAccount, createChild, raw as storageRaw, sdk, ROLE as STORAGE_ROLE, type Account } from '../storage/helpers.js';
import { envAs, identityBody, putHost, raw } from '../managedIdentity/helpers.js';
import { FaultInjector, type FaultInput, type FaultRule } from '../../src/server/faults.js';
import { armOperationNames } from '../../src/arm/operationNames.js';

const FAULTS = '/providers/Mimic.Reliability/faults';
const RG = 'faulty';

test('operation names: the Resource Manager by operation or by method and type; every service and status is accepted', () => {
  const uai = ['subscriptions', 's', 'resourceGroups', 'g', 'providers', 'Microsoft.ManagedIdentity', 'userAssignedIdentities', 'x'];
  assert.deepEqual(armOperationNames('GET', uai), ['Microsoft.ManagedIdentity/userAssignedIdentities/read', 'GET Microsoft.ManagedIdentity/userAssignedIdentities']);
  assert.deepEqual(armOperationNames('PUT', uai.slice(0, 4)), ['Microsoft.Resources/subscriptions/resourceGroups/write', 'PUT Microsoft.Resources/subscriptions/resourceGroups']);
  assert.deepEqual(armOperationNames('POST', [...uai.slice(0, 5), 'Microsoft.Storage', 'storageAccounts', 'st', 'listKeys']), ['Microsoft.Storage/storageAccounts/listKeys/action', 'POST Microsoft.Storage/storageAccounts/listKeys']);
  assert.deepEqual(armOperationNames('DELETE', uai)[0], 'Microsoft.ManagedIdentity/userAssignedIdentities/delete');
  const f = new FaultInjector();
  for (const service of ['keyvault', 'arm', 'sts', 'imds', 'blob', 'queue', 'table']) {
    for (const status of [503, 429, 500, 'timeout'] as const) assert.ok(f.add({ service, operation: '*', rate: 0.5, status }));
  }
  const rule = f.add({ service: 'arm', operation: 'GET Microsoft.ManagedIdentity/userAssignedIdentities', rate: 1, status: 503 });
  f.clear();
  f.add(rule);
  assert.equal(f.pick('arm', armOperationNames('GET', uai))?.status, 503, 'named by method and type');
  assert.equal(f.pick('arm', armOperationNames('PUT', uai)), undefined);
  for (const bad of [{ service: 'graph' }, { status: 502 }, { operation: ' padded' }, { operation: 'a\nb' }]) {
    assert.throws(() => f.add({ service: 'arm', operation: '*', rate: 0.2, status: 503, ...bad } as never));
  }
});

describe('faults in every service, survived by the real SDKs', () => {
  let m: TestMimic;
  let a: Arm;
  let vault: Vault;
  let account: Account;
  const add = async (rule: FaultInput): Promise<FaultRule> => {
    const r = await a.call('POST', FAULTS, rule, '2025-01-01');
    assert.equal(r.status, 201, r.text);
    return r.body;
  };
  const injected = async (): Promise<number> => ((await a.call('GET', FAULTS, undefined, '2025-01-01')).body.value as FaultRule[]).reduce((n, r) => n + r.injected, 0);
  const clear = async () => assert.equal((await a.call('DELETE', FAULTS, undefined, '2025-01-01')).status, 200);

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await kvArm(m);
    await createGroup(a, RG);
    vault = await createVault(a, RG, 'mimic-faulty', { enableRbacAuthorization: true });
    await assignRole(a, vault.id, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    assert.equal((await kvRaw(m, vault, 'PUT', '/secrets/flaky', { token: adminVaultToken(m), body: { value: 'survives' } })).status, 200);
    account = await createAccount(a, RG, 'mimicfaulty');
    await createChild(a, account, 'container', 'reports');
    await createChild(a, account, 'queue', 'jobs');
    await createChild(a, account, 'table', 'orders');
    for (const role of [STORAGE_ROLE.queueSender, STORAGE_ROLE.tableContributor]) await assignRole(a, account.id, role, m.context.tenant.adminObjectId);
  });
  after(() => m?.dispose());

  test('Key Vault: a quarter of getSecret connections dropped unanswered; the SDK retries each', async () => {
    await add({ service: 'keyvault', operation: 'getSecret', rate: 0.25, status: 'timeout' });
    const results = await kv(m, vault, { admin: true }, Array.from({ length: 12 }, () => ({ op: 'getSecret', name: 'flaky' })));
    assert.ok(results.every((r) => r.ok && r.value.value === 'survives'), JSON.stringify(results.find((r) => !r.ok)));
    assert.ok((await injected()) >= 3, 'every fourth request was dropped');
    await clear();
  });

  test('Blob: @azure/storage-blob downloads through 20% 503 ServerBusy; Queue and Table fail in their own shapes', async () => {
    const admin = { key: true as const, env: m.adminEnv };
    const up = await sdk(account, admin, [{ op: 'upload', container: 'reports', blob: 'q1.txt', text: 'first quarter' }]);
    assert.equal(up[0]!.ok, true, JSON.stringify(up));
    await add({ service: 'blob', operation: 'GetBlob', rate: 0.2, status: 503 });
    const downloads = await sdk(account, admin, Array.from({ length: 20 }, () => ({ op: 'download', container: 'reports', blob: 'q1.txt' })));
    assert.ok(downloads.every((r) => r.ok && r.value === 'first quarter'), JSON.stringify(downloads.find((r) => !r.ok)));
    assert.ok((await injected()) >= 4);
    await clear();

    const token = m.tokens.mint(m.directory.byObject(m.context.tenant.adminObjectId)!, { resource: 'https://storage.azure.com', lifetimeSeconds: 3600, appidacr: '1' }).accessToken;
    await add({ service: 'queue', operation: 'PutMessage', rate: 1, status: 500, retryAfter: 2 });
    await add({ service: 'table', operation: 'QueryEntities', rate: 1, status: 503 });
    const put = await storageRaw(m, 'POST', `${account.endpoints.queue.replace(/\/$/, '')}/jobs/messages`, { authorization: `Bearer ${token}` }, '<QueueMessage><MessageText>x</MessageText></QueueMessage>');
    assert.equal(put.status, 500);
    assert.equal(put.headers['x-ms-error-code'], 'InternalError');
    assert.equal(put.headers['retry-after'], '2');
    assert.match(put.text, /<Error><Code>InternalError<\/Code><Message>Server encountered an internal error/);
    const query = await storageRaw(m, 'GET', `${account.endpoints.table.replace(/\/$/, '')}/orders()`, { authorization: `Bearer ${token}`, accept: 'application/json;odata=nometadata' });
    assert.equal(query.status, 503);
    assert.equal(query.headers['x-ms-error-code'], 'ServerBusy');
    assert.equal(JSON.parse(query.text)['odata.error'].code, 'ServerBusy');
    await clear();
  });

  test('Resource Manager: @azure/arm-msi reads through 25% 429 TooManyRequests, waiting Retry-After; faults by method and type', async () => {
    const uai = await a.call('PUT', `${a.sub}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/steady`, { location: 'eastus' }, '2023-01-31');
    assert.equal(uai.status, 201);
    await add({ service: 'arm', operation: 'Microsoft.ManagedIdentity/userAssignedIdentities/read', rate: 0.25, status: 429, retryAfter: 1 });
    const out = await runFixture<{ ok: boolean; principalIds: string[]; elapsedMs: number; message?: string }>('arm/msiReads.mjs', [RG, 'steady', '8'], m.adminEnv);
    assert.equal(out.ok, true, out.message);
    assert.ok(out.principalIds.every((p) => p === uai.body.properties.principalId));
    const faults = await injected();
    assert.ok(faults >= 2, `${faults} injected`);
    // The timed reads waited the second they were told each time (the warm-up read may have taken one fault).
    assert.ok(out.elapsedMs >= (faults - 1) * 1000, `${faults} faults survived in ${out.elapsedMs} ms`);
    await clear();

    await add({ service: 'arm', operation: 'GET Microsoft.ManagedIdentity/userAssignedIdentities', rate: 1, status: 503, retryAfter: 3 });
    await add({ service: 'arm', operation: '*', rate: 1, status: 500 });
    const read = await a.call('GET', uai.body.id, undefined, '2023-01-31');
    assert.equal(read.status, 503);
    assert.equal(read.body.error.code, 'ServiceUnavailable');
    assert.equal(read.headers['retry-after'], '3');
    const group = await a.call('GET', `${a.sub}/resourceGroups/${RG}`, undefined, '2025-04-01');
    assert.equal(group.status, 500);
    assert.equal(group.body.error.code, 'InternalServerError');
    // Mimic's own fault management is never failed, even by '*'.
    assert.equal((await a.call('GET', FAULTS, undefined, '2025-01-01')).status, 200);
    await clear();
  });

  test('IMDS: ManagedIdentityCredential comes through 503 and 500 answers; the endpoint keeps its error shape', async () => {
    const vm = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'flaky-vm'], { identity: identityBody(true) });
    const env = await envAs(m, vm.id);
    const url = `${env.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent('https://management.azure.com/')}`;
    for (const status of [503, 500] as const) {
      await add({ service: 'imds', operation: 'token', rate: 0.5, status, retryAfter: 1 });
      // Every second request fails: this one passes, so the credential's first request fails.
      assert.equal((await raw(url, { headers: { Metadata: 'true' } })).status, 200);
      const credential = await runFixture<{ ok: boolean; message?: string }>('mi/credential.mjs', ['mic'], env);
      assert.equal(credential.ok, true, credential.message);
      assert.ok((await injected()) >= 1, `a ${status} was injected`);
      let failed;
      for (let i = 0; i < 2 && !failed; i++) {
        const r = await raw(url, { headers: { Metadata: 'true' } });
        if (r.status !== 200) failed = r;
      }
      assert.equal(failed?.status, status);
      assert.equal(failed?.json.error, status === 503 ? 'temporarily_unavailable' : 'server_error');
      assert.equal(failed?.headers['retry-after'], '1');
      await clear();
    }
  });

  test('the CLI: every service and the 500 status; a status Mimic does not inject is refused', async () => {
    const ok = await runCli(['fault', 'add', '--service', 'arm', '--operation', 'GET Microsoft.ManagedIdentity/userAssignedIdentities', '--rate', '0.2', '--status', '500', '--retry-after', '2', '--for', '1m', '--data-dir', m.dataDir, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const rule = JSON.parse(ok.stdout);
    assert.deepEqual([rule.service, rule.operation, rule.status, rule.retryAfter], ['arm', 'GET Microsoft.ManagedIdentity/userAssignedIdentities', 500, 2]);
    const bad = await runCli(['fault', 'add', '--service', 'blob', '--operation', 'GetBlob', '--rate', '0.2', '--status', '502', '--data-dir', m.dataDir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /503, 429, 500 or timeout/);
    await clear();
  });

  test('token service: a client-secret credential comes through 503s in Entra\'s error shape', async () => {
    const tokenUrl = `${m.endpoints.origin}/${m.context.tenant.tenantId}/oauth2/v2.0/token`;
    const post = (body: string) => raw(tokenUrl, { method: 'POST', body, ca: m.context.tls.caCertPem, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await add({ service: 'sts', operation: 'token', rate: 0.5, status: 503, retryAfter: 1 });
    assert.equal((await post('grant_type=client_credentials')).status, 400, 'this one passes the fault');
    const credential = await runFixture<{ ok: boolean; message?: string }>('mi/credential.mjs', ['dac'], m.adminEnv);
    assert.equal(credential.ok, true, credential.message);
    assert.ok((await injected()) >= 1);
    let failed;
    for (let i = 0; i < 2 && !failed; i++) {
      const r = await post('grant_type=client_credentials');
      if (r.status === 503) failed = r;
    }
    assert.ok(failed, 'a 503');
    assert.equal(failed.json.error, 'temporarily_unavailable');
    assert.deepEqual(failed.json.error_codes, [90033]);
    assert.match(String(failed.json.error_description), /^AADSTS90033: /);
    assert.equal(failed.headers['retry-after'], '1');
    await clear();
  });
});
