// `mimic start --throttle azure` beyond IMDS: Key Vault's per-vault limits (429 Throttled with
// Retry-After, survived by @azure/keyvault-secrets), Resource Manager's token buckets per
// principal (429 TooManyRequests, the remaining-requests headers on every answer), and Storage's
// per-blob target (503 ServerBusy in Storage's XML shape). Without the switch nothing is throttled.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { adminVaultToken, arm as kvArm, assignRole, createGroup, createVault, kv, raw as kvRaw, ROLES, type Vault } from '../keyvault/helpers.js';
import { createAccount, createChild, ROLE as STORAGE_ROLE, type Account } from '../storage/helpers.js';
import { AzureThrottle, KEY_VAULT_LIMITS, STORAGE_LIMITS, TokenBuckets, WindowLimiter } from '../../src/server/throttle.js';

/** Runs `f(0..n-1)` with at most `width` calls in flight. */
async function pool<T>(n: number, width: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await f(i);
    }
  }));
  return out;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A raw HTTPS request over a shared keep-alive agent (bounded sockets, Mimic's CA). */
function send(agent: Agent, method: string, url: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the limiters', () => {
  test('a window: units per window, refused requests not charged, the wait until enough has left the window', () => {
    const w = new WindowLimiter(3, 10_000);
    assert.equal(w.take('v', 1, 0), 0);
    assert.equal(w.take('v', 1, 2_500), 0);
    assert.equal(w.take('v', 1, 5_000), 0);
    // Full until the first unit (charged at 0 s) leaves the window at 10 s.
    assert.equal(w.take('v', 1, 6_000), 4);
    assert.equal(w.take('v', 1, 9_999), 1);
    assert.equal(w.take('other', 1, 6_000), 0, 'another vault has its own budget');
    assert.equal(w.take('v', 1, 10_000), 0, 'the refusals were not charged');
    assert.equal(w.take('v', 1, 10_100), 2, 'the next unit leaves at 12.5 s');
  });

  test('a token bucket: a burst of its capacity, then its refill rate; remaining counts down', () => {
    const b = new TokenBuckets(3, 1);
    assert.deepEqual([b.take('p', 0), b.take('p', 0), b.take('p', 0)].map((a) => a.remaining), [2, 1, 0]);
    assert.deepEqual(b.take('p', 100), { ok: false, remaining: 0, retryAfter: 1 });
    assert.equal(b.take('p', 1_100).ok, true, 'a token came back after a second');
  });

  test('the Azure table: Key Vault per vault and class, five times that per subscription', () => {
    const t = new AzureThrottle();
    for (let i = 0; i < KEY_VAULT_LIMITS.perVault.secretCreate; i++) assert.equal(t.keyVault('a', 'sub', 'secretCreate', 1000), 0);
    assert.ok(t.keyVault('a', 'sub', 'secretCreate', 1000) > 0, 'the 301st secret creation in 10 s');
    assert.equal(t.keyVault('a', 'sub', 'vault', 1000), 0, 'reads have their own class');
    assert.equal(t.keyVault('b', 'sub', 'secretCreate', 1000), 0, 'another vault');
    const arm = t.armRequest('s1', 'tenant', 'p', 'reads', 0);
    assert.deepEqual([arm.ok, arm.remaining, arm.header], [true, 249, 'x-ms-ratelimit-remaining-subscription-reads']);
    assert.equal(t.armRequest(undefined, 'tenant', 'p', 'writes', 0).header, 'x-ms-ratelimit-remaining-tenant-writes');
    for (let i = 0; i < STORAGE_LIMITS.partitionPerSecond.blob; i++) assert.equal(t.storage('acct', 'blob', 'c/b', 0), undefined);
    assert.equal(t.storage('acct', 'blob', 'c/b', 0), 'partition');
    assert.equal(t.storage('acct', 'blob', 'c/other', 0), undefined, 'another blob');
  });
});

const STORAGE_SCALE = 0.05;

