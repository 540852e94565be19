// Shared engine: several Mimic instances on one PostgreSQL database. Writes carry
// their own NOTIFY inside the writing statement, so a change is announced exactly
// when (and only if) it commits; every instance LISTENs and forwards others' changes.

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { encodeOps, Listeners, planList, type CheckedCheck, type EncodedOp, type EncodedPut } from './common.js';
import { migratePostgres } from './migrations.js';
import { checkout, isUnavailable } from './pg-connection.js';
import { NotificationListener } from './pg-listener.js';
import { ConflictError, StoreUnavailableError, type Change, type Entry, type ListOptions, type Op, type Store, type TextEntry } from './types.js';

export const CHANGE_CHANNEL = 'mimic_changes';
/** application_name of an instance's listener connection: this prefix and the instance id. */
const LISTENER_PREFIX = 'mimic-listener-';
/** NOTIFY payloads are capped at 8000 bytes; above this the value is left out and re-read. */
export const INLINE_VALUE_LIMIT = 7000;

/** Wire form of a change announcement. */
interface Payload {
  origin: string;
  kind: string;
  key: string;
  deleted: boolean;
  version?: number;
  value?: unknown;
  /** Per-instance counter: PostgreSQL folds identical payloads within one transaction. */
  seq: number;
}

/** Each op writes and, if it changed a row, notifies, in one statement. */
const NOTIFY_TAIL = `SELECT version, pg_notify('${CHANGE_CHANNEL}', $4::text || version::text || $5::text) FROM w`;
const SQL = {
  get: { name: 'mimic_get', text: 'SELECT value, version FROM docs WHERE kind = $1 AND key = $2' },
  /** A share lock: the row cannot change until this transaction ends (other checks may share it). */
  check: { name: 'mimic_check', text: 'SELECT version FROM docs WHERE kind = $1 AND key = $2 FOR SHARE' },
  upsert: {
    name: 'mimic_upsert',
    text: `WITH w AS (
        INSERT INTO docs (kind, key, value, version) VALUES ($1, $2, $3, 1)
        ON CONFLICT (kind, key) DO UPDATE SET value = EXCLUDED.value, version = docs.version + 1
        RETURNING version)
      ${NOTIFY_TAIL}`,
  },
  insertIfAbsent: {
    name: 'mimic_insert_if_absent',
    text: `WITH w AS (
        INSERT INTO docs (kind, key, value, version) VALUES ($1, $2, $3, 1)
        ON CONFLICT (kind, key) DO NOTHING RETURNING version)
      ${NOTIFY_TAIL}`,
  },
  updateIfVersion: {
    name: 'mimic_update_if_version',
    text: `WITH w AS (
        UPDATE docs SET value = $3, version = version + 1
        WHERE kind = $1 AND key = $2 AND version = $6 RETURNING version)
      ${NOTIFY_TAIL}`,
  },
  delete: {
    name: 'mimic_delete',
    text: `WITH w AS (DELETE FROM docs WHERE kind = $1 AND key = $2 RETURNING version)
      SELECT version, pg_notify('${CHANGE_CHANNEL}', $3::text) FROM w`,
  },
  deleteIfVersion: {
    name: 'mimic_delete_if_version',
    text: `WITH w AS (DELETE FROM docs WHERE kind = $1 AND key = $2 AND version = $4 RETURNING version)
      SELECT version, pg_notify('${CHANGE_CHANNEL}', $3::text) FROM w`,
  },
};

/**
 * The conditional puts with a check folded in (`g`: the checked row, share-locked; the write
 * happens only if its version is the one expected), for a batch of one check and one put: one
 * statement, so a resource write without principals costs one round trip, not BEGIN, check,
 * put and COMMIT. `checked` tells a failed check from a failed write.
 */
