// Where the benchmarks' processes run. On a machine with two or more cores, every server under
// test (Mimic and each baseline alike) is started on core 0 and the load generator runs on the
// last core, so the two never take turns on one core or bounce between cores: the measurement then
// reflects what one server core can do, and moves far less between runs. BENCH_PIN=0 turns this off.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const PINNED = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && hasTaskset();
const SERVER_CORE = '0';
const LOAD_CORE = String(availableParallelism() - 1);

/** The command that starts a server under test: `cmd args` on the server core when pinning. */
export function serverCommand(cmd: string, args: string[]): [string, string[]] {
  return PINNED ? ['taskset', ['-c', SERVER_CORE, cmd, ...args]] : [cmd, args];
}

/** The command that starts an external load generator, on the load core when pinning. */
export function loadCommand(cmd: string, args: string[]): [string, string[]] {
  return PINNED ? ['taskset', ['-c', LOAD_CORE, cmd, ...args]] : [cmd, args];
}

let selfPinned = false;
/** Moves this process (every thread) to the load core, for the in-process Node.js load generator. */
export function pinSelfToLoadCore(): void {
  if (!PINNED || selfPinned) return;
  execFileSync('taskset', ['-a', '-p', '-c', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });
  selfPinned = true;
}

export const PINNING = PINNED ? { server: `core ${SERVER_CORE}`, loadGenerator: `core ${LOAD_CORE}` } : 'none';

/**
 * Lets a running server use every core (RSA-bound phases: its signatures run on libuv's thread
 * pool, and the physical limit they are compared with is the machine's), or puts it back on the
 * server core. Applies to all of the process's threads.
 */
export function serverCores(pid: number, cores: 'one' | 'all'): void {
  if (!PINNED) return;
  const list = cores === 'one' ? SERVER_CORE : `0-${availableParallelism() - 1}`;
  execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
}
