// The benchmarks' closed-loop load generator: N concurrent keep-alive connections send the same
// request back to back for a fixed time; reports throughput and latency percentiles. Mimic and
// the baseline it is compared with are always measured with the same generator in the same run.
//
// It drives `wrk` (one thread) when the machine has it: the client then takes far less of the two
// cores that it shares with the server under test. Otherwise (or with BENCH_LOADGEN=node) a
// Node.js client does the same. A `{n}` in the URL is replaced by a per-request counter.
import http from 'node:http';
import https from 'node:https';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCommand, pinSelfToLoadCore } from './pinning.js';

export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  ca?: string;
  concurrency?: number;
  durationMs?: number;
  warmupMs?: number;
  /** Expected status; anything else counts as an error. */
  expectStatus?: number;
  /** Connections from this agent (the caller's, kept open); runs the Node client, since wrk cannot use one. */
  agent?: http.Agent;
}

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

function hasWrk(): boolean {
  if (process.env.BENCH_LOADGEN === 'node') return false;
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk prints its version and exits 1; only a missing binary throws ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

export const LOAD_GENERATOR = hasWrk() ? 'wrk' : 'node';

export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return LOAD_GENERATOR === 'wrk' && !opts.agent ? runWrk(opts) : runNodeLoad(opts);
}

const luaString = (s: string) => JSON.stringify(s);

async function runWrk(opts: LoadOptions): Promise<LoadResult> {
  const u = new URL(opts.url.replace('{n}', '0'));
  const target = opts.url.slice(u.origin.length);
  const script = [
    `wrk.method = ${luaString(opts.method ?? 'GET')}`,
    ...(opts.body !== undefined ? [`wrk.body = ${luaString(opts.body.toString())}`] : []),
    ...Object.entries(opts.headers ?? {}).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`),
    'local n = 0',
    '-- A per-run prefix keeps counters of successive runs apart (digits only: it may end up in a host name).',
    'local seed = tostring(os.time() % 100000)',
    `local target = ${luaString(target)}`,
    'request = function()',
    '  n = n + 1',
    '  return wrk.format(nil, (target:gsub("{n}", seed .. tostring(n))))',
    'end',
  ].join('\n');
  const file = join(mkdtempSync(join(tmpdir(), 'mimic-wrk-')), 'load.lua');
  writeFileSync(file, script);
  const wrk = (seconds: number) =>
    new Promise<string>((resolve, reject) =>
      execFile(...loadCommand('wrk', ['-t1', `-c${opts.concurrency ?? 16}`, `-d${seconds}s`, '--latency', '-s', file, u.origin + '/']), (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
  if ((opts.warmupMs ?? 500) > 0) await wrk(Math.max(1, Math.round((opts.warmupMs ?? 500) / 1000)));
  const out = await wrk(Math.max(1, Math.round((opts.durationMs ?? 3000) / 1000)));
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const ms = (label: string) => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = num(/Non-2xx or 3xx responses: (\d+)/) || 0;
  return {
    requests: num(/(\d+) requests in/),
    errors: errors + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: ms('50'),
    p99: ms('99'),
  };
}

async function runNodeLoad(opts: LoadOptions): Promise<LoadResult> {
  pinSelfToLoadCore();
  let counter = 0;
  const u = new URL(opts.url.replace('{n}', '0'));
  const isHttps = u.protocol === 'https:';
  const concurrency = opts.concurrency ?? 16;
  const agent = opts.agent ?? (isHttps ? new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: opts.ca }) : new http.Agent({ keepAlive: true, maxSockets: concurrency }));
  const send = (isHttps ? https.request : http.request) as typeof http.request;
  const headers = { ...opts.headers, ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) };
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const url = opts.url.includes('{n}') ? new URL(opts.url.replace('{n}', String(counter++))) : u;
      const req = send(url, { method: opts.method ?? 'GET', headers, agent }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(opts.body);
    });

  const phase = async (ms: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + ms;
    const worker = async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const status = await one();
          if (opts.expectStatus !== undefined && status !== opts.expectStatus) errors++;
        } catch {
          errors++;
        }
        if (record) latencies.push(performance.now() - t);
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { latencies, errors, elapsed: performance.now() - start };
  };

  await phase(opts.warmupMs ?? 500, false);
  const { latencies, errors, elapsed } = await phase(opts.durationMs ?? 3000, true);
  if (!opts.agent) agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { requests: latencies.length, errors, rps: (latencies.length / elapsed) * 1000, p50: pct(0.5), p99: pct(0.99) };
}

export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}
