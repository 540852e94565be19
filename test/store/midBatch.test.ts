// A batch is all or nothing, whatever happens in its middle:
// - a process SIGKILLed while it applies large batches (on PostgreSQL, killed at the moment its
//   transaction has written rows but not committed, as pg_stat_activity shows) leaves every batch
//   either whole or absent, on both engines;
// - a PostgreSQL connection cut by the server in the middle of a batch fails that batch with
//   StoreUnavailableError (no uncaught exception ending the process), writes none of it, and the
//   store works again at once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { StoreUnavailableError, type Store } from '../../src/store/index.js';
import { backings, postgresBacking, type Backing } from './backings.js';

const STORE_MODULE = fileURLToPath(new URL('../../src/store/index.js', import.meta.url));
const KILLS = 6;
const BATCH = 400;

/** A child process that applies batch after batch of BATCH puts (batch i writes keys `i/000`...). */
function writerChild(b: Backing) {
  const code = `
    const { openStore } = await import(${JSON.stringify(STORE_MODULE)});
    const store = await openStore(${JSON.stringify(b.location)});
    process.stdout.write('open\\n');
    for (let i = 0; ; i++) {
      const ops = [];
      for (let j = 0; j < ${BATCH}; j++) ops.push({ op: 'put', kind: 'batch', key: String(i).padStart(5, '0') + '/' + String(j).padStart(3, '0'), value: { i, j, pad: 'x'.repeat(200) } });
      await store.apply(ops);
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const opened = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('open') && resolve());
    child.once('exit', (c) => reject(new Error(`writer exited early (${c})`)));
  });
  return { child, opened };
}

/** Every batch present is whole: returns how many batches are stored. */
async function wholeBatches(store: Store): Promise<number> {
  const counts = new Map<string, number>();
  for (const e of await store.list('batch')) counts.set(e.key.slice(0, 5), (counts.get(e.key.slice(0, 5)) ?? 0) + 1);
  for (const [batch, n] of counts) assert.equal(n, BATCH, `batch ${batch} is whole (${n} of ${BATCH} rows)`);
  return counts.size;
}

for (const [engine, make] of backings) {
  describe(`a batch is all or nothing (${engine})`, () => {
    test(`${KILLS} SIGKILLs in the middle of large batches leave no batch half-written`, async (t) => {
      const b = await make();
      let midTransaction = 0;
      let current: ChildProcess | undefined;
      let batches = 0;
      const admin = engine === 'postgres' ? new pg.Client({ connectionString: b.location.url }) : undefined;
      await admin?.connect();
      try {
        for (let k = 0; k < KILLS; k++) {
          const { child, opened } = writerChild(b);
          current = child;
          await opened;
          const committedBefore = admin ? (await admin.query("SELECT count(*)::int AS n FROM docs WHERE kind = 'batch'")).rows[0].n : 0;
          // Let it commit some batches first.
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
          if (admin) {
            // At least one more batch committed (PostgreSQL is slower under load), then wait for the
            // writer's next transaction to have written rows, and kill it right there.
            const db = new URL(b.location.url!).pathname.slice(1);
            const deadline = Date.now() + 30_000;
            while ((await admin.query("SELECT count(*)::int AS n FROM docs WHERE kind = 'batch'")).rows[0].n === committedBefore) {
              assert.ok(Date.now() < deadline, 'the writer committed a batch');
              await new Promise((r) => setTimeout(r, 10));
            }
            for (;;) {
              const r = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'mimic' AND backend_xid IS NOT NULL", [db]);
              if (r.rows[0].n > 0) break;
              assert.ok(Date.now() < deadline, 'the writer opened a transaction');
            }
            child.kill('SIGKILL');
            midTransaction++;
          } else {
            child.kill('SIGKILL');
          }
          await new Promise((r) => child.once('exit', r));
          const store = await b.open();
          try {
            batches = await wholeBatches(store);
          } finally {
            await store.close();
          }
        }
        t.diagnostic(`${engine}: ${KILLS} kills${admin ? ` (${midTransaction} with the transaction's rows written, uncommitted)` : ''}, ${batches} whole batches of ${BATCH} stored, none partial`);
        assert.ok(batches > 0, 'batches were committed between kills');
      } finally {
        if (current && current.exitCode === null && current.signalCode === null) {
          const exited = new Promise((r) => current!.once('exit', r));
          current.kill('SIGKILL');
          await exited;
        }
        await admin?.end();
        await b.dispose();
      }
    });
  });
}

describe('a PostgreSQL connection cut in the middle of a batch', () => {
  test('fails the batch with StoreUnavailableError, writes none of it, and the store works again', async () => {
    const b = await postgresBacking();
    const store = await b.open();
    const admin = new pg.Client({ connectionString: b.location.url });
    await admin.connect();
    try {
      const db = new URL(b.location.url!).pathname.slice(1);
      const ops = Array.from({ length: 2000 }, (_, j) => ({ op: 'put' as const, kind: 'cut', key: String(j).padStart(4, '0'), value: { j } }));
      let settled = false;
      // The outcome is taken at once: the batch may fail while the loop below is still waiting.
      const outcome = store.apply(ops).then(
        () => undefined,
        (err: unknown) => err,
      ).finally(() => (settled = true));
      let cut = 0;
      while (cut === 0) {
        assert.equal(settled, false, 'the batch was still running when its connection was cut');
        const r = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'mimic' AND backend_xid IS NOT NULL", [db]);
        cut = r.rowCount ?? 0;
      }
      assert.ok((await outcome) instanceof StoreUnavailableError, 'the batch failed with StoreUnavailableError');
      assert.deepEqual(await store.list('cut'), [], 'nothing of the batch was written');
      await store.apply(ops.slice(0, 3));
      assert.equal((await store.list('cut')).length, 3, 'the store works again');
    } finally {
      await admin.end();
      await store.close();
      await b.dispose();
    }
  });
});
