// Decisions per second of the Mimic RBAC engine, single-threaded, with all built-in roles
// and 4,000 / 100,000 role assignments, side by side with Cedar (cedar-wasm) and casbin on
// the same roles, assignments and requests. Every request a peer evaluates is compared
// with Mimic's answer. Prints a JSON summary.
//
//   npx tsc -p tsconfig.json && node dist/bench/authz.bench.js [--quick]
//
// Rates are given per second of wall-clock time and per second of process CPU time; on a
// shared machine the CPU-time rate is the steadier one (the loop is single-threaded and
// allocation-free, so helper threads add next to nothing).
//
// Mimic is measured in this process, alternating short rounds between the two sizes so
// both see the same machine. Each size's peer comparison runs in a fresh child process
// (this script with `--peers <size>`), so the peers do not pay for this process's heap.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import { AuthzEngine } from '../src/authz/engine.js';
import { loadBuiltinRoles } from '../src/authz/builtinRoles.js';
import type { AccessRequest, RoleDefinition } from '../src/authz/types.js';
import { buildWorkload, type Workload } from './authzWorkload.js';
import { CasbinPeer, CedarPeer, expandActions } from './authzPeers.js';

const quick = process.argv.includes('--quick');
const SIZES = [4_000, 100_000] as const;
const REQUESTS = 20_000;
const ROUND_MS = 250;
const HOT_ROUNDS = quick ? 3 : 10;
const FRESH_COUNT = quick ? 50_000 : 200_000;
const CEDAR_BUDGET_MS = quick ? 1_500 : 6_000;
const CEDAR_MONOLITHIC_BUDGET_MS = quick ? 1_000 : 3_000;
const CASBIN_BUDGET_MS = quick ? 1_500 : 10_000;
// cedar-wasm slowed down sharply (preparse ~20x, decisions ~10x) after about 7,000
// requests / 5,500 resident policy sets in the 100k child; the peers stop before that.
const PEER_MAX_REQUESTS = 6_000;

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

interface Rate {
  wall: number;
  cpu: number;
}

let sink = 0;

/** One pass (or passes until `minMs`) over the requests; decisions per wall and CPU second. */
function pass(engine: AuthzEngine, requests: readonly AccessRequest[], minMs = 0): Rate {
  let n = 0;
  const w0 = now();
  const c0 = cpuMs();
  do {
    for (let i = 0; i < requests.length; i++) if (engine.decide(requests[i]!).allowed) sink++;
    n += requests.length;
  } while (now() - w0 < minMs);
  return { wall: (n / (now() - w0)) * 1000, cpu: (n / (cpuMs() - c0)) * 1000 };
}

/** Copies every string so the engine sees string objects it has never hashed. */
function freshCopies(requests: readonly AccessRequest[], count: number): AccessRequest[] {
  const copy = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
  const out: AccessRequest[] = [];
  for (let i = 0; i < count; i++) {
    const r = requests[i % requests.length]!;
    const c: AccessRequest = { principalId: copy(r.principalId), action: copy(r.action), isDataAction: r.isDataAction, scope: copy(r.scope) };
    if (r.groupIds) c.groupIds = r.groupIds.map(copy);
    out.push(c);
  }
  return out;
}

/** Every request at its own blob/secret/key path, as real data-plane traffic looks. */
function uniqueScopes(requests: readonly AccessRequest[], count: number): AccessRequest[] {
  const out: AccessRequest[] = [];
  for (let i = 0; i < count; i++) {
    const r = requests[i % requests.length]!;
    // A flat string, as a parsed request URL gives (a template literal would be a rope).
    out.push({ ...r, scope: Buffer.from(`${r.scope}-${i}`, 'utf8').toString('utf8') });
  }
  return out;
}