function guarded(name: string, n: number, write: (ok: string) => string): { name: string; text: string } {
  const ok = `COALESCE((SELECT version FROM g), 0) = $${n + 2}`;
  return {
    name,
    text: `WITH g AS (SELECT version FROM docs WHERE kind = $${n} AND key = $${n + 1} FOR SHARE),
      w AS (${write(ok)} RETURNING version)
      SELECT (SELECT version FROM g) AS checked, w.version,
        CASE WHEN w.version IS NOT NULL THEN pg_notify('${CHANGE_CHANNEL}', $4::text || w.version::text || $5::text) END
      FROM (SELECT 1) AS one LEFT JOIN w ON true`,
  };
}
const GUARDED = {
  insertIfAbsent: guarded('mimic_guarded_insert_if_absent', 6, (ok) => `INSERT INTO docs (kind, key, value, version) SELECT $1::text, $2::text, $3::text, 1 WHERE ${ok} ON CONFLICT (kind, key) DO NOTHING`),
  updateIfVersion: guarded('mimic_guarded_update_if_version', 7, (ok) => `UPDATE docs SET value = $3, version = version + 1 WHERE kind = $1 AND key = $2 AND version = $6 AND ${ok}`),
};

/** Indexed by (has upper bound ? 1 : 0) | (has after ? 2 : 0); LIMIT NULL means no limit. */
const LIST_SQL = [0, 1, 2, 3].map((shape) => {
  let n = 2;
  const text =
    'SELECT key, value, version FROM docs WHERE kind = $1 AND key >= $2' +
    (shape & 1 ? ` AND key < $${++n}` : '') +
    (shape & 2 ? ` AND key > $${++n}` : '') +
    ` ORDER BY key LIMIT $${++n}`;
  return { name: `mimic_list_${shape}`, text };
});

/** Rethrows a connection-class failure as StoreUnavailableError, anything else as it is. */
function unavailableOr(err: unknown): never {
  throw isUnavailable(err) ? new StoreUnavailableError(err) : err;
}

/** A change this instance committed, ready to hand to local listeners. */
interface Applied {
  kind: string;
  key: string;
  deleted: boolean;
  version: number | undefined;
  text: string | undefined;
}

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// connection URL. */
  url: string;
  /** Pool size for queries (the listener uses one more connection). Default 10. */
  maxConnections?: number;
}

export class PostgresStore implements Store {
  readonly engine = 'postgres' as const;
  readonly instanceId: string = randomUUID();

  private readonly pool: pg.Pool;
  private readonly listener: NotificationListener;
  private readonly listeners = new Listeners();
  private readonly resyncListeners = new Listeners<void>();
  /** Remote changes are handled one at a time so re-reads cannot reorder them. */
  private remoteChain: Promise<void> = Promise.resolve();
  private seq = 0;
  private closed = false;

