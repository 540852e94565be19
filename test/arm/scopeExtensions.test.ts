// Authorization of the scope extensions added for the REST specs: tags/default is decided by
// Microsoft.Resources/tags/* (a Tag Contributor tags what it cannot change), a resource's
// system-assigned identity by Microsoft.ManagedIdentity/identities/read.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';

const TAG_CONTRIBUTOR = '4a9ae827-6dc8-4573-8ac7-8239d42aa03f';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

describe('tags/default and identities/default authorization', () => {
  let m: TestMimic;
  let a: ArmCaller;
  let rg: string;
  let site: string;
  let token: string;
  let principalId: string;

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await armCaller(m.dataDir, '2024-11-30');
    rg = `${a.sub}/resourceGroups/rg-ext`;
    assert.equal((await a.call('PUT', rg, { location: 'eastus' }, '2021-04-01')).status, 201);
    site = `${rg}/providers/Microsoft.Web/sites/site-ext`;
    assert.equal((await a.call('PUT', site, { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} }, '2023-12-01')).status, 201);
    const uai = await a.call('PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-tagger`, { location: 'eastus' });
    principalId = uai.body.properties.principalId;
    token = m.tokens.mint(m.directory.byObject(principalId)!, { resource: 'https://management.azure.com/', lifetimeSeconds: 3600, appidacr: '2' }).accessToken;
  });
  after(() => m.dispose());

  async function assign(role: string): Promise<void> {
    const r = await a.call('PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`, { properties: { roleDefinitionId: `${a.sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId, principalType: 'ServicePrincipal' } }, '2022-04-01');
    assert.equal(r.status, 201, r.text);
  }

  test('without a role: tags and the identity resource are refused with AuthorizationFailed', async () => {
    const t = await a.call('PUT', `${site}/providers/Microsoft.Resources/tags/default`, { properties: { tags: { env: 'x' } } }, '2021-04-01', token);
    assert.equal(t.status, 403);
    assert.equal(t.body.error.code, 'AuthorizationFailed');
    assert.match(t.body.error.message, /Microsoft\.Resources\/tags\/write/);
    const i = await a.call('GET', `${site}/providers/Microsoft.ManagedIdentity/identities/default`, undefined, '2023-01-31', token);
    assert.equal(i.status, 403);
    assert.match(i.body.error.message, /Microsoft\.ManagedIdentity\/identities\/read/);
  });

  test('Tag Contributor tags a resource it cannot change', async () => {
    await assign(TAG_CONTRIBUTOR);
    const t = await a.call('PUT', `${site}/providers/Microsoft.Resources/tags/default`, { properties: { tags: { env: 'prod' } } }, '2021-04-01', token);
    assert.equal(t.status, 200, t.text);
    assert.deepEqual((await a.call('GET', site, undefined, '2023-12-01')).body.tags, { env: 'prod' });
    const w = await a.call('PUT', site, { location: 'eastus', properties: {} }, '2023-12-01', token);
    assert.equal(w.status, 403);
    const bad = await a.call('PATCH', `${site}/providers/Microsoft.Resources/tags/default`, { operation: 'Sideways', properties: { tags: {} } }, '2021-04-01', token);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'InvalidRequestContent');
  });

  test('Reader reads the system-assigned identity resource', async () => {
    await assign(READER);
    const i = await a.call('GET', `${site}/providers/Microsoft.ManagedIdentity/identities/default`, undefined, '2023-01-31', token);
    assert.equal(i.status, 200, i.text);
    assert.equal(i.body.type, 'Microsoft.ManagedIdentity/identities');
    assert.equal(i.body.properties.tenantId, m.endpoints.tenantId);
    const w = await a.call('PUT', `${site}/providers/Microsoft.ManagedIdentity/identities/default`, {}, '2023-01-31', token);
    assert.equal(w.status, 405);
  });
});