/** Runs a peer over the requests within a time budget; compares each answer with Mimic's. */
function runPeer<C>(
  name: string,
  requests: readonly AccessRequest[],
  expected: readonly boolean[],
  prepare: (r: AccessRequest) => C,
  decide: (c: C) => boolean,
  budgetMs: number,
) {
  requests = requests.slice(0, PEER_MAX_REQUESTS);
  for (let i = 0; i < Math.min(10, requests.length); i++) decide(prepare(requests[i]!));
  let evaluated = 0;
  let allowed = 0;
  let mismatches = 0;
  const examples: unknown[] = [];
  let wallSpent = 0;
  let cpuSpent = 0;
  while (evaluated < requests.length && wallSpent < budgetMs) {
    // Requests are prepared (entity slices built) outside the timed section.
    const chunk = Math.min(requests.length - evaluated, evaluated < 20 ? 5 : 100);
    const calls: C[] = [];
    for (let i = 0; i < chunk; i++) calls.push(prepare(requests[evaluated + i]!));
    const answers: boolean[] = [];
    const w0 = now();
    const c0 = cpuMs();
    for (let i = 0; i < calls.length; i++) answers.push(decide(calls[i]!));
    wallSpent += now() - w0;
    cpuSpent += cpuMs() - c0;
    for (let i = 0; i < answers.length; i++) {
      const k = evaluated + i;
      const a = answers[i]!;
      if (a) allowed++;
      if (a !== expected[k]) {
        mismatches++;
        if (examples.length < 5) examples.push({ request: requests[k], mimic: expected[k], [name]: a });
      }
    }
    evaluated += chunk;
  }
  return {
    decisionsPerSec: round((evaluated / wallSpent) * 1000),
    decisionsPerCpuSec: round((evaluated / cpuSpent) * 1000),
    evaluated,
    allowed,
    mismatches,
    mismatchExamples: examples,
  };
}

interface Setup {
  size: number;
  w: Workload;
  engine: AuthzEngine;
  buildMs: number;
  workloadMs: number;
  expected: boolean[];
  hot: Rate[];
}

function setUp(roles: RoleDefinition[], size: number): Setup {
  let t = now();
  const w = buildWorkload(roles, size, REQUESTS);
  const workloadMs = now() - t;
  t = now();
  const engine = new AuthzEngine();
  for (const r of w.roles) engine.upsertRoleDefinition(r);
  for (const a of w.assignments) engine.upsertRoleAssignment(a);
  for (const d of w.denies) engine.upsertDenyAssignment(d);
  const buildMs = now() - t;
  const expected = w.requests.map((r) => engine.decide(r).allowed);
  return { size, w, engine, buildMs, workloadMs, expected, hot: [] };
}

async function peers(s: Pick<Setup, 'size' | 'w' | 'expected'>) {
  const actions = expandActions(s.w);
  let t = now();
  const cedar = new CedarPeer(s.w, actions);
  const cedarBuildMs = now() - t;
  const cedarResult = runPeer('cedar', s.w.requests, s.expected, (r) => cedar.prepare(r), (c) => cedar.decide(c), CEDAR_BUDGET_MS);

  let monolithic: Record<string, unknown> = {
    skipped: 'one policy set with every policy: preparse grows superlinearly (about 250 s for 100,000 policies in a trial run)',
  };
  if (s.size <= 4_000) {
    t = now();
    const all = new CedarPeer(s.w, actions, false);
    const buildMs = now() - t;
    const result = runPeer('cedarMonolithic', s.w.requests, s.expected, (r) => all.prepare(r), (c) => all.decide(c), CEDAR_MONOLITHIC_BUDGET_MS);
    monolithic = { buildMs: round(buildMs), preparseMs: round(all.preparseMs), policies: all.policyCount, ...result };
  }

  t = now();
  const casbin = await CasbinPeer.create(s.w, actions);
  const casbinBuildMs = now() - t;
  const casbinResult = runPeer('casbin', s.w.requests, s.expected, (r) => casbin.prepare(r), (c) => casbin.decide(c), CASBIN_BUDGET_MS);
  return {
    cedar: { buildMs: round(cedarBuildMs), preparseMs: round(cedar.preparseMs), policies: cedar.policyCount, ...cedarResult },
    cedarMonolithic: monolithic,
    casbin: { buildMs: round(casbinBuildMs), policies: casbin.policyCount, ...casbinResult },
  };
}

type PeerResults = Awaited<ReturnType<typeof peers>>;

// Node 20's V8 inlines JS-to-Wasm calls into optimized code, and a lazy deoptimization
// through such a frame (cedar-wasm calls) aborted the process with a fatal error in
// Deoptimizer::DoComputeBuiltinContinuation. The peer children run without that inlining.
const NO_WASM_CALL_INLINING = '--no-turbo-inline-js-wasm-calls';

/** Child-process mode: one size's peer comparison, printed as JSON. */
async function peersOnly(size: number): Promise<void> {
  v8.setFlagsFromString(NO_WASM_CALL_INLINING); // in case this mode was started by hand
  // Only Mimic's answers are kept: the engine is dropped so the peers run in a small heap.
  const { w, expected } = setUp(loadBuiltinRoles(), size);
  (globalThis as { gc?: () => void }).gc?.();
  console.log(JSON.stringify(await peers({ size, w, expected })));
}

