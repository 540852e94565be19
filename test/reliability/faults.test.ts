// Fault injection on request: `mimic fault add` makes a share of one operation's requests fail
// as Azure's do (503 or 429 with Retry-After); the real @azure/keyvault-secrets client must
// come through on its own retry policy, waiting as told.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { runCli, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { arm, assignRole, createVault, kv, raw as kvRaw, ROLES, type Vault } from '../keyvault/helpers.js';
import { FaultInjector } from '../../src/server/faults.js';

describe('fault injection', () => {
  let m: TestMimic;
  let vault: Vault;
  let adminToken: string;
  const cli = async (...args: string[]) => {
    const r = await runCli(['fault', ...args, '--data-dir', m.dataDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };

  before(async () => {
    m = await startTestMimic('sqlite');
    const a = await arm(m);
    assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/faults`, { location: 'eastus' }, '2025-04-01')).status, 201);
    vault = await createVault(a, 'faults', 'mimic-faults', { enableRbacAuthorization: true });
    await assignRole(a, vault.id, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    adminToken = m.tokens.mint(m.directory.byObject(m.context.tenant.adminObjectId)!, { resource: 'https://vault.azure.net', lifetimeSeconds: 3600, appidacr: '1' }).accessToken;
    assert.equal((await kvRaw(m, vault, 'PUT', '/secrets/flaky', { token: adminToken, body: { value: 'survives' } })).status, 200);
  });
  after(() => m?.dispose());

  test('the rules: an exact, evenly spread rate, a deadline, matching by operation name or id', () => {
    const f = new FaultInjector();
    const rule = f.add({ service: 'keyvault', operation: 'getSecret', rate: 0.2, status: 503, forSeconds: 60 }, 1_000);
    const fired = Array.from({ length: 10 }, () => f.pick('keyvault', ['secret.get', 'getSecret'], 2_000)?.id === rule.id);
    assert.deepEqual(fired.map((x, i) => (x ? i + 1 : 0)).filter(Boolean), [5, 10]);
    assert.equal(f.pick('keyvault', ['secret.set', 'setSecret'], 2_000), undefined);
    assert.equal(f.list(2_000)[0]!.injected, 2);
    assert.equal(f.pick('keyvault', ['secret.get', 'getSecret'], 61_001), undefined, 'past its deadline');
    assert.deepEqual(f.list(61_001), []);
    for (const bad of [{ rate: 0 }, { rate: 1.5 }, { status: 502 }, { service: 'nope' }, { operation: '' }, { retryAfter: -1 }]) {
      assert.throws(() => f.add({ service: 'keyvault', operation: 'getSecret', rate: 0.2, status: 503, ...bad } as never));
    }
  });

  test('@azure/keyvault-secrets comes through 20% injected 503s, honouring Retry-After', async () => {
    const added = await cli('add', '--service', 'keyvault', '--operation', 'getSecret', '--rate', '0.2', '--status', '503', '--retry-after', '1', '--for', '10m');
    assert.equal(added.status, 503);
    const raw503 = [];
    for (let i = 0; i < 30 && raw503.length === 0; i++) {
      const r = await kvRaw(m, vault, 'GET', '/secrets/flaky', { token: adminToken });
      if (r.status === 503) raw503.push(r);
      else assert.equal(r.status, 200);
    }
    assert.equal(raw503.length, 1, 'a 503 within 30 tries');
    assert.equal(raw503[0]!.headers['retry-after'], '1');
    assert.equal(raw503[0]!.json().error.code, 'ServiceUnavailable');
    const before = (await cli('list'))[0].injected as number;
    const started = Date.now();
    const results = await kv(m, vault, { admin: true }, Array.from({ length: 40 }, () => ({ op: 'getSecret', name: 'flaky' })));
    const elapsed = Date.now() - started;
    assert.ok(results.every((r) => r.ok && r.value.value === 'survives'), JSON.stringify(results.find((r) => !r.ok)));
    const injected = (await cli('list'))[0].injected - before;
    assert.ok(injected > 0, 'some of the 40 calls were failed');
    // Each failed call waited the second it was told before retrying.
    assert.ok(elapsed >= injected * 1000, `${injected} faults survived in ${elapsed} ms`);
    assert.deepEqual(await cli('clear'), { cleared: 1 });
    assert.deepEqual(await cli('list'), []);
  });

  test('429 and dropped connections are survived too; other operations are untouched', async () => {
    await cli('add', '--service', 'keyvault', '--operation', 'getSecret', '--rate', '0.2', '--status', '429', '--retry-after', '0');
    await cli('add', '--service', 'keyvault', '--operation', 'secret.get', '--rate', '0.1', '--status', 'timeout');
    const results = await kv(m, vault, { admin: true }, [...Array.from({ length: 20 }, () => ({ op: 'getSecret', name: 'flaky' })), { op: 'setSecret', name: `n${randomUUID().slice(0, 8)}`, value: 'x' }]);
    assert.ok(results.every((r) => r.ok), JSON.stringify(results.find((r) => !r.ok)));
    const list = await cli('list');
    assert.equal(list.length, 2);
    await cli('clear');
  });

  test('only the administrator manages faults, and bad rules get a 400 in ARM\'s shape', async () => {
    const a = await arm(m);
    const uai = await a.call('PUT', `${a.sub}/resourceGroups/faults/providers/Microsoft.ManagedIdentity/userAssignedIdentities/someone`, { location: 'eastus' }, '2023-01-31');
    const token = m.tokens.mint(m.directory.byObject(uai.body.properties.principalId)!, { resource: 'https://management.azure.com/', lifetimeSeconds: 3600, appidacr: '2' }).accessToken;
    const other = await a.call('GET', '/providers/Mimic.Reliability/faults', undefined, '2025-01-01', token);
    assert.equal(other.status, 403);
    assert.equal(other.body.error.code, 'AuthorizationFailed');
    const bad = await a.call('POST', '/providers/Mimic.Reliability/faults', { service: 'keyvault', operation: 'getSecret', rate: 7, status: 503 }, '2025-01-01');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'InvalidRequestContent');
  });
});
