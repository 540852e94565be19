// Storage at rest benchmark: what sealing costs on Put Blob and Get Blob.
// Two blob services, each alone in a child process and driven with Shared Key over loopback HTTP
// by the same load generator in the same run, rounds interleaved:
//  - sealed: the blob service exactly as Mimic runs it (assembleEmulator: Azurite's handlers over
//    the framed AES-256-GCM extent store and the sealing LokiJS adapter);
//  - clear: Azurite's own BlobServer with its FSExtentStore and LokiJS file adapter, as Mimic ran
//    it before storage was sealed.
// Reported: throughput ratio sealed/clear and the server CPU time per request of each (from /proc,
// which other load on the shared cores does not distort), for 4 KiB and 256 KiB blobs. Each Put
// writes a new extent and syncs it, as both stores do, so Put figures include the disk.
// Run: npm run build && node dist/bench/storageAtRest.bench.js   (BENCH_MS per round, BENCH_ROUNDS)
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOAD_GENERATOR, ratio } from './lib/load.js';
import { measuredLoad } from './lib/cpu.js';
import { PINNING, serverCommand } from './lib/pinning.js';
import { storageCall } from '../src/services/storage/client.js';
import { signSharedKey } from '../src/services/storage/sharedKey.js';
import { Sealer } from '../src/crypto/masterKey.js';
import { assembleEmulator } from '../src/services/storage/azurite.js';

const ACCOUNT = 'benchacct';
const KEY = Buffer.alloc(64, 7);
const CONTAINER = 'bench';

type Mode = 'sealed' | 'clear';

/** Child: one blob service on a free port; prints its origin. */
async function serve(mode: Mode, location: string): Promise<void> {
  const account = (name: string) => (name === ACCOUNT ? { name, key1: KEY } : undefined);
  let server: { httpServer: Server; accountDataStore: { getAccount: unknown }; start(): Promise<void> };
  if (mode === 'sealed') {
    server = assembleEmulator(location, Sealer.fromKey(randomBytes(32))).blob;
  } else {
    const require = createRequire(import.meta.url);
    const load = (p: string) => (require(`azurite/dist/src/${p}`) as { default: new (...a: unknown[]) => typeof server }).default;
    const d = (s: string) => join(location, s);
    const config = new (load('blob/BlobConfiguration'))('127.0.0.1', 0, 30, d('blob/__azurite_db_blob__.json'), d('blob/__azurite_db_blob_extent__.json'), [{ locationId: 'Default', locationPath: d('blob/extents'), maxConcurrency: 10 }], false, undefined, false, undefined, true, true, '', '', '', 'basic', false, false);
    server = new (load('blob/BlobServer'))(config);
  }
  server.accountDataStore.getAccount = account;
  await mkdir(join(location, 'blob'), { recursive: true });
  await server.start();
  console.log(`origin http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`);
}

