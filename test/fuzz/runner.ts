// Runs one fuzz target in a worker thread under a watchdog: a synchronous endless loop in a
// parser cannot be interrupted from inside its own thread, so the main thread watches an
// execution counter the worker bumps in shared memory and, when it stalls, terminates the
// worker and reports the input it was running (kept in the same shared memory) as a hang.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRASH_DIR, digest, fuzz, replayCommand, type FuzzOptions, type FuzzStats } from './engine.js';

const INPUT_BYTES = 64 * 1024;

export interface RunOptions extends Omit<FuzzOptions, 'onInput'> {
  /** The worker is stopped as hung when one input runs this long (default 10 s). */
  hangMs?: number;
}

export function runTarget(name: string, opts: RunOptions = {}): Promise<FuzzStats> {
  const shared = new SharedArrayBuffer(8 + INPUT_BYTES);
  const counter = new Int32Array(shared, 0, 2);
  const hangMs = opts.hangMs ?? 10_000;
  const { hangMs: _ignored, ...fuzzOpts } = opts;
  const worker = new Worker(new URL(import.meta.url), { workerData: { fuzzTarget: name, opts: fuzzOpts, shared } });
  const currentInput = () => new TextDecoder().decode(new Uint8Array(shared, 8, Atomics.load(counter, 1)).slice());
  return new Promise((resolve, reject) => {
    let settled = false;
    let last = 0;
    let lastChange = Date.now();
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      fn();
    };
    const abort = (error: string) => {
      const input = currentInput();
      const dir = opts.crashDir ?? join(CRASH_DIR, name);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `crash-${digest(input)}`);
      writeFileSync(file, input);
      finish(() =>
        resolve({ target: name, seeds: 0, execs: Atomics.load(counter, 0), ms: 0, execsPerSecond: 0, seedBlocks: 0, blocks: 0, blocksSeen: 0, corpusSize: 0, saved: 0, serverErrors: 0, failures: [{ input, error, file, replay: replayCommand(name, file) }] }),
      );
    };
    const timer = setInterval(() => {
      const now = Atomics.load(counter, 0);
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      } else if (now > 0 && Date.now() - lastChange > hangMs) {
        void worker.terminate();
        abort(`Hang: one input ran for more than ${hangMs} ms`);
      }
    }, 250);
    worker.on('message', (stats: FuzzStats) => {
      finish(() => resolve(stats));
      void worker.terminate();
    });
    // An exception nothing caught (a stray promise, an error event): blame the input being run.
    worker.on('error', (err) => (Atomics.load(counter, 0) > 0 ? abort(`Uncaught in worker: ${err.stack ?? err}`) : finish(() => reject(err))));
    worker.on('exit', (code) => finish(() => reject(new Error(`fuzz worker for ${name} exited with ${code} before reporting`))));
  });
}

if (!isMainThread && workerData?.fuzzTarget) {
  const { fuzzTarget, opts, shared } = workerData as { fuzzTarget: string; opts: FuzzOptions; shared: SharedArrayBuffer };
  const counter = new Int32Array(shared, 0, 2);
  const bytes = new Uint8Array(shared, 8, INPUT_BYTES);
  const encoder = new TextEncoder();
  const { TARGETS } = await import('./targets.js');
  const target = TARGETS[fuzzTarget];
  if (!target) throw new Error(`no fuzz target '${fuzzTarget}'`);
  const stats = await fuzz(target, {
    ...opts,
    onInput(input) {
      const { written } = encoder.encodeInto(input, bytes);
      Atomics.store(counter, 1, written);
      Atomics.add(counter, 0, 1);
    },
  });
  parentPort!.postMessage(stats);
}
