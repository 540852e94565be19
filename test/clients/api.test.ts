// The programmatic API as a test suite uses it: `import { startMimic } from 'mimic'` (the
// package's own exports entry), two isolated Mimics in one file on free ports, each with its own
// tenant, data and listeners; admin and `as(R)` environments that work; stop() frees everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { request } from 'node:https';
import type * as Api from '../../src/api.js';
import { raw } from '../managedIdentity/helpers.js';
import { armCaller } from '../helpers/arm.js';

// Through the package name, as a user's suite imports it (a variable keeps tsc from resolving it at build time).
const PACKAGE = 'mimic';
const { startMimic } = (await import(PACKAGE)) as typeof Api;

function post(url: string, ca: string, form: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

test('the package exports startMimic with self-contained type declarations', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { types: string; import: string }> };
  const entry = pkg.exports['.']!;
  const types = await readFile(new URL(`../../../${entry.types}`, import.meta.url), 'utf8');
  assert.match(types, /export declare function startMimic\(options\?: MimicOptions\): Promise<RunningMimic>;/);
  // No imports: the declarations do not drag the server's internals into a user's type check.
  assert.doesNotMatch(types, /^import /m);
  assert.equal(typeof startMimic, 'function');
});

const portsOf = (e: Api.MimicEndpoints) => [e.origin, ...Object.values(e.listeners)].map((u) => Number(new URL(u).port));

test('two isolated Mimics in one test file, on free ports', async () => {
  const [a, b] = await Promise.all([startMimic(), startMimic()]);
  try {
    assert.notEqual(a.dataDir, b.dataDir);
    assert.notEqual(a.endpoints.tenantId, b.endpoints.tenantId);
    // Every listener took a free port: none of the defaults, none shared.
    const pa = portsOf(a.endpoints);
    const pb = portsOf(b.endpoints);
    assert.ok(pa.length >= 6, JSON.stringify(a.endpoints.listeners));
    for (const p of [...pa, ...pb]) assert.ok(p > 0 && p !== 8443, String(p));
    assert.equal(new Set([...pa, ...pb]).size, pa.length + pb.length);

    // Each admin environment signs in to its own Mimic and nowhere else.
    for (const [self, other] of [[a, b], [b, a]] as const) {
      const ca = await readFile(self.admin.NODE_EXTRA_CA_CERTS!, 'utf8');
      const form = { grant_type: 'client_credentials', client_id: self.admin.AZURE_CLIENT_ID!, client_secret: self.admin.AZURE_CLIENT_SECRET!, scope: 'https://management.azure.com/.default' };
      const ok = await post(`${self.admin.AZURE_AUTHORITY_HOST}/${self.admin.AZURE_TENANT_ID}/oauth2/v2.0/token`, ca, form);
      assert.equal(ok.status, 200);
      const otherCa = await readFile(other.admin.NODE_EXTRA_CA_CERTS!, 'utf8');
      const refused = await post(`${other.admin.AZURE_AUTHORITY_HOST}/${other.admin.AZURE_TENANT_ID}/oauth2/v2.0/token`, otherCa, form);
      assert.equal(refused.status >= 400, true);
    }

    // as(R): the environment of code running as a resource of that Mimic.
    const arm = await armCaller(a.dataDir, '2024-07-01');
    assert.equal((await arm.call('PUT', `${arm.sub}/resourceGroups/rg-api`, { location: 'eastus' }, '2021-04-01')).status, 201);
    const vm = await arm.call('PUT', `${arm.sub}/resourceGroups/rg-api/providers/Microsoft.Compute/virtualMachines/vm-api`, { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} });
    assert.equal(vm.status, 201, vm.text);
    const env = await a.as('vm-api');
    const token = await raw(`${env.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent('https://vault.azure.net')}`, { headers: { Metadata: 'true' } });
    assert.equal(token.status, 200);
    await assert.rejects(b.as('vm-api'));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  // stop() closed every listener and removed the temporary data dirs.
  for (const m of [a, b]) {
    assert.equal(existsSync(m.dataDir), false);
    for (const p of portsOf(m.endpoints)) assert.equal(await portOpen(p), false, `port ${p} still open`);
  }
});
