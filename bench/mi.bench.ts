// Managed identity endpoint benchmarks, each as a ratio to a baseline measured in the same run:
//  1. Cached token responses over HTTP (IMDS and App Service flavours), against a bare Node
//     HTTP server returning the same bytes; also against Azure's cap of 20 token requests per
//     second per VM.
//  2. Uncached mints (every request names a new audience, so each one signs a token), against
//     node:crypto's RS256 signing rate on one thread.
// Run: npm run build && node dist/bench/mi.bench.js   (BENCH_MS sets each phase's length)
import { createSign, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import { request } from 'node:https';
import { runLoad, ratio, LOAD_GENERATOR } from './lib/load.js';
import { PINNING, serverCores } from './lib/pinning.js';
import { adminTokenFor, startBareServer, startMimicProcess } from './lib/processes.js';

const DURATION = Number(process.env.BENCH_MS ?? 3000);
/** Baseline and Mimic alternate this many times; the median round is reported (the machine may be shared). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function medianBy<T>(items: T[], key: (t: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;
}

function signRate(ms: number): number {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = 'x'.repeat(900);
  let signs = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    createSign('RSA-SHA256').update(input).sign(privateKey);
    signs++;
  }
  return (signs / (performance.now() - t0)) * 1000;
}
/** IMDS throttles managed identity token requests at 20 per second per VM. */
const AZURE_IMDS_TOKEN_RPS = 20;

function armCall<T>(method: string, url: string, ca: string, token: string, body?: unknown): Promise<T> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(text ? { 'content-length': String(Buffer.byteLength(text)) } : {}) } }, (res) => {
      let out = '';
      res.on('data', (c: Buffer) => (out += c));
      res.on('end', () => (res.statusCode! < 300 ? resolve(JSON.parse(out || '{}') as T) : reject(new Error(`${method} ${url}: ${res.statusCode} ${out}`))));
    });
    req.on('error', reject);
    req.end(text);
  });
}

function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

const results: Record<string, unknown> = {};
const mimic = await startMimicProcess();
try {
  const token = await adminTokenFor(mimic);
  const sub = `${mimic.endpoints.origin}/subscriptions/${mimic.endpoints.subscriptionId}`;
  await armCall('PUT', `${sub}/resourceGroups/bench?api-version=2025-04-01`, mimic.ca, token, { location: 'eastus' });
  await armCall('PUT', `${sub}/resourceGroups/bench/providers/Microsoft.Compute/virtualMachines/vm?api-version=2024-07-01`, mimic.ca, token, { location: 'eastus', identity: { type: 'SystemAssigned' } });
  await armCall('PUT', `${sub}/resourceGroups/bench/providers/Microsoft.Web/sites/site?api-version=2023-12-01`, mimic.ca, token, { location: 'eastus', identity: { type: 'SystemAssigned' } });
  const envOf = async (name: string) =>
    (await armCall<{ environment: Record<string, string> }>('POST', `${sub}/providers/Mimic.ManagedIdentity/hostCredentials?api-version=2025-01-01`, mimic.ca, token, { host: name })).environment;
  const vmEnv = await envOf('vm');
  const siteEnv = await envOf('site');

  // 1. Cached responses.
  const flavours = {
    imds: { url: `${vmEnv.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F`, headers: { Metadata: 'true' } },
    appService: { url: `${siteEnv.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com%2F`, headers: { 'X-IDENTITY-HEADER': siteEnv.IDENTITY_HEADER! } },
  };
  for (const [name, f] of Object.entries(flavours)) {
    const first = await get(f.url, f.headers);
    if (first.status !== 200) throw new Error(`${name}: ${first.status} ${first.body}`);
    const bare = await startBareServer(first.body, 'application/json; charset=utf-8');
    try {
      const load = { concurrency: 16, durationMs: DURATION, expectStatus: 200 };
      const rounds = [];
      for (let r = 0; r < ROUNDS; r++) {
        const baseline = await runLoad({ ...load, url: `${bare.url.replace('localhost', '127.0.0.1')}/metadata/identity/oauth2/token/`, headers: f.headers });
        const cached = await runLoad({ ...load, url: f.url, headers: f.headers });
        rounds.push({ mimic: cached, bareHttp: baseline, throughputRatio: ratio(cached.rps, baseline.rps), p99Ratio: ratio(cached.p99, baseline.p99) });
      }
      const median = medianBy(rounds, (x) => x.throughputRatio);
      results[`cached_${name}`] = { ...median, roundRatios: rounds.map((x) => x.throughputRatio), timesAzureImdsCap: Math.round(median.mimic.rps / AZURE_IMDS_TOKEN_RPS) };
    } finally {
      bare.stop();
    }
  }

  // 2. Uncached mints vs RS256 signing on one thread (RSA-bound: Mimic may use every core).
  serverCores(mimic.child.pid!, 'all');
  const base = `${vmEnv.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=`;
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const signs = signRate(1500);
    // `{n}` makes every request name a new audience, so none is served from the token cache.
    const mints = await runLoad({ url: `${base}https%3A%2F%2Fbench{n}.blob.core.windows.net%2F`, headers: { Metadata: 'true' }, concurrency: 8, durationMs: DURATION });
    rounds.push({ mimic: mints, rs256SignsPerSecond: Math.round(signs), ratio: ratio(mints.rps, signs) });
  }
  results.uncachedMints = { ...medianBy(rounds, (x) => x.ratio), roundRatios: rounds.map((x) => x.ratio) };
} finally {
  mimic.stop();
}
console.log(JSON.stringify({ loadGenerator: LOAD_GENERATOR, pinning: PINNING, ...results }, null, 2));
