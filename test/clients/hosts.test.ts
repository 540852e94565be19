// The root-only alternative: `mimic hosts` entries for the names Mimic serves, and the listener
// that routes TLS connections by server name (MIMIC_HTTPS_PORT; port 443 needs root, so the test
// uses a free port and curl's --resolve in place of /etc/hosts, which it never touches).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { cliEnv, CURL, curlResult, runWith } from './helpers.js';
import { serverNameOf } from '../../src/proxy/sni.js';

/** The first bytes a TLS client sends (its ClientHello) for `servername`. */
async function clientHello(servername?: string): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => (resolve(d), s.destroy()))));
  const client = tlsConnect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, ...(servername ? { servername } : {}) });
  client.on('error', () => {});
  const hello = await got;
  server.close();
  return hello;
}

describe('server name of a ClientHello', () => {
  test('read from a real ClientHello; partial and foreign bytes are told apart', async () => {
    const hello = await clientHello('kv1.vault.azure.net');
    assert.equal(serverNameOf(hello), 'kv1.vault.azure.net');
    assert.equal(serverNameOf(hello.subarray(0, 3)), undefined);
    assert.equal(serverNameOf(hello.subarray(0, hello.length - 1)), undefined);
    assert.equal(serverNameOf(Buffer.from('GET / HTTP/1.1\r\n\r\n')), null);
    // Node sends no server name for an IP address.
    assert.equal(serverNameOf(await clientHello()), null);
  });
});

describe('mimic hosts and the port-443 listener', () => {
  let m: TestMimic;
  let work: string;
  let port: string;
  before(async () => {
    m = await startTestMimic('sqlite', { env: { MIMIC_HTTPS_PORT: '0' } });
    port = new URL(m.endpoints.listeners.azureNames!).port;
    work = await mkdtemp(join(tmpdir(), 'mimic-hosts-'));
    const cli = async (...args: string[]) => {
      const r = await runCli([...args, '--data-dir', m.dataDir]);
      assert.equal(r.code, 0, r.stderr);
    };
    await cli('group', 'create', '-n', 'rg-hosts', '-l', 'westeurope');
    await cli('keyvault', 'create', '-g', 'rg-hosts', '-n', 'kv-hosts-1');
    await cli('resource', 'create', '-g', 'rg-hosts', '-n', 'sthosts1', '--type', 'Microsoft.Storage/storageAccounts');
  });
  after(async () => {
    await m.dispose();
    await rm(work, { recursive: true, force: true });
  });

  test('mimic hosts lists every served name, per vault and storage account; --apply and --remove edit one block', async () => {
    const printed = await runCli(['hosts', '--data-dir', m.dataDir]);
    assert.equal(printed.code, 0, printed.stderr);
    const names = printed.stdout.split('\n').filter((l) => l.startsWith('127.0.0.1 ')).map((l) => l.slice(10));
    for (const n of ['login.microsoftonline.com', 'management.azure.com', 'kv-hosts-1.vault.azure.net', 'sthosts1.blob.core.windows.net', 'sthosts1.queue.core.windows.net', 'sthosts1.table.core.windows.net']) {
      assert.ok(names.includes(n), n);
    }
    const file = join(work, 'hosts');
    const original = '127.0.0.1 localhost\n::1 localhost ip6-localhost\n';
    await writeFile(file, original);
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['hosts', '--apply', '--file', file, '--data-dir', m.dataDir]);
      assert.equal(r.code, 0, r.stderr);
      // Not on 443 here: it says what clients will need.
      assert.match(r.stderr, /MIMIC_HTTPS_PORT=443/);
    }
    const applied = await readFile(file, 'utf8');
    assert.ok(applied.startsWith(original));
    assert.equal(applied.match(/# BEGIN mimic/g)!.length, 1, 'applying again replaces the block');
    assert.ok(applied.includes('127.0.0.1 kv-hosts-1.vault.azure.net\n'));
    assert.equal((await runCli(['hosts', '--remove', '--file', file, '--data-dir', m.dataDir])).code, 0);
    assert.equal(await readFile(file, 'utf8'), original);
  });

  test('the listener hands each connection to the listener serving its name, trusted through the CA bundle', async () => {
    const env = await cliEnv(m, '--admin');
    // No proxy: name resolution (here curl's --resolve, in place of /etc/hosts) is what routes.
    const direct = { CURL_CA_BUNDLE: env.CURL_CA_BUNDLE! };
    const get = (name: string, path: string) => runWith('curl', [...CURL, '-i', '--resolve', `${name}:${port}:127.0.0.1`, `https://${name}:${port}${path}`], direct);
    const arm = await get('management.azure.com', '/subscriptions?api-version=2022-12-01');
    assert.equal(curlResult(arm).status, 401, arm.stderr);
    assert.match(arm.stdout, /AuthenticationFailed/);
    const vault = await get('kv-hosts-1.vault.azure.net', '/secrets/x?api-version=7.4');
    assert.equal(curlResult(vault).status, 401, vault.stderr);
    assert.match(vault.stdout, /www-authenticate: Bearer/i);
    const blob = await get('sthosts1.blob.core.windows.net', '/?comp=list');
    assert.match(blob.stdout, /x-ms-error-code: /i);
    // A name Mimic does not serve, and no name at all: the connection is closed.
    const foreign = await get('example.com', '/');
    assert.equal(foreign.code, 35, foreign.stderr);
    const bare = await runWith('curl', [...CURL, `https://127.0.0.1:${port}/`], direct);
    assert.equal(bare.code, 35, bare.stderr);
  });

  test('Mimic stops promptly with connections still open through the listener', async () => {
    const other = await startTestMimic('sqlite', { env: { MIMIC_HTTPS_PORT: '0' } });
    const p = Number(new URL(other.endpoints.listeners.azureNames!).port);
    const ca = await readFile(other.endpoints.caCertFile, 'utf8');
    for (const name of ['management.azure.com', 'acct1.blob.core.windows.net']) {
      await new Promise<void>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: p, servername: name, ca }, () => resolve());
        s.on('error', reject);
      });
    }
    const stopped = other.dispose().then(() => 'stopped');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 10_000).unref());
    assert.equal(await Promise.race([stopped, timeout]), 'stopped');
  });
});
