// Storage gate benchmark: Get Blob of a 4 KiB blob through Mimic's blob endpoint (HTTPS, bearer
// token fully verified, RBAC decision at the container scope, then the in-process emulator),
// as a throughput ratio to the same request sent straight to Azurite in the same run:
//  - primary baseline: a standalone Azurite blob server over HTTPS with `--oauth basic`, sent
//    the very same bearer token (Azurite checks only the token's shape);
//  - secondary baseline: a standalone Azurite over plain HTTP with a Shared Key signature.
// Each server is one Node process; the load generator runs in this process.
// Besides throughput, the CPU time each server process spends per request is read from /proc,
// which other load on the machine does not distort.
// Run: npm run build && node dist/bench/storage.bench.js   (BENCH_MS per round, BENCH_ROUNDS)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runLoad, ratio, LOAD_GENERATOR } from './lib/load.js';
import { measuredLoad } from './lib/cpu.js';
import { PINNING, serverCommand } from './lib/pinning.js';
import { adminTokenFor, startMimicProcess, ROOT } from './lib/processes.js';
import { storageCall } from '../src/services/storage/client.js';
import { signSharedKey } from '../src/services/storage/sharedKey.js';

const DURATION = Number(process.env.BENCH_MS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Linux USER_HZ: /proc times are in 1/100 s. */
const ACCOUNT = 'benchacct';
const CONTAINER = 'bench';
const BLOB = 'blob-4k.bin';
const DATA = randomBytes(4096);

async function arm(origin: string, ca: string, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await storageCall({ method, url: `${origin}${path}`, ca, bearer: token, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body.toString()}`);
  return r.body.length ? JSON.parse(r.body.toString('utf8')) : undefined;
}

function startAzurite(location: string, env: Record<string, string>, tls?: { cert: string; key: string }): Promise<{ origin: string; child: ChildProcess }> {
  const args = [join(ROOT, 'node_modules/azurite/dist/src/blob/main.js'), '--blobHost', '127.0.0.1', '--blobPort', '0', '--location', location, '--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry'];
  if (tls) args.push('--oauth', 'basic', '--cert', tls.cert, '--key', tls.key);
  const child = spawn(...serverCommand(process.execPath, args), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = /successfully listens on (https?:\/\/[\d.]+:\d+)/.exec(seen);
      if (m) resolve({ origin: m[1]!, child });
    });
    child.once('exit', (code) => reject(new Error(`azurite exited (${code}): ${seen}`)));
  });
}

const results: Record<string, unknown> = {};
const mimic = await startMimicProcess();
const children: ChildProcess[] = [];
try {
  const { origin, subscriptionId } = mimic.endpoints;
  const mgmt = await adminTokenFor(mimic);
  const adminOid = JSON.parse(Buffer.from(mgmt.split('.')[1]!, 'base64url').toString('utf8')).oid as string;
  const rg = `/subscriptions/${subscriptionId}/resourceGroups/bench`;
  await arm(origin, mimic.ca, mgmt, 'PUT', `${rg}?api-version=2025-04-01`, { location: 'eastus' });
  const accountId = `${rg}/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}`;
  const account = await arm(origin, mimic.ca, mgmt, 'PUT', `${accountId}?api-version=2023-05-01`, { location: 'eastus', kind: 'StorageV2', sku: { name: 'Standard_LRS' } });
  await arm(origin, mimic.ca, mgmt, 'PUT', `${accountId}/blobServices/default/containers/${CONTAINER}?api-version=2023-05-01`, { properties: {} });
  const key = (await arm(origin, mimic.ca, mgmt, 'POST', `${accountId}/listKeys?api-version=2023-05-01`)).keys[0].value as string;
  // Storage Blob Data Reader on the container for the administrator.
  await arm(origin, mimic.ca, mgmt, 'PUT', `${accountId}/blobServices/default/containers/${CONTAINER}/providers/Microsoft.Authorization/roleAssignments/6f0d7a3e-4b7c-4e61-9a44-2f4f1d0b7c11?api-version=2022-04-01`, {
    properties: { roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1`, principalId: adminOid, principalType: 'ServicePrincipal' },
  });
  const storageToken = await adminTokenFor(mimic, 'https://storage.azure.com');
  const gateBlob = `${account.properties.primaryEndpoints.blob}${CONTAINER}/${BLOB}`;
  const keyBytes = Buffer.from(key, 'base64');
  const upload = async (url: string, ca?: string) => {
    const r = await storageCall({ method: 'PUT', url, body: DATA, headers: { 'x-ms-blob-type': 'BlockBlob' }, sharedKey: { service: 'blob', account: ACCOUNT, key: keyBytes }, ...(ca ? { ca } : {}) });
    if (r.status !== 201) throw new Error(`upload ${url}: ${r.status} ${r.body.toString()}`);
  };
  await upload(gateBlob, mimic.ca);

  const azuriteEnv = { AZURITE_ACCOUNTS: `${ACCOUNT}:${key}` };
  const httpsAzurite = await startAzurite(await mkdtemp(join(tmpdir(), 'azurite-bench-')), azuriteEnv, { cert: join(mimic.dataDir, 'server.crt'), key: join(mimic.dataDir, 'server.key') });
  children.push(httpsAzurite.child);
  const httpAzurite = await startAzurite(await mkdtemp(join(tmpdir(), 'azurite-bench-')), azuriteEnv);
  children.push(httpAzurite.child);
  const createAndUpload = async (base: string, ca?: string) => {
    const r = await storageCall({ method: 'PUT', url: `${base}/${ACCOUNT}/${CONTAINER}?restype=container`, sharedKey: { service: 'blob', account: ACCOUNT, key: keyBytes }, ...(ca ? { ca } : {}) });
    if (r.status !== 201) throw new Error(`container ${base}: ${r.status}`);
    await upload(`${base}/${ACCOUNT}/${CONTAINER}/${BLOB}`, ca);
  };
  await createAndUpload(httpsAzurite.origin, mimic.ca);
  await createAndUpload(httpAzurite.origin);

  const bearer = { authorization: `Bearer ${storageToken}`, 'x-ms-version': '2025-11-05' };
  const load = { concurrency: CONCURRENCY, durationMs: DURATION, ca: mimic.ca, expectStatus: 200 };
  // A Shared Key signature computed once (Azurite does not check the date's age).
  const signed: Record<string, string> = { 'x-ms-version': '2025-11-05' };
  const httpUrl = new URL(`${httpAzurite.origin}/${ACCOUNT}/${CONTAINER}/${BLOB}`);
  signSharedKey('blob', ACCOUNT, keyBytes, { method: 'GET', path: httpUrl.pathname, rawQuery: '', headers: signed });

  const targets = {
    gate: { pid: mimic.child.pid!, url: gateBlob, headers: bearer },
    azuriteHttpsBearer: { pid: httpsAzurite.child.pid!, url: `${httpsAzurite.origin}/${ACCOUNT}/${CONTAINER}/${BLOB}`, headers: bearer },
    azuriteHttpSharedKey: { pid: httpAzurite.child.pid!, url: httpUrl.toString(), headers: signed },
  };
  type Name = keyof typeof targets;
  const runs: Record<Name, Array<{ rps: number; cpuUsPerRequest: number; p50: number; p99: number; errors: number }>> = { gate: [], azuriteHttpsBearer: [], azuriteHttpSharedKey: [] };
  // Warm every target (JIT, caches, TLS sessions) before measuring.
  for (const t of Object.values(targets)) await runLoad({ ...load, url: t.url, headers: t.headers, durationMs: 1000 });
  // Interleaved rounds, so drift in the machine's load affects every target alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(targets) as Name[]) {
      const t = targets[name];
      const r = await measuredLoad({ ...load, url: t.url, headers: t.headers }, t.pid);
      runs[name].push({ rps: Math.round(r.rps), cpuUsPerRequest: r.cpuUsPerRequest, p50: Math.round(r.p50 * 10) / 10, p99: Math.round(r.p99 * 10) / 10, errors: r.errors });
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = (name: Name) => ({ bestRps: Math.max(...runs[name].map((r) => r.rps)), medianRps: med(runs[name].map((r) => r.rps)), medianCpuUsPerRequest: med(runs[name].map((r) => r.cpuUsPerRequest)), rounds: runs[name] });
  const gate = summary('gate');
  const https = summary('azuriteHttpsBearer');
  const http = summary('azuriteHttpSharedKey');
  results.getBlob4KiB = {
    concurrency: CONCURRENCY,
    msPerRound: DURATION,
    rounds: ROUNDS,
    throughputRatioToAzuriteHttpsBearer: { best: ratio(gate.bestRps, https.bestRps), median: ratio(gate.medianRps, https.medianRps) },
    throughputRatioToAzuriteHttpSharedKey: { best: ratio(gate.bestRps, http.bestRps), median: ratio(gate.medianRps, http.medianRps) },
    // Requests per CPU-second relative to Azurite: the ratio a CPU-bound server reaches.
    cpuEfficiencyRatioToAzuriteHttpsBearer: ratio(https.medianCpuUsPerRequest, gate.medianCpuUsPerRequest),
    cpuEfficiencyRatioToAzuriteHttpSharedKey: ratio(http.medianCpuUsPerRequest, gate.medianCpuUsPerRequest),
    gate,
    azuriteHttpsBearer: https,
    azuriteHttpSharedKey: http,
  };
  const rss = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${mimic.child.pid}/status`, 'utf8'))![1]) / 1024;
  results.mimicRssMbAfter = Math.round(rss);
} finally {
  for (const c of children) c.kill('SIGKILL');
  mimic.stop();
}
console.log(JSON.stringify({ loadGenerator: LOAD_GENERATOR, pinning: PINNING, ...results }, null, 2));