describe('Key Vault, Resource Manager and Storage with --throttle azure', () => {
  let m: TestMimic;
  let vault: Vault;
  let kvToken: string;
  let account: Account;
  let agent: Agent;

  before(async () => {
    // Storage's per-blob target (500 requests/s) is more than this shared 2-core machine serves on
    // one blob (about 210/s measured), so this instance scales Storage's targets to a twentieth.
    m = await startTestMimic('sqlite', { env: { MIMIC_THROTTLE: 'azure', MIMIC_THROTTLE_STORAGE_SCALE: String(STORAGE_SCALE) } });
    agent = new Agent({ keepAlive: true, maxSockets: 32, ca: m.context.tls.caCertPem });
    const a = await kvArm(m);
    await createGroup(a, 'throttled');
    vault = await createVault(a, 'throttled', 'mimic-throttled', { enableRbacAuthorization: true });
    await assignRole(a, vault.id, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    kvToken = adminVaultToken(m);
    account = await createAccount(a, 'throttled', 'mimicbusy');
    const container = await createChild(a, account, 'container', 'hot');
    await assignRole(a, container, STORAGE_ROLE.blobContributor, m.context.tenant.adminObjectId);
  });
  after(async () => {
    agent?.destroy();
    await m?.dispose();
  });

  test('Key Vault: a burst over the vault\'s 300 secret creations per 10 s gets 429 Throttled with Retry-After; the SDK waits and succeeds', async () => {
    const burst = await pool(KEY_VAULT_LIMITS.perVault.secretCreate + 20, 16, (i) => kvRaw(m, vault, 'PUT', `/secrets/burst-${i}`, { token: kvToken, body: { value: 'x' } }));
    const throttled = burst.filter((r) => r.status === 429);
    assert.ok(burst.every((r) => r.status === 200 || r.status === 429), JSON.stringify(burst.find((r) => r.status !== 200 && r.status !== 429)?.text));
    assert.ok(throttled.length >= 20, `${throttled.length} of ${burst.length} throttled`);
    assert.ok(burst.length - throttled.length <= KEY_VAULT_LIMITS.perVault.secretCreate);
    assert.deepEqual(throttled[0]!.json().error.code, 'Throttled');
    const retryAfter = Number(throttled[0]!.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 10, `Retry-After ${retryAfter}`);
    // Reads are another class: still served.
    assert.equal((await kvRaw(m, vault, 'GET', '/secrets/burst-0', { token: kvToken })).status, 200);

    const probe = await kvRaw(m, vault, 'PUT', '/secrets/probe', { token: kvToken, body: { value: 'x' } });
    assert.equal(probe.status, 429);
    const wait = Number(probe.headers['retry-after']);
    const started = Date.now();
    const [set] = await kv(m, vault, { admin: true }, [{ op: 'setSecret', name: 'after-burst', value: 'patient' }]);
    assert.equal(set!.ok, true, JSON.stringify(set));
    // The SDK's first try was throttled too (the process starts within the window); it waited as told.
    assert.ok(Date.now() - started >= (wait - 1) * 1000, `SDK finished ${Date.now() - started} ms after a ${wait} s Retry-After`);
  });

  test('Resource Manager: reads past the principal\'s bucket get 429 TooManyRequests; the remaining-reads header counts down', async () => {
    const a = await kvArm(m);
    const uai = await a.call('PUT', `${a.sub}/resourceGroups/throttled/providers/Microsoft.ManagedIdentity/userAssignedIdentities/busy-reader`, { location: 'eastus' }, '2023-01-31');
    assert.equal(uai.status, 201);
    assert.ok(Number(uai.headers['x-ms-ratelimit-remaining-subscription-writes']) > 0, 'writes report their bucket');
    const principalId = uai.body.properties.principalId;
    await assignRole(a, `${a.sub}/resourceGroups/throttled`, 'acdd72a7-3385-48ef-bd42-f606fba81ae7', principalId);
    const token = m.tokens.mint(m.directory.byObject(principalId)!, { resource: 'https://management.azure.com/', lifetimeSeconds: 3600, appidacr: '2' }).accessToken;
    const url = `${a.client.endpoints.armEndpoint}${a.sub}/resourceGroups/throttled?api-version=2025-04-01`;
    // Forty reads sent together take forty tokens; the bucket refills 25 per second, so however slowly
    // this machine serves them, the header must come down by far more than the refill gives back.
    const started = Date.now();
    const forty = await pool(40, 40, () => send(agent, 'GET', url, { authorization: `Bearer ${token}` }));
    const refilled = Math.ceil(((Date.now() - started) / 1000) * 25);
    assert.ok(forty.every((r) => r.status === 200));
    const remaining = forty.map((r) => Number(r.headers['x-ms-ratelimit-remaining-subscription-reads'])).sort((x, y) => y - x);
    assert.ok(remaining[0]! <= 249, `remaining ${remaining}`);
    assert.ok(remaining[0]! - remaining[39]! >= 39 - refilled, `remaining ${remaining} with up to ${refilled} tokens refilled meanwhile`);
    // More reads than the bucket and its refill allow, even on a slow machine (250 + 25/s).
    const burst = await pool(600, 16, () => send(agent, 'GET', url, { authorization: `Bearer ${token}` }));
    const throttled = burst.filter((r) => r.status === 429);
    assert.ok(throttled.length > 0, 'the burst went past 250 + 25/s');
    assert.ok(burst.every((r) => r.status === 200 || r.status === 429));
    const body = JSON.parse(throttled[0]!.text);
    assert.equal(body.error.code, 'TooManyRequests');
    assert.match(body.error.message, /Number of 'read' requests for subscription '.+' actor '.+' exceeded/);
    assert.ok(Number(throttled[0]!.headers['retry-after']) >= 1);
    assert.equal(throttled[0]!.headers['x-ms-ratelimit-remaining-subscription-reads'], '0');
    // Another principal (the administrator) has its own bucket.
    const admin = await a.call('GET', `${a.sub}/resourceGroups/throttled`, undefined, '2025-04-01');
    assert.equal(admin.status, 200);
  });

  test('Storage: requests on one blob past its target (scaled to 25 per second here) get 503 ServerBusy in Storage\'s XML', async () => {
    const storageToken = m.tokens.mint(m.directory.byObject(m.context.tenant.adminObjectId)!, { resource: 'https://storage.azure.com', lifetimeSeconds: 3600, appidacr: '1' }).accessToken;
    const blobUrl = `${account.endpoints.blob.replace(/\/$/, '')}/hot/busy.txt`;
    const headers = { authorization: `Bearer ${storageToken}`, 'x-ms-version': '2025-11-05' };
    const put = await send(agent, 'PUT', blobUrl, { ...headers, 'x-ms-blob-type': 'BlockBlob' }, 'hello');
    assert.equal(put.status, 201, put.text);
    const started = Date.now();
    const perSecond = STORAGE_LIMITS.partitionPerSecond.blob * STORAGE_SCALE;
    const burst = await pool(perSecond * 6, 32, () => send(agent, 'HEAD', blobUrl, headers));
    const elapsed = Date.now() - started;
    const busy = burst.filter((r) => r.status === 503);
    assert.ok(burst.every((r) => r.status === 200 || r.status === 503));
    assert.ok(busy.length > 0, `no 503 among ${burst.length} requests in ${elapsed} ms`);
    assert.equal(busy[0]!.headers['x-ms-error-code'], 'ServerBusy');
    // Over any one second no more than the target got through (plus one window's rounding).
    assert.ok(burst.length - busy.length <= perSecond * (Math.ceil(elapsed / 1000) + 1), `${burst.length - busy.length} admitted in ${elapsed} ms`);
    const get = await pool(perSecond * 2, 32, () => send(agent, 'GET', blobUrl, headers));
    const body = get.find((r) => r.status === 503);
    assert.ok(body, 'a GET past the target');
    assert.match(body.text, /^<\?xml version="1.0" encoding="utf-8"\?><Error><Code>ServerBusy<\/Code><Message>The server is busy\./);
    // Another blob in the same account is its own partition.
    const other = await send(agent, 'PUT', `${account.endpoints.blob.replace(/\/$/, '')}/hot/calm.txt`, { ...headers, 'x-ms-blob-type': 'BlockBlob' }, 'calm');
    assert.equal(other.status, 201);
  });
});

test('off by default: bursts over every limit are all served, with no rate-limit headers', async () => {
  const m = await startTestMimic('sqlite');
  const agent = new Agent({ keepAlive: true, maxSockets: 16, ca: m.context.tls.caCertPem });
  try {
    assert.equal(m.context.throttler, undefined);
    const a = await kvArm(m);
    await createGroup(a, 'free');
    const vault = await createVault(a, 'free', 'mimic-free', { enableRbacAuthorization: true });
    await assignRole(a, vault.id, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    const token = adminVaultToken(m);
    const sets = await pool(KEY_VAULT_LIMITS.perVault.secretCreate + 20, 16, (i) => kvRaw(m, vault, 'PUT', `/secrets/s-${i}`, { token, body: { value: 'x' } }));
    assert.ok(sets.every((r) => r.status === 200));
    const armToken = await a.client.adminToken();
    const url = `${a.client.endpoints.armEndpoint}${a.sub}/resourceGroups/free?api-version=2025-04-01`;
    const reads = await pool(300, 16, () => send(agent, 'GET', url, { authorization: `Bearer ${armToken}` }));
    assert.ok(reads.every((r) => r.status === 200 && r.headers['x-ms-ratelimit-remaining-subscription-reads'] === undefined));
  } finally {
    agent.destroy();
    await m.dispose();
  }
});
