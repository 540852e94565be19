// Bad tokens of every kind are refused with 401 before anything reaches the emulator, with
// Storage's challenge (unquoted values the SDKs can parse) and error codes; a missing token
// is NoAuthenticationInformation; key access can be switched off per account.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { signJwt, type Claims } from '../../src/sts/jwt.js';
import { adminToken } from '../helpers/https.js';
import { arm, assignRole, createAccount, createChild, raw, sdk, ROLE, type Account, type Arm } from './helpers.js';

const RG = 'auth-rg';

describe('storage gate authentication', () => {
  let m: TestMimic;
  let a: Arm;
  let account: Account;
  let good: string;
  let claims: Claims;

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/${RG}`, { location: 'eastus' }, '2025-04-01')).status, 201);
    account = await createAccount(a, RG, 'mimicauth');
    const container = await createChild(a, account, 'container', 'box');
    await createChild(a, account, 'queue', 'inbox');
    await createChild(a, account, 'table', 'ledger');
    const admin = m.directory.byObject(m.context.tenant.adminObjectId)!;
    for (const role of [ROLE.blobContributor]) assert.equal((await assignRole(a, container, role, admin.objectId)).status, 201);
    good = m.tokens.mint(admin, { resource: 'https://storage.azure.com/', lifetimeSeconds: 3600, appidacr: '1' }).accessToken;
    claims = JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString('utf8')) as Claims;
  });
  after(() => m.dispose());

  const put = (name: string, headers: Record<string, string>) => raw(m, 'PUT', `${account.endpoints.blob}box/${name}`, { 'x-ms-blob-type': 'BlockBlob', ...headers }, 'payload');

  test('a valid token is admitted (the control case)', async () => {
    const r = await put('good.txt', { authorization: `Bearer ${good}` });
    assert.equal(r.status, 201, r.text);
  });

  test('bad tokens of every kind get 401 InvalidAuthenticationInfo with the challenge, and write nothing', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { kid, privateKey } = m.keys.active();
    const signed = (c: Claims, header: Record<string, unknown> = {}) => signJwt({ typ: 'JWT', alg: 'RS256', kid, x5t: kid, ...header }, c, privateKey);
    const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const [h, p] = good.split('.');
    const unsigned = (header: object, c: Claims) => `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(c)).toString('base64url')}`;
    const hs256Input = unsigned({ alg: 'HS256', typ: 'JWT', kid }, claims);
    const bad: Record<string, string> = {
      malformed: 'not-a-jwt',
      tamperedPayload: `${h}.${Buffer.from(JSON.stringify({ ...claims, oid: '00000000-0000-0000-0000-000000000001' })).toString('base64url')}.${good.split('.')[2]}`,
      tamperedSignature: `${h}.${p}.${Buffer.alloc(256, 7).toString('base64url')}`,
      algNone: `${unsigned({ alg: 'none', typ: 'JWT' }, claims)}.`,
      hs256WithPublicKey: `${hs256Input}.${createHmac('sha256', 'secret').update(hs256Input).digest('base64url')}`,
      unknownKey: signJwt({ typ: 'JWT', alg: 'RS256', kid: 'not-ours' }, claims, foreign),
      foreignKeyClaimingOurKid: signJwt({ typ: 'JWT', alg: 'RS256', kid }, claims, foreign),
      wrongIssuer: signed({ ...claims, iss: 'https://sts.windows.net/00000000-0000-0000-0000-000000000000/' }),
      wrongAudience: m.tokens.mint(m.directory.byObject(m.context.tenant.adminObjectId)!, { resource: 'https://management.azure.com/', lifetimeSeconds: 3600, appidacr: '1' }).accessToken,
      otherAccountAudience: signed({ ...claims, aud: 'https://someoneelse.blob.core.windows.net' }),
      expired: signed({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 900 }),
      notYetValid: signed({ ...claims, iat: now + 3600, nbf: now + 3600, exp: now + 7200 }),
      noObjectId: signed({ ...claims, oid: undefined }),
    };
    for (const [kind, token] of Object.entries(bad)) {
      const r = await put(`bad-${kind}.txt`, { authorization: `Bearer ${token}` });
      assert.equal(r.status, 401, `${kind}: ${r.status} ${r.text}`);
      assert.equal(r.headers['x-ms-error-code'], 'InvalidAuthenticationInfo', kind);
      assert.match(r.text, /<Code>InvalidAuthenticationInfo<\/Code>/, kind);
      assert.match(r.text, /<AuthenticationErrorDetail>[^<]+<\/AuthenticationErrorDetail>/, kind);
      // The SDKs split the challenge on spaces and '=': values must not be quoted.
      const challenge = String(r.headers['www-authenticate']);
      const pairs = Object.fromEntries(challenge.split(' ').slice(1).map((kv) => kv.split('=') as [string, string]));
      assert.equal(pairs.authorization_uri, `https://login.microsoftonline.com/${m.endpoints.tenantId}/oauth2/authorize`, kind);
      assert.equal(pairs.resource_id, 'https://storage.azure.com', kind);
    }
    const scheme = await put('bad-scheme.txt', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
    assert.equal(scheme.status, 401);
    assert.equal(scheme.headers['x-ms-error-code'], 'InvalidAuthenticationInfo');
    const none = await put('bad-none.txt', {});
    assert.equal(none.status, 401);
    assert.equal(none.headers['x-ms-error-code'], 'NoAuthenticationInformation');
    assert.ok(String(none.headers['www-authenticate']).startsWith('Bearer authorization_uri='));
    // Nothing was written: only the control blob exists.
    const listed = await sdk(account, { key: true, env: m.adminEnv }, [{ op: 'list', container: 'box' }]);
    assert.deepEqual(listed[0]!.value, ['good.txt']);
  });

  test('queue and table refuse bad tokens too, tables with an OData JSON error', async () => {
    const expired = signJwt({ typ: 'JWT', alg: 'RS256', kid: m.keys.active().kid }, { ...claims, exp: Math.floor(Date.now() / 1000) - 900 }, m.keys.active().privateKey);
    const q = await raw(m, 'POST', `${account.endpoints.queue}inbox/messages`, { authorization: `Bearer ${expired}`, 'content-type': 'application/xml' }, '<QueueMessage><MessageText>x</MessageText></QueueMessage>');
    assert.equal(q.status, 401);
    assert.match(q.text, /<Code>InvalidAuthenticationInfo<\/Code>/);
    const t = await raw(m, 'POST', `${account.endpoints.table}ledger`, { authorization: `Bearer ${expired}`, 'content-type': 'application/json', accept: 'application/json;odata=nometadata' }, JSON.stringify({ PartitionKey: 'p', RowKey: 'r' }));
    assert.equal(t.status, 401);
    assert.equal(t.headers['x-ms-error-code'], 'InvalidAuthenticationInfo');
    assert.equal(JSON.parse(t.text)['odata.error'].code, 'InvalidAuthenticationInfo');
    assert.ok(String(t.headers['www-authenticate']).includes('resource_id=https://storage.azure.com'));
  });

  test('the SDK surfaces a 401 from a bad token as InvalidAuthenticationInfo (after its one challenge retry)', async () => {
    const wrongAudience = m.tokens.mint(m.directory.byObject(m.context.tenant.adminObjectId)!, { resource: 'https://vault.azure.net', lifetimeSeconds: 3600, appidacr: '1' }).accessToken;
    const r = await sdk(account, { token: wrongAudience, env: m.adminEnv }, [{ op: 'upload', container: 'box', blob: 'sdk.txt', text: 'x' }]);
    assert.equal(r[0]!.status, 401);
    assert.equal(r[0]!.code, 'InvalidAuthenticationInfo');
  });

  test('tokens for the account endpoint are accepted as audience; key access can be disabled per account', async () => {
    const admin = m.directory.byObject(m.context.tenant.adminObjectId)!;
    for (const resource of ['https://mimicauth.blob.core.windows.net', account.endpoints.blob.replace(/\/$/, '')]) {
      const t = m.tokens.mint(admin, { resource, lifetimeSeconds: 3600, appidacr: '1' }).accessToken;
      const r = await raw(m, 'GET', `${account.endpoints.blob}box/good.txt`, { authorization: `Bearer ${t}` });
      assert.equal(r.status, 200, `${resource}: ${r.text}`);
    }
    // The token service knows the local endpoint as a resource (client credentials, scope <endpoint>/.default).
    const fromEndpoint = await adminToken(m, account.endpoints.blob);
    const viaEndpoint = await raw(m, 'GET', `${account.endpoints.blob}box/good.txt`, { authorization: `Bearer ${fromEndpoint}` });
    assert.equal(viaEndpoint.status, 200, viaEndpoint.text);
    // A token for another service's endpoint of the same account is not one for blobs.
    const queueToken = m.tokens.mint(admin, { resource: account.endpoints.queue, lifetimeSeconds: 3600, appidacr: '1' }).accessToken;
    assert.equal((await raw(m, 'GET', `${account.endpoints.blob}box/good.txt`, { authorization: `Bearer ${queueToken}` })).status, 401);
    const patched = await a.call('PATCH', account.id, { properties: { allowSharedKeyAccess: false } });
    assert.equal(patched.status, 200, patched.text);
    const byKey = await sdk(account, { key: true, env: m.adminEnv }, [{ op: 'list', container: 'box' }]);
    assert.equal(byKey[0]!.status, 403);
    assert.equal(byKey[0]!.code, 'KeyBasedAuthenticationNotPermitted');
    const byToken = await raw(m, 'GET', `${account.endpoints.blob}box/good.txt`, { authorization: `Bearer ${good}` });
    assert.equal(byToken.status, 200);
    assert.equal((await a.call('PATCH', account.id, { properties: { allowSharedKeyAccess: true } })).status, 200);
    // Public containers need an account that allows public access, whichever way they are made.
    const viaArm = await a.call('PUT', `${account.id}/blobServices/default/containers/open`, { properties: { publicAccess: 'Blob' } });
    assert.equal(viaArm.status, 409);
    assert.equal(viaArm.body.error.code, 'PublicAccessNotPermitted');
    const viaData = await raw(m, 'PUT', `${account.endpoints.blob}open?restype=container`, { authorization: `Bearer ${good}`, 'x-ms-blob-public-access': 'blob' });
    assert.equal(viaData.status, 409);
    assert.equal(viaData.headers['x-ms-error-code'], 'PublicAccessNotPermitted');
  });
});
