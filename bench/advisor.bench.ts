// Access advisor benchmark.
//  1. The usage record's cost on the hot paths: `getSecret` (Key Vault) and Get Blob of a 4 KiB
//     blob (storage gate) over HTTPS with a bearer token, on two Mimic processes started alike
//     except MIMIC_ADVISOR_RECORD=off on one; rounds alternate between them in the same run.
//     The ratio is recording-on throughput over recording-off throughput (target >= 0.95),
//     the median of each round's pair; CPU time per request is read from /proc as well.
//     Because a shared machine's noise is larger than the effect, the cost of one `note` is
//     also timed in-process (1,000,000 decisions over 1,000 keys, flushes included).
//  2. The recommender: 1,000 principals with 100,000 recorded (principal, action, scope)
//     triples of real actions at realistic scopes, all recommended in one pass, in this
//     process (target < 2 s, role catalog build included); reading those rows back from the
//     embedded store, as a report does first, is timed separately.
// Run: npm run build && node dist/bench/advisor.bench.js   (BENCH_MS per round, BENCH_ROUNDS, BENCH_CONCURRENCY)
import { request } from 'node:https';
import { runLoad, ratio, LOAD_GENERATOR, type LoadOptions } from './lib/load.js';
import { measuredLoad } from './lib/cpu.js';
import { PINNING } from './lib/pinning.js';
import { adminTokenFor, startMimicProcess, type RunningMimic } from './lib/processes.js';
import { storageCall } from '../src/services/storage/client.js';
import { loadBuiltinRoles } from '../src/authz/builtinRoles.js';
import { RoleCatalog } from '../src/advisor/catalog.js';
import { Recommender } from '../src/advisor/recommend.js';
import { UsageRecorder, type UsageEntry } from '../src/advisor/usage.js';
import { openStore } from '../src/store/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DURATION = Number(process.env.BENCH_MS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const VAULT = 'benchvault';
const HOST = `${VAULT}.vault.azure.net`;
const ACCOUNT = 'benchacct';
const CONTAINER = 'bench';
const BLOB = 'blob-4k.bin';
const ROLE = { secretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7', secretsUser: '4633458b-17de-408a-b874-0445c86b69e6', blobReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1' };

function call(origin: string, ca: string, method: string, path: string, token: string, body?: unknown, host?: string): Promise<{ status: number; text: string }> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${origin}${path}`, { method, ca, headers: { authorization: `Bearer ${token}`, ...(host ? { host } : {}), ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}) } }, (res) => {
      let t = '';
      res.on('data', (c: Buffer) => (t += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function ok(p: Promise<{ status: number; text: string }>, what: string): Promise<any> {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.text ? JSON.parse(r.text) : undefined;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Target {
  pid: number;
  secret: LoadOptions;
  blob: LoadOptions;
}

/** A vault with a secret and an account with a blob; the administrator holds only the data roles it reads with. */
async function prepare(m: RunningMimic): Promise<Target> {
  const { origin, subscriptionId } = m.endpoints;
  const mgmt = await adminTokenFor(m);
  const adminOid = JSON.parse(Buffer.from(mgmt.split('.')[1]!, 'base64url').toString('utf8')).oid as string;
  const rg = `/subscriptions/${subscriptionId}/resourceGroups/bench`;
  await ok(call(origin, m.ca, 'PUT', `${rg}?api-version=2025-04-01`, mgmt, { location: 'eastus' }), 'group');
  const vaultId = `${rg}/providers/Microsoft.KeyVault/vaults/${VAULT}`;
  await ok(call(origin, m.ca, 'PUT', `${vaultId}?api-version=2026-02-01`, mgmt, { location: 'eastus', properties: { tenantId: m.admin.tenantId, sku: { family: 'A', name: 'standard' } } }), 'vault');
  const accountId = `${rg}/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}`;
  const account = await ok(call(origin, m.ca, 'PUT', `${accountId}?api-version=2023-05-01`, mgmt, { location: 'eastus', kind: 'StorageV2', sku: { name: 'Standard_LRS' } }), 'account');
  const containerId = `${accountId}/blobServices/default/containers/${CONTAINER}`;
  await ok(call(origin, m.ca, 'PUT', `${containerId}?api-version=2023-05-01`, mgmt, { properties: {} }), 'container');
  let n = 0;
  const assign = (scope: string, role: string) =>
    ok(call(origin, m.ca, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/0d6f8a52-3c1e-4b8e-9b1a-7e2f4c6d8a0${n++}?api-version=2022-04-01`, mgmt, {
      properties: { roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId: adminOid, principalType: 'ServicePrincipal' },
    }), 'role assignment');
  await assign(rg, ROLE.secretsOfficer);
  await assign(`${vaultId}/secrets/bench`, ROLE.secretsUser);
  await assign(containerId, ROLE.blobReader);
  const vaultToken = await adminTokenFor(m, 'https://vault.azure.net');
  await ok(call(origin, m.ca, 'PUT', '/secrets/bench?api-version=2025-07-01', vaultToken, { value: 'x'.repeat(64) }, HOST), 'set secret');
  const key = (await ok(call(origin, m.ca, 'POST', `${accountId}/listKeys?api-version=2023-05-01`, mgmt), 'keys')).keys[0].value as string;
  const blobUrl = `${account.properties.primaryEndpoints.blob}${CONTAINER}/${BLOB}`;
  const up = await storageCall({ method: 'PUT', url: blobUrl, body: Buffer.alloc(4096, 7), headers: { 'x-ms-blob-type': 'BlockBlob' }, sharedKey: { service: 'blob', account: ACCOUNT, key: Buffer.from(key, 'base64') }, ca: m.ca });
  if (up.status !== 201) throw new Error(`upload: ${up.status}`);
  const storageToken = await adminTokenFor(m, 'https://storage.azure.com');
  const port = new URL(origin).port;
  return {
    pid: m.child.pid!,
    secret: { url: `https://127.0.0.1:${port}/secrets/bench/?api-version=2025-07-01`, headers: { host: HOST, authorization: `Bearer ${vaultToken}`, accept: 'application/json' }, ca: m.ca, concurrency: CONCURRENCY, durationMs: DURATION, expectStatus: 200 },
    blob: { url: blobUrl, headers: { authorization: `Bearer ${storageToken}`, 'x-ms-version': '2025-11-05' }, ca: m.ca, concurrency: CONCURRENCY, durationMs: DURATION, expectStatus: 200 },
  };
}

