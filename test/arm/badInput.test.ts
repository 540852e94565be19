// Bad input to the Resource Manager: each gets Azure's status and error body, and the server keeps serving.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { call, adminToken } from '../helpers/https.js';
import { signJwt, b64urlJson } from '../../src/sts/jwt.js';

describe('Resource Manager refuses bad input with ARM errors', () => {
  let mimic: TestMimic;
  let token: string;
  let sub: string;
  const auth = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  before(async () => {
    mimic = await startTestMimic();
    token = await adminToken(mimic);
    sub = `/subscriptions/${mimic.endpoints.subscriptionId}`;
    const r = await call(mimic, 'PUT', `${sub}/resourceGroups/rg1?api-version=2025-04-01`, { headers: auth(), body: JSON.stringify({ location: 'eastus' }) });
    assert.equal(r.status, 201);
  });
  after(() => mimic.dispose());

  const uai = (name: string) => `/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}?api-version=2024-11-30`;

  test('malformed JSON, wrong content type, non-object bodies and oversized bodies', async () => {
    let r = await call(mimic, 'PUT', sub + uai('id1'), { headers: auth(), body: '{"location": "eastus",' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidRequestContent');
    r = await call(mimic, 'PUT', sub + uai('id1'), { headers: { ...auth(), 'content-type': 'text/plain' }, body: '{"location":"eastus"}' });
    assert.equal(r.status, 415);
    assert.equal(r.json.error.code, 'UnsupportedMediaType');
    r = await call(mimic, 'PUT', sub + uai('id1'), { headers: auth(), body: '[1,2]' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidRequestContent');
    r = await call(mimic, 'PUT', sub + uai('id1'), { headers: auth(), body: JSON.stringify({ location: 'eastus', tags: { pad: 'x'.repeat(5 * 1024 * 1024) } }) });
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'RequestEntityTooLarge');
    r = await call(mimic, 'PUT', sub + uai('id1'), { headers: auth(), body: JSON.stringify({ tags: {} }) });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'LocationRequired');
  });

  test('bodies nested too deeply and envelope fields of the wrong type (found by fuzzing: both were 500s)', async () => {
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    let r = await call(mimic, 'PUT', `${sub}/resourceGroups/rg1/providers/Microsoft.Logic/workflows/wf1?api-version=2019-05-01`, { headers: auth(), body: `{"location":"eastus","properties":${deep(20_000)}}` });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidRequestContent');
    assert.match(r.json.error.message, /nested deeper than 128 levels/);
    r = await call(mimic, 'PUT', `${sub}/resourceGroups/rg1/providers/Microsoft.Logic/workflows/wf1?api-version=2019-05-01`, { headers: auth(), body: `{"location":"eastus","properties":${deep(100)}}` });
    assert.equal(r.status, 201, r.text);
    for (const [field, value] of [['kind', ['StorageV2']], ['kind', 7], ['location', {}], ['zones', '1'], ['sku', 'Standard_LRS'], ['managedBy', false]] as const) {
      r = await call(mimic, 'PUT', `${sub}/resourceGroups/rg1/providers/Microsoft.Logic/workflows/wf2?api-version=2019-05-01`, { headers: auth(), body: JSON.stringify({ location: 'eastus', [field]: value }) });
      assert.equal(r.status, 400, `${field}: ${r.text}`);
      assert.equal(r.json.error.code, 'InvalidRequestContent');
      assert.match(r.json.error.message, new RegExp(`'${field}'`));
    }
    r = await call(mimic, 'GET', `${sub}/resourceGroups/rg1?api-version=2025-04-01`, { headers: auth() });
    assert.equal(r.status, 200);
  });

  test('unknown namespaces, types and api-versions', async () => {
    let r = await call(mimic, 'PUT', `${sub}/resourceGroups/rg1/providers/Microsoft.Nope/things/x?api-version=2024-01-01`, { headers: auth(), body: '{"location":"eastus"}' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidResourceNamespace');
    r = await call(mimic, 'PUT', `${sub}/resourceGroups/rg1/providers/Microsoft.Web/notATypeAtAll/x?api-version=2024-01-01`, { headers: auth(), body: '{"location":"eastus"}' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidResourceType');
    r = await call(mimic, 'GET', `${sub}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x?api-version=1999-01-01`, { headers: auth() });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'NoRegisteredProviderFound');
    r = await call(mimic, 'GET', `${sub}/resourceGroups/rg1`, { headers: auth() });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'MissingApiVersionParameter');
    r = await call(mimic, 'GET', `${sub}/resourceGroups/rg1?api-version=latest`, { headers: auth() });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidApiVersionParameter');
  });

  test('invalid names and missing parents', async () => {
    for (const bad of ['ab', '-leading', 'has space', 'x'.repeat(129)]) {
      const r = await call(mimic, 'PUT', sub + uai(encodeURIComponent(bad)), { headers: auth(), body: '{"location":"eastus"}' });
      assert.equal(r.status, 400, bad);
      assert.equal(r.json.error.code, 'InvalidResourceName');
    }
    let r = await call(mimic, 'PUT', `${sub}/resourceGroups/bad.name.?api-version=2025-04-01`, { headers: auth(), body: '{"location":"eastus"}' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidResourceGroupName');
    r = await call(mimic, 'GET', `${sub}/resourceGroups/nope/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1?api-version=2024-11-30`, { headers: auth() });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'ResourceGroupNotFound');
    r = await call(mimic, 'GET', sub + uai('never-made'), { headers: auth() });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'ResourceNotFound');
    r = await call(mimic, 'GET', `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups?api-version=2025-04-01`, { headers: auth() });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'SubscriptionNotFound');
  });

  test('bad identity blocks', async () => {
    const site = `${sub}/resourceGroups/rg1/providers/Microsoft.Web/sites/site1?api-version=2023-12-01`;
    let r = await call(mimic, 'PUT', site, { headers: auth(), body: JSON.stringify({ location: 'eastus', identity: { type: 'Everything' } }) });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidIdentityType');
    r = await call(mimic, 'PUT', site, { headers: auth(), body: JSON.stringify({ location: 'eastus', identity: { type: 'UserAssigned', userAssignedIdentities: { 'not-an-id': {} } } }) });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'LinkedInvalidPropertyId');
    r = await call(mimic, 'PUT', site, { headers: auth(), body: JSON.stringify({ location: 'eastus', identity: { type: 'UserAssigned' } }) });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidIdentity');
    // Both spellings of the combined type are accepted.
    const id = await call(mimic, 'PUT', sub + uai('id-ok'), { headers: auth(), body: '{"location":"eastus"}' });
    r = await call(mimic, 'PUT', site, { headers: auth(), body: JSON.stringify({ location: 'eastus', identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [id.json.id]: {} } } }) });
    assert.equal(r.status, 201);
    assert.equal(r.json.identity.type, 'SystemAssigned,UserAssigned');
  });

  test('resource providers report as registered; an unknown namespace does not', async () => {
    let r = await call(mimic, 'POST', `${sub}/providers/Microsoft.ManagedIdentity/register?api-version=2025-04-01`, { headers: auth() });
    assert.equal(r.status, 200);
    assert.equal(r.json.registrationState, 'Registered');
    assert.ok(r.json.resourceTypes.some((t: { resourceType: string }) => t.resourceType === 'userAssignedIdentities'));
    r = await call(mimic, 'GET', `${sub}/providers/Microsoft.Nope?api-version=2025-04-01`, { headers: auth() });
    assert.equal(r.status, 404);
  });

  test('double slashes in paths are accepted, as the SDKs send them', async () => {
    const r = await call(mimic, 'GET', `/${sub}//resourceGroups/rg1?api-version=2025-04-01`, { headers: auth() });
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'rg1');
  });

  describe('tokens', () => {
    const get = (authorization?: string) => call(mimic, 'GET', `${sub}/resourceGroups/rg1?api-version=2025-04-01`, { headers: authorization ? { authorization } : {} });
    const claims = () => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const header = () => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;

    test('missing header: 401 AuthenticationFailed with a challenge', async () => {
      const r = await get();
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'AuthenticationFailed');
      assert.match(String(r.headers['www-authenticate']), /^Bearer authorization_uri=/);
    });

    test('expired token: 401 ExpiredAuthenticationToken', async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = signJwt(header(), { ...claims(), iat: now - 7200, nbf: now - 7200, exp: now - 3600 }, mimic.keys.active().privateKey);
      const r = await get(`Bearer ${expired}`);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'ExpiredAuthenticationToken');
    });

    test('unsigned token (alg none): 401 InvalidAuthenticationToken', async () => {
      const none = `${b64urlJson({ typ: 'JWT', alg: 'none' })}.${b64urlJson(claims())}.`;
      const r = await get(`Bearer ${none}`);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'InvalidAuthenticationToken');
    });

    test('token signed with another key, even under our kid: 401', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const forged = signJwt(header(), claims(), privateKey);
      const r = await get(`Bearer ${forged}`);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'InvalidAuthenticationToken');
      const tampered = token.split('.');
      tampered[1] = b64urlJson({ ...claims(), oid: '00000000-0000-0000-0000-000000000000' });
      assert.equal((await get(`Bearer ${tampered.join('.')}`)).status, 401);
    });

    test('token for another audience: 401 InvalidAuthenticationTokenAudience', async () => {
      const vault = await adminToken(mimic, 'https://vault.azure.net');
      const r = await get(`Bearer ${vault}`);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'InvalidAuthenticationTokenAudience');
    });

    test('token of another issuer: 401 InvalidAuthenticationTokenTenant', async () => {
      const other = signJwt(header(), { ...claims(), iss: 'https://sts.windows.net/11111111-1111-1111-1111-111111111111/' }, mimic.keys.active().privateKey);
      const r = await get(`Bearer ${other}`);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'InvalidAuthenticationTokenTenant');
    });

    test('garbage: 401, and the server keeps serving', async () => {
      for (const g of ['Bearer', 'Bearer a.b', 'Bearer ....', 'Basic abc', `Bearer ${'x'.repeat(8000)}`]) {
        const r = await get(g);
        assert.equal(r.status, 401, g.slice(0, 20));
      }
      // Headers beyond Node's 16 KiB limit are refused before any handler runs.
      assert.equal((await get(`Bearer ${'x'.repeat(20000)}`)).status, 431);
      assert.equal((await get(`Bearer ${token}`)).status, 200);
      assert.equal((await call(mimic, 'GET', '/health')).status, 200);
    });
  });
});