  private constructor(options: PostgresStoreOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      fallback_application_name: 'mimic',
      keepAlive: true,
    });
    // An idle pooled connection that dies is discarded by the pool; without a
    // handler the 'error' event would crash the process.
    this.pool.on('error', () => undefined);
    this.listener = new NotificationListener(
      {
        connectionString: options.url,
        // Names the connection so operators (and tests) can find this instance's listener.
        application_name: `${LISTENER_PREFIX}${this.instanceId}`,
        keepAlive: true,
      },
      CHANGE_CHANNEL,
      (payload) => this.onNotification(payload),
      () => {
        // Queue behind remote changes already received so resync comes after them.
        this.remoteChain = this.remoteChain.then(() => {
          if (!this.closed) this.resyncListeners.emit();
        });
      },
    );
  }

  /** Connects, migrates the schema and starts listening before resolving. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await migratePostgres(store.pool);
      await store.listener.start();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  async get<T = unknown>(kind: string, key: string): Promise<Entry<T> | undefined> {
    const e = await this.getText(kind, key);
    return e === undefined ? undefined : { key, value: JSON.parse(e.text) as T, version: e.version };
  }

  async getText(kind: string, key: string): Promise<TextEntry | undefined> {
    this.assertOpen();
    const res = await this.pool.query<[string, number]>({ ...SQL.get, values: [kind, key], rowMode: 'array' }).catch(unavailableOr);
    const row = res.rows[0];
    return row === undefined ? undefined : { text: row[0], version: row[1] };
  }

  async list<T = unknown>(kind: string, options?: ListOptions): Promise<Entry<T>[]> {
    this.assertOpen();
    const { shape, params: values } = planList(kind, options, null);
    const res = await this.pool.query<[string, string, number]>({ ...LIST_SQL[shape]!, values, rowMode: 'array' }).catch(unavailableOr);
    return res.rows.map(([key, value, version]) => ({ key, value: JSON.parse(value) as T, version }));
  }

  async apply(ops: Op[]): Promise<void> {
    this.assertOpen();
    const encoded = encodeOps(ops);
    if (encoded.length === 0) return;
    let applied: Applied[];
    try {
      const [first, second] = encoded;
      if (encoded.length === 1 || (encoded.length === 2 && first!.op === 'check' && second!.op === 'put' && foldable(first!, second!))) {
        // A single statement commits atomically on its own: one round trip.
        const one = encoded.length === 1 ? await this.applyOne(this.pool, first!) : await this.applyOne(this.pool, second!, first as CheckedCheck);
        applied = one ? [one] : [];
      } else {
        applied = await this.applyBatch(encoded);
      }
    } catch (err) {
      unavailableOr(err);
    }
    for (const a of applied) this.emitLocal(a);
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

  onResync(listener: () => void): () => void {
    return this.resyncListeners.add(listener);
  }

  /** Every instance keeps one listener connection named after it while it is open. */
  async liveInstances(): Promise<Set<string>> {
    this.assertOpen();
    const res = await this.pool
      .query<[string]>({ name: 'mimic_live_instances', text: `SELECT substr(application_name, ${LISTENER_PREFIX.length + 1}) FROM pg_stat_activity WHERE datname = current_database() AND starts_with(application_name, '${LISTENER_PREFIX}')`, rowMode: 'array' })
      .catch(unavailableOr);
    return new Set([this.instanceId, ...res.rows.map((r) => r[0])]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.resyncListeners.clear();
    await this.listener.stop();
    await this.pool.end();
  }

  private async applyBatch(ops: EncodedOp[]): Promise<Applied[]> {
    const { client, release } = await checkout(this.pool);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const applied: Applied[] = [];
        for (const op of ops) {
          const a = await this.applyOne(client, op);
          if (a) applied.push(a);
        }
        await client.query('COMMIT');
        return applied;
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

  /**
   * Runs one op. Throws ConflictError when its precondition fails; the statement then
   * changed nothing, and a surrounding transaction is rolled back by the caller.
   */
  private async applyOne(db: pg.Pool | pg.PoolClient, op: EncodedOp, guard?: CheckedCheck): Promise<Applied | undefined> {
    const { kind, key } = op;
    if (op.op === 'check') {
      const res = await db.query<{ version: number }>({ ...SQL.check, values: [kind, key] });
      if ((res.rows[0]?.version ?? 0) !== op.ifVersion) throw new ConflictError(kind, key, 'version');
      return undefined;
    }
    const head = { origin: this.instanceId, kind, key, seq: this.seq++ };
    if (op.op === 'delete') {
      if (op.ifVersion === 0) {
        // "Must not exist": there is nothing to delete, or the precondition fails.
        if (((await db.query({ ...SQL.get, values: [kind, key] })).rowCount ?? 0) > 0) throw new ConflictError(kind, key, 'version');
        if (op.mustExist) throw new ConflictError(kind, key, 'missing');
        return undefined;
      }
      const payload = JSON.stringify({ ...head, deleted: true } satisfies Payload);
      const res = op.ifVersion === undefined ? await db.query({ ...SQL.delete, values: [kind, key, payload] }) : await db.query({ ...SQL.deleteIfVersion, values: [kind, key, payload, op.ifVersion] });
      if (res.rowCount === 0) {
        if (op.ifVersion !== undefined) {
          const missing = op.mustExist && (await db.query({ ...SQL.get, values: [kind, key] })).rowCount === 0;
          throw new ConflictError(kind, key, missing ? 'missing' : 'version');
        }
        if (op.mustExist) throw new ConflictError(kind, key, 'missing');
        return undefined;
      }
      return { kind, key, deleted: true, version: undefined, text: undefined };
    }

    // The payload is JSON assembled around the version the statement produces.
    const before = JSON.stringify({ ...head, deleted: false }).slice(0, -1) + ',"version":';
    const inline = `,"value":${op.text}}`;
    const after =
      Buffer.byteLength(before) + Buffer.byteLength(inline) + 12 <= INLINE_VALUE_LIMIT ? inline : '}';

    let sql: { name: string; text: string };
    let values: unknown[];
    let reason: ConflictError['reason'];
    if (op.ifAbsent || op.ifVersion === 0) {
      sql = SQL.insertIfAbsent;
      values = [kind, key, op.text, before, after];
      reason = op.ifAbsent ? 'exists' : 'version';
    } else if (op.ifVersion !== undefined) {
      sql = SQL.updateIfVersion;
      values = [kind, key, op.text, before, after, op.ifVersion];
      reason = 'version';
    } else {
      sql = SQL.upsert;
      values = [kind, key, op.text, before, after];
      reason = 'version'; // unreachable: an unconditional upsert always returns a row
    }
    if (guard) {
      const folded = sql === SQL.insertIfAbsent ? GUARDED.insertIfAbsent : GUARDED.updateIfVersion;
      const res = await db.query<{ checked: number | null; version: number | null }>({ ...folded, values: [...values, guard.kind, guard.key, guard.ifVersion] });
      const row = res.rows[0]!;
      if ((row.checked ?? 0) !== guard.ifVersion) throw new ConflictError(guard.kind, guard.key, 'version');
      if (row.version === null) throw new ConflictError(kind, key, reason);
      return { kind, key, deleted: false, version: row.version, text: op.text };
    }
    if (op.ifAbsent && op.ifVersion !== undefined && op.ifVersion !== 0) {
      // Absent and at a positive version cannot both hold: report which one fails, write nothing.
      const found = await db.query({ ...SQL.get, values: [kind, key] });
      throw new ConflictError(kind, key, found.rowCount === 0 ? 'version' : 'exists');
    }
    const res = await db.query<{ version: number }>({ ...sql, values });
    const row = res.rows[0];
    if (row === undefined) throw new ConflictError(kind, key, reason);
    return { kind, key, deleted: false, version: row.version, text: op.text };
  }

  private emitLocal(a: Applied): void {
    if (this.listeners.size === 0) return;
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

  private onNotification(text: string): void {
    let payload: Payload;
    try {
      payload = JSON.parse(text) as Payload;
    } catch {
      return; // not ours
    }
    // Our own changes were already emitted when they committed.
    if (payload.origin === this.instanceId || typeof payload.kind !== 'string') return;
    this.remoteChain = this.remoteChain
      .then(() => this.emitRemote(payload))
      .catch((err) => {
        if (this.closed) return; // a re-read cut short by close()
        process.emitWarning(`store change feed: ${String(err)}`, 'MimicStoreWarning');
      });
  }

  private async emitRemote(p: Payload): Promise<void> {
    if (this.closed) return;
    const change: Change = { kind: p.kind, key: p.key, value: undefined, deleted: p.deleted, origin: p.origin };
    if (!p.deleted) {
      if ('value' in p) {
        change.value = p.value;
        change.version = p.version;
      } else {
        // Too large to ride in the payload: read the row. A later write may already
        // have replaced it; then this reports the newer state, and if the row is gone
        // the delete's own notification follows.
        const current = await this.get(p.kind, p.key);
        if (current === undefined) return;
        change.value = current.value;
        change.version = current.version;
      }
    }
    this.listeners.emit(change);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }
}

/** A check and a put that one guarded statement can run: a conditional put (not a contradictory one) of another key. */
function foldable(check: EncodedOp, put: EncodedOp): boolean {
  if (check.op !== 'check' || put.op !== 'put') return false;
  const p = put as EncodedPut;
  if (p.ifAbsent ? p.ifVersion !== undefined && p.ifVersion !== 0 : p.ifVersion === undefined) return false;
  return check.kind !== p.kind || check.key !== p.key;
}
