// SQLite-only behaviour: file placement, permissions and durability settings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/index.js';
import { StoreInUseError } from '../../src/store/sqlite.js';

test('database files are owner-only and the database is in WAL mode', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mimic-sqlite-'));
  const previous = process.umask(0o022);
  try {
    const store = new SqliteStore(join(dir, 'data'));
    await store.put('secret', 'k', { material: 'encrypted' });
    for (const file of ['mimic.db', 'mimic.db-wal']) {
      const s = await stat(join(dir, 'data', file));
      assert.equal(s.mode & 0o777, 0o600, `${file} mode ${(s.mode & 0o777).toString(8)}`);
    }
    assert.equal((await stat(join(dir, 'data'))).mode & 0o777, 0o700);
    // The open store holds the database alone (its read cache relies on that): no shared-memory
    // index file, and another connection cannot read it.
    await assert.rejects(stat(join(dir, 'data', 'mimic.db-shm')), { code: 'ENOENT' });
    const blocked = new Database(store.path, { readonly: true, timeout: 50 });
    try {
      assert.throws(() => blocked.prepare('SELECT count(*) AS n FROM docs').get(), { code: 'SQLITE_BUSY' });
    } finally {
      blocked.close();
    }
    await store.close();
    // Once closed, another connection sees the committed row and the persistent WAL setting.
    const peek = new Database(store.path, { readonly: true });
    try {
      assert.equal(peek.pragma('journal_mode', { simple: true }), 'wal');
      assert.deepEqual(peek.prepare('SELECT count(*) AS n FROM docs').get(), { n: 1 });
    } finally {
      peek.close();
    }
  } finally {
    process.umask(previous);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a second store on the same data directory is refused with a clear error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mimic-sqlite-'));
  try {
    const first = new SqliteStore(dir);
    await first.put('k', 'a', 1);
    assert.throws(() => new SqliteStore(dir, { busyTimeoutMs: 50 }), (err: Error) => err instanceof StoreInUseError && /in use by another process/.test(err.message));
    // The first store is unaffected and still reads its own writes.
    assert.deepEqual((await first.get('k', 'a'))?.value, 1);
    await first.close();
    const again = new SqliteStore(dir);
    assert.deepEqual((await again.get('k', 'a'))?.value, 1);
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reads served from memory never leak one caller\'s changes to the next, and follow every write', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mimic-sqlite-'));
  try {
    const store = new SqliteStore(dir);
    assert.equal(await store.get('k', 'a'), undefined);
    await store.put('k', 'a', { n: 1 });
    const first = (await store.get<{ n: number }>('k', 'a'))!;
    first.value.n = 99;
    assert.deepEqual((await store.get('k', 'a'))?.value, { n: 1 });
    await store.apply([{ op: 'put', kind: 'k', key: 'a', value: { n: 2 } }, { op: 'put', kind: 'k', key: 'b', value: 'x' }]);
    assert.deepEqual(await store.get('k', 'a'), { key: 'a', value: { n: 2 }, version: 2 });
    // A batch that fails changes nothing, in the database or in memory.
    await assert.rejects(store.apply([{ op: 'delete', kind: 'k', key: 'a' }, { op: 'put', kind: 'k', key: 'b', value: 'y', ifAbsent: true }]));
    assert.deepEqual((await store.get('k', 'a'))?.value, { n: 2 });
    await store.delete('k', 'a');
    assert.equal(await store.get('k', 'a'), undefined);
    await store.close();
    const reopened = new SqliteStore(dir);
    assert.equal(await reopened.get('k', 'a'), undefined);
    assert.deepEqual((await reopened.get('k', 'b'))?.value, 'x');
    await reopened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
