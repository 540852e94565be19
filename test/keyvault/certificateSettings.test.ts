// Vault-wide certificate settings (contacts, issuers), random bytes, and the x-ms-error-code
// header on the Key Vault data plane, decided by RBAC data actions (certificatecontacts/write,
// certificatecas/*, rng/action) or by access-policy permissions (managecontacts, getissuers,
// setissuers, deleteissuers, listissuers, or manageissuers for every issuer operation).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { adminVaultToken, arm, assignRole, createGroup, createVault, raw, ROLES, type Arm, type Vault } from './helpers.js';

describe('Key Vault certificate contacts, issuers and random bytes', () => {
  let m: TestMimic;
  let a: Arm;
  let token: string;
  let rbacVault: Vault;
  let policyVault: Vault;

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    await createGroup(a, 'rg-certset');
    token = adminVaultToken(m);
    rbacVault = await createVault(a, 'rg-certset', 'kv-certset-rbac');
    const tenantId = m.endpoints.tenantId;
    const objectId = m.context.tenant.adminObjectId;
    policyVault = await createVault(a, 'rg-certset', 'kv-certset-pol', {
      enableRbacAuthorization: false,
      accessPolicies: [{ tenantId, objectId, permissions: { certificates: ['getissuers', 'listissuers'], keys: ['get'] } }],
    });
  });
  after(() => m.dispose());

  test('errors carry x-ms-error-code', async () => {
    const r = await raw(m, rbacVault, 'GET', '/secrets/missing', { token });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-ms-error-code'], 'Forbidden');
    const n = await raw(m, rbacVault, 'GET', '/secrets/missing');
    assert.equal(n.status, 401);
    assert.equal(n.headers['x-ms-error-code'], n.json().error.code);
  });

  test('RBAC: contacts need certificatecontacts/write, issuers certificatecas/*, random bytes rng/action', async () => {
    const contacts = { contacts: [{ email: 'a@contoso.example', name: 'A', phone: '1' }] };
    assert.equal((await raw(m, rbacVault, 'PUT', '/certificates/contacts', { token, body: contacts })).status, 403);
    assert.equal((await raw(m, rbacVault, 'PUT', '/certificates/issuers/iss1', { token, body: { provider: 'Unknown' } })).status, 403);
    assert.equal((await raw(m, rbacVault, 'POST', '/rng', { token, body: { count: 16 } })).status, 403);
    await assignRole(a, rbacVault.id, ROLES.certificatesOfficer, m.context.tenant.adminObjectId);
    const set = await raw(m, rbacVault, 'PUT', '/certificates/contacts', { token, body: contacts });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.json().contacts, contacts.contacts);
    assert.deepEqual((await raw(m, rbacVault, 'GET', '/certificates/contacts', { token })).json().contacts, contacts.contacts);
    const del = await raw(m, rbacVault, 'DELETE', '/certificates/contacts', { token });
    assert.deepEqual(del.json().contacts, contacts.contacts, 'delete answers the contacts it removed');
    const gone = await raw(m, rbacVault, 'GET', '/certificates/contacts', { token });
    assert.equal(gone.status, 404);
    assert.equal(gone.headers['x-ms-error-code'], 'ContactsNotFound');

    const put = await raw(m, rbacVault, 'PUT', '/certificates/issuers/iss1', { token, body: { provider: 'Unknown', credentials: { account_id: 'x', pwd: 'secret' } } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json().credentials, { account_id: 'x' });
    assert.equal((await raw(m, rbacVault, 'PATCH', '/certificates/issuers/iss1', { token, body: { attributes: { enabled: false } } })).json().attributes.enabled, false);
    assert.deepEqual((await raw(m, rbacVault, 'GET', '/certificates/issuers', { token })).json().value.map((i: { provider: string }) => i.provider), ['Unknown']);
    assert.equal((await raw(m, rbacVault, 'PUT', '/certificates/issuers/iss2', { token, body: { provider: 'DigiCert' } })).status, 400);
    assert.equal((await raw(m, rbacVault, 'DELETE', '/certificates/issuers/iss1', { token })).status, 200);
    assert.equal((await raw(m, rbacVault, 'GET', '/certificates/issuers/iss1', { token })).status, 404);

    assert.equal((await raw(m, rbacVault, 'POST', '/rng', { token, body: { count: 16 } })).status, 403, 'Certificates Officer has no rng/action');
    await assignRole(a, rbacVault.id, ROLES.administrator, m.context.tenant.adminObjectId);
    const rng = await raw(m, rbacVault, 'POST', '/rng', { token, body: { count: 32 } });
    assert.equal(rng.status, 200, rng.text);
    assert.equal(Buffer.from(rng.json().value, 'base64url').length, 32);
    assert.equal((await raw(m, rbacVault, 'POST', '/rng', { token, body: { count: 0 } })).status, 400);
  });

  test('access policies: getissuers/listissuers read issuers; setissuers, managecontacts are separate', async () => {
    assert.equal((await raw(m, policyVault, 'GET', '/certificates/issuers', { token })).status, 200);
    assert.equal((await raw(m, policyVault, 'GET', '/certificates/issuers/none', { token })).status, 404, 'getissuers reaches the lookup');
    assert.equal((await raw(m, policyVault, 'PUT', '/certificates/issuers/iss', { token, body: { provider: 'Self' } })).status, 403);
    assert.equal((await raw(m, policyVault, 'PUT', '/certificates/contacts', { token, body: { contacts: [{ email: 'x@y.z' }] } })).status, 403);
    const tenantId = m.endpoints.tenantId;
    const objectId = m.context.tenant.adminObjectId;
    const r = await a.call('PUT', `${policyVault.id}/accessPolicies/replace`, { properties: { accessPolicies: [{ tenantId, objectId, permissions: { certificates: ['manageissuers', 'managecontacts'], keys: ['get'] } }] } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await raw(m, policyVault, 'PUT', '/certificates/issuers/iss', { token, body: { provider: 'Self' } })).status, 200, 'manageissuers covers setissuers');
    assert.equal((await raw(m, policyVault, 'DELETE', '/certificates/issuers/iss', { token })).status, 200, 'and deleteissuers');
    assert.equal((await raw(m, policyVault, 'PUT', '/certificates/contacts', { token, body: { contacts: [{ email: 'x@y.z' }] } })).status, 200);
    assert.equal((await raw(m, policyVault, 'POST', '/rng', { token, body: { count: 8 } })).status, 200, 'keys get grants random bytes under access policies');
  });
});
