// Durability: a write whose apply() resolved survives SIGKILL of the writing process.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { backings, waitFor } from './backings.js';

const child = fileURLToPath(new URL('./crash-child.js', import.meta.url));

for (const [name, make] of backings) {
  test(`${name}: every acknowledged write survives SIGKILL of the writer`, async (t) => {
    const backing = await make();
    try {
      const { dataDir, url } = backing.location;
      const proc = spawn(process.execPath, [child, dataDir, ...(url ? [url] : [])], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      proc.stdout.setEncoding('utf8');
      proc.stdout.on('data', (chunk: string) => (out += chunk));
      const closed = once(proc, 'close');
      try {
        await waitFor('the child to open its store', () => out.startsWith('ready\n'), 15_000);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        proc.kill('SIGKILL');
      }
      const [, signal] = await closed;
      assert.equal(signal, 'SIGKILL', 'the child was killed mid-run, not finished');

      // Only complete lines were acknowledged; a trailing fragment was cut by the kill.
      const printed = out.split('\n').slice(1, -1);
      assert.ok(printed.length >= 5, `child acknowledged only ${printed.length} writes`);
      t.diagnostic(`${printed.length} writes acknowledged before SIGKILL`);

      const store = await backing.open();
      try {
        for (const key of printed) {
          const i = Number(key.slice(3));
          const entry = await store.get<{ i: number; pad: string }>('crash', key);
          assert.ok(entry, `acknowledged key ${key} is missing after the crash`);
          assert.deepEqual(entry.value, { i, pad: 'p'.repeat(i % 700) });
        }
        const last = (await store.get<number>('crash-meta', 'last'))!.value;
        assert.ok(last >= printed.length - 1, 'the batch partner of every acknowledged key survived');
        // Batches are atomic, so the stored keys are exactly key0..key<last>.
        assert.equal((await store.list('crash')).length, last + 1);
      } finally {
        await store.close();
      }
    } finally {
      await backing.dispose();
    }
  });
}
