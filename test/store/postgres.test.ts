// PostgreSQL-only behaviour: several instances sharing one database.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Change, Store } from '../../src/store/index.js';
import { migrations } from '../../src/store/migrations.js';
import { INLINE_VALUE_LIMIT } from '../../src/store/postgres.js';
import { postgresBacking, waitFor, type Backing } from './backings.js';

describe('postgres: instances sharing a database', () => {
  let backing: Backing;
  let a: Store;
  let b: Store;
  const seenByA: Change[] = [];
  const seenByB: Change[] = [];
  let n = 0;
  const freshKind = () => `shared${++n}`;

  before(async () => {
    backing = await postgresBacking();
    [a, b] = await Promise.all([backing.open(), backing.open()]);
    a.subscribe((c) => seenByA.push(c));
    b.subscribe((c) => seenByB.push(c));
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await backing?.dispose();
  });

  test('a change on A reaches B within 1 s with origin A, and A sees it exactly once', async () => {
    const kind = freshKind();
    await a.put(kind, 'k', { hello: 'world' });
    const ms = await waitFor('B to see the put', () => seenByB.some((c) => c.kind === kind), 1000);
    assert.ok(ms < 1000);
    assert.deepEqual(
      seenByB.filter((c) => c.kind === kind),
      [{ kind, key: 'k', value: { hello: 'world' }, deleted: false, origin: a.instanceId, version: 1 }],
    );
    // B's NOTIFY has arrived, so A's echo has too; give it a moment to be (wrongly) emitted.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seenByA.filter((c) => c.kind === kind).length, 1);
  });

  test('a batch reaches B in commit order, deletes included; failed batches send nothing', async () => {
    const kind = freshKind();
    await a.apply([
      { op: 'put', kind, key: 'x', value: 1 },
      { op: 'delete', kind, key: 'x' },
      { op: 'put', kind, key: 'x', value: 2 },
      { op: 'delete', kind, key: 'x' },
      { op: 'put', kind, key: 'y', value: 3 },
    ]);
    await assert.rejects(
      a.apply([
        { op: 'put', kind, key: 'z', value: 'never' },
        { op: 'put', kind, key: 'y', value: 'never', ifAbsent: true },
      ]),
    );
    await b.put(kind, 'from-b', true);
    // B's own write comes after A's batch; once it is seen, A's batch must have been handled.
    await waitFor('A to see B', () => seenByA.some((c) => c.kind === kind && c.key === 'from-b'));
    await waitFor('B to see the batch', () => seenByB.filter((c) => c.kind === kind).length >= 6);
    assert.deepEqual(
      seenByB.filter((c) => c.kind === kind).map((c) => [c.key, c.deleted, c.value, c.origin === a.instanceId]),
      [
        ['x', false, 1, true],
        ['x', true, undefined, true],
        ['x', false, 2, true],
        ['x', true, undefined, true],
        ['y', false, 3, true],
        ['from-b', false, true, false],
      ],
    );
    assert.deepEqual(
      seenByA.filter((c) => c.kind === kind && c.origin === b.instanceId).map((c) => c.key),
      ['from-b'],
    );
  });

  test('values larger than a NOTIFY payload still propagate', async () => {
    const kind = freshKind();
    const big = { blob: 'x'.repeat(20_000), list: Array.from({ length: 500 }, (_, i) => i) };
    const edge = { blob: 'y'.repeat(INLINE_VALUE_LIMIT - 150) };
    await a.put(kind, 'big', big);
    await a.put(kind, 'edge', edge);
    await waitFor('B to see both', () => seenByB.filter((c) => c.kind === kind).length === 2);
    const got = seenByB.filter((c) => c.kind === kind);
    assert.deepEqual(got[0], { kind, key: 'big', value: big, deleted: false, origin: a.instanceId, version: 1 });
    assert.deepEqual(got[1], { kind, key: 'edge', value: edge, deleted: false, origin: a.instanceId, version: 1 });
  });

  test("B's listener survives pg_terminate_backend of its connection and B is told to resync", async () => {
    const kind = freshKind();
    let resyncs = 0;
    const offResync = b.onResync!(() => resyncs++);
    const admin = new pg.Client({ connectionString: backing.location.url });
    await admin.connect();
    try {
      const res = await admin.query(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [`mimic-listener-${b.instanceId}`],
      );
      assert.equal(res.rowCount, 1, "B's listener connection was found and terminated");
      assert.equal(res.rows[0].ok, true);
    } finally {
      await admin.end();
    }
    // Keep writing until B hears again; notifications sent while it reconnects are lost.
    let i = 0;
    const deadline = Date.now() + 10_000;
    while (!seenByB.some((c) => c.kind === kind) && Date.now() < deadline) {
      await a.put(kind, `k${i++}`, i);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(seenByB.some((c) => c.kind === kind), 'B hears changes again after its listener was killed');
    assert.equal(resyncs, 1, 'B was told once that it may have missed changes');
    offResync();
    // Once reconnected, delivery is prompt again.
    await a.put(kind, 'after', 'reconnect');
    await waitFor('B to see the post-reconnect write', () => seenByB.some((c) => c.kind === kind && c.key === 'after'));
  });

  test('concurrent opens of a fresh database both migrate safely', async () => {
    const fresh = await postgresBacking();
    try {
      const stores = await Promise.all([fresh.open(), fresh.open(), fresh.open()]);
      await stores[0]!.put('k', 'k', 1);
      assert.equal((await stores[2]!.get('k', 'k'))?.value, 1);
      await Promise.all(stores.map((s) => s.close()));
      const admin = new pg.Client({ connectionString: fresh.location.url });
      await admin.connect();
      try {
        const { rows } = await admin.query('SELECT version FROM schema_migrations ORDER BY version');
        assert.deepEqual(
          rows.map((r) => r.version),
          migrations.map((m) => m.version),
        );
      } finally {
        await admin.end();
      }
    } finally {
      await fresh.dispose();
    }
  });
});
