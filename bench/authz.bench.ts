// Decisions per second of the Mimic RBAC engine, single-threaded, with all built-in roles
// and 4,000 / 100,000 role assignments, side by side with Cedar (cedar-wasm) and casbin on
// the same roles, assignments and requests. Every request a peer evaluates is compared
// with Mimic's answer. Prints a JSON summary.
//
//   npx tsc -p tsconfig.json && node dist/bench/authz.bench.js [--quick]

import { AuthzEngine } from '../src/authz/engine.js';
import { loadBuiltinRoles } from '../src/authz/builtinRoles.js';
import type { AccessRequest } from '../src/authz/types.js';
import { buildWorkload, type Workload } from './authzWorkload.js';
import { CasbinPeer, CedarPeer, expandActions } from './authzPeers.js';

const quick = process.argv.includes('--quick');
const SIZES = [4_000, 100_000];
const REQUESTS = 20_000;
const MIMIC_MS = quick ? 300 : 1_500; // per measured round
const ROUNDS = 3;
// Slow peers get a time budget per size instead of the full request list.
const CEDAR_BUDGET_MS = quick ? 1_500 : 8_000;
const CASBIN_BUDGET_MS = quick ? 1_500 : 12_000;
const PEER_MAX_REQUESTS = REQUESTS;

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Best of several rounds, each running the request list until `ms` elapse. */
function measure(engine: AuthzEngine, requests: readonly AccessRequest[], ms: number, rounds = ROUNDS): number {
  let best = 0;
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = now();
    let elapsed = 0;
    do {
      for (let i = 0; i < requests.length; i++) if (engine.decide(requests[i]!).allowed) sink++;
      n += requests.length;
      elapsed = now() - start;
    } while (elapsed < ms);
    best = Math.max(best, (n / elapsed) * 1000);
  }
  if (sink < 0) console.log(sink); // keeps the loop observable
  return best;
}

/** Copies every string so the engine sees new string objects (no cached hashes). */
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

/** Every request at its own blob/secret path, as real data-plane traffic looks. */
function uniqueScopes(requests: readonly AccessRequest[], count: number): AccessRequest[] {
  const out: AccessRequest[] = [];
  for (let i = 0; i < count; i++) {
    const r = requests[i % requests.length]!;
    out.push({ ...r, scope: `${r.scope}-${i}` });
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
  const calls: C[] = [];
  const limit = Math.min(requests.length, PEER_MAX_REQUESTS);
  // Warm up on a few requests, then time a first chunk to size the run to the budget.
  for (let i = 0; i < Math.min(20, limit); i++) decide(prepare(requests[i]!));
  let evaluated = 0;
  let mismatches = 0;
  const examples: unknown[] = [];
  let spent = 0;
  while (evaluated < limit && spent < budgetMs) {
    const chunk = Math.min(limit - evaluated, 50);
    calls.length = 0;
    for (let i = 0; i < chunk; i++) calls.push(prepare(requests[evaluated + i]!));
    const start = now();
    const answers = calls.map(decide);
    spent += now() - start;
    answers.forEach((a, i) => {
      const k = evaluated + i;
      if (a !== expected[k]) {
        mismatches++;
        if (examples.length < 5) examples.push({ request: requests[k], mimic: expected[k], [name]: a });
      }
    });
    evaluated += chunk;
  }
  return { decisionsPerSec: round((evaluated / spent) * 1000), evaluated, mismatches, mismatchExamples: examples };
}

async function benchSize(roles: ReturnType<typeof loadBuiltinRoles>, assignments: number) {
  let t = now();
  const w: Workload = buildWorkload(roles, assignments, REQUESTS);
  const workloadMs = now() - t;

  t = now();
  const engine = new AuthzEngine();
  for (const r of w.roles) engine.upsertRoleDefinition(r);
  for (const a of w.assignments) engine.upsertRoleAssignment(a);
  for (const d of w.denies) engine.upsertDenyAssignment(d);
  const buildMs = now() - t;

  const expected = w.requests.map((r) => engine.decide(r).allowed);
  const reasons: Record<string, number> = {};
  for (const r of w.requests) {
    const reason = engine.decide(r).reason;
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  const hot = measure(engine, w.requests, MIMIC_MS);
  const fresh = measure(engine, freshCopies(w.requests, quick ? 50_000 : 200_000), MIMIC_MS);
  const unique = measure(engine, uniqueScopes(w.requests, quick ? 50_000 : 200_000), MIMIC_MS);
  let explainRate = 0;
  {
    const sample = w.requests.slice(0, 5_000);
    const start = now();
    for (const r of sample) engine.explain(r);
    explainRate = (sample.length / (now() - start)) * 1000;
  }

  const actions = expandActions(w);
  t = now();
  const cedarPeer = new CedarPeer(w, actions);
  const cedarBuildMs = now() - t;
  const cedarResult = runPeer('cedar', w.requests, expected, (r) => cedarPeer.prepare(r), (c) => cedarPeer.decide(c), CEDAR_BUDGET_MS);

  t = now();
  const casbinPeer = await CasbinPeer.create(w, actions);
  const casbinBuildMs = now() - t;
  const casbinResult = runPeer('casbin', w.requests, expected, (r) => casbinPeer.prepare(r), (c) => casbinPeer.decide(c), CASBIN_BUDGET_MS);

  return {
    assignments,
    principals: new Set(w.assignments.map((a) => a.principalId)).size,
    roleDefinitions: w.roles.length,
    denyAssignments: w.denies.length,
    distinctRequests: w.requests.length,
    outcomes: reasons,
    workloadMs: round(workloadMs),
    mimic: {
      buildMs: round(buildMs),
      decisionsPerSec: round(hot),
      freshStringsDecisionsPerSec: round(fresh),
      uniqueScopesDecisionsPerSec: round(unique),
      explainPerSec: round(explainRate),
    },
    cedar: { buildMs: round(cedarBuildMs), policies: cedarPeer.policyCount, ...cedarResult },
    casbin: { buildMs: round(casbinBuildMs), policies: casbinPeer.policyCount, ...casbinResult },
    ratios: {
      mimicOverCedar: round(hot / cedarResult.decisionsPerSec, 1),
      mimicOverCasbin: round(hot / casbinResult.decisionsPerSec, 1),
    },
  };
}

async function main() {
  const started = now();
  const roles = loadBuiltinRoles();
  const results = [];
  for (const size of SIZES) {
    results.push(await benchSize(roles, size));
    if (global.gc) global.gc();
  }
  const [small, large] = results;
  const summary = {
    node: process.version,
    quick,
    singleThread: true,
    results,
    scaling: {
      mimic100kOver4k: round(large!.mimic.decisionsPerSec / small!.mimic.decisionsPerSec, 2),
      cedar100kOver4k: round(large!.cedar.decisionsPerSec / small!.cedar.decisionsPerSec, 3),
      casbin100kOver4k: round(large!.casbin.decisionsPerSec / small!.casbin.decisionsPerSec, 3),
    },
    totalMismatches: results.reduce((n, r) => n + r.cedar.mismatches + r.casbin.mismatches, 0),
    totalSeconds: round((now() - started) / 1000, 1),
  };
  console.log(JSON.stringify(summary, null, 2));
  if (summary.totalMismatches > 0) process.exitCode = 1;
}

await main();