async function peersInChild(size: number): Promise<PeerResults> {
  const script = fileURLToPath(import.meta.url);
  const args = [NO_WASM_CALL_INLINING, '--expose-gc', script, '--peers', String(size), ...(quick ? ['--quick'] : [])];
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as PeerResults;
}

async function main() {
  const started = now();
  const roles = loadBuiltinRoles();
  const setups = SIZES.map((size) => setUp(roles, size));

  // Warm up, then alternate short rounds between the sizes so both see the same machine.
  for (const s of setups) pass(s.engine, s.w.requests, ROUND_MS);
  for (let r = 0; r < HOT_ROUNDS; r++) for (const s of setups) s.hot.push(pass(s.engine, s.w.requests, ROUND_MS));

  const results = [];
  for (const s of setups) {
    const fresh = pass(s.engine, freshCopies(s.w.requests, FRESH_COUNT));
    const unique = pass(s.engine, uniqueScopes(s.w.requests, FRESH_COUNT));
    const sample = s.w.requests.slice(0, 5_000);
    const e0 = now();
    for (const r of sample) s.engine.explain(r);
    const explainPerSec = (sample.length / (now() - e0)) * 1000;
    const outcomes: Record<string, number> = {};
    for (const r of s.w.requests) {
      const reason = s.engine.decide(r).reason;
      outcomes[reason] = (outcomes[reason] ?? 0) + 1;
    }
    const mimic = {
      buildMs: round(s.buildMs),
      decisionsPerSec: round(median(s.hot.map((h) => h.wall))),
      decisionsPerCpuSec: round(median(s.hot.map((h) => h.cpu))),
      bestDecisionsPerCpuSec: round(Math.max(...s.hot.map((h) => h.cpu))),
      freshStringsPerCpuSec: round(fresh.cpu),
      uniqueScopesPerCpuSec: round(unique.cpu),
      explainPerSec: round(explainPerSec),
    };
    results.push({
      assignments: s.size,
      principals: new Set(s.w.assignments.map((a) => a.principalId)).size,
      roleDefinitions: s.w.roles.length,
      denyAssignments: s.w.denies.length,
      distinctRequests: s.w.requests.length,
      outcomes,
      workloadMs: round(s.workloadMs),
      mimic,
    });
  }
  // Free this process's worlds before the children build theirs.
  setups.length = 0;
  const withPeers = [];
  for (const r of results) {
    const p = await peersInChild(r.assignments);
    withPeers.push({
      ...r,
      ...p,
      // The peers' CPU time includes V8 helper threads (GC of their larger heaps), so ratios
      // are given on both bases.
      ratios: {
        mimicOverCedarCpu: round(r.mimic.decisionsPerCpuSec / p.cedar.decisionsPerCpuSec, 1),
        mimicOverCedarWall: round(r.mimic.decisionsPerSec / p.cedar.decisionsPerSec, 1),
        mimicOverCasbinCpu: round(r.mimic.decisionsPerCpuSec / p.casbin.decisionsPerCpuSec, 1),
        mimicOverCasbinWall: round(r.mimic.decisionsPerSec / p.casbin.decisionsPerSec, 1),
      },
    });
  }
  const [small, large] = withPeers;
  const summary = {
    command: 'node dist/bench/authz.bench.js',
    node: process.version,
    quick,
    singleThread: true,
    results: withPeers,
    scaling: {
      mimic4kOver100kCpu: round(small!.mimic.decisionsPerCpuSec / large!.mimic.decisionsPerCpuSec, 2),
      mimic4kOver100kWall: round(small!.mimic.decisionsPerSec / large!.mimic.decisionsPerSec, 2),
      cedar4kOver100kCpu: round(small!.cedar.decisionsPerCpuSec / large!.cedar.decisionsPerCpuSec, 2),
      casbin4kOver100kCpu: round(small!.casbin.decisionsPerCpuSec / large!.casbin.decisionsPerCpuSec, 2),
    },
    totalMismatches: withPeers.reduce((n, r) => n + r.cedar.mismatches + r.casbin.mismatches + ((r.cedarMonolithic as { mismatches?: number }).mismatches ?? 0), 0),
    totalSeconds: round((now() - started) / 1000, 1),
  };
  if (sink < 0) console.log(sink);
  console.log(JSON.stringify(summary, null, 2));
  if (summary.totalMismatches > 0) process.exitCode = 1;
}

const peersAt = process.argv.indexOf('--peers');
if (peersAt !== -1) await peersOnly(Number(process.argv[peersAt + 1]));
else await main();
