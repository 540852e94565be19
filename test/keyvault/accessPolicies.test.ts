// Vaults that use access policies: permissions granted per principal through
// accessPolicies/{add|replace|remove} (with the real @azure/arm-keyvault client) decide what a
// managed identity may do, operation by operation; role assignments play no part there.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { runFixture, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { adminVaultToken, arm, assignRole, createGroup, createVault, kv, raw, ROLES, type Arm, type StepResult, type Vault } from './helpers.js';

const RG = 'kv-policies';

describe('Key Vault access policies', () => {
  let m: TestMimic;
  let a: Arm;
  let vault: Vault;
  let site: { id: string; principalId: string };
  const armSteps = async (steps: Record<string, unknown>[]) =>
    (await runFixture<{ results: StepResult[] }>('keyvault/arm.mjs', [JSON.stringify({ resourceGroup: RG, steps })], m.adminEnv)).results;

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    const rgId = await createGroup(a, RG);
    const tenantId = m.context.tenant.tenantId;
    // An older api-version: a vault created without enableRbacAuthorization uses access policies.
    vault = await createVault(a, RG, 'policyvault', { accessPolicies: [{ tenantId, objectId: m.context.tenant.adminObjectId, permissions: { secrets: ['all'] } }] }, '2024-11-01');
    const web = await a.call('PUT', `${rgId}/providers/Microsoft.Web/sites/reader`, { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} }, '2023-12-01');
    site = { id: web.body.id, principalId: web.body.identity.principalId };
    const seeded = await kv(m, vault, { admin: true }, [{ op: 'setSecret', name: 'one', value: '1' }, { op: 'setSecret', name: 'two', value: '2' }]);
    assert.ok(seeded.every((r) => r.ok), JSON.stringify(seeded));
  });
  after(() => m.dispose());

  test('an identity with only list on secrets can list but not get; add, replace and remove change that', async () => {
    assert.equal(vault.body.properties.enableRbacAuthorization, false);
    const added = await armSteps([{ op: 'policy', name: 'policyvault', kind: 'add', accessPolicies: [{ objectId: site.principalId, permissions: { secrets: ['list'] } }] }]);
    assert.deepEqual(added[0], { ok: true, value: { type: 'Microsoft.KeyVault/vaults/accessPolicies', count: 1 } });
    // A data role does nothing on a vault that uses access policies.
    await assignRole(a, vault.id, ROLES.secretsUser, site.principalId);

    const listOnly = await kv(m, vault, { as: site.id }, [{ op: 'listSecrets' }, { op: 'getSecret', name: 'one' }, { op: 'setSecret', name: 'three', value: '3' }]);
    assert.deepEqual(listOnly[0], { ok: true, value: ['one', 'two'] });
    assert.equal(listOnly[1]!.status, 403);
    assert.match(listOnly[1]!.message!, new RegExp(`oid=${site.principalId};numgroups=0;.*does not have secrets get permission on key vault 'policyvault;location=eastus'`));
    assert.equal(listOnly[2]!.status, 403);
    assert.match(listOnly[2]!.message!, /does not have secrets set permission/);

    const direct = await raw(m, vault, 'GET', '/secrets/one/', { token: (await tokenFor(site.id)) });
    assert.equal(direct.json().error.innererror.code, 'ForbiddenByPolicy');

    const more = await armSteps([
      { op: 'policy', name: 'policyvault', kind: 'add', accessPolicies: [{ objectId: site.principalId, permissions: { secrets: ['Get'] } }] },
      { op: 'get', name: 'policyvault' },
    ]);
    assert.deepEqual(more[1]!.value.accessPolicies.find((p: { objectId: string }) => p.objectId === site.principalId).secrets, ['list', 'Get']);
    const withGet = await kv(m, vault, { as: site.id }, [{ op: 'getSecret', name: 'one' }]);
    assert.equal(withGet[0]!.value?.value, '1', JSON.stringify(withGet[0]));

    const narrowed = await armSteps([
      { op: 'policy', name: 'policyvault', kind: 'replace', accessPolicies: [{ objectId: site.principalId, permissions: { secrets: ['get'] } }] },
      { op: 'policy', name: 'policyvault', kind: 'remove', accessPolicies: [{ objectId: site.principalId, permissions: { secrets: ['get'] } }] },
      { op: 'get', name: 'policyvault' },
    ]);
    assert.ok(narrowed.every((r) => r.ok), JSON.stringify(narrowed));
    assert.equal(narrowed[2]!.value.accessPolicies.length, 1, 'the emptied entry is gone');
    const gone = await kv(m, vault, { as: site.id }, [{ op: 'getSecret', name: 'one' }, { op: 'listSecrets' }]);
    assert.equal(gone[0]!.status, 403);
    assert.equal(gone[1]!.status, 403);
  });

  test('an entry naming an application applies only to that application acting for the principal', async () => {
    const admin = m.context.tenant.adminObjectId;
    const token = adminVaultToken(m);
    assert.equal((await raw(m, vault, 'GET', '/secrets/one/', { token })).status, 200);
    const replaced = await a.call('PUT', `${vault.id}/accessPolicies/replace`, { properties: { accessPolicies: [{ tenantId: m.context.tenant.tenantId, objectId: admin, applicationId: randomUUID(), permissions: { secrets: ['get'] } }] } });
    assert.equal(replaced.status, 200, replaced.text);
    const removed = await a.call('PUT', `${vault.id}/accessPolicies/remove`, { properties: { accessPolicies: [{ tenantId: m.context.tenant.tenantId, objectId: admin, permissions: {} }] } });
    assert.equal(removed.status, 200, removed.text);
    const r = await raw(m, vault, 'GET', '/secrets/one/', { token });
    assert.equal(r.status, 403, 'only the compound entry is left, and the admin is not that application');
    assert.equal((await a.call('PUT', `${vault.id}/accessPolicies/add`, { properties: { accessPolicies: [{ tenantId: m.context.tenant.tenantId, objectId: admin, permissions: { secrets: ['get'] } }] } })).status, 200);
    assert.equal((await raw(m, vault, 'GET', '/secrets/one/', { token })).status, 200);
  });

  test('switching the vault to RBAC ignores its access policies', async () => {
    const token = adminVaultToken(m);
    const patched = await a.call('PATCH', vault.id, { properties: { enableRbacAuthorization: true } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.properties.accessPolicies.length > 0, true);
    const refused = await raw(m, vault, 'GET', '/secrets/one/', { token });
    assert.equal(refused.status, 403);
    assert.equal(refused.json().error.innererror.code, 'ForbiddenByRbac');
    assert.equal((await a.call('PATCH', vault.id, { properties: { enableRbacAuthorization: false } })).status, 200);
    assert.equal((await raw(m, vault, 'GET', '/secrets/one/', { token })).status, 200);
  });

  async function tokenFor(host: string): Promise<string> {
    const r = await a.call('POST', `${a.sub}/providers/Mimic.ManagedIdentity/tokens`, { host, resource: 'https://vault.azure.net' }, '2025-01-01');
    assert.equal(r.status, 200, r.text);
    return r.body.access_token;
  }
});
