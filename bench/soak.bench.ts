// Soak: one `mimic start` child process under a mixed load for a bounded time (token mints
// through IMDS and the token service, Resource Manager reads and writes with role assignments
// created and deleted, Key Vault getSecret/setSecret, blob reads and writes; bench/lib/mixedLoad.ts),
// with the server's RSS, V8 heap and open handles (file descriptors, and sockets among them)
// sampled every second. Writes rotate through a fixed set of names, so the data stays bounded
// (except Key Vault's secret versions, which Azure keeps too) and growth means a leak.
// Figures: requests by kind, errors (target 0), and RSS, heap and fds after warm-up against the
// end (target: growth under 5%). Heap and RSS are compared after a forced GC at both points
// (the preloaded bench/lib/heapProbe.ts) and as medians of the 1-second samples of a window.
// Run: npm run build && SOAK_SECONDS=300 node dist/bench/soak.bench.js
//   (SOAK_RPS, SOAK_WARMUP_SECONDS; SOAK_SNAPSHOTS=1 writes heap snapshots at both points, which
//   inflate RSS; SOAK_MIX=steady leaves out the writes that create new keys, see mixedLoad.ts)
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MixedLoad, sampleProcess, type ProcessSample } from './lib/mixedLoad.js';
import { ROOT, startMimicProcess } from './lib/processes.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const RPS = Number(process.env.SOAK_RPS ?? 60);
const WARMUP = Number(process.env.SOAK_WARMUP_SECONDS ?? Math.min(60, Math.round(SECONDS / 5)));
/** Width of the windows whose median samples are compared (seconds). */
const MIX = process.env.SOAK_MIX === 'steady' ? 'steady' : 'full';
const WINDOW = Math.min(30, Math.max(5, Math.round((SECONDS - WARMUP) / 4)));

interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}
type Sample = ProcessSample & { heapUsedKb: number };

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const pct = (from: number, to: number) => Math.round(((to - from) / from) * 1000) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const probe = join(process.env.TMPDIR ?? '/tmp', `mimic-soak-${process.pid}.json`);
const mimic = await startMimicProcess(undefined, [], ['--expose-gc', '--import', join(ROOT, 'dist/bench/lib/heapProbe.js')], {
  MIMIC_HEAP_PROBE: probe,
  ...(process.env.SOAK_SNAPSHOTS ? { MIMIC_HEAP_SNAPSHOTS: '1' } : {}),
});
const pid = mimic.child.pid!;
const readProbe = (path: string): Memory | undefined => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Memory;
  } catch {
    return undefined;
  }
};
/** Collects garbage in the server, then reads its settled memory and handles. */
async function settled(): Promise<{ memory: Memory; process: ProcessSample }> {
  const before = readProbe(`${probe}.gc`);
  mimic.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const m = readProbe(`${probe}.gc`);
    if (m && JSON.stringify(m) !== JSON.stringify(before)) return { memory: m, process: sampleProcess(pid) };
  }
  throw new Error('the heap probe did not answer');
}

try {
  const { origin, subscriptionId } = mimic.endpoints;
  const load = await MixedLoad.prepare({ origin, subscriptionId, ca: mimic.ca, tenantId: mimic.admin.tenantId, admin: mimic.admin }, 'soak', MIX);
  const samples: Sample[] = [];
  const t0 = Date.now();
  const sampler = setInterval(() => {
    const s = sampleProcess(pid, Date.now() - t0);
    samples.push({ ...s, heapUsedKb: Math.round((readProbe(probe)?.heapUsed ?? NaN) / 1024) });
  }, 1000);
  let warm: Awaited<ReturnType<typeof settled>> | undefined;
  const marks = (async () => {
    await sleep(WARMUP * 1000);
    warm = await settled();
  })();
  await load.run(RPS, SECONDS * 1000);
  await marks;
  const end = await settled();
  clearInterval(sampler);
  // Handles once the load stops and the client's connections close.
  load.close();
  await sleep(3000);
  const idle = sampleProcess(pid);
  const window = (fromS: number) => samples.filter((s) => s.t >= fromS * 1000 && s.t < (fromS + WINDOW) * 1000);
  const early = window(WARMUP);
  const late = window(SECONDS - WINDOW);
  const series = samples.filter((_, i) => i % 10 === 0).map((s) => ({ s: Math.round(s.t / 1000), rssMb: Math.round(s.rssKb / 102.4) / 10, heapMb: Math.round(s.heapUsedKb / 102.4) / 10, fds: s.fds, sockets: s.sockets }));
  const w = warm!;
  const results = {
    mix: MIX,
    seconds: SECONDS,
    warmupSeconds: WARMUP,
    targetRps: RPS,
    achievedRps: Math.round(load.totalRequests() / SECONDS),
    requests: load.totalRequests(),
    requestsByKind: load.stats.requests,
    errors: load.totalErrors(),
    errorsByKind: load.stats.errors,
    errorSamples: load.stats.errorSamples,
    // After a forced GC in the server, at the end of warm-up and at the end of the load.
    settled: {
      rssMb: { afterWarmup: mb(w.memory.rss), end: mb(end.memory.rss), growthPct: pct(w.memory.rss, end.memory.rss) },
      heapUsedMb: { afterWarmup: mb(w.memory.heapUsed), end: mb(end.memory.heapUsed), growthPct: pct(w.memory.heapUsed, end.memory.heapUsed) },
      externalMb: { afterWarmup: mb(w.memory.external), end: mb(end.memory.external) },
      fds: { afterWarmup: w.process.fds, end: end.process.fds },
      sockets: { afterWarmup: w.process.sockets, end: end.process.sockets },
    },
    // Medians of the 1-second samples in a window after warm-up and in the last window.
    windows: {
      seconds: WINDOW,
      rssMb: { afterWarmup: Math.round(median(early.map((s) => s.rssKb)) / 102.4) / 10, end: Math.round(median(late.map((s) => s.rssKb)) / 102.4) / 10, growthPct: pct(median(early.map((s) => s.rssKb)), median(late.map((s) => s.rssKb))) },
      heapUsedMb: { afterWarmup: Math.round(median(early.map((s) => s.heapUsedKb)) / 102.4) / 10, end: Math.round(median(late.map((s) => s.heapUsedKb)) / 102.4) / 10 },
      fds: { afterWarmup: median(early.map((s) => s.fds)), end: median(late.map((s) => s.fds)), max: Math.max(...samples.map((s) => s.fds)) },
    },
    idleAfterLoad: { fds: idle.fds, sockets: idle.sockets },
    series,
  };
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
} finally {
  const exited = mimic.child.exitCode === null ? new Promise((r) => mimic.child.once('exit', r)) : undefined;
  mimic.stop();
  await exited;
  await rm(mimic.dataDir, { recursive: true, force: true });
  for (const f of [probe, `${probe}.gc`]) await rm(f, { force: true });
}
