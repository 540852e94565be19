// SQLite-only behaviour: file placement, permissions and durability settings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/index.js';

test('database files are owner-only and the database is in WAL mode', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mimic-sqlite-'));
  const previous = process.umask(0o022);
  try {
    const store = new SqliteStore(join(dir, 'data'));
    await store.put('secret', 'k', { material: 'encrypted' });
    for (const file of ['mimic.db', 'mimic.db-wal', 'mimic.db-shm']) {
      const s = await stat(join(dir, 'data', file));
      assert.equal(s.mode & 0o777, 0o600, `${file} mode ${(s.mode & 0o777).toString(8)}`);
    }
    assert.equal((await stat(join(dir, 'data'))).mode & 0o777, 0o700);
    // A second connection sees the committed row and the persistent WAL setting.
    const peek = new Database(store.path, { readonly: true });
    try {
      assert.equal(peek.pragma('journal_mode', { simple: true }), 'wal');
      assert.deepEqual(peek.prepare('SELECT count(*) AS n FROM docs').get(), { n: 1 });
    } finally {
      peek.close();
    }
    await store.close();
  } finally {
    process.umask(previous);
    await rm(dir, { recursive: true, force: true });
  }
});