function start(mode: Mode, location: string): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(...serverCommand(process.execPath, [fileURLToPath(import.meta.url), 'serve', mode, location]), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = /origin (http:\/\/[\d.]+:\d+)/.exec(seen);
      if (m) resolve({ child, origin: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${mode} server exited (${code}): ${seen}`)));
  });
}

/** Headers of a Shared Key request signed once (Azurite does not check the date's age). */
function signed(method: string, url: string, extra: Record<string, string> = {}): Record<string, string> {
  const u = new URL(url);
  const headers: Record<string, string> = { 'x-ms-version': '2025-11-05', ...extra };
  signSharedKey('blob', ACCOUNT, KEY, { method, path: u.pathname, rawQuery: '', headers });
  return headers;
}

async function main(): Promise<void> {
  const DURATION = Number(process.env.BENCH_MS ?? 1500);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
  const sizes = { '4KiB': 4096, '256KiB': 256 * 1024 };
  const dirs: string[] = [];
  const servers: Record<Mode, { child: ChildProcess; origin: string }> = {} as never;
  try {
    for (const mode of ['sealed', 'clear'] as Mode[]) {
      const dir = await mkdtemp(join(tmpdir(), `mimic-atrest-${mode}-`));
      dirs.push(dir);
      servers[mode] = await start(mode, dir);
      const c = `${servers[mode].origin}/${ACCOUNT}/${CONTAINER}?restype=container`;
      const r = await storageCall({ method: 'PUT', url: c, sharedKey: { service: 'blob', account: ACCOUNT, key: KEY } });
      if (r.status !== 201) throw new Error(`${mode} container: ${r.status} ${r.body.toString()}`);
    }
    const results: Record<string, unknown> = {};
    for (const [label, size] of Object.entries(sizes)) {
      // Text, so every load generator can send it as is.
      const body = randomBytes(size).toString('base64').slice(0, size);
      const targets = Object.fromEntries(
        (['sealed', 'clear'] as Mode[]).map((mode) => {
          const url = `${servers[mode].origin}/${ACCOUNT}/${CONTAINER}/blob-${label}`;
          const put = { url, method: 'PUT', body, headers: signed('PUT', url, { 'x-ms-blob-type': 'BlockBlob', 'content-length': String(size) }), expectStatus: 201 };
          const get = { url, headers: signed('GET', url), expectStatus: 200 };
          return [mode, { pid: servers[mode].child.pid!, put, get }];
        }),
      ) as unknown as Record<Mode, { pid: number; put: Record<string, unknown> & { url: string }; get: Record<string, unknown> & { url: string } }>;
      for (const mode of ['sealed', 'clear'] as Mode[]) {
        const r = await storageCall({ method: 'PUT', url: targets[mode].put.url, body, headers: { 'x-ms-blob-type': 'BlockBlob' }, sharedKey: { service: 'blob', account: ACCOUNT, key: KEY } });
        if (r.status !== 201) throw new Error(`${mode} upload: ${r.status}`);
      }
      for (const op of ['put', 'get'] as const) {
        const runs: Record<Mode, { rps: number; cpuUsPerRequest: number; errors: number }[]> = { sealed: [], clear: [] };
        const load = { concurrency: CONCURRENCY, durationMs: DURATION };
        for (const mode of ['sealed', 'clear'] as Mode[]) await measuredLoad({ ...load, ...targets[mode][op], durationMs: 500 }, targets[mode].pid); // warm-up
        for (let round = 0; round < ROUNDS; round++) {
          for (const mode of ['sealed', 'clear'] as Mode[]) {
            const r = await measuredLoad({ ...load, ...targets[mode][op] }, targets[mode].pid);
            runs[mode].push({ rps: Math.round(r.rps), cpuUsPerRequest: r.cpuUsPerRequest, errors: r.errors });
          }
        }
        const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
        const rps = (m: Mode) => med(runs[m].map((r) => r.rps));
        const cpu = (m: Mode) => med(runs[m].map((r) => r.cpuUsPerRequest));
        results[`${op === 'put' ? 'putBlob' : 'getBlob'}${label}`] = {
          throughputRatioSealedToClear: ratio(rps('sealed'), rps('clear')),
          cpuPerRequestRatioSealedToClear: ratio(cpu('sealed'), cpu('clear')),
          sealed: { medianRps: rps('sealed'), medianCpuUsPerRequest: cpu('sealed') },
          clear: { medianRps: rps('clear'), medianCpuUsPerRequest: cpu('clear') },
          rounds: runs,
        };
      }
    }
    console.log(JSON.stringify({ loadGenerator: LOAD_GENERATOR, pinning: PINNING, concurrency: CONCURRENCY, msPerRound: DURATION, rounds: ROUNDS, ...results }, null, 2));
  } finally {
    for (const s of Object.values(servers)) s.child.kill('SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') await serve(process.argv[3] as Mode, process.argv[4]!);
else await main();
