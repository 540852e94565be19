// Embedded engine: one SQLite file per data directory, owned by one process, accessed
// synchronously by better-sqlite3 (each call is microseconds, so the async facade costs little).
//
// The process holds the database with an exclusive lock, so it is the only writer and can keep
// the JSON text of the entries it has read in memory: a point read then costs no SQLite statement
// at all (measured at 20-40 µs each under HTTP load, most of an ARM GET).

import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeOps, Listeners, planList, type EncodedOp } from './common.js';
import { migrateSqlite } from './migrations.js';
import { BoundedCache } from './boundedCache.js';
import { ConflictError, type Change, type Entry, type ListOptions, type Op, type Store, type TextEntry } from './types.js';

type Stmt = Database.Statement<unknown[], unknown>;

/** What one committed op did, kept until the transaction has committed. */
interface Applied {
  kind: string;
  key: string;
  deleted: boolean;
  version: number | undefined;
  text: string | undefined;
}

export const SQLITE_FILE = 'mimic.db';

/** Bounds of the in-memory read cache of each kind: entries, and characters of JSON text held. */
const READ_CACHE_ENTRIES = 20_000;
const READ_CACHE_CHARS = 8 * 1024 * 1024;

/** Raised when another process holds the database (say, a second `mimic start` on the same data dir). */
export class StoreInUseError extends Error {
  constructor(readonly path: string) {
    super(`the database ${path} is in use by another process (is another Mimic running on this data directory?)`);
    this.name = 'StoreInUseError';
  }
}

