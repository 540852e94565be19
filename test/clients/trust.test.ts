// Trust everywhere: the CA bundle `mimic env` names (Mimic's CA plus the system roots) with
// Debian's Python requests, and the PKCS#12 store of `mimic ca export --format p12` with Java 17's
// keytool and a real Java HTTPS client through the proxy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { cliEnv, runWith } from './helpers.js';
import { SYSTEM_ROOTS_FILE } from '../../src/crypto/trustStore.js';

const PYTHON = '/usr/bin/python3';
const CERTS = /-----BEGIN CERTIFICATE-----/g;

describe('client trust', () => {
  let m: TestMimic;
  let work: string;
  before(async () => {
    m = await startTestMimic();
    work = await mkdtemp(join(tmpdir(), 'mimic-trust-'));
  });
  after(async () => {
    await m.dispose();
    await rm(work, { recursive: true, force: true });
  });

  test('the bundle is Mimic\'s CA followed by the system roots', async () => {
    const env = await cliEnv(m, '--admin');
    const bundle = await readFile(env.REQUESTS_CA_BUNDLE!, 'utf8');
    const ca = await readFile(m.endpoints.caCertFile, 'utf8');
    assert.ok(bundle.startsWith(ca.trim()), 'Mimic\'s CA comes first');
    const roots = await readFile(SYSTEM_ROOTS_FILE, 'utf8');
    assert.equal(bundle.match(CERTS)!.length, 1 + roots.match(CERTS)!.length);
  });

  test('Python requests trusts Mimic with only the env: direct to the origin, and under Azure\'s names through the proxy', async () => {
    const env = await cliEnv(m, '--admin');
    const script = [
      'import json, os, requests',
      'origin = os.environ["MIMIC_ARM_ENDPOINT"]',
      'health = requests.get(origin + "/health", timeout=20)',
      'form = {"grant_type": "client_credentials", "client_id": os.environ["AZURE_CLIENT_ID"], "client_secret": os.environ["AZURE_CLIENT_SECRET"], "scope": "https://management.azure.com/.default"}',
      'tok = requests.post("https://login.microsoftonline.com/%s/oauth2/v2.0/token" % os.environ["AZURE_TENANT_ID"], data=form, timeout=20).json()["access_token"]',
      'subs = requests.get("https://management.azure.com/subscriptions?api-version=2022-12-01", headers={"Authorization": "Bearer " + tok}, timeout=20)',
      'try:',
      '    requests.get("https://example.com/", timeout=20)',
      '    refused = "reached"',
      'except requests.exceptions.ProxyError as e:',
      '    refused = "403" if "403" in str(e) else str(e)',
      'print(json.dumps({"health": health.status_code, "subs": subs.status_code, "ids": [s["subscriptionId"] for s in subs.json()["value"]], "example": refused}))',
    ].join('\n');
    const r = await runWith(PYTHON, ['-c', script], env);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { health: number; subs: number; ids: string[]; example: string };
    assert.equal(out.health, 200);
    assert.equal(out.subs, 200);
    assert.ok(out.ids.includes(env.AZURE_SUBSCRIPTION_ID!));
    assert.equal(out.example, '403');

    // Without the bundle, the same client does not trust Mimic: the setting is what does it.
    const { REQUESTS_CA_BUNDLE: _r, SSL_CERT_FILE: _s, CURL_CA_BUNDLE: _c, ...untrusting } = env;
    const u = await runWith(PYTHON, ['-c', 'import os, requests\nrequests.get(os.environ["MIMIC_ARM_ENDPOINT"] + "/health", timeout=20)'], untrusting);
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /CERTIFICATE_VERIFY_FAILED/);
  });

  test('mimic ca export: PEM is the CA; the p12 store lists it as a trusted entry for keytool', async () => {
    const pem = await runCli(['ca', 'export', '--data-dir', m.dataDir]);
    assert.equal(pem.code, 0, pem.stderr);
    assert.equal(pem.stdout, await readFile(m.endpoints.caCertFile, 'utf8'));

    const store = join(work, 'mimic.p12');
    const r = await runCli(['ca', 'export', '--format', 'p12', '--out', store, '--password', 's3cret-pw', '--data-dir', m.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const fingerprint = new X509Certificate(await readFile(m.endpoints.caCertFile)).fingerprint256;
    // JVM start-up is slow on a loaded machine: generous time limits.
    const slow = { timeoutMs: 180_000 };
    const list = await runWith('keytool', ['-list', '-v', '-keystore', store, '-storetype', 'PKCS12', '-storepass', 's3cret-pw', '-alias', 'mimic-local-ca'], {}, slow);
    assert.equal(list.code, 0, list.stdout + list.stderr);
    assert.match(list.stdout, /Entry type: trustedCertEntry/);
    assert.ok(list.stdout.includes(`SHA256: ${fingerprint}`), list.stdout);
    // The system roots come along (Java's trustStore replaces its own), unless --ca-only.
    const all = await runWith('keytool', ['-list', '-keystore', store, '-storepass', 's3cret-pw'], {}, slow);
    const roots = (await readFile(SYSTEM_ROOTS_FILE, 'utf8')).match(CERTS)!.length;
    assert.equal(all.stdout.match(/trustedCertEntry/g)!.length, 1 + roots);
    // The store's integrity is checked with its password.
    const wrong = await runWith('keytool', ['-list', '-keystore', store, '-storepass', 'not-it'], {}, slow);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stdout + wrong.stderr, /integrity/i);

    const bad = await runCli(['ca', 'export', '--format', 'jks', '--data-dir', m.dataDir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /use pem or p12/);
  });

  test('Java trusts Mimic with the p12 store and reaches management.azure.com through the proxy', async () => {
    const store = join(work, 'ca-only.p12');
    assert.equal((await runCli(['ca', 'export', '--format', 'p12', '--ca-only', '--out', store, '--data-dir', m.dataDir])).code, 0);
    const env = await cliEnv(m, '--admin');
    const source = join(work, 'Subscriptions.java');
    await writeFile(
      source,
      [
        'import java.net.URI;',
        'import java.net.http.*;',
        'public class Subscriptions {',
        '  public static void main(String[] a) throws Exception {',
        '    var proxy = URI.create(System.getenv("HTTPS_PROXY"));',
        '    var client = HttpClient.newBuilder().proxy(java.net.ProxySelector.of(new java.net.InetSocketAddress(proxy.getHost(), proxy.getPort()))).build();',
        '    var form = "grant_type=client_credentials&client_id=" + System.getenv("AZURE_CLIENT_ID") + "&client_secret=" + java.net.URLEncoder.encode(System.getenv("AZURE_CLIENT_SECRET"), "UTF-8") + "&scope=https://management.azure.com/.default";',
        '    var tok = client.send(HttpRequest.newBuilder(URI.create("https://login.microsoftonline.com/" + System.getenv("AZURE_TENANT_ID") + "/oauth2/v2.0/token")).header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());',
        '    var token = tok.body().replaceAll(".*\\"access_token\\":\\"([^\\"]+)\\".*", "$1");',
        '    var subs = client.send(HttpRequest.newBuilder(URI.create("https://management.azure.com/subscriptions?api-version=2022-12-01")).header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());',
        '    System.out.println(tok.statusCode() + " " + subs.statusCode() + " " + subs.body().contains(System.getenv("AZURE_SUBSCRIPTION_ID")));',
        '  }',
        '}',
      ].join('\n'),
    );
    const r = await runWith('java', [`-Djavax.net.ssl.trustStore=${store}`, '-Djavax.net.ssl.trustStorePassword=changeit', source], env, { timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '200 200 true');
    // Without the store Java does not trust Mimic.
    const untrusted = await runWith('java', [source], env, { timeoutMs: 240_000 });
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /PKIX path building failed|SSLHandshakeException/);
  });
});
