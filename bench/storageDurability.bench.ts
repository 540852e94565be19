// Durable storage writes benchmark: what holding each write's answer until Azurite's databases
// are saved (group commit, src/services/storage/groupCommit.ts) costs on Put Blob, Put Message and
// Insert Or Replace Entity. Two emulators assembled as Mimic runs them (assembleEmulator), one with
// durable writes and one with Loki's 5-second autosave only, each alone in a child process, driven
// with Shared Key over loopback HTTP by the same load generator in the same run, rounds interleaved.
// Reported per operation: throughput ratio durable/autosave, the server CPU time per request of
// each (from /proc), and the durable server's database saves per request (grouping at work).
// Put Message adds a message each time, so the queue database grows during the run; its size at
// the end is reported, with the time one save of a database of that size takes.
// Run: npm run build && node dist/bench/storageDurability.bench.js   (BENCH_MS, BENCH_ROUNDS, BENCH_CONCURRENCY)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { LOAD_GENERATOR, ratio } from './lib/load.js';
import { measuredLoad } from './lib/cpu.js';
import { PINNING, serverCommand } from './lib/pinning.js';
import { storageCall } from '../src/services/storage/client.js';
import { signSharedKey, type SigningService } from '../src/services/storage/sharedKey.js';
import { Sealer } from '../src/crypto/masterKey.js';
import { assembleEmulator, STORAGE_SERVICES, type StorageService } from '../src/services/storage/azurite.js';
import { storageLayout } from '../src/services/storage/storageAtRest.js';
import { SealedLokiAdapter } from '../src/services/storage/sealedLokiAdapter.js';
import { createRequire } from 'node:module';

const ACCOUNT = 'benchacct';
const KEY = Buffer.alloc(64, 7);
type Mode = 'durable' | 'autosave';
const MODES: Mode[] = ['durable', 'autosave'];

/** Child: the three services on free ports; prints their origins, then answers "flushes" with the group commits run. */
async function serve(mode: Mode, location: string): Promise<void> {
  for (const f of Object.values(storageLayout(location))) await mkdir(f.dir, { recursive: true });
  const servers = assembleEmulator(location, Sealer.fromKey(randomBytes(32)), { durableWrites: mode === 'durable' });
  const origins: Record<string, string> = {};
  for (const s of STORAGE_SERVICES) {
    servers[s].accountDataStore.getAccount = (name: string) => (name === ACCOUNT ? { name, key1: KEY } : undefined);
    await servers[s].start();
    origins[s] = `http://127.0.0.1:${(servers[s].httpServer.address() as AddressInfo).port}`;
  }
  console.log(`origins ${JSON.stringify(origins)}`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'flushes') console.log(`flushes ${JSON.stringify(Object.fromEntries(STORAGE_SERVICES.map((s) => [s, servers[s].commit?.flushes ?? 0])))}`);
  }
}

interface Child {
  child: ChildProcess;
  origins: Record<StorageService, string>;
  ask(line: string, prefix: string): Promise<string>;
}

