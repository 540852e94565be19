// Long fuzz runs: each target (or those named) for a number of seconds, one after another, new
// inputs that reach new coverage minimised and saved to test/fuzz/corpus/<target>/ (commit them:
// the short runs in `npm test` replay the whole corpus), failing inputs to test/fuzz/crashes/.
// Prints per target: executions, exec/s, blocks covered (after the corpus replay, at the end),
// corpus size, crashes and 5xx answers, as docs/RELIABILITY.md section 6 quotes them.
//
//   npm run fuzz -- [target ...] [seconds] [--no-save] [--seed N]
//   node dist/bench/fuzz.bench.js [target ...] [seconds]        (default: every target, 30 s each)
//   node dist/bench/fuzz.bench.js --replay <target> <file>      (runs one input, prints the failure)
import { readFileSync } from 'node:fs';
import { SELF_TEST_TARGETS, TARGETS } from '../test/fuzz/targets.js';
import { runTarget } from '../test/fuzz/runner.js';
import type { FuzzStats } from '../test/fuzz/engine.js';

const args = process.argv.slice(2);

if (args[0] === '--replay') {
  const [, name, file] = args;
  const target = TARGETS[name ?? ''] ?? SELF_TEST_TARGETS[name ?? ''];
  if (!target || !file) {
    console.error(`usage: --replay <${Object.keys(TARGETS).join('|')}> <file>`);
    process.exit(2);
  }
  await target.setup?.();
  try {
    await target.run(readFileSync(file, 'utf8'));
    console.log('passed: no oracle failure');
  } catch (err) {
    console.error('FAILED:', err);
    process.exitCode = 1;
  } finally {
    await target.teardown?.();
  }
} else {
  const names = args.filter((a) => TARGETS[a]);
  const unknown = args.filter((a) => !TARGETS[a] && !/^\d+$/.test(a) && !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--seed');
  if (unknown.length) {
    console.error(`unknown target(s) ${unknown.join(', ')}; targets: ${Object.keys(TARGETS).join(', ')}`);
    process.exit(2);
  }
  const seconds = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--seed') ?? process.env.FUZZ_SECONDS ?? 30);
  const seedAt = args.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : undefined;
  const rows: FuzzStats[] = [];
  for (const name of names.length ? names : Object.keys(TARGETS)) {
    const s = await runTarget(name, { maxMs: seconds * 1000, saveCorpus: !args.includes('--no-save'), stopOnCrash: false, seed });
    rows.push(s);
    console.log(`${name}: ${s.execs} execs in ${(s.ms / 1000).toFixed(1)} s (${s.execsPerSecond}/s), blocks ${s.seedBlocks} -> ${s.blocks} of ${s.blocksSeen} seen, corpus ${s.seeds} -> ${s.corpusSize} (${s.saved} saved), ${s.failures.length} failures, ${s.serverErrors} 5xx`);
    for (const f of s.failures.slice(0, 5)) console.log(`  failure: ${f.error.split('\n')[0]}\n  replay: ${f.replay}`);
  }
  console.log('\n| target | executions | exec/s | blocks covered (seed corpus → end) | corpus (seeds → end) | crashes | 5xx |');
  console.log('|---|---|---|---|---|---|---|');
  for (const s of rows) console.log(`| ${s.target} | ${s.execs} | ${s.execsPerSecond} | ${s.seedBlocks} → ${s.blocks} | ${s.seeds} → ${s.corpusSize} | ${s.failures.length - s.serverErrors} | ${s.serverErrors} |`);
  if (rows.some((s) => s.failures.length > 0)) process.exitCode = 1;
}
