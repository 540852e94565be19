// Preloaded into a Mimic under soak (`node --expose-gc --import heapProbe.js ...`): every
// second it writes the process's memory usage as JSON to $MIMIC_HEAP_PROBE, and on SIGUSR2 it
// collects garbage first and writes the settled figures to $MIMIC_HEAP_PROBE.gc (plus a heap
// snapshot next to it when $MIMIC_HEAP_SNAPSHOTS is set), so the soak can compare like with like.
import { writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';

const file = process.env.MIMIC_HEAP_PROBE;
if (file) {
  const write = (path: string) => writeFileSync(path, JSON.stringify({ t: Date.now(), ...process.memoryUsage() }));
  setInterval(() => write(file), 1000).unref();
  let snapshots = 0;
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    if (process.env.MIMIC_HEAP_SNAPSHOTS) writeHeapSnapshot(`${file}.${++snapshots}.heapsnapshot`);
    write(`${file}.gc`);
  });
}