function start(mode: Mode, location: string): Promise<Child> {
  const child = spawn(...serverCommand(process.execPath, [fileURLToPath(import.meta.url), 'serve', mode, location]), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: { prefix: string; resolve(v: string): void }[] = [];
  lines.on('line', (l) => {
    const i = waiting.findIndex((w) => l.startsWith(w.prefix));
    if (i < 0) return;
    const w = waiting.splice(i, 1)[0]!;
    w.resolve(l.slice(w.prefix.length));
  });
  const ask = (line: string, prefix: string) =>
    new Promise<string>((resolve) => {
      waiting.push({ prefix: `${prefix} `, resolve });
      if (line) child.stdin!.write(`${line}\n`);
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${mode} server exited (${code})`)));
    ask('', 'origins').then((o) => resolve({ child, origins: JSON.parse(o.trim()), ask }));
  });
}

/** Headers of a Shared Key request signed once (Azurite does not check the date's age). */
function signed(service: SigningService, method: string, url: string, extra: Record<string, string> = {}): Record<string, string> {
  const u = new URL(url);
  const headers: Record<string, string> = { 'x-ms-version': '2025-11-05', ...extra };
  signSharedKey(service, ACCOUNT, KEY, { method, path: u.pathname, rawQuery: u.search.slice(1), headers });
  return headers;
}

/**
 * What one group commit costs as a database grows: LokiJS serialising a database of N table-like
 * records (about 250 bytes of JSON each) plus the sealing adapter's seal, synced write, rename
 * and directory sync; median of 5 saves per size.
 */
async function saveTimes(dir: string): Promise<Record<string, { bytes: number; ms: number }>> {
  const Loki = createRequire(import.meta.url)('lokijs') as new (file: string, opts: object) => { addCollection(n: string): { insert(d: object): void }; saveDatabase(cb: (e?: Error | null) => void): void };
  const out: Record<string, { bytes: number; ms: number }> = {};
  for (const n of [1_000, 10_000, 50_000]) {
    const file = join(dir, `save-${n}.json`);
    const db = new Loki(file, { adapter: new SealedLokiAdapter(Sealer.fromKey(randomBytes(32))) });
    const c = db.addCollection('entities');
    for (let i = 0; i < n; i++) c.insert({ PartitionKey: 'p', RowKey: `row-${i}`, properties: { value: randomBytes(96).toString('base64'), n: i }, lastModifiedTime: new Date().toISOString(), eTag: `W/"${i}"` });
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => db.saveDatabase((e) => (e ? reject(e) : resolve())));
      times.push(performance.now() - t0);
    }
    out[`${n}records`] = { bytes: (await stat(file)).size, ms: Number([...times].sort((a, b) => a - b)[2]!.toFixed(1)) };
  }
  return out;
}

async function main(): Promise<void> {
  const DURATION = Number(process.env.BENCH_MS ?? 1500);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
  const dirs: Record<string, string> = {};
  const servers = {} as Record<Mode, Child>;
  try {
    for (const mode of MODES) {
      dirs[mode] = await mkdtemp(join(tmpdir(), `mimic-durable-${mode}-`));
      servers[mode] = await start(mode, dirs[mode]);
      const o = servers[mode].origins;
      const key = (service: SigningService) => ({ sharedKey: { service, account: ACCOUNT, key: KEY } });
      const made = [
        await storageCall({ method: 'PUT', url: `${o.blob}/${ACCOUNT}/bench?restype=container`, ...key('blob') }),
        await storageCall({ method: 'PUT', url: `${o.queue}/${ACCOUNT}/bench`, ...key('queue') }),
        await storageCall({ method: 'POST', url: `${o.table}/${ACCOUNT}/Tables`, body: JSON.stringify({ TableName: 'bench' }), headers: { 'content-type': 'application/json', accept: 'application/json;odata=nometadata' }, ...key('table') }),
      ];
      for (const r of made) if (r.status !== 201) throw new Error(`${mode} setup: ${r.status} ${r.body.toString()}`);
    }
    const blobBody = randomBytes(4096).toString('base64').slice(0, 4096);
    const message = `<QueueMessage><MessageText>${randomBytes(96).toString('base64')}</MessageText></QueueMessage>`;
    const entity = JSON.stringify({ value: randomBytes(96).toString('base64'), n: 42 });
    const ops = {
      putBlob4KiB: (o: Record<StorageService, string>) => {
        const url = `${o.blob}/${ACCOUNT}/bench/blob`;
        return { service: 'blob' as const, url, method: 'PUT', body: blobBody, headers: signed('blob', 'PUT', url, { 'x-ms-blob-type': 'BlockBlob', 'content-length': String(blobBody.length) }), expectStatus: 201 };
      },
      putMessage: (o: Record<StorageService, string>) => {
        const url = `${o.queue}/${ACCOUNT}/bench/messages`;
        return { service: 'queue' as const, url, method: 'POST', body: message, headers: signed('queue', 'POST', url, { 'content-type': 'application/xml', 'content-length': String(message.length) }), expectStatus: 201 };
      },
      insertOrReplaceEntity: (o: Record<StorageService, string>) => {
        const url = `${o.table}/${ACCOUNT}/bench(PartitionKey='p',RowKey='r')`;
        return { service: 'table' as const, url, method: 'PUT', body: entity, headers: signed('table', 'PUT', url, { 'content-type': 'application/json', 'content-length': String(entity.length), accept: 'application/json;odata=nometadata' }), expectStatus: 204 };
      },
    };
    const results: Record<string, unknown> = {};
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const [name, make] of Object.entries(ops)) {
      const targets = Object.fromEntries(MODES.map((m) => [m, make(servers[m].origins)])) as Record<Mode, ReturnType<typeof make>>;
      const runs: Record<Mode, { rps: number; cpuUsPerRequest: number; errors: number }[]> = { durable: [], autosave: [] };
      const load = { concurrency: CONCURRENCY, durationMs: DURATION };
      for (const m of MODES) await measuredLoad({ ...load, ...targets[m], durationMs: 500 }, servers[m].child.pid!); // warm-up
      const service = targets.durable.service;
      const flushes = async () => JSON.parse(await servers.durable.ask('flushes', 'flushes'))[service] as number;
      let requests = 0;
      const before = await flushes();
      for (let round = 0; round < ROUNDS; round++) {
        for (const m of MODES) {
          const r = await measuredLoad({ ...load, ...targets[m] }, servers[m].child.pid!);
          if (m === 'durable') requests += r.requests + r.errors;
          runs[m].push({ rps: Math.round(r.rps), cpuUsPerRequest: r.cpuUsPerRequest, errors: r.errors });
        }
      }
      const saves = (await flushes()) - before;
      const rps = (m: Mode) => med(runs[m].map((r) => r.rps));
      const cpu = (m: Mode) => med(runs[m].map((r) => r.cpuUsPerRequest));
      results[name] = {
        throughputRatioDurableToAutosave: ratio(rps('durable'), rps('autosave')),
        cpuPerRequestRatioDurableToAutosave: ratio(cpu('durable'), cpu('autosave')),
        durable: { medianRps: rps('durable'), medianCpuUsPerRequest: cpu('durable'), groupCommitsPerRequest: Number((saves / Math.max(1, requests)).toFixed(3)) },
        autosave: { medianRps: rps('autosave'), medianCpuUsPerRequest: cpu('autosave') },
        rounds: runs,
      };
    }
    const queueDatabaseBytesAtEnd = (await stat(storageLayout(dirs.durable!).queue.databases[0]!)).size;
    const wholeSaveMs = await saveTimes(dirs.durable!);
    console.log(JSON.stringify({ loadGenerator: LOAD_GENERATOR, pinning: PINNING, concurrency: CONCURRENCY, msPerRound: DURATION, rounds: ROUNDS, ...results, queueDatabaseBytesAtEnd, wholeSaveMs }, null, 2));
  } finally {
    for (const s of Object.values(servers)) s.child.kill('SIGKILL');
    for (const d of Object.values(dirs)) await rm(d, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') await serve(process.argv[3] as Mode, process.argv[4]!);
else await main();
