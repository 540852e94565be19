// Key Vault benchmark: `getSecret` (GET /secrets/{name}/) end to end over HTTPS — the vault chosen
// by Host, the bearer token fully verified (signature check cached per token; issuer, audience
// and lifetime on every request), an RBAC decision for
// Microsoft.KeyVault/vaults/secrets/getSecret/action at the secret's scope, the sealed value read
// from the store and opened — as a throughput ratio to a bare Node HTTPS server (same
// certificate) returning the same body, alternating rounds in the same run. Besides throughput,
// the CPU time each server process spends per request is read from /proc (immune to other load
// on the machine). Also compared with Azure's service limit for secret GETs (4,000 per 10 s per
// vault).
// Run: npm run build && node dist/bench/keyvault.bench.js   (BENCH_MS per round, BENCH_ROUNDS, BENCH_CONCURRENCY)
import { join } from 'node:path';
import { runLoad, ratio, LOAD_GENERATOR, type LoadOptions, type LoadResult } from './lib/load.js';
import { PINNING } from './lib/pinning.js';
import { startBareServer, startMimicProcess } from './lib/processes.js';
import { BENCH_VAULT_HOST as HOST, GET_SECRET_PATH, seedBenchSecret } from './lib/keyvault.js';
import { measuredLoad } from './lib/cpu.js';

const DURATION = Number(process.env.BENCH_MS ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** Azure Key Vault: 4,000 GET transactions per 10 seconds per vault (secrets, RSA-2048 keys). */
const AZURE_LIMIT_RPS = 400;
const SECRET_VALUE = 'x'.repeat(64);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const mimic = await startMimicProcess();
let bare: { url: string; pid: number; stop(): void } | undefined;
try {
  const { origin } = mimic.endpoints;
  const { vaultToken, sample } = await seedBenchSecret(mimic, SECRET_VALUE);
  bare = await startBareServer(sample, 'application/json; charset=utf-8', { certFile: join(mimic.dataDir, 'server.crt'), keyFile: join(mimic.dataDir, 'server.key') });

  const port = new URL(origin).port;
  const mimicLoad: LoadOptions = {
    url: `https://127.0.0.1:${port}${GET_SECRET_PATH}`,
    headers: { host: HOST, authorization: `Bearer ${vaultToken}`, accept: 'application/json' },
    ca: mimic.ca,
    concurrency: CONCURRENCY,
    durationMs: DURATION,
    expectStatus: 200,
  };
  const bareLoad: LoadOptions = { url: `${bare.url}/secrets/bench/`, ca: mimic.ca, concurrency: CONCURRENCY, durationMs: DURATION, expectStatus: 200 };
  // Warm both servers (JIT, caches, TLS sessions) before measuring.
  await runLoad({ ...mimicLoad, durationMs: 1000 });
  await runLoad({ ...bareLoad, durationMs: 1000 });
  const mimicRuns: Array<LoadResult & { cpuUsPerRequest: number }> = [];
  const bareRuns: Array<LoadResult & { cpuUsPerRequest: number }> = [];
  for (let i = 0; i < ROUNDS; i++) {
    mimicRuns.push(await measuredLoad(mimicLoad, mimic.child.pid!));
    bareRuns.push(await measuredLoad(bareLoad, bare.pid));
  }
  const m = { rps: median(mimicRuns.map((r) => r.rps)), p99: median(mimicRuns.map((r) => r.p99)), errors: mimicRuns.reduce((s, r) => s + r.errors, 0) };
  const b = { rps: median(bareRuns.map((r) => r.rps)), p99: median(bareRuns.map((r) => r.p99)), errors: bareRuns.reduce((s, r) => s + r.errors, 0) };
  const results = {
    loadGenerator: LOAD_GENERATOR,
    pinning: PINNING,
    getSecret: {
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      durationMsPerRound: DURATION,
      mimic: { rps: Math.round(m.rps), p99Ms: Math.round(m.p99 * 10) / 10, errors: m.errors, perRoundRps: mimicRuns.map((r) => Math.round(r.rps)), cpuUsPerRequest: Math.round(median(mimicRuns.map((r) => r.cpuUsPerRequest))) },
      bareNodeHttps: { rps: Math.round(b.rps), p99Ms: Math.round(b.p99 * 10) / 10, errors: b.errors, perRoundRps: bareRuns.map((r) => Math.round(r.rps)), cpuUsPerRequest: Math.round(median(bareRuns.map((r) => r.cpuUsPerRequest))) },
      /** Bare CPU per request over Mimic's: the share of a core's capacity Mimic keeps. */
      cpuEfficiencyRatio: ratio(median(bareRuns.map((r) => r.cpuUsPerRequest)), median(mimicRuns.map((r) => r.cpuUsPerRequest))),
      // Rounds alternate Mimic and the baseline; the ratio is the median of each round's pair,
      // which keeps other load on the (shared) cores from skewing one side only.
      throughputRatio: median(mimicRuns.map((r, i) => ratio(r.rps, bareRuns[i]!.rps))),
      perRoundRatio: mimicRuns.map((r, i) => ratio(r.rps, bareRuns[i]!.rps)),
      target: 0.4,
      azureLimitRps: AZURE_LIMIT_RPS,
      timesAzureLimit: ratio(m.rps, AZURE_LIMIT_RPS),
    },
  };
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
} finally {
  bare?.stop();
  mimic.stop();
}
