// The cost of `--throttle azure` on the hot path, for the zero-cost claim.
//  1. getSecret over HTTPS with a bearer token on two Mimic processes started alike except
//     `--throttle azure` on one, both driven at the same paced rate below Key Vault's limit (4,000
//     per 10 s per vault, so 300 requests/s), rounds alternating between them. A paced load is
//     needed because a closed loop would go over the limit and be answered 429. The figure is the
//     server's CPU time per request (from /proc), throttle-off over throttle-on (1.0 = no cost).
//  2. The throttle's own work per request, timed in-process: `AzureThrottle.keyVault()` for one
//     vault at 333 requests/s of simulated time (always admitted), in nanoseconds per call.
// Run: npm run build && node dist/bench/throttle.bench.js   (BENCH_MS per round, BENCH_ROUNDS, BENCH_RATE)
import { Agent, request } from 'node:https';
import { cpuMs } from './lib/cpu.js';
import { startMimicProcess, type RunningMimic } from './lib/processes.js';
import { BENCH_VAULT_HOST, GET_SECRET_PATH, seedBenchSecret } from './lib/keyvault.js';
import { AzureThrottle } from '../src/server/throttle.js';

const DURATION = Number(process.env.BENCH_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RATE = Number(process.env.BENCH_RATE ?? 300);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Side {
  name: 'off' | 'on';
  mimic: RunningMimic;
  token: string;
  agent: Agent;
}

/** getSecret at RATE per second for `ms`, in ticks of 10 ms; returns status counts and the server's CPU µs per request. */
async function paced(side: Side, ms: number): Promise<{ requests: number; non200: number; cpuUsPerRequest: number }> {
  const port = new URL(side.mimic.endpoints.origin).port;
  const before = cpuMs(side.mimic.child.pid!);
  const pending: Promise<number>[] = [];
  const perTick = RATE / 100;
  let owed = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    owed += perTick;
    for (; owed >= 1; owed--) {
      pending.push(new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: GET_SECRET_PATH, agent: side.agent, servername: BENCH_VAULT_HOST, headers: { host: BENCH_VAULT_HOST, authorization: `Bearer ${side.token}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      }));
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const statuses = await Promise.all(pending);
  const used = cpuMs(side.mimic.child.pid!) - before;
  return { requests: statuses.length, non200: statuses.filter((s) => s !== 200).length, cpuUsPerRequest: Math.round((used * 1000) / statuses.length) };
}

async function httpCost(): Promise<Record<string, unknown>> {
  const off = await startMimicProcess();
  let on: RunningMimic | undefined;
  try {
    on = await startMimicProcess(undefined, ['--throttle', 'azure']);
    const sides: Side[] = [];
    for (const [name, mimic] of [['off', off], ['on', on]] as const) {
      const { vaultToken } = await seedBenchSecret(mimic, 'x'.repeat(64));
      sides.push({ name, mimic, token: vaultToken, agent: new Agent({ keepAlive: true, maxSockets: 8, ca: mimic.ca }) });
    }
    for (const s of sides) await paced(s, 1000);
    const runs: Record<'off' | 'on', { requests: number; non200: number; cpuUsPerRequest: number }[]> = { off: [], on: [] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const s of i % 2 === 0 ? sides : [...sides].reverse()) runs[s.name].push(await paced(s, DURATION));
    }
    for (const s of sides) s.agent.destroy();
    const cpuOff = median(runs.off.map((r) => r.cpuUsPerRequest));
    const cpuOn = median(runs.on.map((r) => r.cpuUsPerRequest));
    return {
      ratePerSecond: RATE,
      throttleOff: { medianCpuUsPerRequest: cpuOff, rounds: runs.off },
      throttleOnUnderLimit: { medianCpuUsPerRequest: cpuOn, rounds: runs.on },
      cpuRatioOffOverOn: Math.round((cpuOff / cpuOn) * 100) / 100,
      throttledAnswers: runs.on.reduce((n, r) => n + r.non200, 0),
    };
  } finally {
    off.stop();
    on?.stop();
  }
}

function checkCost(): Record<string, unknown> {
  const t = new AzureThrottle();
  const N = 1_000_000;
  const runs: number[] = [];
  for (let round = 0; round < 3; round++) {
    let now = 1_000_000 + round * N * 3;
    let refused = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      now += 3;
      if (t.keyVault('benchvault', 'sub', 'vault', now) > 0) refused++;
    }
    runs.push(Number(process.hrtime.bigint() - t0) / N);
    if (refused) throw new Error(`${refused} refused under the limit`);
  }
  return { calls: N, nsPerCallRuns: runs.map((x) => Math.round(x)), medianNsPerCall: Math.round(median(runs)) };
}

const result = { keyVaultCheckInProcess: checkCost(), getSecretCpu: await httpCost() };
console.log(JSON.stringify(result, null, 2));
