// The forward proxy with real curl and nothing but `mimic env`'s environment: Azure's names over
// HTTPS through CONNECT tunnels (trusting Mimic through the CA bundle), IMDS at its real address
// as the resource the environment belongs to, and a clear 403 for everything else, without ever
// opening a connection to anything Mimic does not serve.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { runCli, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { createGroup, createUai, identityBody, putHost, verifyToken, type Host, type Uai } from '../managedIdentity/helpers.js';
import { cliEnv, CURL, curlResult, proxyConversation, runWith } from './helpers.js';
import { createForwardProxy, endpointSecretOf, parseAuthority } from '../../src/proxy/proxy.js';
import { RouteTable } from '../../src/proxy/routes.js';

const RG = 'rg-proxy';
const IMDS_TOKEN = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net';

describe('forward proxy units', () => {
  test('CONNECT authorities parse strictly', () => {
    assert.deepEqual(parseAuthority('management.azure.com:443'), { host: 'management.azure.com', port: 443 });
    assert.deepEqual(parseAuthority('[::1]:443'), { host: '::1', port: 443 });
    for (const bad of [undefined, '', 'management.azure.com', 'a:0', 'a:70000', 'user@a:443', 'a/b:443', 'a:443x']) assert.equal(parseAuthority(bad), undefined, String(bad));
  });

  test('routes match exact names and true subdomains only', () => {
    const t = new RouteTable(() => ({ 'management.azure.com': '127.0.0.1:1', '*.vault.azure.net': '127.0.0.1:2' }));
    assert.deepEqual(t.lookup('MANAGEMENT.azure.com.'), { host: '127.0.0.1', port: 1 });
    assert.deepEqual(t.lookup('kv1.vault.azure.net'), { host: '127.0.0.1', port: 2 });
    for (const miss of ['vault.azure.net', '.vault.azure.net', 'kv1.vault.azure.net.example.com', 'evilmanagement.azure.com', 'management.azure.com.example.com', 'example.com']) {
      assert.equal(t.lookup(miss), undefined, miss);
    }
  });

  test('the proxy credential is an endpoint secret or nothing', () => {
    const secret = 'ab'.repeat(32);
    assert.equal(endpointSecretOf(`Basic ${Buffer.from(`imds:${secret}`).toString('base64')}`), secret);
    assert.equal(endpointSecretOf(`basic ${Buffer.from(`x:${secret.toUpperCase()}`).toString('base64')}`), secret);
    assert.equal(endpointSecretOf(`Basic ${Buffer.from('imds:short').toString('base64')}`), undefined);
    assert.equal(endpointSecretOf(`Bearer ${secret}`), undefined);
    assert.equal(endpointSecretOf(undefined), undefined);
  });
});

