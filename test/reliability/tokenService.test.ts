// The attack matrix of the token service. Its endpoints take no bearer tokens: they
// authenticate a client by secret, by certificate (a client assertion signed with the app's
// certificate) or by federated assertion (a token of an external issuer that a federated
// identity credential trusts). One table of cells, each a token request built from a genuine
// one, with the refusal Entra gives (`{error, error_description: "AADSTSnnnn: ...",
// error_codes: [nnnn], timestamp, trace_id, correlation_id, error_uri}`) and no token.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';
import { signJwt, type Claims } from '../../src/sts/jwt.js';
import { readAdminCredentials } from '../../src/directory/bootstrap.js';

const EXCHANGE = 'api://AzureADTokenExchange';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SUBJECT = 'repo:contoso/app:ref:refs/heads/main';

interface Refusal {
  status: number;
  error: string;
  code: number;
}

interface Cell {
  /** The token request's form (v2 endpoint unless `path` says otherwise). */
  form: Record<string, string>;
  expect: Refusal;
  path?: string;
  headers?: Record<string, string>;
}

const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('attack matrix: the token service refuses every forged, stale or misdirected credential', () => {
  let m: TestMimic;
  let a: ArmCaller;
  let tokenUrl: string;
  let admin: { clientId: string; clientSecret: string; tenantId: string };
  let uai: { clientId: string; principalId: string };
  let other: { clientId: string };
  let server: Server;
  let issuer: string;
  /** Requests the attacker's own key server received (jku/x5u must never be followed). */
  let attackerHits = 0;
  const issuerKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const KID = 'issuer-key-1';

  const post = async (cell: Pick<Cell, 'form' | 'path' | 'headers'>) => {
    const r = await a.client.send('POST', `${m.endpoints.origin}${cell.path ?? `/${admin.tenantId}/oauth2/v2.0/token`}`, new URLSearchParams(cell.form).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...cell.headers });
    let body: any;
    try {
      body = JSON.parse(r.text);
    } catch {
      body = undefined;
    }
    return { status: r.status, body, text: r.text };
  };

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await armCaller(m.dataDir, '2023-01-31');
    tokenUrl = `${m.endpoints.origin}/${m.context.tenant.tenantId}/oauth2/v2.0/token`;
    const creds = await readAdminCredentials(m.dataDir);
    admin = { clientId: creds.clientId, clientSecret: creds.clientSecret, tenantId: m.context.tenant.tenantId };
    // An external OIDC issuer of our own (RSA, so HS256-with-the-public-key is a real attempt),
    // served with Mimic's TLS certificate; `/attacker/...` stands for an attacker's key server.
    const jwk = { ...(issuerKeys.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: KID, use: 'sig', alg: 'RS256' };
    server = createServer({ cert: m.context.tls.certPem, key: m.context.tls.keyPem }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/issuer/.well-known/openid-configuration') res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      else if (req.url === '/issuer/jwks') res.end(JSON.stringify({ keys: [jwk] }));
      else {
        if (req.url?.startsWith('/attacker/')) attackerHits++;
        res.end(JSON.stringify({ keys: [{ ...(foreign.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: KID }] }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `https://localhost:${(server.address() as AddressInfo).port}/issuer`;
    const rg = `${a.sub}/resourceGroups/token-attacks`;
    assert.equal((await a.call('PUT', rg, { location: 'eastus' }, '2025-04-01')).status, 201);
    const created = await a.call('PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/federated`, { location: 'eastus' });
    assert.equal(created.status, 201, created.text);
    uai = { clientId: created.body.properties.clientId, principalId: created.body.properties.principalId };
    const fic = await a.call('PUT', `${created.body.id}/federatedIdentityCredentials/pipeline`, { properties: { issuer, subject: SUBJECT, audiences: [EXCHANGE] } });
    assert.equal(fic.status, 201, fic.text);
    const second = await a.call('PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/unfederated`, { location: 'eastus' });
    other = { clientId: second.body.properties.clientId };
  });
  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await m?.dispose();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const assertionClaims = (over: Claims = {}): Claims => ({ iss: issuer, sub: SUBJECT, aud: EXCHANGE, iat: now(), nbf: now(), exp: now() + 600, jti: randomUUID(), ...over });
  const signed = (claims: Claims, header: Record<string, unknown> = {}, key: KeyObject = issuerKeys.privateKey) => signJwt({ typ: 'JWT', alg: 'RS256', kid: KID, ...header } as never, claims, key);
  const federated = (assertion: string, clientId = uai.clientId): Record<string, string> => ({
    grant_type: 'client_credentials',
    client_id: clientId,
    scope: 'https://management.azure.com/.default',
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
  });

  test('control: a genuine federated assertion and the genuine client secret both get tokens', async () => {
    const ok = await post({ form: federated(signed(assertionClaims())) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(typeof ok.body.access_token, 'string');
    const secret = await post({ form: { grant_type: 'client_credentials', client_id: admin.clientId, client_secret: admin.clientSecret, scope: 'https://management.azure.com/.default' } });
    assert.equal(secret.status, 200, secret.text);
  });

  /** The cells, built from genuine material at call time (so lifetimes are current). */
  function cells(): Record<string, Cell> {
    const genuine = signed(assertionClaims());
    const [h, p, s] = genuine.split('.') as [string, string, string];
    const publicPem = issuerKeys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const hsInput = `${enc({ typ: 'JWT', alg: 'HS256', kid: KID })}.${p}`;
    const foreignJwk = { ...(foreign.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: KID };
    const signatureFailure: Refusal = { status: 401, error: 'invalid_client', code: 700027 };
    const outOfTime: Refusal = { status: 401, error: 'invalid_client', code: 700024 };
    const malformed: Refusal = { status: 400, error: 'invalid_request', code: 50027 };
    // Certificate credentials (private_key_jwt): the app is issuer and subject, aud the token endpoint.
    const certClaims = (over: Claims = {}): Claims => ({ iss: admin.clientId, sub: admin.clientId, aud: tokenUrl, iat: now(), nbf: now(), exp: now() + 600, jti: randomUUID(), ...over });
    const x5t = createHash('sha1').update(randomUUID()).digest('base64url');
    const cert = (assertion: string): Record<string, string> => ({ ...federated(assertion, admin.clientId) });
    const secretForm = (over: Record<string, string>) => ({ grant_type: 'client_credentials', client_id: admin.clientId, client_secret: admin.clientSecret, scope: 'https://management.azure.com/.default', ...over });
    const genuineAccessToken = m.tokens.mint(m.directory.byObject(m.context.tenant.adminObjectId)!, { resource: 'https://management.azure.com/', lifetimeSeconds: 3600, appidacr: '1' }).accessToken;
    return {
      // Federated assertions.
      'federated: malformed assertion': { form: federated('not-a-jwt'), expect: malformed },
      'federated: two segments': { form: federated(`${h}.${p}`), expect: malformed },
      'federated: no exp': { form: federated(signed(Object.fromEntries(Object.entries(assertionClaims()).filter(([k]) => k !== 'exp')))), expect: malformed },
      'federated: alg none': { form: federated(`${enc({ typ: 'JWT', alg: 'none' })}.${p}.`), expect: signatureFailure },
      'federated: alg none with the issuer\'s kid': { form: federated(`${enc({ typ: 'JWT', alg: 'none', kid: KID })}.${p}.`), expect: signatureFailure },
      'federated: HS256 keyed with the issuer\'s RSA public key': { form: federated(`${hsInput}.${createHmac('sha256', publicPem).update(hsInput).digest('base64url')}`), expect: signatureFailure },
      'federated: expired': { form: federated(signed(assertionClaims({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 }))), expect: outOfTime },
      'federated: nbf in the future': { form: federated(signed(assertionClaims({ nbf: now() + 3600, exp: now() + 7200 }))), expect: outOfTime },
      'federated: wrong aud': { form: federated(signed(assertionClaims({ aud: 'https://management.azure.com/' }))), expect: { status: 401, error: 'invalid_client', code: 700212 } },
      'federated: wrong iss': { form: federated(signed(assertionClaims({ iss: 'https://login.evil.example/' }))), expect: { status: 401, error: 'invalid_client', code: 700211 } },
      'federated: wrong sub': { form: federated(signed(assertionClaims({ sub: 'repo:evil/app:ref:refs/heads/main' }))), expect: { status: 401, error: 'invalid_client', code: 700213 } },
      'federated: foreign key under the issuer\'s kid': { form: federated(signed(assertionClaims(), {}, foreign.privateKey)), expect: signatureFailure },
      'federated: unknown kid': { form: federated(signed(assertionClaims(), { kid: 'not-a-key-of-the-issuer' }, foreign.privateKey)), expect: signatureFailure },
      'federated: jwk header injection': { form: federated(signed(assertionClaims(), { jwk: foreignJwk }, foreign.privateKey)), expect: signatureFailure },
      'federated: jwk header without kid': { form: federated(signed(assertionClaims(), { kid: undefined, jwk: foreignJwk }, foreign.privateKey)), expect: signatureFailure },
      'federated: jku header injection': { form: federated(signed(assertionClaims(), { jku: `${issuer.replace('/issuer', '/attacker')}/jwks` }, foreign.privateKey)), expect: signatureFailure },
      'federated: x5u header injection': { form: federated(signed(assertionClaims(), { x5u: `${issuer.replace('/issuer', '/attacker')}/cert.pem` }, foreign.privateKey)), expect: signatureFailure },
      'federated: truncated signature': { form: federated(genuine.slice(0, -12)), expect: signatureFailure },
      'federated: signature of another assertion': { form: federated(`${h}.${enc(assertionClaims({ exp: now() + 86_400 }))}.${s}`), expect: signatureFailure },
      'federated: genuine assertion for an identity without the credential': { form: federated(genuine, other.clientId), expect: { status: 401, error: 'invalid_client', code: 700211 } },
      'federated: genuine assertion for an app registration': { form: federated(genuine, admin.clientId), expect: { status: 401, error: 'invalid_client', code: 700211 } },
      'federated: genuine assertion for an unknown client': { form: federated(genuine, randomUUID()), expect: { status: 400, error: 'unauthorized_client', code: 700016 } },
      'federated: wrong client_assertion_type': { form: { ...federated(genuine), client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' }, expect: malformed },
      'federated: a Mimic access token as the assertion': { form: federated(genuineAccessToken), expect: { status: 401, error: 'invalid_client', code: 700211 } },
      // Certificate credentials: Mimic registers none, so every such assertion names an unknown key.
      'certificate: unknown x5t': { form: cert(signed(certClaims(), { kid: undefined, x5t }, foreign.privateKey)), expect: signatureFailure },
      'certificate: x5t#S256 of an unknown certificate': { form: cert(signed(certClaims(), { kid: undefined, 'x5t#S256': createHash('sha256').update(randomUUID()).digest('base64url') }, foreign.privateKey)), expect: signatureFailure },
      'certificate: alg none': { form: cert(`${enc({ typ: 'JWT', alg: 'none', x5t })}.${enc(certClaims())}.`), expect: signatureFailure },
      'certificate: HS256 keyed with the client secret': { form: cert(((i) => `${i}.${createHmac('sha256', admin.clientSecret).update(i).digest('base64url')}`)(`${enc({ typ: 'JWT', alg: 'HS256' })}.${enc(certClaims())}`)), expect: signatureFailure },
      'certificate: jwk header injection': { form: cert(signed(certClaims(), { kid: undefined, x5t, jwk: foreignJwk }, foreign.privateKey)), expect: signatureFailure },
      'certificate: x5u header injection': { form: cert(signed(certClaims(), { kid: undefined, x5t, x5u: `${issuer.replace('/issuer', '/attacker')}/cert.pem` }, foreign.privateKey)), expect: signatureFailure },
      'certificate: expired': { form: cert(signed(certClaims({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 }), { kid: undefined, x5t }, foreign.privateKey)), expect: signatureFailure },
      'certificate: wrong aud': { form: cert(signed(certClaims({ aud: 'https://login.evil.example/token' }), { kid: undefined, x5t }, foreign.privateKey)), expect: signatureFailure },
      // Client secrets.
      'secret: wrong secret': { form: secretForm({ client_secret: `${admin.clientSecret}x` }), expect: { status: 401, error: 'invalid_client', code: 7000215 } },
      'secret: no secret and no assertion': { form: secretForm({ client_secret: '' }), expect: { status: 401, error: 'invalid_client', code: 7000218 } },
      'secret: wrong secret in a Basic header': { form: { grant_type: 'client_credentials', scope: 'https://management.azure.com/.default' }, headers: { authorization: `Basic ${Buffer.from(`${admin.clientId}:wrong`).toString('base64')}` }, expect: { status: 401, error: 'invalid_client', code: 7000215 } },
      'secret: unknown client': { form: secretForm({ client_id: randomUUID() }), expect: { status: 400, error: 'unauthorized_client', code: 700016 } },
      'secret: a managed identity\'s client id': { form: secretForm({ client_id: uai.clientId }), expect: { status: 400, error: 'unauthorized_client', code: 700016 } },
      'secret: another tenant in the path': { form: secretForm({}), path: `/${randomUUID()}/oauth2/v2.0/token`, expect: { status: 400, error: 'invalid_tenant', code: 90002 } },
      'secret: an oversized secret': { form: secretForm({ client_secret: 'x'.repeat(40_000) }), expect: { status: 401, error: 'invalid_client', code: 7000215 } },
      // Grants Mimic does not serve: on-behalf-of and token exchange are refused outright.
      'on-behalf-of with a genuine access token': { form: { ...secretForm({}), grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: genuineAccessToken, requested_token_use: 'on_behalf_of' }, expect: { status: 400, error: 'unsupported_grant_type', code: 70003 } },
      'token exchange with a genuine access token': { form: { ...secretForm({}), grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: genuineAccessToken, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' }, expect: { status: 400, error: 'unsupported_grant_type', code: 70003 } },
    };
  }

  test('every cell is refused with Entra\'s error shape and its AADSTS code, and no token', async () => {
    let n = 0;
    for (const [name, cell] of Object.entries(cells())) {
      const r = await post(cell);
      assert.equal(r.status, cell.expect.status, `${name}: ${r.status} ${r.text}`);
      assert.equal(r.body?.error, cell.expect.error, `${name}: ${r.text}`);
      assert.deepEqual(r.body.error_codes, [cell.expect.code], `${name}: ${r.text}`);
      assert.match(r.body.error_description, new RegExp(`^AADSTS${cell.expect.code}: .+ Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: `), name);
      assert.equal(r.body.error_uri, `https://login.microsoftonline.com/error?code=${cell.expect.code}`, name);
      for (const field of ['timestamp', 'trace_id', 'correlation_id']) assert.equal(typeof r.body[field], 'string', `${name}: ${field}`);
      assert.equal(r.body.access_token, undefined, name);
      assert.ok(!r.text.includes(admin.clientSecret), `${name}: the answer echoes no secret`);
      n++;
    }
    assert.ok(n >= 40, `${n} cells`);
    assert.equal(attackerHits, 0, 'no jku/x5u URL was ever fetched');
  });

  test('the v1 endpoint refuses the same way', async () => {
    const v1 = (form: Record<string, string>) => post({ form: { ...form, resource: 'https://management.azure.com/' }, path: `/${admin.tenantId}/oauth2/token` });
    const none = await v1({ grant_type: 'client_credentials', client_id: uai.clientId, client_assertion_type: JWT_BEARER, client_assertion: `${enc({ alg: 'none' })}.${enc(assertionClaims())}.` });
    assert.equal(none.status, 401, none.text);
    assert.deepEqual(none.body.error_codes, [700027]);
    const wrong = await v1({ grant_type: 'client_credentials', client_id: admin.clientId, client_secret: 'wrong' });
    assert.deepEqual(wrong.body.error_codes, [7000215]);
  });
});
