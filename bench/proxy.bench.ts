// Proxy benchmark: Key Vault `getSecret` through Mimic's forward proxy (a CONNECT tunnel per
// keep-alive connection, TLS end to end inside it, as curl, Python and az use it with
// HTTPS_PROXY) as a throughput ratio to the same getSecret on Mimic's origin directly, in
// alternating rounds of the same run. Both sides use the Node client with N keep-alive
// connections (wrk cannot use a proxy); the tunnels are opened once and reused, so the ratio is
// the cost of the proxy's byte copying. The CPU Mimic's process (which hosts the proxy) spends per
// request is read from /proc as well.
// Run: npm run build && node dist/bench/proxy.bench.js   (BENCH_MS per round, BENCH_ROUNDS, BENCH_CONCURRENCY)
import https from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { ratio, runLoad, type LoadOptions, type LoadResult } from './lib/load.js';
import { PINNING } from './lib/pinning.js';
import { startMimicProcess } from './lib/processes.js';
import { BENCH_VAULT_HOST, GET_SECRET_PATH, seedBenchSecret } from './lib/keyvault.js';
import { measuredLoad } from './lib/cpu.js';

const DURATION = Number(process.env.BENCH_MS ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const TARGET = 0.9;

/** An https.Agent whose connections are TLS inside a CONNECT tunnel through `proxyUrl` (what https-proxy-agent does). */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxyUrl: URL,
    private readonly ca: string,
    maxSockets: number,
  ) {
    super({ keepAlive: true, maxSockets });
  }

  override createConnection(options: { host?: string; port?: number | string; servername?: string }, done: (err: Error | null, s?: Duplex) => void): undefined {
    const authority = `${options.host}:${options.port ?? 443}`;
    const raw = netConnect({ host: this.proxyUrl.hostname, port: Number(this.proxyUrl.port) });
    raw.setNoDelay(true);
    raw.once('error', (err) => done(err));
    raw.once('connect', () => raw.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      raw.off('data', onData);
      if (!/^HTTP\/1\.1 200 /.test(head)) return done(new Error(`proxy refused CONNECT ${authority}: ${head.split('\r\n')[0]}`));
      const secure: TLSSocket = tlsConnect({ socket: raw, servername: options.servername ?? options.host, ca: this.ca });
      secure.once('secureConnect', () => done(null, secure));
      secure.once('error', (err) => done(err));
    };
    raw.on('data', onData);
    return undefined;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
type Run = LoadResult & { cpuUsPerRequest: number };
const summary = (runs: Run[]) => ({
  rps: Math.round(median(runs.map((r) => r.rps))),
  p99Ms: Math.round(median(runs.map((r) => r.p99)) * 10) / 10,
  errors: runs.reduce((s, r) => s + r.errors, 0),
  perRoundRps: runs.map((r) => Math.round(r.rps)),
  cpuUsPerRequest: Math.round(median(runs.map((r) => r.cpuUsPerRequest))),
});

const mimic = await startMimicProcess();
try {
  const { vaultToken } = await seedBenchSecret(mimic, 'x'.repeat(64));
  const port = new URL(mimic.endpoints.origin).port;
  const proxy = mimic.endpoints.listeners.proxy;
  if (!proxy) throw new Error('this Mimic publishes no proxy listener');
  const headers = { authorization: `Bearer ${vaultToken}`, accept: 'application/json' };
  const directAgent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: mimic.ca });
  const tunnelAgent = new TunnelAgent(new URL(proxy), mimic.ca, CONCURRENCY);
  const base = { concurrency: CONCURRENCY, durationMs: DURATION, expectStatus: 200 };
  // Direct: the vault chosen by Host on the origin's port, as the preload routes Node programs.
  const direct: LoadOptions = { ...base, url: `https://127.0.0.1:${port}${GET_SECRET_PATH}`, headers: { ...headers, host: BENCH_VAULT_HOST }, agent: directAgent };
  // Through the proxy: Azure's own URL, as a client with HTTPS_PROXY sends it.
  const proxied: LoadOptions = { ...base, url: `https://${BENCH_VAULT_HOST}${GET_SECRET_PATH}`, headers, agent: tunnelAgent };
  // Warm up (JIT, caches) and open every connection and tunnel once.
  await runLoad({ ...direct, durationMs: 1000 });
  await runLoad({ ...proxied, durationMs: 1000 });
  const directRuns: Run[] = [];
  const proxiedRuns: Run[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    proxiedRuns.push(await measuredLoad(proxied, mimic.child.pid!));
    directRuns.push(await measuredLoad(direct, mimic.child.pid!));
  }
  directAgent.destroy();
  tunnelAgent.destroy();
  const perRound = proxiedRuns.map((r, i) => ratio(r.rps, directRuns[i]!.rps));
  const results = {
    loadGenerator: 'node',
    pinning: PINNING,
    getSecretThroughProxy: {
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      durationMsPerRound: DURATION,
      throughProxy: summary(proxiedRuns),
      direct: summary(directRuns),
      // The median of each round's pair keeps other load on the shared cores from skewing one side.
      throughputRatio: median(perRound),
      perRoundRatio: perRound,
      /** Direct CPU per request over proxied: the share of Mimic's capacity the proxy keeps. */
      cpuEfficiencyRatio: ratio(median(directRuns.map((r) => r.cpuUsPerRequest)), median(proxiedRuns.map((r) => r.cpuUsPerRequest))),
      target: TARGET,
    },
  };
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
} finally {
  mimic.stop();
}
