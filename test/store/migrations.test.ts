// Schema versioning, for both engines.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { latestVersion, migrations } from '../../src/store/migrations.js';
import { backings, type Backing } from './backings.js';

/** Runs SQL directly against a backing, bypassing the store. */
async function query(backing: Backing, sql: string): Promise<Record<string, unknown>[]> {
  if (backing.engine === 'sqlite') {
    const db = new Database(join(backing.location.dataDir, 'mimic.db'));
    try {
      const stmt = db.prepare(sql);
      return stmt.reader ? (stmt.all() as Record<string, unknown>[]) : (stmt.run(), []);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: backing.location.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

for (const [name, make] of backings) {
  describe(`migrations: ${name}`, () => {
    test('the list is strictly increasing from 1', () => {
      migrations.forEach((m, i) => assert.equal(m.version, i + 1));
      assert.equal(latestVersion, migrations.length);
    });

    test('applies every migration once; reopening applies nothing again', async () => {
      const backing = await make();
      try {
        await (await backing.open()).close();
        const first = await query(backing, 'SELECT version, applied_at FROM schema_migrations ORDER BY version');
        assert.deepEqual(
          first.map((r) => r.version),
          migrations.map((m) => m.version),
        );
        await (await backing.open()).close();
        const second = await query(backing, 'SELECT version, applied_at FROM schema_migrations ORDER BY version');
        assert.deepEqual(second, first);
      } finally {
        await backing.dispose();
      }
    });

    test('refuses a database whose schema is newer than this build', async () => {
      const backing = await make();
      try {
        const store = await backing.open();
        await store.put('k', 'k', 'kept');
        await store.close();
        await query(backing, `INSERT INTO schema_migrations (version, applied_at) VALUES (${latestVersion + 1}, '2030-01-01')`);
        await assert.rejects(backing.open(), /newer than this Mimic supports/);
        await query(backing, `DELETE FROM schema_migrations WHERE version = ${latestVersion + 1}`);
        const again = await backing.open();
        assert.equal((await again.get('k', 'k'))?.value, 'kept');
        await again.close();
      } finally {
        await backing.dispose();
      }
    });
  });
}
