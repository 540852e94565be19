// A small closed-loop HTTP(S) load generator for the benchmarks: N concurrent keep-alive
// connections send the same request back to back for a fixed time; reports throughput and
// latency percentiles. Both Mimic and the baseline it is compared with are measured with it
// in the same run.
import http from 'node:http';
import https from 'node:https';

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
}

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const u = new URL(opts.url);
  const isHttps = u.protocol === 'https:';
  const concurrency = opts.concurrency ?? 16;
  const agent = isHttps ? new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: opts.ca }) : new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const send = (isHttps ? https.request : http.request) as typeof http.request;
  const headers = { ...opts.headers, ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) };
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const req = send(u, { method: opts.method ?? 'GET', headers, agent }, (res) => {
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
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { requests: latencies.length, errors, rps: (latencies.length / elapsed) * 1000, p50: pct(0.5), p99: pct(0.99) };
}

export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}
