// Foundation benchmarks (issue: server, token service, Resource Manager), each as a ratio to a
// baseline measured in the same run:
//  1. `mimic start` to ready on the embedded store (warm) and idle RSS, against a bare Node HTTPS
//     server process starting and printing its port.
//  2. ARM GET of a user-assigned identity over HTTPS with token verification, against a bare Node
//     HTTPS server returning the same body.
//  3. The token endpoint (client credentials), against node:crypto's RS256 signing rate.
// Run: npm run build && node dist/bench/foundation.bench.js   (BENCH_MS per round, BENCH_ROUNDS)
import { createSign, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { spawn } from 'node:child_process';
import { runLoad, ratio, LOAD_GENERATOR } from './lib/load.js';
import { PINNING, serverCores } from './lib/pinning.js';
import { measuredLoad } from './lib/cpu.js';
import { adminTokenFor, startBareServer, startMimicProcess, ROOT } from './lib/processes.js';

const DURATION = Number(process.env.BENCH_MS ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function timeToReady(args: string[], marker: string): Promise<{ ms: number; pid: number; kill(): void }> {
  const t = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (d: Buffer) => {
      seen += d;
      if (seen.includes(marker)) resolve();
    });
    child.once('exit', () => reject(new Error('exited early')));
  });
  return { ms: performance.now() - t, pid: child.pid!, kill: () => child.kill('SIGKILL') };
}

function json(method: string, url: string, ca: string, token: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const results: Record<string, unknown> = {};

// 1. Startup (warm: the data dir, CA, keys and tenant exist) and idle RSS.
const first = await startMimicProcess();
first.stop();
const cli = join(ROOT, 'dist/src/cli/main.js');
const bareStart = join(ROOT, 'dist/bench/lib/bareServer.js');
const starts: number[] = [];
const bareStarts: number[] = [];
let idleRss = 0;
for (let i = 0; i < 5; i++) {
  const m = await timeToReady([cli, 'start', '--data-dir', first.dataDir, '--port', '0'], 'Mimic is ready');
  starts.push(m.ms);
  if (i === 4) {
    await new Promise((r) => setTimeout(r, 1500));
    idleRss = rssMb(m.pid);
  }
  m.kill();
  const b = await timeToReady([bareStart, 'https', join(first.dataDir, 'ca.crt'), 'text/plain', join(first.dataDir, 'server.crt'), join(first.dataDir, 'server.key')], '\n');
  bareStarts.push(b.ms);
  b.kill();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
results.startup = { mimicWarmMs: Math.round(median(starts)), bareHttpsServerMs: Math.round(median(bareStarts)), ratio: ratio(median(starts), median(bareStarts)), idleRssMb: Math.round(idleRss) };

// 2. ARM GET of a user-assigned identity.
const mimic = await startMimicProcess(first.dataDir);
try {
  const token = await adminTokenFor(mimic);
  const sub = `${mimic.endpoints.origin}/subscriptions/${mimic.endpoints.subscriptionId}`;
  await json('PUT', `${sub}/resourceGroups/bench?api-version=2025-04-01`, mimic.ca, token, '{"location":"eastus"}');
  const uai = `${sub}/resourceGroups/bench/providers/Microsoft.ManagedIdentity/userAssignedIdentities/bench-id?api-version=2024-11-30`;
  await json('PUT', uai, mimic.ca, token, '{"location":"eastus"}');
  const body = (await json('GET', uai, mimic.ca, token)).text;
  const bare = await startBareServer(body, 'application/json; charset=utf-8', { certFile: join(mimic.dataDir, 'server.crt'), keyFile: join(mimic.dataDir, 'server.key') });
  try {
    const load = { concurrency: 16, durationMs: DURATION, ca: mimic.ca, expectStatus: 200 };
    const bareLoad = { ...load, url: `${bare.url}/x` };
    const armLoad = { ...load, url: uai, headers: { authorization: `Bearer ${token}` } };
    // Warm both (JIT, caches, TLS sessions), then alternate rounds: other load on the shared
    // cores then falls on both sides, and the median round's pair is reported.
    await runLoad({ ...armLoad, durationMs: 1000 });
    await runLoad({ ...bareLoad, durationMs: 1000 });
    const rounds = [];
    for (let i = 0; i < ROUNDS; i++) {
      const baseline = await measuredLoad(bareLoad, bare.pid);
      const armGet = await measuredLoad(armLoad, mimic.child.pid!);
      rounds.push({ mimic: armGet, bareHttps: baseline, throughputRatio: ratio(armGet.rps, baseline.rps), p99Ratio: ratio(armGet.p99, baseline.p99) });
    }
    const median = [...rounds].sort((a, b) => a.throughputRatio - b.throughputRatio)[Math.floor(rounds.length / 2)]!;
    results.armGetUserAssignedIdentity = { ...median, roundRatios: rounds.map((r) => r.throughputRatio) };
  } finally {
    bare.stop();
  }

  // 3. Token endpoint (RSA-bound: Mimic may use every core, as a real token service would).
  serverCores(mimic.child.pid!, 'all');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = 'x'.repeat(900);
  let signs = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 2000) {
    createSign('RSA-SHA256').update(input).sign(privateKey);
    signs++;
  }
  const signRate = (signs / (performance.now() - t0)) * 1000;
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: mimic.admin.clientId, client_secret: mimic.admin.clientSecret, scope: 'https://management.azure.com/.default' }).toString();
  const tokenLoad = await runLoad({
    url: `${mimic.endpoints.origin}/${mimic.admin.tenantId}/oauth2/v2.0/token`,
    method: 'POST',
    body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    ca: mimic.ca,
    concurrency: 8,
    durationMs: DURATION,
    expectStatus: 200,
  });
  results.tokenEndpoint = { mimic: tokenLoad, rs256SignsPerSecond: Math.round(signRate), ratio: ratio(tokenLoad.rps, signRate) };
} finally {
  mimic.stop();
}
console.log(JSON.stringify({ loadGenerator: LOAD_GENERATOR, pinning: PINNING, ...results }, null, 2));
