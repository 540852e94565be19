// Workload identity federation: federated identity credentials on user-assigned identities
// (Resource Manager API and Azure's limits), Mimic's local OIDC issuers, and the
// client-assertion exchange used by WorkloadIdentityCredential, with Entra's refusals.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import { runCli, runFixture, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { MimicClient } from '../../src/cli/client.js';
import { caOf, createGroup, createUai, mirid, putHost, raw, verifyToken, type Uai } from './helpers.js';
import { asEnvironment } from '../../src/cli/commands/identityRuntime.js';
import { MAX_FEDERATED_CREDENTIALS } from '../../src/arm/federatedIdentityCredentials.js';

const API = '2023-01-31';
const RG = 'Rg-Workload';
const EXCHANGE = 'api://AzureADTokenExchange';

describe('workload identity federation', () => {
  let m: TestMimic;
  let c: MimicClient;
  let uai: Uai;
  let ficPath: (identity: string, name: string) => string;

  const issue = async (issuer: string, subject: string, audience = EXCHANGE, lifetime = 600): Promise<{ token: string; issuer: string }> => {
    const r = await runCli(['federated-token', '--issuer', issuer, '--subject', subject, '--audience', audience, '--lifetime', String(lifetime), '--json', '--data-dir', m.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { token: string; issuer: string };
  };
  const exchange = async (clientId: string, assertion: string) => {
    const body = new URLSearchParams({
      client_id: clientId,
      grant_type: 'client_credentials',
      scope: 'https://management.azure.com/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }).toString();
    return raw(`${m.endpoints.origin}/${m.context.tenant.tenantId}/oauth2/v2.0/token`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, ca: await caOf(m) });
  };

  before(async () => {
    m = await startTestMimic();
    c = await MimicClient.open(m.dataDir);
    await createGroup(m, RG);
    uai = await createUai(m, RG, 'uai-workload');
    ficPath = (identity, name) => `/subscriptions/${m.context.tenant.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${identity}/federatedIdentityCredentials/${name}`;
  });
  after(async () => {
    await m.dispose();
  });

  test('the local issuer publishes discovery and keys that verify its assertions', async () => {
    const { token, issuer } = await issue('github', 'repo:contoso/app:ref:refs/heads/main');
    assert.equal(issuer, `${m.endpoints.origin}/mimic/issuers/github`);
    const ca = await caOf(m);
    const discovery = (await raw(`${issuer}/.well-known/openid-configuration`, { ca })).json as { issuer: string; jwks_uri: string };
    assert.equal(discovery.issuer, issuer);
    const jwks = (await raw(discovery.jwks_uri, { ca })).json as { keys: JWK[] };
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer, audience: EXCHANGE });
    assert.equal(payload.sub, 'repo:contoso/app:ref:refs/heads/main');
    assert.equal(payload.exp! - payload.iat!, 600);
    assert.equal((await raw(`${m.endpoints.origin}/mimic/issuers/never-used/.well-known/openid-configuration`, { ca })).status, 404);
    const byUrl = await runCli(['federated-token', '--issuer', issuer, '--subject', 's', '--data-dir', m.dataDir]);
    assert.equal(byUrl.code, 0, byUrl.stderr);
    assert.equal((await runCli(['federated-token', '--issuer', 'https://elsewhere.example/x', '--subject', 's', '--data-dir', m.dataDir])).code, 2);
  });

  test('federated identity credentials follow Azure\'s resource rules', async () => {
    const identity = await createUai(m, RG, 'uai-limits');
    const body = (issuer: string, subject: string, audiences: unknown = [EXCHANGE]) => ({ properties: { issuer, subject, audiences } });
    const created = await c.send('PUT', `${m.endpoints.armEndpoint}${ficPath('uai-limits', 'fic-0')}?api-version=${API}`, JSON.stringify(body('https://issuer.example', 'subject-0')), {
      authorization: `Bearer ${await c.adminToken()}`,
      'content-type': 'application/json',
    });
    assert.equal(created.status, 201, created.text);
    const view = created.json<Record<string, unknown>>();
    assert.equal(view.type, 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials');
    assert.deepEqual(view.properties, { issuer: 'https://issuer.example', subject: 'subject-0', audiences: [EXCHANGE] });
    assert.equal(view.location, undefined);
    assert.equal(view.id, `${identity.id}/federatedIdentityCredentials/fic-0`);

    const put = (name: string, b: unknown) => c.arm('PUT', ficPath('uai-limits', name), API, b);
    for (const [name, b, message] of [
      ['fic-bad', body('https://issuer.example', 's', [EXCHANGE, 'api://other']), /exactly one audience/],
      ['fic-bad', body('https://issuer.example', 's', []), /exactly one audience/],
      ['fic-bad', body('not a url', 's'), /not a valid URL/],
      ['fic-bad', body('https://issuer.example', ''), /subject/],
      ['fic-bad', body('https://issuer.example', 'x'.repeat(601)), /600/],
      ['fic-bad', body(`https://issuer.example/${'x'.repeat(600)}`, 's'), /600/],
      ['fic-dup', body('https://issuer.example', 'subject-0'), /must be unique/],
      ['-bad-name', body('https://issuer.example', 'n'), /InvalidResourceName/],
    ] as Array<[string, unknown, RegExp]>) {
      await assert.rejects(put(name, b), message);
    }
    // Updating a credential in place is not a duplicate of itself.
    await put('fic-0', body('https://issuer.example', 'subject-0', ['api://changed']));
    for (let i = 1; i < MAX_FEDERATED_CREDENTIALS; i++) await put(`fic-${i}`, body('https://issuer.example', `subject-${i}`));
    await assert.rejects(put('fic-over', body('https://issuer.example', 'subject-over')), /at most 20/);
    const list = await c.arm<{ value: unknown[] }>('GET', `${identity.id}/federatedIdentityCredentials`, API);
    assert.equal(list!.value.length, MAX_FEDERATED_CREDENTIALS);
    await c.arm('DELETE', ficPath('uai-limits', 'fic-3'), API);
    await put('fic-over', body('https://issuer.example', 'subject-over'));
  });

  describe('exchange', () => {
    let issuer: string;
    before(async () => {
      issuer = (await issue('aks', 'system:serviceaccount:default:workload')).issuer;
      await c.arm('PUT', ficPath('uai-workload', 'aks-default'), API, { properties: { issuer, subject: 'system:serviceaccount:default:workload', audiences: [EXCHANGE] } });
    });

    test('WorkloadIdentityCredential and DefaultAzureCredential get a token of the user-assigned identity', async () => {
      const { token } = await issue('aks', 'system:serviceaccount:default:workload');
      const file = join(m.dataDir, 'federated-token');
      await writeFile(file, token);
      // A pod of an AKS cluster with workload identity: the cluster's IMDS plus the injected variables.
      const cluster = await putHost(m, RG, 'Microsoft.ContainerService', ['managedClusters', 'aks1'], {});
      const { env } = await asEnvironment({ as: cluster.id, clientId: uai.clientId, federatedTokenFile: file, dataDir: m.dataDir });
      assert.equal(env.AZURE_TENANT_ID, m.context.tenant.tenantId);
      assert.equal(env.AZURE_FEDERATED_TOKEN_FILE, file);
      assert.ok(env.AZURE_POD_IDENTITY_AUTHORITY_HOST);
      for (const mode of ['wic', 'dac']) {
        const r = await runFixture<{ ok: boolean; token?: string; message?: string }>('mi/credential.mjs', [mode], env);
        assert.equal(r.ok, true, r.message);
        const claims = await verifyToken(m, r.token!, 'https://management.azure.com');
        assert.equal(claims.oid, uai.principalId);
        assert.equal(claims.appid, uai.clientId);
        assert.equal(claims.xms_mirid, mirid(uai.id));
        assert.equal(claims.idtyp, 'app');
      }
    });

    test('a mismatched subject, issuer or audience is refused with Entra\'s error', async () => {
      const cases: Array<[Promise<{ token: string }>, number]> = [
        [issue('aks', 'system:serviceaccount:default:other'), 700213],
        [issue('aks', 'System:ServiceAccount:default:workload'), 700213],
        [issue('another-issuer', 'system:serviceaccount:default:workload'), 700211],
        [issue('aks', 'system:serviceaccount:default:workload', 'api://SomethingElse'), 700212],
      ];
      for (const [pending, code] of cases) {
        const r = await exchange(uai.clientId, (await pending).token);
        assert.equal(r.status, 401);
        assert.equal(r.json.error, 'invalid_client');
        assert.deepEqual(r.json.error_codes, [code]);
        assert.match(String(r.json.error_description), new RegExp(`^AADSTS${code}: No matching federated identity record found`));
        assert.equal(r.json.access_token, undefined);
      }
      const ok = await exchange(uai.clientId, (await issue('aks', 'system:serviceaccount:default:workload')).token);
      assert.equal(ok.status, 200, ok.text);
    });

    test('tampered, foreign or malformed assertions are refused', async () => {
      const { token } = await issue('aks', 'system:serviceaccount:default:workload');
      const [h, p, s] = token.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, jti: 'other' })).toString('base64url')}.${s}`;
      assert.deepEqual((await exchange(uai.clientId, forged)).json.error_codes, [700027]);
      assert.deepEqual((await exchange(uai.clientId, `${h}.${p}.`)).json.error_codes, [700027]);
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
      assert.deepEqual((await exchange(uai.clientId, none)).json.error_codes, [700027]);
      assert.deepEqual((await exchange(uai.clientId, 'not-a-jwt')).json.error_codes, [50027]);
      // Characters outside base64url in any segment (Buffer's decoder skipped them, so these got a
      // token: found by the tokenEndpoint fuzz target's property, corpus regress-assertion-junk-signature).
      for (const junk of [`${token}!!`, `${h}.${p}.${s!.slice(0, 20)}*${s!.slice(20)}`, `${h}.${p}=.${s}`, `${h}.${p}.${s}==`]) {
        const r = await exchange(uai.clientId, junk);
        assert.equal(r.status, 400, junk);
        assert.deepEqual(r.json.error_codes, [50027]);
      }
      assert.equal((await exchange(uai.clientId, token)).status, 200, 'the untouched assertion still works');
      // The assertion is valid for the identity it names only.
      const other = await createUai(m, RG, 'uai-other');
      assert.deepEqual((await exchange(other.clientId, token)).json.error_codes, [700211]);
      assert.deepEqual((await exchange('11111111-2222-3333-4444-555555555555', token)).json.error_codes, [700016]);
    });
  });

  describe('external issuers', () => {
    let server: Server;
    let issuerUrl: string;
    let signingKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
    let jwk: JWK;
    let discoveryIssuer: () => string;

    before(async () => {
      const pair = await generateKeyPair('ES256');
      signingKey = pair.privateKey;
      jwk = { ...(await exportJWK(pair.publicKey)), kid: 'ext-1', use: 'sig', alg: 'ES256' };
      discoveryIssuer = () => issuerUrl;
      server = createServer({ cert: m.context.tls.certPem, key: m.context.tls.keyPem }, (req, res) => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/tenant-x/.well-known/openid-configuration') res.end(JSON.stringify({ issuer: discoveryIssuer(), jwks_uri: `${issuerUrl}/jwks` }));
        else if (req.url === '/tenant-x/jwks') res.end(JSON.stringify({ keys: [jwk] }));
        else {
          res.statusCode = 404;
          res.end('{}');
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      issuerUrl = `https://localhost:${(server.address() as AddressInfo).port}/tenant-x`;
      await c.arm('PUT', ficPath('uai-workload', 'external'), API, { properties: { issuer: issuerUrl, subject: 'ext-subject', audiences: [EXCHANGE] } });
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const sign = (claims: Record<string, unknown>, kid = 'ext-1') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).setIssuer(issuerUrl).setSubject('ext-subject').setAudience(EXCHANGE).sign(signingKey);

    test('are trusted through their discovery document and key set', async () => {
      const now = Math.floor(Date.now() / 1000);
      const ok = await exchange(uai.clientId, await sign({ iat: now, exp: now + 300 }));
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await verifyToken(m, String(ok.json.access_token), 'https://management.azure.com')).oid, uai.principalId);
      const expired = await exchange(uai.clientId, await sign({ iat: now - 7200, exp: now - 3600 }));
      assert.deepEqual(expired.json.error_codes, [700024]);
      const early = await exchange(uai.clientId, await sign({ iat: now, nbf: now + 3600, exp: now + 7200 }));
      assert.deepEqual(early.json.error_codes, [700024]);
      const unknownKey = await exchange(uai.clientId, await sign({ iat: now, exp: now + 300 }, 'ext-unknown'));
      assert.deepEqual(unknownKey.json.error_codes, [700027]);
    });

    test('whose discovery document names another issuer are not trusted', async () => {
      discoveryIssuer = () => 'https://impostor.example/';
      try {
        await c.arm('PUT', ficPath('uai-workload', 'external2'), API, { properties: { issuer: `${issuerUrl}/`, subject: 'ext-subject', audiences: [EXCHANGE] } });
        const now = Math.floor(Date.now() / 1000);
        const token = await new SignJWT({ iat: now, exp: now + 300 }).setProtectedHeader({ alg: 'ES256', kid: 'ext-1' }).setIssuer(`${issuerUrl}/`).setSubject('ext-subject').setAudience(EXCHANGE).sign(signingKey);
        const r = await exchange(uai.clientId, token);
        assert.deepEqual(r.json.error_codes, [50166]);
      } finally {
        discoveryIssuer = () => issuerUrl;
      }
    });
  });
});
