// The token endpoints at the HTTP level: each flavour's request shape and errors, identity
// selection, the token cache, secret rotation, and requests an attacker would try.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { adminCaller, caOf, createGroup, createUai, envAs, identityBody, putHost, raw, rid, type Host, type Uai } from './helpers.js';
import { HOST_CREDENTIALS, MAX_SECRETS_PER_HOST, type StoredHostCredential } from '../../src/sts/managedIdentity/credentials.js';
import { PRINCIPALS, type ServicePrincipal } from '../../src/directory/types.js';
import { keyOf } from '../../src/arm/ids.js';

const ARM = 'https://management.azure.com/';
const RG = 'rg-endpoints';

function imdsUrl(env: Record<string, string>, query: string, slash = true): string {
  return `${env.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token${slash ? '/' : ''}?${query}`;
}
const META = { Metadata: 'true' };
const oidOf = (token: unknown) => JSON.parse(Buffer.from(String(token).split('.')[1]!, 'base64url').toString()).oid as string;

describe('managed identity endpoints over HTTP', () => {
  let m: TestMimic;
  let uai1: Uai;
  let uai2: Uai;
  let uai3: Uai;
  let vm: Host;
  let vmEnv: Record<string, string>;
  let site: Host;
  let siteEnv: Record<string, string>;

  before(async () => {
    m = await startTestMimic();
    await createGroup(m, RG);
    [uai1, uai2, uai3] = [await createUai(m, RG, 'uai-one'), await createUai(m, RG, 'uai-two'), await createUai(m, RG, 'uai-three')];
    vm = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm1'], { identity: identityBody(true, [uai1, uai2]) });
    vmEnv = await envAs(m, vm.id);
    site = await putHost(m, RG, 'Microsoft.Web', ['sites', 'site1'], { identity: identityBody(true, [uai1]) });
    siteEnv = await envAs(m, 'site1');
  });
  after(async () => {
    await m.dispose();
  });

  describe('IMDS', () => {
    test('serves the token path with and without the trailing slash, in the documented shape', async () => {
      for (const slash of [true, false]) {
        const r = await raw(imdsUrl(vmEnv, `api-version=2018-02-01&resource=${encodeURIComponent(ARM)}`, slash), { headers: META });
        assert.equal(r.status, 200, r.text);
        assert.match(String(r.headers['content-type']), /^application\/json/);
        assert.deepEqual(Object.keys(r.json).sort(), ['access_token', 'client_id', 'expires_in', 'expires_on', 'ext_expires_in', 'not_before', 'resource', 'token_type']);
        assert.equal(r.json.token_type, 'Bearer');
        assert.equal(r.json.resource, ARM);
        assert.match(String(r.json.expires_on), /^\d{10}$/);
        assert.ok(Number(r.json.expires_in) > 86_000 && Number(r.json.expires_in) <= 86_400);
        assert.equal(oidOf(r.json.access_token), vm.principalId);
        assert.equal(r.json.client_id, m.directory.byObject(vm.principalId!)!.appId);
      }
    });

    test('refuses requests without Metadata: true, through a proxy, or with another method', async () => {
      const q = `api-version=2018-02-01&resource=${encodeURIComponent(ARM)}`;
      for (const headers of [{}, { Metadata: 'True' }, { Metadata: 'false' }] as Record<string, string>[]) {
        const r = await raw(imdsUrl(vmEnv, q), { headers });
        assert.equal(r.status, 400);
        assert.equal(r.json.error, 'invalid_request');
        assert.equal(r.json.error_description, 'Required metadata header not specified');
      }
      const fwd = await raw(imdsUrl(vmEnv, q), { headers: { ...META, 'X-Forwarded-For': '10.0.0.1' } });
      assert.equal(fwd.status, 400);
      assert.match(String(fwd.json.error_description), /X-Forwarded-For/);
      assert.equal(fwd.json.access_token, undefined);
      const post = await raw(imdsUrl(vmEnv, q), { method: 'POST', headers: META, body: '' });
      assert.equal(post.status, 405);
    });

    test('checks api-version and resource with Azure errors', async () => {
      const cases: Array<[string, number, string, RegExp]> = [
        [`resource=${ARM}`, 400, 'invalid_request', /api-version/],
        [`api-version=2099-01-01&resource=${ARM}`, 400, 'invalid_request', /Invalid api-version/],
        ['api-version=2018-02-01', 400, 'invalid_request', /resource/],
        ['api-version=2018-02-01&resource=', 400, 'invalid_request', /resource/],
        ['api-version=2018-02-01&resource=https://not-a-service.example/', 400, 'invalid_resource', /^AADSTS500011: The resource principal named https:\/\/not-a-service\.example\//],
        [`api-version=2018-02-01&resource=${ARM}&resource=https://vault.azure.net`, 400, 'invalid_request', /more than once/],
        [`api-version=2018-02-01&api-version=2018-02-01&resource=${ARM}`, 400, 'invalid_request', /more than once/],
      ];
      for (const [q, status, error, description] of cases) {
        const r = await raw(imdsUrl(vmEnv, q), { headers: META });
        assert.equal(r.status, status, q);
        assert.equal(r.json.error, error, q);
        assert.match(String(r.json.error_description), description, q);
      }
      const unknown = await raw(imdsUrl(vmEnv, 'api-version=2018-02-01&resource=https://not-a-service.example/'), { headers: META });
      assert.deepEqual(unknown.json.error_codes, [500011]);
    });

    test('an unknown or missing path prefix is an unknown source', async () => {
      const port = new URL(vmEnv.AZURE_POD_IDENTITY_AUTHORITY_HOST!).port;
      for (const prefix of ['', `/${'0'.repeat(64)}`, `/${siteEnv.IDENTITY_HEADER}`]) {
        const r = await raw(`http://127.0.0.1:${port}${prefix}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${ARM}`, { headers: META });
        assert.equal(r.status, 401, prefix);
        assert.equal(r.json.error, 'unknown_source');
      }
    });
  });

  describe('identity selection', () => {
    const get = (env: Record<string, string>, extra: string) => raw(imdsUrl(env, `api-version=2018-02-01&resource=${encodeURIComponent(ARM)}${extra}`), { headers: META });

    test('picks the system-assigned identity, or the one named by client id, object id or resource id', async () => {
      assert.equal(oidOf((await get(vmEnv, '')).json.access_token), vm.principalId);
      assert.equal(oidOf((await get(vmEnv, `&client_id=${uai1.clientId.toUpperCase()}`)).json.access_token), uai1.principalId);
      assert.equal(oidOf((await get(vmEnv, `&object_id=${uai2.principalId}`)).json.access_token), uai2.principalId);
      assert.equal(oidOf((await get(vmEnv, `&msi_res_id=${encodeURIComponent(uai1.id.toLowerCase())}`)).json.access_token), uai1.principalId);
      // The system-assigned identity can be named by its own client id too.
      const systemClient = m.directory.byObject(vm.principalId!)!.appId;
      assert.equal(oidOf((await get(vmEnv, `&client_id=${systemClient}`)).json.access_token), vm.principalId);
    });

    test('refuses an identity the resource does not carry, and ambiguous requests', async () => {
      for (const extra of [`&client_id=${uai3.clientId}`, `&object_id=${uai3.principalId}`, `&msi_res_id=${encodeURIComponent(uai3.id)}`]) {
        const r = await get(vmEnv, extra);
        assert.equal(r.status, 400, extra);
        assert.equal(r.json.error, 'invalid_request');
        assert.equal(r.json.error_description, 'Identity not found');
      }
      const two = await get(vmEnv, `&client_id=${uai1.clientId}&object_id=${uai1.principalId}`);
      assert.equal(two.status, 400);
      // IMDS names resource ids msi_res_id; mi_res_id is App Service's name.
      const wrongName = await get(vmEnv, `&mi_res_id=${encodeURIComponent(uai1.id)}`);
      assert.equal(wrongName.status, 400);
    });

    test('several user-assigned identities and none named is an error; no identity at all too', async () => {
      const multi = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-multi'], { identity: identityBody(false, [uai1, uai2]) });
      const r = await get(await envAs(m, multi.id), '');
      assert.equal(r.status, 400);
      assert.equal(r.json.error_description, 'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request');
      const single = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-single'], { identity: identityBody(false, [uai2]) });
      assert.equal(oidOf((await get(await envAs(m, single.id), '')).json.access_token), uai2.principalId);
      const bare = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-bare'], {});
      const none = await get(await envAs(m, bare.id), '');
      assert.equal(none.status, 400);
      assert.equal(none.json.error_description, 'Identity not found');
    });
  });

  describe('token cache', () => {
    test('hands out the same token per identity and resource until told it was revoked', async () => {
      const q = (res: string, extra = '') => imdsUrl(vmEnv, `api-version=2018-02-01&resource=${encodeURIComponent(res)}${extra}`);
      const first = (await raw(q('https://vault.azure.net'), { headers: META })).json;
      const second = (await raw(q('https://vault.azure.net'), { headers: META })).json;
      assert.equal(second.access_token, first.access_token);
      assert.ok(Number(second.expires_in) <= Number(first.expires_in));
      const other = (await raw(q('https://storage.azure.com/'), { headers: META })).json;
      assert.notEqual(other.access_token, first.access_token);
      const user = (await raw(q('https://vault.azure.net', `&client_id=${uai1.clientId}`), { headers: META })).json;
      assert.notEqual(user.access_token, first.access_token);
      // A hash that is not the cached token's changes nothing; the cached token's hash forces a new one.
      const stale = (await raw(q('https://vault.azure.net', `&token_sha256_to_refresh=${'ab'.repeat(32)}`), { headers: META })).json;
      assert.equal(stale.access_token, first.access_token);
      const hash = createHash('sha256').update(String(first.access_token)).digest('hex');
      const fresh = (await raw(q('https://vault.azure.net', `&token_sha256_to_refresh=${hash}`), { headers: META })).json;
      assert.notEqual(fresh.access_token, first.access_token);
      assert.equal((await raw(q('https://vault.azure.net'), { headers: META })).json.access_token, fresh.access_token);
    });

    test('concurrent first requests share one mint', async () => {
      const q = imdsUrl(vmEnv, `api-version=2018-02-01&resource=${encodeURIComponent('https://concurrent1.blob.core.windows.net/')}`);
      const tokens = new Set((await Promise.all(Array.from({ length: 6 }, () => raw(q, { headers: META })))).map((r) => r.json.access_token));
      assert.equal(tokens.size, 1);
    });

    test('drops an identity\'s tokens when its principal is disabled', async () => {
      const host = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-cache'], { identity: identityBody(true) });
      const env = await envAs(m, host.id);
      const q = imdsUrl(env, `api-version=2018-02-01&resource=${encodeURIComponent(ARM)}`);
      assert.equal((await raw(q, { headers: META })).status, 200);
      const sp = m.directory.byObject(host.principalId!)!;
      await m.store.put(PRINCIPALS, sp.objectId, { ...sp, accountEnabled: false } satisfies ServicePrincipal);
      const r = await raw(q, { headers: META });
      assert.equal(r.status, 400);
      assert.equal(r.json.error, 'unauthorized_client');
      assert.match(String(r.json.error_description), /^AADSTS7000112/);
    });
  });

  describe('App Service', () => {
    const url = (extra = '') => `${siteEnv.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}${extra}`;

    test('needs the resource\'s X-IDENTITY-HEADER and api-version 2019-08-01', async () => {
      const ok = await raw(url(), { headers: { 'X-IDENTITY-HEADER': siteEnv.IDENTITY_HEADER! } });
      assert.equal(ok.status, 200);
      assert.equal(oidOf(ok.json.access_token), site.principalId);
      const missing = await raw(url());
      assert.equal(missing.status, 400);
      const wrong = await raw(url(), { headers: { 'X-IDENTITY-HEADER': 'f'.repeat(64) } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json.access_token, undefined);
      // App Service's own error fields come along with error/error_description.
      assert.equal(wrong.json.statusCode, 401);
      assert.equal(typeof wrong.json.message, 'string');
      const unknown = await raw(`${siteEnv.IDENTITY_ENDPOINT}?api-version=2018-01-01&resource=${ARM}`, { headers: { 'X-IDENTITY-HEADER': siteEnv.IDENTITY_HEADER! } });
      assert.equal(unknown.status, 400);
      assert.match(String(unknown.json.error_description), /api-version/);
      // 2017-09-01 is the older protocol on the same path: its secret travels in `secret`.
      const old = await raw(`${siteEnv.IDENTITY_ENDPOINT}?api-version=2017-09-01&resource=${ARM}`, { headers: { 'X-IDENTITY-HEADER': siteEnv.IDENTITY_HEADER! } });
      assert.equal(old.status, 400);
      assert.match(String(old.json.error_description), /'secret'/);
    });

    test('MSI_ENDPOINT/MSI_SECRET speak the 2017-09-01 protocol: secret header, clientid, expires_on as a date', async () => {
      assert.equal(siteEnv.MSI_ENDPOINT, siteEnv.IDENTITY_ENDPOINT);
      assert.equal(siteEnv.MSI_SECRET, siteEnv.IDENTITY_HEADER);
      assert.equal(siteEnv.APPSETTING_WEBSITE_SITE_NAME, site.id.split('/').pop());
      // msrestazure appends `/?resource=...` to MSI_ENDPOINT.
      const legacy = (extra = '') => `${siteEnv.MSI_ENDPOINT}/?resource=${encodeURIComponent(ARM)}&api-version=2017-09-01${extra}`;
      const ok = await raw(legacy(), { headers: { secret: siteEnv.MSI_SECRET! } });
      assert.equal(ok.status, 200);
      assert.deepEqual(Object.keys(ok.json).sort(), ['access_token', 'client_id', 'expires_on', 'resource', 'token_type']);
      assert.equal(oidOf(ok.json.access_token), site.principalId);
      const m1 = /^(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d):(\d\d) \+00:00$/.exec(String(ok.json.expires_on));
      assert.ok(m1, String(ok.json.expires_on));
      const exp = Date.UTC(Number(m1[3]), Number(m1[1]) - 1, Number(m1[2]), Number(m1[4]), Number(m1[5]), Number(m1[6])) / 1000;
      const claims = JSON.parse(Buffer.from(String(ok.json.access_token).split('.')[1]!, 'base64url').toString()) as { exp: number };
      assert.equal(exp, claims.exp);
      assert.equal(oidOf((await raw(legacy(`&clientid=${uai1.clientId}`), { headers: { secret: siteEnv.MSI_SECRET! } })).json.access_token), uai1.principalId);
      const wrong = await raw(legacy(), { headers: { secret: 'f'.repeat(64) } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json.access_token, undefined);
      // The newer protocol's selectors are not part of 2017-09-01.
      assert.equal((await raw(legacy(`&client_id=${uai1.clientId}`), { headers: { secret: siteEnv.MSI_SECRET! } })).status, 400);
    });

    test('selects by client_id, object_id, principal_id and mi_res_id, and refuses identities of other resources', async () => {
      const h = { headers: { 'X-IDENTITY-HEADER': siteEnv.IDENTITY_HEADER! } };
      assert.equal(oidOf((await raw(url(`&principal_id=${uai1.principalId}`), h)).json.access_token), uai1.principalId);
      assert.equal(oidOf((await raw(url(`&mi_res_id=${encodeURIComponent(uai1.id)}`), h)).json.access_token), uai1.principalId);
      // uai2 belongs to the VM, not to the site: the site's secret cannot reach it.
      for (const extra of [`&client_id=${uai2.clientId}`, `&object_id=${uai2.principalId}`, `&mi_res_id=${encodeURIComponent(uai2.id)}`, `&client_id=${m.directory.byObject(vm.principalId!)!.appId}`]) {
        const r = await raw(url(extra), h);
        assert.equal(r.status, 400, extra);
        assert.equal(r.json.error_description, 'Unable to load the proper Managed Identity.');
      }
      // The site's secret is not an IMDS path of the VM or anything else.
      const asImds = await raw(`${new URL(siteEnv.IDENTITY_ENDPOINT!).origin}/${siteEnv.IDENTITY_HEADER}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${ARM}`, { headers: META });
      assert.equal(asImds.status, 401);
      // Nor a Machine Learning secret.
      const asMl = await raw(`${new URL(siteEnv.IDENTITY_ENDPOINT!).origin}/msi/auth?api-version=2017-09-01&resource=${ARM}`, { headers: { secret: siteEnv.IDENTITY_HEADER! } });
      assert.equal(asMl.status, 401);
    });
  });

  describe('Cloud Shell, Machine Learning, Service Fabric', () => {
    test('Cloud Shell takes a POSTed form with Metadata: true and no identity choice', async () => {
      const shell = await putHost(m, RG, 'Microsoft.Portal', ['consoles', 'shell1'], { identity: identityBody(true) });
      const env = await envAs(m, shell.id);
      const form = { 'content-type': 'application/x-www-form-urlencoded', ...META };
      const ok = await raw(env.MSI_ENDPOINT!, { method: 'POST', headers: form, body: `resource=${encodeURIComponent(ARM)}` });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(oidOf(ok.json.access_token), shell.principalId);
      assert.equal((await raw(env.MSI_ENDPOINT!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `resource=${ARM}` })).status, 400);
      assert.equal((await raw(`${env.MSI_ENDPOINT}?resource=${ARM}`, { headers: META })).status, 405);
      const withId = await raw(env.MSI_ENDPOINT!, { method: 'POST', headers: form, body: `resource=${ARM}&client_id=${uai1.clientId}` });
      assert.equal(withId.status, 400);
      assert.match(String(withId.json.error_description), /does not support user-assigned/);
      assert.equal((await raw(env.MSI_ENDPOINT!, { method: 'POST', headers: { ...META, 'content-type': 'text/plain' }, body: `resource=${ARM}` })).status, 415);
      assert.equal((await raw(env.MSI_ENDPOINT!, { method: 'POST', headers: form, body: `resource=${'x'.repeat(9000)}` })).status, 413);
    });

    test('Machine Learning uses the secret header, api 2017-09-01 and clientid', async () => {
      await putHost(m, RG, 'Microsoft.MachineLearningServices', ['workspaces', 'ws'], {});
      const compute = await putHost(m, RG, 'Microsoft.MachineLearningServices', ['workspaces', 'ws', 'computes', 'cpu'], { identity: identityBody(true, [uai1]) });
      const env = await envAs(m, compute.id);
      assert.equal(env.DEFAULT_IDENTITY_CLIENT_ID, m.directory.byObject(compute.principalId!)!.appId);
      const url = (extra: string) => `${env.MSI_ENDPOINT}?api-version=2017-09-01&resource=${encodeURIComponent(ARM)}${extra}`;
      const h = { headers: { secret: env.MSI_SECRET! } };
      assert.equal(oidOf((await raw(url(`&clientid=${env.DEFAULT_IDENTITY_CLIENT_ID}`), h)).json.access_token), compute.principalId);
      assert.equal(oidOf((await raw(url('&clientid='), h)).json.access_token), compute.principalId);
      assert.equal(oidOf((await raw(url(`&clientid=${uai1.clientId}`), h)).json.access_token), uai1.principalId);
      assert.equal((await raw(url(`&clientid=${uai2.clientId}`), h)).status, 400);
      assert.equal((await raw(url(''))).status, 400);
      assert.equal((await raw(url(`&object_id=${uai1.principalId}`), h)).status, 400);
    });

    test('Service Fabric is HTTPS with the pinned certificate and the secret header', async () => {
      await putHost(m, RG, 'Microsoft.ServiceFabric', ['managedClusters', 'sf'], {});
      const app = await putHost(m, RG, 'Microsoft.ServiceFabric', ['managedClusters', 'sf', 'applications', 'app'], { identity: identityBody(false, [uai2]) });
      const env = await envAs(m, app.id);
      const ca = await caOf(m);
      assert.equal(env.IDENTITY_SERVER_THUMBPRINT, new X509Certificate(m.context.tls.certPem).fingerprint.replace(/:/g, ''));
      const url = `${env.IDENTITY_ENDPOINT}?api-version=2019-07-01-preview&resource=${encodeURIComponent(ARM)}`;
      const ok = await raw(url, { headers: { secret: env.IDENTITY_HEADER! }, ca });
      assert.equal(ok.status, 200);
      assert.equal(oidOf(ok.json.access_token), uai2.principalId);
      assert.equal((await raw(url, { ca })).status, 400);
      assert.equal((await raw(url, { headers: { secret: siteEnv.IDENTITY_HEADER! }, ca })).status, 401);
      assert.equal((await raw(url.replace('2019-07-01-preview', '2019-08-01'), { headers: { secret: env.IDENTITY_HEADER! }, ca })).status, 400);
    });
  });

  describe('secrets', () => {
    test('rotate when the resource\'s identities change, and die with the resource', async () => {
      const host = await putHost(m, RG, 'Microsoft.Web', ['sites', 'site-rotate'], { identity: identityBody(true) });
      const env = await envAs(m, host.id);
      const url = `${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}`;
      const h = { headers: { 'X-IDENTITY-HEADER': env.IDENTITY_HEADER! } };
      assert.equal((await raw(url, h)).status, 200);
      // A tag change keeps the identities: the secret still works.
      await putHost(m, RG, 'Microsoft.Web', ['sites', 'site-rotate'], { tags: { a: 'b' } }, 'patch');
      assert.equal((await raw(url, h)).status, 200);
      await putHost(m, RG, 'Microsoft.Web', ['sites', 'site-rotate'], { identity: identityBody(true, [uai3]) }, 'patch');
      assert.equal((await raw(url, h)).status, 401);
      // The retired secrets are deleted from the store (just after the change is committed).
      const live = async () => (await m.store.list<StoredHostCredential>(HOST_CREDENTIALS)).filter((e) => e.value.resourceKey === keyOf(host.id)).length;
      for (let i = 0; i < 50 && (await live()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await live(), 0);
      const env2 = await envAs(m, host.id);
      const h2 = { headers: { 'X-IDENTITY-HEADER': env2.IDENTITY_HEADER! } };
      assert.equal(oidOf((await raw(url, h2)).json.access_token), host.principalId);
      assert.equal(oidOf((await raw(`${url}&client_id=${uai3.clientId}`, h2)).json.access_token), uai3.principalId);
      await m.arm.deleteResource(adminCaller(m), rid(m, RG, 'Microsoft.Web', ['sites'], ['site-rotate']));
      assert.equal((await raw(url, h2)).status, 401);
    });

    test('survive a restart of Mimic', async () => {
      let other = await startTestMimic();
      try {
        await createGroup(other, 'rg');
        const host = await putHost(other, 'rg', 'Microsoft.Web', ['sites', 'site-restart'], { identity: identityBody(true) });
        const env = await envAs(other, host.id);
        other = await other.restart();
        const url = `${other.endpoints.listeners.managedIdentity}/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}`;
        const r = await raw(url, { headers: { 'X-IDENTITY-HEADER': env.IDENTITY_HEADER! } });
        assert.equal(r.status, 200, r.text);
        assert.equal(oidOf(r.json.access_token), host.principalId);
      } finally {
        await other.dispose();
      }
    });

    test('are stored only as hashes, and a resource keeps a bounded number of live ones', async () => {
      const host = await putHost(m, RG, 'Microsoft.Web', ['sites', 'site-many'], { identity: identityBody(true) });
      const secrets: string[] = [];
      for (let i = 0; i <= MAX_SECRETS_PER_HOST; i++) secrets.push((await envAs(m, host.id)).IDENTITY_HEADER!);
      const stored = (await m.store.list<StoredHostCredential>(HOST_CREDENTIALS)).filter((e) => e.value.resourceKey === keyOf(host.id));
      assert.equal(stored.length, MAX_SECRETS_PER_HOST);
      const dump = JSON.stringify(stored);
      for (const s of secrets) assert.ok(!dump.includes(s));
      const url = `${siteEnv.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}`;
      assert.equal((await raw(url, { headers: { 'X-IDENTITY-HEADER': secrets[0]! } })).status, 401, 'the oldest secret was retired');
      assert.equal((await raw(url, { headers: { 'X-IDENTITY-HEADER': secrets[1]! } })).status, 200);
      assert.equal((await raw(url, { headers: { 'X-IDENTITY-HEADER': secrets.at(-1)! } })).status, 200);
    });
  });

  describe('admin API', () => {
    test('a resource\'s own identity cannot obtain another resource\'s endpoint secret or tokens', async () => {
      const mgmt = await raw(imdsUrl(vmEnv, `api-version=2018-02-01&resource=${encodeURIComponent(ARM)}`), { headers: META });
      const bearer = { authorization: `Bearer ${String(mgmt.json.access_token)}`, 'content-type': 'application/json' };
      const base = `${m.endpoints.armEndpoint}/subscriptions/${m.context.tenant.subscriptionId}/providers/Mimic.ManagedIdentity`;
      const ca = await caOf(m);
      for (const [op, body] of [['hostCredentials', { host: site.id }], ['tokens', { host: site.id, resource: ARM }]] as const) {
        const r = await raw(`${base}/${op}?api-version=2025-01-01`, { method: 'POST', headers: bearer, body: JSON.stringify(body), ca });
        assert.equal(r.status, 403, r.text);
        assert.equal((r.json.error as { code: string }).code, 'AuthorizationFailed');
      }
    });
  });

  describe('attacks', () => {
    test('huge headers are refused before any handler, and the listener keeps serving', async () => {
      const q = imdsUrl(vmEnv, `api-version=2018-02-01&resource=${ARM}`);
      const big = await raw(q, { headers: { ...META, 'x-padding': 'a'.repeat(20_000) } });
      assert.equal(big.status, 431);
      const many: Record<string, string> = { ...META };
      for (let i = 0; i < 300; i++) many[`x-h${i}`] = 'v'.repeat(30);
      assert.equal((await raw(q, { headers: many })).status, 431);
      const longUrl = await raw(q + '&pad=' + 'b'.repeat(20_000), { headers: META });
      assert.equal(longUrl.status, 431);
      assert.equal((await raw(q, { headers: META })).status, 200);
    });

    test('malformed query strings and paths get errors, not tokens or crashes', async () => {
      const base = new URL(vmEnv.AZURE_POD_IDENTITY_AUTHORITY_HOST!);
      const prefix = base.pathname;
      const paths = [
        `${prefix}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=%E0%A4%A`,
        `${prefix}/metadata/identity/oauth2/token?api-version=2018-02-01&resource`,
        `${prefix}/metadata/identity/oauth2/token?&&&=&api-version=2018-02-01`,
        `${prefix}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${ARM}&client_id=%zz`,
        `${prefix}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${'r'.repeat(3000)}`,
        `${prefix}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${ARM}&msi_res_id=/subscriptions/%00`,
        `${prefix}/metadata/%zz/oauth2/token?api-version=2018-02-01&resource=${ARM}`,
        `/../${prefix}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${ARM}`,
      ];
      for (const path of paths) {
        const r = await raw(base.origin, { path, headers: META });
        assert.ok(r.status >= 400 && r.status < 500, `${path} -> ${r.status}`);
        assert.equal(r.json.access_token, undefined, path);
        assert.equal(typeof r.json.error, 'string', path);
      }
      assert.equal((await raw(imdsUrl(vmEnv, `api-version=2018-02-01&resource=${ARM}`), { headers: META })).status, 200);
    });
  });
});
