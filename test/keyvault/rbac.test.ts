// RBAC vaults through the real SDKs over HTTPS: code running as a web app's managed identity
// (under `mimic run --as`) reads a secret only once a data role reaches it — at the vault, its
// resource group, or the secret itself — and loses it when the assignment goes; the
// administrator, Owner of the subscription, holds no data actions until given a data role.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { adminVaultToken, arm, assignRole, createGroup, createVault, deleteAssignment, kv, raw, ROLES, type Arm, type StepResult, type Vault } from './helpers.js';

const RG = 'kv-rbac';

/** A 403 from Key Vault naming the data action (list operations surface only the status). */
function forbidden(r: StepResult | undefined, action?: string): void {
  assert.equal(r?.ok, false, JSON.stringify(r));
  assert.equal(r!.status, 403, JSON.stringify(r));
  if (!action) return;
  assert.equal(r!.code, 'Forbidden');
  assert.ok(r!.message!.includes(`Action: 'Microsoft.KeyVault/vaults/${action}'`), r!.message);
}

describe('Key Vault RBAC with managed identities', () => {
  let m: TestMimic;
  let a: Arm;
  let rgId: string;
  let vault: Vault;
  let site: { id: string; principalId: string };
  let uaiSite: { id: string; principalId: string; clientId: string };

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    rgId = await createGroup(a, RG);
    vault = await createVault(a, RG, 'rbacvault1');
    const web = await a.call('PUT', `${rgId}/providers/Microsoft.Web/sites/web1`, { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} }, '2023-12-01');
    assert.equal(web.status, 201, web.text);
    site = { id: web.body.id, principalId: web.body.identity.principalId };
    const uai = await a.call('PUT', `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web2-id`, { location: 'eastus' }, '2023-01-31');
    assert.equal(uai.status, 201, uai.text);
    const web2 = await a.call('PUT', `${rgId}/providers/Microsoft.Web/sites/web2`, { location: 'eastus', identity: { type: 'UserAssigned', userAssignedIdentities: { [uai.body.id]: {} } }, properties: {} }, '2023-12-01');
    assert.equal(web2.status, 201, web2.text);
    uaiSite = { id: web2.body.id, principalId: uai.body.properties.principalId, clientId: uai.body.properties.clientId };
  });
  after(() => m.dispose());

  test('the administrator, Owner of the subscription, has no data access until it holds a data role', async () => {
    assert.equal(vault.body.properties.enableRbacAuthorization, true);
    const before = await kv(m, vault, { admin: true }, [
      { op: 'setSecret', name: 'db-password', value: 'p@ss' },
      { op: 'listSecrets' },
    ]);
    forbidden(before[0], 'secrets/setSecret/action');
    forbidden(before[1]);
    // The wire body names the caller, the action, the lower-cased resource and the vault, as Key Vault does.
    const direct = await raw(m, vault, 'GET', '/secrets/db-password/', { token: adminVaultToken(m) });
    assert.equal(direct.status, 403);
    const error = direct.json().error;
    assert.equal(error.code, 'Forbidden');
    assert.equal(error.innererror.code, 'ForbiddenByRbac');
    assert.ok(error.message.includes(`oid=${m.context.tenant.adminObjectId}`), error.message);
    assert.ok(error.message.includes(`Resource: '${vault.id.toLowerCase()}/secrets/db-password'`), error.message);
    assert.ok(error.message.includes('Vault: rbacvault1;location=eastus'), error.message);

    await assignRole(a, vault.id, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    const after = await kv(m, vault, { admin: true }, [
      { op: 'setSecret', name: 'db-password', value: 'p@ss' },
      { op: 'setSecret', name: 'api-key', value: 'k3y' },
      { op: 'listSecrets' },
    ]);
    assert.ok(after.every((r) => r.ok), JSON.stringify(after));
    assert.deepEqual(after[2]!.value, ['api-key', 'db-password']);
  });

  test("a web app's system-assigned identity: Key Vault Secrets User at the vault, the group or the secret", async () => {
    const as = { as: site.id };
    forbidden((await kv(m, vault, as, [{ op: 'getSecret', name: 'db-password' }]))[0], 'secrets/getSecret/action');

    const atVault = await assignRole(a, vault.id, ROLES.secretsUser, site.principalId);
    const granted = await kv(m, vault, as, [
      { op: 'getSecret', name: 'db-password' },
      { op: 'listSecrets' },
      { op: 'setSecret', name: 'db-password', value: 'changed' },
    ]);
    assert.equal(granted[0]!.value?.value, 'p@ss', JSON.stringify(granted[0]));
    assert.deepEqual(granted[1]!.value, ['api-key', 'db-password']);
    forbidden(granted[2], 'secrets/setSecret/action');

    await deleteAssignment(a, atVault);
    forbidden((await kv(m, vault, as, [{ op: 'getSecret', name: 'db-password' }]))[0], 'secrets/getSecret/action');

    const atGroup = await assignRole(a, rgId, ROLES.secretsUser, site.principalId);
    assert.equal((await kv(m, vault, as, [{ op: 'getSecret', name: 'api-key' }]))[0]!.value?.value, 'k3y');
    await deleteAssignment(a, atGroup);

    const onSecret = await assignRole(a, `${vault.id}/secrets/db-password`, ROLES.secretsUser, site.principalId);
    const scoped = await kv(m, vault, as, [
      { op: 'getSecret', name: 'db-password' },
      { op: 'getSecret', name: 'api-key' },
    ]);
    assert.equal(scoped[0]!.value?.value, 'p@ss', JSON.stringify(scoped[0]));
    forbidden(scoped[1], 'secrets/getSecret/action');
    await deleteAssignment(a, onSecret);
    forbidden((await kv(m, vault, as, [{ op: 'getSecret', name: 'db-password' }]))[0], 'secrets/getSecret/action');
  });

  test('a user-assigned identity selected by clientId', async () => {
    const as = { as: uaiSite.id, clientId: uaiSite.clientId };
    forbidden((await kv(m, vault, as, [{ op: 'getSecret', name: 'api-key' }]))[0], 'secrets/getSecret/action');
    const assignment = await assignRole(a, vault.id, ROLES.secretsUser, uaiSite.principalId);
    const granted = await kv(m, vault, as, [
      { op: 'getSecret', name: 'api-key' },
      { op: 'setSecret', name: 'api-key', value: 'other' },
    ]);
    assert.equal(granted[0]!.value?.value, 'k3y', JSON.stringify(granted[0]));
    forbidden(granted[1], 'secrets/setSecret/action');
    await deleteAssignment(a, assignment);
    forbidden((await kv(m, vault, as, [{ op: 'getSecret', name: 'api-key' }]))[0], 'secrets/getSecret/action');
  });
});