async function recordingCost(): Promise<Record<string, unknown>> {
  const on = await startMimicProcess();
  process.env.MIMIC_ADVISOR_RECORD = 'off';
  let off: RunningMimic | undefined;
  try {
    off = await startMimicProcess();
    delete process.env.MIMIC_ADVISOR_RECORD;
    const targets = { on: await prepare(on), off: await prepare(off) };
    const out: Record<string, unknown> = {};
    for (const op of ['secret', 'blob'] as const) {
      for (const t of Object.values(targets)) await runLoad({ ...t[op], durationMs: 800 });
      const runs = { on: [] as { rps: number; cpuUsPerRequest: number; errors: number }[], off: [] as { rps: number; cpuUsPerRequest: number; errors: number }[] };
      for (let i = 0; i < ROUNDS; i++) {
        // Alternate which side goes first, so drift affects both alike.
        const order = i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
        for (const side of order) {
          const r = await measuredLoad(targets[side][op], targets[side].pid);
          runs[side].push({ rps: Math.round(r.rps), cpuUsPerRequest: Math.round(r.cpuUsPerRequest), errors: r.errors });
        }
      }
      out[op === 'secret' ? 'getSecret' : 'getBlob4KiB'] = {
        recordingOn: { medianRps: median(runs.on.map((r) => r.rps)), medianCpuUsPerRequest: median(runs.on.map((r) => r.cpuUsPerRequest)), rounds: runs.on },
        recordingOff: { medianRps: median(runs.off.map((r) => r.rps)), medianCpuUsPerRequest: median(runs.off.map((r) => r.cpuUsPerRequest)), rounds: runs.off },
        throughputRatio: median(runs.on.map((r, i) => ratio(r.rps, runs.off[i]!.rps))),
        cpuRatio: ratio(median(runs.off.map((r) => r.cpuUsPerRequest)), median(runs.on.map((r) => r.cpuUsPerRequest))),
        target: 0.95,
      };
    }
    return out;
  } finally {
    on.stop();
    off?.stop();
  }
}