export class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  readonly instanceId: string = randomUUID();
  /** Absolute or relative path of the database file. */
  readonly path: string;

  private readonly db: Database.Database;
  private readonly listeners = new Listeners();
  private closed = false;
  /**
   * Per kind: key -> the stored entry, or null when known to be absent. Kept per kind so a lookup
   * hashes only the caller's key string (often one it has looked up before).
   */
  private readonly readCache = new Map<string, BoundedCache<TextEntry | null>>();

  private readonly getStmt: Stmt;
  private readonly upsertStmt: Stmt;
  private readonly insertIfAbsentStmt: Stmt;
  private readonly updateIfVersionStmt: Stmt;
  private readonly deleteStmt: Stmt;
  private readonly deleteIfVersionStmt: Stmt;
  /** Indexed by (has upper bound ? 1 : 0) | (has after ? 2 : 0). */
  private readonly listStmts: Stmt[];
  private readonly applyTxn: Database.Transaction<(ops: EncodedOp[]) => Applied[]>;

  constructor(dataDir: string, opts: { busyTimeoutMs?: number } = {}) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.path = join(dataDir, SQLITE_FILE);
    // Create the file ourselves so it is owner-only from its first byte; SQLite gives
    // the -wal and -shm files the same mode as the database file.
    closeSync(openSync(this.path, 'a', 0o600));
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(this.path + suffix)) chmodSync(this.path + suffix, 0o600);
    }

    const db = new Database(this.path);
    this.db = db;
    try {
      // Waits out a previous process that is still closing the database.
      db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
      // Before the first access: the lock is then taken at first read and kept until close, and
      // the WAL index lives in this process's memory (no -shm file).
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL keeps every commit across a process kill (the WAL write
      // reaches the OS before COMMIT returns); only an OS crash could lose the tail.
      db.pragma('synchronous = NORMAL');
      migrateSqlite(db);

      this.getStmt = db.prepare('SELECT value, version FROM docs WHERE kind = ? AND key = ?').raw(true);
      this.upsertStmt = db
        .prepare(
          `INSERT INTO docs (kind, key, value, version) VALUES (?, ?, ?, 1)
           ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, version = docs.version + 1
           RETURNING version`,
        )
        .pluck(true);
      this.insertIfAbsentStmt = db
        .prepare(
          `INSERT INTO docs (kind, key, value, version) VALUES (?, ?, ?, 1)
           ON CONFLICT (kind, key) DO NOTHING RETURNING version`,
        )
        .pluck(true);
      this.updateIfVersionStmt = db
        .prepare(
          `UPDATE docs SET value = ?, version = version + 1
           WHERE kind = ? AND key = ? AND version = ? RETURNING version`,
        )
        .pluck(true);
      this.deleteStmt = db.prepare('DELETE FROM docs WHERE kind = ? AND key = ? RETURNING version').pluck(true);
      this.deleteIfVersionStmt = db.prepare('DELETE FROM docs WHERE kind = ? AND key = ? AND version = ? RETURNING version').pluck(true);
      this.listStmts = [0, 1, 2, 3].map((shape) =>
        db
          .prepare(
            `SELECT key, value, version FROM docs WHERE kind = ? AND key >= ?` +
              (shape & 1 ? ' AND key < ?' : '') +
              (shape & 2 ? ' AND key > ?' : '') +
              ' ORDER BY key LIMIT ?',
          )
          .raw(true),
      );
      this.applyTxn = db.transaction((ops: EncodedOp[]) => ops.map((op) => this.applyOne(op)).filter(isChange));
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new StoreInUseError(this.path);
      throw err;
    }
  }

  async get<T = unknown>(kind: string, key: string): Promise<Entry<T> | undefined> {
    const e = this.readText(kind, key);
    // Parsed afresh on every read: callers own (and may change) what they get.
    return e === undefined ? undefined : { key, value: JSON.parse(e.text) as T, version: e.version };
  }

  async getText(kind: string, key: string): Promise<TextEntry | undefined> {
    return this.readText(kind, key);
  }

  private readText(kind: string, key: string): TextEntry | undefined {
    this.assertOpen();
    const cache = this.cacheOf(kind);
    let e = cache.get(key);
    if (e === undefined) {
      const row = this.getStmt.get(kind, key) as [string, number] | undefined;
      e = row === undefined ? null : { text: row[0], version: row[1] };
      cache.set(key, e);
    }
    return e ?? undefined;
  }

  private cacheOf(kind: string): BoundedCache<TextEntry | null> {
    let cache = this.readCache.get(kind);
    if (cache === undefined) {
      cache = new BoundedCache<TextEntry | null>(READ_CACHE_ENTRIES, READ_CACHE_CHARS, (e) => (e === null ? 1 : e.text.length));
      this.readCache.set(kind, cache);
    }
    return cache;
  }

  async list<T = unknown>(kind: string, options?: ListOptions): Promise<Entry<T>[]> {
    this.assertOpen();
    // SQLite reads a negative LIMIT as "no limit".
    const { shape, params } = planList(kind, options, -1);
    const rows = this.listStmts[shape]!.all(...params) as [string, string, number][];
    return rows.map(([key, value, version]) => ({ key, value: JSON.parse(value) as T, version }));
  }

  async apply(ops: Op[]): Promise<void> {
    this.assertOpen();
    const encoded = encodeOps(ops);
    if (encoded.length === 0) return;
    // IMMEDIATE takes the write lock up front, so another process cannot make this
    // transaction fail half-way with SQLITE_BUSY when it upgrades from read to write.
    const applied = this.applyTxn.immediate(encoded);
    // Refresh the entries a reader has cached; a key nobody read is not cached on write (the soak
    // showed append-only kinds such as the audit log filling the cache with entries never read).
    for (const a of applied) {
      const cache = this.cacheOf(a.kind);
      if (cache.get(a.key) !== undefined) cache.set(a.key, a.deleted ? null : { text: a.text!, version: a.version! });
    }
    if (this.listeners.size === 0) return;
    for (const a of applied) {
      const change: Change = {
        kind: a.kind,
        key: a.key,
        value: a.text === undefined ? undefined : JSON.parse(a.text),
        deleted: a.deleted,
        origin: this.instanceId,
      };
      if (a.version !== undefined) change.version = a.version;
      this.listeners.emit(change);
    }
  }

  put(kind: string, key: string, value: unknown): Promise<void> {
    return this.apply([{ op: 'put', kind, key, value }]);
  }

  delete(kind: string, key: string): Promise<void> {
    return this.apply([{ op: 'delete', kind, key }]);
  }

  subscribe(listener: (change: Change) => void): () => void {
    return this.listeners.add(listener);
  }

  /** A single embedded database misses nothing, so this never fires. */
  onResync(_listener: () => void): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.readCache.clear();
    this.db.close();
  }

  /** Runs inside the transaction; throwing rolls the whole batch back. */
  private applyOne(op: EncodedOp): Applied | undefined {
    const { kind, key } = op;
    if (op.op === 'check') {
      // The IMMEDIATE transaction holds the write lock, so the entry cannot change before commit.
      const row = this.getStmt.get(kind, key) as [string, number] | undefined;
      if ((row?.[1] ?? 0) !== op.ifVersion) throw new ConflictError(kind, key, 'version');
      return undefined;
    }
    if (op.op === 'delete') {
      if (op.ifVersion === 0) {
        // "Must not exist": there is nothing to delete, or the precondition fails.
        if (this.getStmt.get(kind, key) !== undefined) throw new ConflictError(kind, key, 'version');
        if (op.mustExist) throw new ConflictError(kind, key, 'missing');
        return undefined;
      }
      const old = op.ifVersion === undefined ? this.deleteStmt.get(kind, key) : this.deleteIfVersionStmt.get(kind, key, op.ifVersion);
      if (old === undefined) {
        if (op.ifVersion !== undefined) throw new ConflictError(kind, key, op.mustExist && this.getStmt.get(kind, key) === undefined ? 'missing' : 'version');
        if (op.mustExist) throw new ConflictError(kind, key, 'missing');
        return undefined; // nothing was there: no change to report
      }
      return { kind, key, deleted: true, version: undefined, text: undefined };
    }
    let version: number | undefined;
    if (op.ifAbsent && op.ifVersion !== undefined && op.ifVersion !== 0) {
      // Absent and at a positive version cannot both hold: report which one fails.
      throw new ConflictError(kind, key, this.getStmt.get(kind, key) === undefined ? 'version' : 'exists');
    }
    if (op.ifAbsent || op.ifVersion === 0) {
      version = this.insertIfAbsentStmt.get(kind, key, op.text) as number | undefined;
      if (version === undefined) throw new ConflictError(kind, key, op.ifAbsent ? 'exists' : 'version');
    } else if (op.ifVersion !== undefined) {
      version = this.updateIfVersionStmt.get(op.text, kind, key, op.ifVersion) as number | undefined;
      if (version === undefined) throw new ConflictError(kind, key, 'version');
    } else {
      version = this.upsertStmt.get(kind, key, op.text) as number;
    }
    return { kind, key, deleted: false, version, text: op.text };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }
}

function isChange(a: Applied | undefined): a is Applied {
  return a !== undefined;
}
