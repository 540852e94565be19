// Versioned schema for both engines. Each migration has one SQL text per engine;
// the list is append-only: never edit a shipped migration, add a new one instead.

import type { Database } from 'better-sqlite3';
import type { Pool } from 'pg';
import { checkout } from './pg-connection.js';

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'documents',
    // BINARY (SQLite) and "C" (PostgreSQL) collations both order keys by UTF-8 bytes,
    // so listing order and prefix range scans agree between engines.
    sqlite: `CREATE TABLE docs (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (kind, key)
      ) WITHOUT ROWID`,
    postgres: `CREATE TABLE docs (
        kind text NOT NULL,
        key text COLLATE "C" NOT NULL,
        value text NOT NULL,
        version integer NOT NULL,
        PRIMARY KEY (kind, key)
      )`,
  },
];

/** Highest schema version this build knows. */
export const latestVersion = migrations.reduce((max, m) => Math.max(max, m.version), 0);

// Arbitrary constant naming Mimic's advisory lock (ASCII "MIMICDB" as a bigint).
const PG_MIGRATION_LOCK = '21754169497175106';

function pending(applied: Set<number>, where: string): Migration[] {
  const newest = Math.max(0, ...applied);
  if (newest > latestVersion) {
    throw new Error(
      `${where} has schema version ${newest}, newer than this Mimic supports (${latestVersion}); upgrade Mimic`,
    );
  }
  return [...migrations].sort((a, b) => a.version - b.version).filter((m) => !applied.has(m.version));
}

/**
 * Brings a SQLite database up to date. The IMMEDIATE transaction takes the write lock
 * first, so two processes opening the same file apply each migration once.
 * Returns the versions applied by this call.
 */
export function migrateSqlite(db: Database): number[] {
  const run = db.transaction((): number[] => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        applied_at TEXT NOT NULL
      )`);
    const rows = db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[];
    const todo = pending(new Set(rows.map((r) => r.version)), 'SQLite database');
    const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    for (const m of todo) {
      db.exec(m.sqlite);
      record.run(m.version, new Date().toISOString());
    }
    return todo.map((m) => m.version);
  });
  return run.immediate();
}

/**
 * Brings a PostgreSQL database up to date inside one transaction holding a
 * transaction-scoped advisory lock, so instances starting together serialise here
 * and later ones find nothing to do. Returns the versions applied by this call.
 */
export async function migratePostgres(pool: Pool): Promise<number[]> {
  const { client, release } = await checkout(pool);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      await client.query(`SELECT pg_advisory_xact_lock(${PG_MIGRATION_LOCK})`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const todo = pending(new Set(rows.map((r) => r.version)), 'PostgreSQL database');
      for (const m of todo) {
        await client.query(m.postgres);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
      }
      await client.query('COMMIT');
      return todo.map((m) => m.version);
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw err;
    }
  } finally {
    release(broken);
  }
}