/** 1,000 principals x 100 triples: secrets, blobs, queues and ARM reads/writes at realistic scopes. */
function syntheticUsage(principals: number, perPrincipal: number): UsageEntry[] {
  const sub = '/subscriptions/00000000-0000-0000-0000-0000000000b1';
  const actions: [string, boolean, (p: number, i: number) => string][] = [
    ['Microsoft.KeyVault/vaults/secrets/getSecret/action', true, (p, i) => `${sub}/resourceGroups/rg${p % 50}/providers/Microsoft.KeyVault/vaults/kv${p % 200}/secrets/s${i % 7}`],
    ['Microsoft.KeyVault/vaults/secrets/readMetadata/action', true, (p) => `${sub}/resourceGroups/rg${p % 50}/providers/Microsoft.KeyVault/vaults/kv${p % 200}`],
    ['Microsoft.KeyVault/vaults/keys/sign/action', true, (p, i) => `${sub}/resourceGroups/rg${p % 50}/providers/Microsoft.KeyVault/vaults/kv${p % 200}/keys/k${i % 3}`],
    ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read', true, (p, i) => `${sub}/resourceGroups/rg${p % 50}/providers/Microsoft.Storage/storageAccounts/st${p % 300}/blobServices/default/containers/c${i % 5}`],
    ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write', true, (p, i) => `${sub}/resourceGroups/rg${p % 50}/providers/Microsoft.Storage/storageAccounts/st${p % 300}/blobServices/default/containers/c${i % 2}`],
    ['Microsoft.Storage/storageAccounts/queueServices/queues/messages/add/action', true, (p, i) => `${sub}/resourceGroups/rg${p % 50}/providers/Microsoft.Storage/storageAccounts/st${p % 300}/queueServices/default/queues/q${i % 4}`],
    ['Microsoft.Resources/subscriptions/resourceGroups/read', false, (p) => `${sub}/resourceGroups/rg${p % 50}`],
    ['Microsoft.Web/sites/read', false, (p, i) => `${sub}/resourceGroups/rg${p % 50}/providers/Microsoft.Web/sites/web${(p + i) % 400}`],
    ['Microsoft.ManagedIdentity/userAssignedIdentities/read', false, (p, i) => `${sub}/resourceGroups/rg${p % 50}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id${(p + i) % 90}`],
    ['Contoso.Widgets/widgets/frob/action', false, (p) => `${sub}/resourceGroups/rg${p % 50}/providers/Contoso.Widgets/widgets/w${p % 10}`],
  ];
  const out: UsageEntry[] = [];
  const seen = new Set<string>();
  for (let p = 0; p < principals; p++) {
    const principalId = `00000000-0000-4000-8000-${p.toString(16).padStart(12, '0')}`;
    // Each principal uses a few action kinds, many scopes of them.
    const kinds = [p % actions.length, (p * 7 + 3) % actions.length, (p * 13 + 5) % actions.length];
    for (let i = 0; out.length < (p + 1) * perPrincipal; i++) {
      const [action, isDataAction, scopeOf] = actions[kinds[i % kinds.length]!]!;
      const scope = scopeOf(p, i) + (i >= 30 ? `/x${i}` : '');
      const key = `${principalId}|${action}|${scope}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ principalId, action, isDataAction, scope, allowed: 1 + (i % 9), denied: i % 17 === 0 ? 1 : 0, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T01:00:00.000Z', grants: [] });
    }
  }
  return out;
}

/** Reading the 100,000 rows back from the embedded store, as a report does before recommending. */
async function readTime(usage: UsageEntry[]): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'mimic-advisor-bench-'));
  const store = await openStore({ dataDir: dir });
  const recorder = await UsageRecorder.open(store, { flushMs: 60_000, maxPending: 200_000 });
  for (const u of usage) for (let i = 0; i < u.allowed; i++) recorder.note(u.principalId, u.action, u.isDataAction, u.scope, true);
  const f0 = performance.now();
  await recorder.flush();
  const flushMs = Math.round(performance.now() - f0);
  const runs: number[] = [];
  let rows = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    rows = (await recorder.read()).length;
    runs.push(Math.round(performance.now() - t0));
  }
  await recorder.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
  return { rows, firstFlushMs: flushMs, readMsPerRun: runs, medianReadMs: median(runs) };
}

async function recommendationTime(): Promise<Record<string, unknown>> {
  const usage = syntheticUsage(1_000, 100);
  const byPrincipal = new Map<string, UsageEntry[]>();
  for (const u of usage) {
    const list = byPrincipal.get(u.principalId);
    if (list) list.push(u);
    else byPrincipal.set(u.principalId, [u]);
  }
  const defs = loadBuiltinRoles();
  const runs: number[] = [];
  let roles = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const recommender = new Recommender(new RoleCatalog(defs), { subscriptionScope: '/subscriptions/00000000-0000-0000-0000-0000000000b1' });
    roles = 0;
    for (const [principalId, list] of byPrincipal) roles += recommender.recommend({ principalId, usage: list, assignments: [] }).roleSet.length;
    runs.push(Math.round(performance.now() - t0));
  }
  return { principals: byPrincipal.size, triples: usage.length, recommendedAssignments: roles, msPerRun: runs, medianMs: median(runs), targetMs: 2000, storeRead: await readTime(usage) };
}

/** Nanoseconds per `note` on a warm aggregate (the hot-path cost), flushes to SQLite included. */
async function noteCost(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'mimic-advisor-bench-'));
  const store = await openStore({ dataDir: dir });
  const usage = await UsageRecorder.open(store, { flushMs: 50 });
  const keys = Array.from({ length: 1000 }, (_, i) => [`00000000-0000-4000-8000-${String(i % 100).padStart(12, '0')}`, `/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/secrets/s${i}`] as const);
  const N = 1_000_000;
  const runs: number[] = [];
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const k = keys[i % keys.length]!;
      usage.note(k[0], 'Microsoft.KeyVault/vaults/secrets/getSecret/action', true, k[1], true, 'assignment-id');
    }
    runs.push(((performance.now() - t0) * 1e6) / N);
    await usage.flush();
  }
  await usage.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
  return { nsPerNote: Math.round(median(runs)), notesPerRound: N };
}

const results = {
  loadGenerator: LOAD_GENERATOR,
  pinning: PINNING,
  durationMsPerRound: DURATION,
  rounds: ROUNDS,
  concurrency: CONCURRENCY,
  recommendation: await recommendationTime(),
  noteCost: await noteCost(),
  recordingCost: await recordingCost(),
};
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
