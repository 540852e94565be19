// The token service: client credentials with secrets, Entra's errors, discovery, and tokens that
// verify with `jose` against the JWKS named by the discovery document.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { call } from '../helpers/https.js';

describe('token service', () => {
  let mimic: TestMimic;
  let tenant: string;
  const form = (fields: Record<string, string>) => ({ body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const creds = () => ({ grant_type: 'client_credentials', client_id: mimic.adminEnv.AZURE_CLIENT_ID!, client_secret: mimic.adminEnv.AZURE_CLIENT_SECRET! });
  before(async () => {
    mimic = await startTestMimic();
    tenant = mimic.endpoints.tenantId;
  });
  after(() => mimic.dispose());

  test('v2 client credentials: a v1 access token that verifies against the discovered JWKS', async () => {
    const r = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, form({ ...creds(), scope: 'https://vault.azure.net/.default' }));
    assert.equal(r.status, 200);
    assert.equal(r.json.token_type, 'Bearer');
    assert.ok(r.json.expires_in > 3000 && r.json.expires_in < 4000);
    const discovery = await call(mimic, 'GET', `/${tenant}/v2.0/.well-known/openid-configuration`);
    assert.equal(discovery.json.token_endpoint, `${mimic.endpoints.origin}/${tenant}/oauth2/v2.0/token`);
    const jwks = await call(mimic, 'GET', new URL(discovery.json.jwks_uri).pathname);
    const { payload } = await jwtVerify(r.json.access_token, createLocalJWKSet(jwks.json), {
      issuer: `https://sts.windows.net/${tenant}/`,
      audience: 'https://vault.azure.net',
      algorithms: ['RS256'],
    });
    assert.equal(payload.appid, mimic.adminEnv.AZURE_CLIENT_ID);
    assert.equal(payload.tid, tenant);
    assert.equal(payload.ver, '1.0');
    assert.equal(payload.idtyp, 'app');
    assert.equal(payload.appidacr, '1');
    assert.equal(payload.sub, payload.oid);
    const header = decodeProtectedHeader(r.json.access_token);
    assert.equal(header.x5t, header.kid);
    const v1 = await call(mimic, 'GET', `/${tenant}/.well-known/openid-configuration`);
    assert.equal(v1.json.issuer, `https://sts.windows.net/${tenant}/`);
  });

  test('v1 endpoint: resource parameter, expires_on as epoch seconds string', async () => {
    const r = await call(mimic, 'POST', `/${tenant}/oauth2/token`, form({ ...creds(), resource: 'https://management.core.windows.net/' }));
    assert.equal(r.status, 200);
    assert.match(r.json.expires_on, /^\d{10}$/);
    assert.equal(r.json.resource, 'https://management.core.windows.net/');
    const payload = JSON.parse(Buffer.from(r.json.access_token.split('.')[1], 'base64url').toString());
    assert.equal(payload.aud, 'https://management.core.windows.net/', 'aud is the resource exactly as requested');
  });

  test("Entra's errors: unknown client, wrong secret, unknown resource, scope without /.default, bad grant, unknown tenant", async () => {
    let r = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, form({ ...creds(), client_id: '11111111-2222-3333-4444-555555555555', scope: 'https://vault.azure.net/.default' }));
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'unauthorized_client');
    assert.match(r.json.error_description, /^AADSTS700016: /);
    r = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, form({ ...creds(), client_secret: 'wrong', scope: 'https://vault.azure.net/.default' }));
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'invalid_client');
    assert.deepEqual(r.json.error_codes, [7000215]);
    r = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, form({ ...creds(), scope: 'https://unknown.example.com/.default' }));
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_resource');
    assert.match(r.json.error_description, /^AADSTS500011: The resource principal named https:\/\/unknown.example.com was not found/);
    r = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, form({ ...creds(), scope: 'https://vault.azure.net/user.read' }));
    assert.equal(r.json.error, 'invalid_scope');
    r = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, form({ ...creds(), grant_type: 'password', scope: 'https://vault.azure.net/.default' }));
    assert.equal(r.json.error, 'unsupported_grant_type');
    r = await call(mimic, 'POST', `/99999999-9999-9999-9999-999999999999/oauth2/v2.0/token`, form({ ...creds(), scope: 'https://vault.azure.net/.default' }));
    assert.equal(r.status, 400);
    assert.deepEqual(r.json.error_codes, [90002]);
    r = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, form({ scope: 'x' }));
    assert.equal(r.json.error, 'invalid_request');
  });

  test('client credentials in a Basic Authorization header: form-urlencoded as RFC 6749 says; a bad encoding is a 401, not a 500', async () => {
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'https://vault.azure.net/.default' }).toString();
    const headers = (auth: string) => ({ 'content-type': 'application/x-www-form-urlencoded', authorization: auth });
    let r = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, { body, headers: headers(basic(encodeURIComponent(mimic.adminEnv.AZURE_CLIENT_ID!), encodeURIComponent(mimic.adminEnv.AZURE_CLIENT_SECRET!))) });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    // Found while writing the tokenEndpoint fuzz target (corpus regress-basic-bad-encoding).
    for (const [id, secret] of [['a', '%ZZ'], ['%E0%A4%A', 'x'], [mimic.adminEnv.AZURE_CLIENT_ID!, '%']]) {
      r = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, { body, headers: headers(basic(id!, secret!)) });
      assert.equal(r.status, 401, JSON.stringify(r.json));
      assert.equal(r.json.error, 'invalid_client');
      assert.match(r.json.error_description, /^AADSTS50012: /);
    }
  });

  test('a token with characters outside base64url is refused, though its decoded bytes verify', async () => {
    const r = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, form({ ...creds(), scope: 'https://management.azure.com/.default' }));
    const token = r.json.access_token as string;
    const get = (t: string) => call(mimic, 'GET', '/subscriptions?api-version=2022-12-01', { headers: { authorization: `Bearer ${t}` } });
    assert.equal((await get(token)).status, 200);
    for (const junk of [`${token}!!`, `${token}==`, token.replace('.', '.*')]) assert.equal((await get(junk)).status, 401, junk.slice(-8));
  });

  test('trailing-slash behaviour: both forms accepted, aud echoes the request', async () => {
    for (const resource of ['https://storage.azure.com', 'https://storage.azure.com/']) {
      const r = await call(mimic, 'POST', `/${tenant}/oauth2/token`, form({ ...creds(), resource }));
      assert.equal(r.status, 200);
      const payload = JSON.parse(Buffer.from(r.json.access_token.split('.')[1], 'base64url').toString());
      assert.equal(payload.aud, resource);
    }
  });

  test('instance discovery answers for the host MSAL asks about', async () => {
    const r = await call(mimic, 'GET', `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`https://localhost:1234/${tenant}/oauth2/v2.0/authorize`)}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.metadata[0].aliases, ['localhost:1234']);
  });

  test('key rotation: new tokens use the new key, old tokens keep verifying until the key is retired', async () => {
    const before = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, form({ ...creds(), scope: 'https://management.azure.com/.default' }));
    const oldKid = decodeProtectedHeader(before.json.access_token).kid!;
    const newKid = await mimic.keys.rotate();
    const after = await call(mimic, 'POST', `/${tenant}/oauth2/v2.0/token`, form({ ...creds(), scope: 'https://management.azure.com/.default' }));
    assert.equal(decodeProtectedHeader(after.json.access_token).kid, newKid);
    const get = (t: string) => call(mimic, 'GET', `/subscriptions/${mimic.endpoints.subscriptionId}?api-version=2022-12-01`, { headers: { authorization: `Bearer ${t}` } });
    assert.equal((await get(before.json.access_token)).status, 200);
    const jwks = await call(mimic, 'GET', `/common/discovery/keys`);
    assert.deepEqual(jwks.json.keys.map((k: { kid: string }) => k.kid).sort(), [oldKid, newKid].sort());
    await mimic.keys.retire(oldKid);
    assert.equal((await get(before.json.access_token)).status, 401);
    assert.equal((await get(after.json.access_token)).status, 200);
  });
});
