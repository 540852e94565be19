// Runs one fuzz target in a child process under a watchdog. The fuzz loop runs on the child's
// main thread (Mimic sets the process umask, which a worker thread may not); a watchdog thread
// in the child watches an execution counter the loop bumps in shared memory. A synchronous
// endless loop cannot be interrupted from its own thread, so when the counter stalls the
// watchdog writes the input being run (kept in the same shared memory) as a hang report and
// kills the process; the parent reads the report. Any other death of the child is a failure too.
import { fork } from 'node:child_process';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRASH_DIR, digest, fuzz, replayCommand, type Failure, type FuzzOptions, type FuzzStats } from './engine.js';

const INPUT_BYTES = 64 * 1024;
const CHILD_ENV = 'MIMIC_FUZZ_CHILD';

export interface RunOptions extends Omit<FuzzOptions, 'onInput'> {
  /** The target is stopped as hung when one input runs this long (default 30 s). */
  hangMs?: number;
}

interface ChildSpec {
  name: string;
  opts: FuzzOptions;
  hangMs: number;
  report: string;
}

/** Writes a failing input where the engine writes its own, with its reproducer. */
function saveCrash(spec: ChildSpec, input: string): { file: string; replay: string } {
  const dir = spec.opts.crashDir ?? join(CRASH_DIR, spec.name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `crash-${digest(input)}`);
  writeFileSync(file, input);
  return { file, replay: replayCommand(spec.name, file) };
}

function failedRun(name: string, failure: Failure): FuzzStats {
  return { target: name, seeds: 0, execs: 0, ms: 0, execsPerSecond: 0, seedBlocks: 0, blocks: 0, blocksSeen: 0, corpusSize: 0, saved: 0, serverErrors: 0, failures: [failure] };
}

export function runTarget(name: string, opts: RunOptions = {}): Promise<FuzzStats> {
  const { hangMs = 30_000, ...fuzzOpts } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'mimic-fuzz-run-'));
  const spec: ChildSpec = { name, opts: fuzzOpts, hangMs, report: join(dir, 'hang.json') };
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [CHILD_ENV]: JSON.stringify(spec) },
    execArgv: ['--max-old-space-size=1536'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve) => {
    let stats: FuzzStats | undefined;
    child.on('message', (m: FuzzStats) => (stats = m));
    child.on('exit', (code, signal) => {
      const done = (s: FuzzStats) => {
        rmSync(dir, { recursive: true, force: true });
        resolve(s);
      };
      const reported = existsSync(spec.report) ? (JSON.parse(readFileSync(spec.report, 'utf8')) as Failure) : undefined;
      if (stats) return done(reported ? { ...stats, failures: [...stats.failures, reported] } : stats);
      if (reported) return done(failedRun(name, reported));
      done(failedRun(name, { input: '', error: `Died: the fuzzing process exited with ${signal ?? code} (out of memory or a native crash; replay the corpus and the crash dir)` }));
    });
  });
}

if (isMainThread && process.env[CHILD_ENV]) {
  const spec = JSON.parse(process.env[CHILD_ENV]!) as ChildSpec;
  const shared = new SharedArrayBuffer(8 + INPUT_BYTES);
  const counter = new Int32Array(shared, 0, 2);
  const bytes = new Uint8Array(shared, 8, INPUT_BYTES);
  const encoder = new TextEncoder();
  // An error nothing caught (a stray promise of some handler): blame the input being run.
  const strayError = (err: unknown) => {
    const input = new TextDecoder().decode(bytes.slice(0, Atomics.load(counter, 1)));
    const failure: Failure = { input, error: `Uncaught: ${(err as Error)?.stack ?? String(err)}`, ...saveCrash(spec, input) };
    writeFileSync(spec.report, JSON.stringify(failure));
    process.exit(1);
  };
  process.on('uncaughtException', strayError);
  process.on('unhandledRejection', strayError);
  const watchdog = new Worker(new URL(import.meta.url), { workerData: { watchdog: true, shared, spec } });
  watchdog.unref();
  const { TARGETS, SELF_TEST_TARGETS } = await import('./targets.js');
  const target = TARGETS[spec.name] ?? SELF_TEST_TARGETS[spec.name];
  if (!target) throw new Error(`no fuzz target '${spec.name}'`);
  const stats = await fuzz(target, {
    ...spec.opts,
    onInput(input) {
      const { written } = encoder.encodeInto(input, bytes);
      Atomics.store(counter, 1, written);
      Atomics.add(counter, 0, 1);
    },
  });
  // A last turn of the event loop for errors left behind by the last inputs.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.send!(stats, () => process.exit(0));
} else if (!isMainThread && workerData?.watchdog) {
  const { shared, spec } = workerData as { shared: SharedArrayBuffer; spec: ChildSpec };
  const counter = new Int32Array(shared, 0, 2);
  let last = 0;
  let lastChange = Date.now();
  setInterval(() => {
    const now = Atomics.load(counter, 0);
    if (now !== last) {
      last = now;
      lastChange = Date.now();
      return;
    }
    if (now === 0 || Date.now() - lastChange <= spec.hangMs) return;
    const input = new TextDecoder().decode(new Uint8Array(shared, 8, Atomics.load(counter, 1)).slice());
    const failure: Failure = { input, error: `Hang: one input ran for more than ${spec.hangMs} ms`, ...saveCrash(spec, input) };
    writeFileSync(spec.report, JSON.stringify(failure));
    process.kill(process.pid, 'SIGKILL');
  }, 250);
}