describe('forward proxy with curl', () => {
  let m: TestMimic;
  let vm: Host;
  let other: Host;
  let otherUai: Uai;
  let proxy: string;
  // A local TCP server that must never see a connection from the proxy.
  let bystander: Server;
  let bystanderPort = 0;
  let bystanderConnections = 0;

  before(async () => {
    m = await startTestMimic();
    proxy = m.endpoints.listeners.proxy!;
    await createGroup(m, RG);
    vm = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-curl'], { identity: identityBody(true) });
    otherUai = await createUai(m, RG, 'id-other');
    other = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-other'], { identity: identityBody(false, [otherUai]) });
    bystander = createServer((s) => {
      bystanderConnections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => bystander.listen(0, '127.0.0.1', resolve));
    bystanderPort = (bystander.address() as { port: number }).port;
  });
  after(async () => {
    bystander.close();
    await m.dispose();
  });

  test('mimic env exports the proxy (both spellings), NO_PROXY for loopback and the CA bundle', async () => {
    assert.match(proxy, /^http:\/\/127\.0\.0\.1:\d+$/);
    // The port-443 alternative is opt-in (MIMIC_HTTPS_PORT).
    assert.equal(m.endpoints.listeners.azureNames, undefined);
    const admin = await cliEnv(m, '--admin');
    for (const v of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) assert.equal(admin[v], proxy, v);
    for (const v of ['NO_PROXY', 'no_proxy']) assert.equal(admin[v], 'localhost,127.0.0.1,::1', v);
    for (const v of ['REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE', 'CURL_CA_BUNDLE']) assert.equal(admin[v], `${m.dataDir}/ca-bundle.pem`, v);
    const asVm = await cliEnv(m, '--as', vm.id);
    assert.match(asVm.HTTPS_PROXY!, new RegExp(`^http://imds:[0-9a-f]{64}@127\\.0\\.0\\.1:${new URL(proxy).port}$`));
    assert.equal(asVm.http_proxy, asVm.HTTPS_PROXY);
    // The credential is the resource's IMDS endpoint secret, nothing new.
    assert.ok(asVm.AZURE_POD_IDENTITY_AUTHORITY_HOST!.endsWith(`/${new URL(asVm.HTTPS_PROXY!).password}`));
    // A flavour whose code has no IMDS gets the proxy without a credential.
    await putHost(m, RG, 'Microsoft.Web', ['sites', 'site-curl'], { identity: identityBody(true) });
    const asSite = await cliEnv(m, '--as', 'site-curl');
    assert.equal(asSite.HTTPS_PROXY, proxy);
  });

  test('curl with only `mimic env --as` gets the resource\'s token from http://169.254.169.254', async () => {
    const env = await cliEnv(m, '--as', vm.id);
    const r = await runWith('curl', [...CURL, '-H', 'Metadata: true', IMDS_TOKEN], env);
    const { status, body } = curlResult(r);
    assert.equal(status, 200, r.stdout + r.stderr);
    const token = JSON.parse(body) as { access_token: string; resource: string };
    assert.equal(token.resource, 'https://vault.azure.net');
    const claims = await verifyToken(m, token.access_token, 'https://vault.azure.net');
    assert.equal(claims.oid, vm.principalId);

    // IMDS's own rules still hold: the Metadata header is required.
    const noHeader = curlResult(await runWith('curl', [...CURL, IMDS_TOKEN], env));
    assert.equal(noHeader.status, 400);
    assert.match(noHeader.body, /metadata header/i);
  });

  test('Python requests takes the credential from the proxy URL too', async () => {
    const env = await cliEnv(m, '--as', vm.id);
    const script = 'import requests\nr = requests.get("http://169.254.169.254/metadata/identity/oauth2/token", params={"api-version": "2018-02-01", "resource": "https://vault.azure.net"}, headers={"Metadata": "true"}, timeout=20)\nprint(r.status_code)\nprint(r.json().get("access_token", ""))';
    const r = await runWith('/usr/bin/python3', ['-c', script], env);
    assert.equal(r.code, 0, r.stderr);
    const [status, token] = r.stdout.trim().split('\n');
    assert.equal(status, '200');
    assert.equal((await verifyToken(m, token!, 'https://vault.azure.net')).oid, vm.principalId);
  });

  test('`mimic run --as` gives curl the same IMDS; another resource\'s identity is refused', async () => {
    const mine = await runCli(['run', '--as', other.id, '--data-dir', m.dataDir, '--', 'curl', ...CURL, '-H', 'Metadata: true', IMDS_TOKEN], {});
    assert.equal(curlResult(mine).status, 200, mine.stdout + mine.stderr);
    const claims = await verifyToken(m, (JSON.parse(curlResult(mine).body) as { access_token: string }).access_token, 'https://vault.azure.net');
    assert.equal(claims.oid, otherUai.principalId);

    // vm-curl's environment cannot reach vm-other's user-assigned identity...
    const env = await cliEnv(m, '--as', vm.id);
    const stolen = curlResult(await runWith('curl', [...CURL, '-H', 'Metadata: true', `${IMDS_TOKEN}&client_id=${otherUai.clientId}`], env));
    assert.equal(stolen.status, 400, stolen.body);
    assert.doesNotMatch(stolen.body, /access_token/);
    // ...nor can a made-up credential, or none (the administrator's environment has no resource).
    const forged = { ...env, http_proxy: proxy.replace('://', `://imds:${randomBytes(32).toString('hex')}@`) };
    const f = curlResult(await runWith('curl', [...CURL, '-H', 'Metadata: true', IMDS_TOKEN], forged));
    assert.equal(f.status, 401, f.body);
    assert.match(f.body, /unknown_source/);
    const admin = await cliEnv(m, '--admin');
    const a = curlResult(await runWith('curl', [...CURL, '-H', 'Metadata: true', IMDS_TOKEN], admin));
    assert.equal(a.status, 401, a.body);
  });

  test('curl reaches login.microsoftonline.com and management.azure.com through the proxy with only the env\'s CA settings', async () => {
    const env = await cliEnv(m, '--admin');
    const form = `grant_type=client_credentials&client_id=${env.AZURE_CLIENT_ID}&client_secret=${encodeURIComponent(env.AZURE_CLIENT_SECRET!)}&scope=https://management.azure.com/.default`;
    const t = await runWith('curl', [...CURL, '-X', 'POST', '--data', form, `https://login.microsoftonline.com/${env.AZURE_TENANT_ID}/oauth2/v2.0/token`], env);
    assert.equal(curlResult(t).status, 200, t.stdout + t.stderr);
    const token = (JSON.parse(curlResult(t).body) as { access_token: string }).access_token;
    const r = await runWith('curl', [...CURL, '-v', '-H', `Authorization: Bearer ${token}`, 'https://management.azure.com/subscriptions?api-version=2022-12-01'], env);
    const { status, body } = curlResult(r);
    assert.equal(status, 200, r.stderr);
    assert.match(r.stderr, /CONNECT management\.azure\.com:443/);
    assert.match(r.stderr, /subjectAltName: host "management\.azure\.com" matched/);
    assert.ok((JSON.parse(body) as { value: Array<{ subscriptionId: string }> }).value.some((s) => s.subscriptionId === env.AZURE_SUBSCRIPTION_ID));
    // Storage names reach the storage gate (its own listener), which answers in Storage's terms.
    const blob = await runWith('curl', [...CURL, '-i', 'https://nosuchaccount.blob.core.windows.net/?comp=list'], env);
    assert.equal(curlResult(blob).status, 404, blob.stderr);
    assert.match(blob.stdout, /x-ms-error-code: ResourceNotFound/i);
  });

  test('a listener in another process is reached by copying bytes through the tunnel', async () => {
    // The same proxy, but with no in-process listeners to hand connections to.
    const routes = new RouteTable(() => m.context.routes);
    const copying = createForwardProxy({ routes, localServers: () => ({}), managedIdentityUrl: () => undefined });
    await new Promise<void>((resolve) => copying.server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(copying.server.address() as { port: number }).port}`;
      const env = { ...(await cliEnv(m, '--admin')), https_proxy: url, HTTPS_PROXY: url };
      const r = await runWith('curl', [...CURL, '-v', `https://kv-copy.vault.azure.net/secrets/x?api-version=7.4`], env);
      // Key Vault's answer for an unknown vault: the tunnel reached the data plane through the copy.
      assert.equal(curlResult(r).status, 404, r.stderr);
      assert.match(r.stderr, /x-ms-keyvault-service-version/i);
      assert.match(r.stderr, /CAfile: .*ca-bundle\.pem/);
    } finally {
      copying.closeTunnels();
      await new Promise<void>((resolve) => copying.server.close(() => resolve()));
    }
  });

  test('the proxy refuses names Mimic does not serve with a clear 403, HTTPS and plain HTTP', async () => {
    const env = await cliEnv(m, '--admin');
    const https = await runWith('curl', [...CURL, 'https://example.com/'], env);
    assert.notEqual(https.code, 0);
    assert.match(https.stderr, /CONNECT tunnel failed, response 403/);
    const http = curlResult(await runWith('curl', [...CURL, 'http://example.com/'], env));
    assert.equal(http.status, 403);
    assert.match(http.body, /Mimic does not reach the internet/);
    assert.match(http.body, /management\.azure\.com/);
    // The body of a refused CONNECT says the same.
    const raw = await proxyConversation(proxy, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(raw, /'example\.com' is not an Azure name that Mimic serves[\s\S]*Mimic does not reach the internet/);
  });

  test('a served name on a port other than 443 is refused', async () => {
    const raw = await proxyConversation(proxy, 'CONNECT management.azure.com:8443 HTTP/1.1\r\nHost: management.azure.com:8443\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*on port 443 only, not 8443/);
    const env = await cliEnv(m, '--admin');
    const r = await runWith('curl', [...CURL, `https://management.azure.com:${new URL(m.endpoints.origin).port}/health`], env);
    assert.match(r.stderr, /CONNECT tunnel failed, response 403/);
    // Plain HTTP to a served name is not served either.
    const plain = curlResult(await runWith('curl', [...CURL, 'http://management.azure.com/subscriptions'], env));
    assert.equal(plain.status, 403);
  });

  test('the proxy never connects anywhere it does not serve, loopback included', async () => {
    for (const target of [`127.0.0.1:${bystanderPort}`, `localhost:${bystanderPort}`, `[::1]:${bystanderPort}`]) {
      const raw = await proxyConversation(proxy, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
      assert.match(raw, /^HTTP\/1\.1 403 Forbidden/, target);
    }
    const viaHttp = await proxyConversation(proxy, `GET http://127.0.0.1:${bystanderPort}/ HTTP/1.1\r\nHost: 127.0.0.1:${bystanderPort}\r\nConnection: close\r\n\r\n`);
    assert.match(viaHttp, /^HTTP\/1\.1 403 Forbidden/);
    // Other IMDS paths are not served either.
    const instance = await proxyConversation(proxy, 'GET http://169.254.169.254/metadata/instance?api-version=2021-02-01 HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\nConnection: close\r\n\r\n');
    assert.match(instance, /^HTTP\/1\.1 403 Forbidden[\s\S]*only the identity endpoint of IMDS/);
    // The proxy is not an origin.
    const direct = await proxyConversation(proxy, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(direct, /^HTTP\/1\.1 400 /);
    assert.equal(bystanderConnections, 0);
  });
});

describe('forward proxy shutdown', () => {
  test('Mimic stops promptly with tunnels still open to each kind of listener', async () => {
    const m = await startTestMimic();
    const proxy = new URL(m.endpoints.listeners.proxy!);
    const ca = await readFile(m.endpoints.caCertFile, 'utf8');
    const open = (name: string) =>
      new Promise<void>((resolve, reject) => {
        const raw = netConnect({ host: proxy.hostname, port: Number(proxy.port) }, () => raw.write(`CONNECT ${name}:443 HTTP/1.1\r\nHost: ${name}:443\r\n\r\n`));
        raw.once('data', (d: Buffer) => {
          if (!d.toString().startsWith('HTTP/1.1 200')) return reject(new Error(d.toString()));
          const secure = tlsConnect({ socket: raw, servername: name, ca }, () => resolve());
          secure.on('error', () => {});
        });
        raw.on('error', () => {});
      });
    await open('management.azure.com');
    await open('acct1.blob.core.windows.net');
    await open('acct1.queue.core.windows.net');
    const stopped = m.dispose().then(() => 'stopped');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 10_000).unref());
    assert.equal(await Promise.race([stopped, timeout]), 'stopped');
  });
});
