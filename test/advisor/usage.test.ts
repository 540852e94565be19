// The usage record on both store engines: deltas add up across flushes and restarts, triples
// differing only in letter case are one row, the bounds hold (stored rows, granting ids), reset
// clears everything; on PostgreSQL two recorders (two instances) flushing the same rows at the
// same time merge to exact totals through the version-guarded read-modify-write.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { UsageRecorder, USAGE_KIND } from '../../src/advisor/usage.js';
import { pgTestDatabase } from '../helpers/pg.js';
import { ENGINES, type Engine } from '../helpers/mimic.js';

const P = '0a0a0a0a-0000-4000-8000-000000000001';
const GET = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';
const SECRET = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/secrets/db';

async function openEngine(engine: Engine): Promise<{ url?: string; open(): Promise<Store>; dispose(): Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'mimic-usage-'));
    return { open: async () => openStore({ dataDir: dir }), dispose: () => rm(dir, { recursive: true, force: true }) };
  }
  const db = await pgTestDatabase();
  return { url: db.url, open: () => openStore({ dataDir: tmpdir(), url: db.url }), dispose: () => db.drop() };
}

for (const engine of ENGINES) {
  describe(`usage record on ${engine}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    test('counts add up across flushes and restarts; letter case folds; grants are kept and bounded', async () => {
      const e = await openEngine(engine);
      cleanups.push(e.dispose);
      let store = await e.open();
      let usage = await UsageRecorder.open(store, { flushMs: 10_000 });
      for (let i = 0; i < 5; i++) usage.note(P, GET, true, SECRET, true, 'grant-a');
      usage.note(P.toUpperCase(), GET.toLowerCase(), true, SECRET.toUpperCase(), false);
      for (let i = 0; i < 12; i++) usage.note(P, GET, true, SECRET, true, `grant-${i}`);
      await usage.flush();
      usage.note(P, GET, true, SECRET, true, 'grant-a');
      await usage.close();
      await store.close();

      store = await e.open();
      usage = await UsageRecorder.open(store);
      usage.note(P, GET, true, SECRET, false);
      const rows = await usage.read([P]);
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.equal(rows[0]!.allowed, 18);
      assert.equal(rows[0]!.denied, 2);
      assert.equal(rows[0]!.grants.length, 8);
      assert.equal(rows[0]!.grants[0], 'grant-a');
      assert.ok(rows[0]!.firstSeen <= rows[0]!.lastSeen);
      assert.equal(usage.size(), 1);
      assert.deepEqual(await usage.read(['0a0a0a0a-0000-4000-8000-00000000ffff']), []);
      assert.equal(await usage.reset(), 1);
      assert.deepEqual(await usage.read(), []);
      await usage.close();
      await store.close();
    });

    test('past maxEntries stored rows, new triples are dropped and counted while known ones keep counting', async () => {
      const e = await openEngine(engine);
      cleanups.push(e.dispose);
      const store = await e.open();
      const usage = await UsageRecorder.open(store, { maxEntries: 3, flushMs: 10_000 });
      for (let i = 0; i < 5; i++) usage.note(P, GET, true, `${SECRET}${i}`, true);
      await usage.flush();
      assert.equal(usage.size(), 3);
      assert.equal(usage.dropped, 2);
      usage.note(P, GET, true, `${SECRET}0`, true);
      usage.note(P, GET, true, `${SECRET}9`, true);
      const rows = await usage.read();
      assert.equal(rows.length, 3);
      assert.equal(rows.find((r) => r.scope === `${SECRET}0`)?.allowed, 2);
      assert.equal(usage.dropped, 3);
      assert.equal((await store.list(USAGE_KIND)).length, 3);
      await usage.close();
      await store.close();
    });

    test('the in-memory aggregate is bounded: a full one is flushed, and past twice the bound (writes pending) new triples are dropped', async () => {
      const e = await openEngine(engine);
      cleanups.push(e.dispose);
      const store = await e.open();
      const usage = await UsageRecorder.open(store, { maxPending: 2, flushMs: 10_000 });
      // Synchronously, so the first flush cannot finish meanwhile.
      for (let i = 0; i < 10; i++) usage.note(P, GET, true, `${SECRET}${i}`, true);
      assert.equal(usage.dropped, 6);
      const rows = await usage.read();
      assert.deepEqual(rows.map((r) => r.scope).sort(), [0, 1, 2, 3].map((i) => `${SECRET}${i}`));
      // Known triples still count once there is room again.
      usage.note(P, GET, true, `${SECRET}0`, true);
      assert.equal((await usage.read()).find((r) => r.scope === `${SECRET}0`)?.allowed, 2);
      await usage.close();
      await store.close();
    });

    if (engine === 'postgres') {
      test('two instances flushing the same rows at the same time merge to exact totals', async () => {
        const e = await openEngine(engine);
        cleanups.push(e.dispose);
        const [s1, s2] = [await e.open(), await e.open()];
        const [u1, u2] = [await UsageRecorder.open(s1, { flushMs: 10_000 }), await UsageRecorder.open(s2, { flushMs: 10_000 })];
        for (let round = 0; round < 5; round++) {
          for (let k = 0; k < 40; k++) {
            u1.note(P, GET, true, `${SECRET}${k}`, true, 'g1');
            u2.note(P, GET, true, `${SECRET}${k}`, true, 'g2');
            u2.note(P, GET, true, `${SECRET}${k}`, false);
          }
          await Promise.all([u1.flush(), u2.flush()]);
        }
        const rows = await u1.read();
        assert.equal(rows.length, 40);
        for (const r of rows) {
          assert.equal(r.allowed, 10, JSON.stringify(r));
          assert.equal(r.denied, 5);
          assert.deepEqual([...r.grants].sort(), ['g1', 'g2']);
        }
        await Promise.all([u1.close(), u2.close()]);
        await Promise.all([s1.close(), s2.close()]);
      });
    }
  });
}
