// The token-service and identity answers other SDKs depend on: instance discovery that keeps
// Mimic's port (MSAL Python drops it from the authority), the cloud metadata document, the Graph
// audiences and the corner of Microsoft Graph that az calls, and a subscription list limited to
// callers holding a role.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { adminToken, call } from '../helpers/https.js';
import { createGroup, createUai, envAs, identityBody, putHost, raw, type Host, type Uai } from '../managedIdentity/helpers.js';
import { assignRole, claimsOf, ROLES } from './azureClients.js';

const RG = 'rg-endpoints';

describe('identity endpoints for every SDK', () => {
  let m: TestMimic;
  let tenant: string;
  let port: string;
  let uai: Uai;
  let vm: Host;
  let graphToken: string;

  before(async () => {
    m = await startTestMimic();
    tenant = m.endpoints.tenantId;
    port = new URL(m.endpoints.origin).port;
    await createGroup(m, RG);
    uai = await createUai(m, RG, 'id-graph');
    vm = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-endpoints'], { identity: identityBody(true) });
    graphToken = await adminToken(m, 'https://graph.microsoft.com/');
  });
  after(async () => m.dispose());

  test('instance discovery names Mimic with its port when the authority lost it, and Azure\'s name as Azure does', async () => {
    const ask = async (endpoint: string, host?: string) =>
      (await call(m, 'GET', `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(endpoint)}`, host ? { headers: { host } } : {})).json as {
        tenant_discovery_endpoint: string;
        metadata: Array<{ aliases: string[] }>;
      };
    // MSAL Python: https://{hostname}{path}/oauth2/v2.0/authorize, port dropped, sent to login.microsoftonline.com.
    const lost = await ask(`https://localhost/${tenant}/oauth2/v2.0/authorize`, 'login.microsoftonline.com');
    assert.equal(lost.tenant_discovery_endpoint, `https://localhost:${port}/${tenant}/v2.0/.well-known/openid-configuration`);
    assert.deepEqual(lost.metadata[0]!.aliases, [`localhost:${port}`]);
    const kept = await ask(`https://localhost:${port}/${tenant}/oauth2/v2.0/authorize`);
    assert.equal(kept.tenant_discovery_endpoint, `https://localhost:${port}/${tenant}/v2.0/.well-known/openid-configuration`);
    const azure = await ask(`https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize`, 'login.microsoftonline.com');
    assert.equal(azure.tenant_discovery_endpoint, `https://login.microsoftonline.com/${tenant}/v2.0/.well-known/openid-configuration`);
    // The documents follow the name the client used.
    const viaAzure = await call(m, 'GET', `/${tenant}/v2.0/.well-known/openid-configuration`, { headers: { host: 'login.microsoftonline.com' } });
    assert.equal(viaAzure.json.token_endpoint, `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`);
    const direct = await call(m, 'GET', `/${tenant}/v2.0/.well-known/openid-configuration`);
    assert.equal(direct.json.token_endpoint, `https://localhost:${port}/${tenant}/oauth2/v2.0/token`);
  });

  test('/metadata/endpoints: the legacy document az reads and the cloud list, on Mimic\'s origin and on Azure\'s name', async () => {
    const legacy = await call(m, 'GET', '/metadata/endpoints?api-version=2015-01-01');
    assert.equal(legacy.status, 200);
    assert.deepEqual(legacy.json.authentication, { loginEndpoint: `https://localhost:${port}/`, audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'] });
    assert.equal(legacy.json.graphEndpoint, 'https://graph.windows.net/');
    const clouds = await call(m, 'GET', '/metadata/endpoints?api-version=2022-09-01');
    const cloud = clouds.json[0] as { name: string; resourceManager: string; authentication: { loginEndpoint: string }; suffixes: { keyVaultDns: string; storage: string }; microsoftGraphResourceId: string };
    assert.equal(cloud.resourceManager, `https://localhost:${port}/`);
    assert.equal(cloud.authentication.loginEndpoint, `https://localhost:${port}/`);
    assert.deepEqual([cloud.suffixes.keyVaultDns, cloud.suffixes.storage, cloud.microsoftGraphResourceId], ['vault.azure.net', 'core.windows.net', 'https://graph.microsoft.com/']);
    const azure = await call(m, 'GET', '/metadata/endpoints?api-version=2022-09-01', { headers: { host: 'management.azure.com' } });
    assert.equal(azure.json[0].resourceManager, 'https://management.azure.com/');
    assert.equal(azure.json[0].authentication.loginEndpoint, 'https://login.microsoftonline.com/');
    assert.equal((await call(m, 'POST', '/metadata/endpoints?api-version=2022-09-01', { body: '' })).status, 405);
  });

  test('tokens for the Graph audiences, from the token endpoint and from a managed identity endpoint', async () => {
    assert.equal(claimsOf(graphToken).aud, 'https://graph.microsoft.com');
    assert.equal(claimsOf(await adminToken(m, 'https://graph.windows.net/')).aud, 'https://graph.windows.net');
    const env = await envAs(m, vm.id);
    const r = await raw(`${env.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent('https://graph.windows.net/')}`, { headers: { Metadata: 'true' } });
    assert.equal(r.status, 200);
    assert.equal(claimsOf(String(r.json.access_token)).oid, vm.principalId);
  });

  test('Microsoft Graph: the lookups az makes are served from the directory; the rest is a clear 501', async () => {
    const graph = (method: string, path: string, opts: { token?: string; body?: string } = {}) =>
      call(m, method, path, { headers: { host: 'graph.microsoft.com', ...(opts.token === '' ? {} : { authorization: `Bearer ${opts.token ?? graphToken}` }), ...(opts.body ? { 'content-type': 'application/json' } : {}) }, body: opts.body });
    const none = await graph('GET', '/v1.0/servicePrincipals', { token: '' });
    assert.equal(none.status, 401);
    assert.equal(none.json.error.code, 'InvalidAuthenticationToken');
    const armToken = await adminToken(m);
    assert.match((await graph('GET', '/v1.0/servicePrincipals', { token: armToken })).json.error.message, /Invalid audience/);

    const me = await graph('GET', '/v1.0/me');
    assert.equal(me.status, 400);
    assert.match(me.json.error.message, /delegated authentication flow/);

    const byName = await graph('GET', `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`servicePrincipalNames/any(c:c eq '${uai.clientId}')`)}`);
    assert.equal(byName.status, 200);
    assert.deepEqual(byName.json.value.map((s: { id: string }) => s.id), [uai.principalId]);
    assert.equal(byName.json.value[0].servicePrincipalType, 'ManagedIdentity');
    assert.ok(byName.json.value[0].alternativeNames.includes(uai.id));
    const admin = await graph('GET', `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${m.adminEnv.AZURE_CLIENT_ID}'`)}`);
    assert.equal(admin.json.value[0].id, m.context.tenant.adminObjectId);
    assert.equal((await graph('GET', `/v1.0/servicePrincipals/${uai.principalId}`)).json.appId, uai.clientId);
    assert.equal((await graph('GET', `/v1.0/servicePrincipals/${'0'.repeat(8)}-0000-0000-0000-000000000000`)).json.error.code, 'Request_ResourceNotFound');
    const byIds = await graph('POST', '/v1.0/directoryObjects/getByIds', { body: JSON.stringify({ ids: [uai.principalId, vm.principalId, 'nope'] }) });
    assert.deepEqual(byIds.json.value.map((o: { id: string; '@odata.type': string }) => [o.id, o['@odata.type']]), [
      [uai.principalId, '#microsoft.graph.servicePrincipal'],
      [vm.principalId, '#microsoft.graph.servicePrincipal'],
    ]);
    assert.equal((await graph('POST', '/v1.0/directoryObjects/getByIds', { body: '{"ids": 3}' })).status, 400);
    assert.equal((await graph('GET', `/v1.0/servicePrincipals?$filter=${encodeURIComponent("startswith(displayName,'a')")}`)).status, 400);

    const users = await graph('GET', '/v1.0/users');
    assert.equal(users.status, 501);
    assert.equal(users.json.error.code, 'NotImplemented');
    assert.ok(users.json.error.innerError['request-id']);
    const aad = await call(m, 'GET', '/tenant/users?api-version=1.6', { headers: { host: 'graph.windows.net' } });
    assert.equal(aad.status, 501);
    assert.equal(aad.json['odata.error'].code, 'Request_NotImplemented');
    // Both Graph names are routed like Azure's other names.
    assert.ok(m.endpoints.routes['graph.microsoft.com'] && m.endpoints.routes['graph.windows.net']);
  });

  test('GET /subscriptions lists the subscription only to callers holding some role in it', async () => {
    const env = await envAs(m, vm.id);
    const armToken = async () =>
      String((await raw(`${env.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent('https://management.azure.com/')}`, { headers: { Metadata: 'true' } })).json.access_token);
    const list = async (token: string) => (await call(m, 'GET', '/subscriptions?api-version=2022-12-01', { headers: { authorization: `Bearer ${token}` } })).json.value as Array<{ subscriptionId: string }>;
    const token = await armToken();
    assert.deepEqual(await list(token), []);
    assert.equal((await list(await adminToken(m))).length, 1);
    // A data role on one resource inside the subscription is enough, as in Azure.
    await assignRole(m, vm.id, ROLES.keyVaultSecretsUser, vm.principalId!);
    assert.deepEqual((await list(token)).map((s) => s.subscriptionId), [m.endpoints.subscriptionId]);
  });
});
