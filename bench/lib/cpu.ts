// CPU time a server process spends per request, read from /proc: unlike throughput it does not
// move with other load on the shared cores.
import { readFileSync } from 'node:fs';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';

/** User+system CPU milliseconds a process has used (Linux USER_HZ = 100). */
export function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** One load run (no warm-up) plus the server's CPU microseconds per request. */
export async function measuredLoad(opts: LoadOptions, pid: number): Promise<LoadResult & { cpuUsPerRequest: number }> {
  const before = cpuMs(pid);
  const r = await runLoad({ ...opts, warmupMs: 0 });
  return { ...r, cpuUsPerRequest: Math.round(((cpuMs(pid) - before) * 1000) / Math.max(1, r.requests + r.errors)) };
}
