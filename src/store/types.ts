// The one storage contract every Mimic module uses. Two engines implement it:
// SQLite (embedded, default) and PostgreSQL (shared by several instances).
//
// The model is deliberately small: named collections ("kinds") of JSON documents
// under string keys, atomic batches of writes, ordered key listing, and a change
// feed. Domain modules own their key formats (ARM ids are lower-cased by callers
// so lookups are case-insensitive as in Azure).

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json | undefined };

export interface Entry<T = unknown> {
  key: string;
  value: T;
  /** Monotonic per-key version, starting at 1 on first put. */
  version: number;
}

export interface TextEntry {
  text: string;
  version: number;
}

export type Op =
  | {
      op: 'put';
      kind: string;
      key: string;
      value: unknown;
      /** Fail the whole batch with ConflictError if the key already exists. */
      ifAbsent?: boolean;
      /**
       * Fail the whole batch with ConflictError unless the stored version equals this.
       * An absent key counts as version 0, so `ifVersion: 0` means "must not exist yet".
       */
      ifVersion?: number;
    }
  | {
      op: 'delete';
      kind: string;
      key: string;
      /** Fail the whole batch with ConflictError if the key does not exist. */
      mustExist?: boolean;
      /**
       * Fail the whole batch with ConflictError (reason 'version') unless the stored version
       * equals this: deletes exactly what was read, not a newer write. 0 means "must not exist".
       */
      ifVersion?: number;
    }
  | {
      /**
       * Writes nothing: fails the whole batch with ConflictError (reason 'version') unless the
       * stored version of a key the batch reads but does not write equals this (0: absent). Lets a
       * write depend on another entry as read (a resource on its resource group). PostgreSQL
       * holds a share lock on the row until the batch commits, so a concurrent write of it waits;
       * an absent key cannot be locked there, so 0 is checked but not held.
       */
      op: 'check';
      kind: string;
      key: string;
      ifVersion: number;
    };

export interface Change {
  kind: string;
  key: string;
  /** The new value; undefined when the key was deleted. */
  value: unknown;
  deleted: boolean;
  /** Id of the Store instance that made the change (so a listener can tell local from remote). */
  origin: string;
  /** The entry's version after a put; absent for deletes. */
  version?: number;
}

export interface ListOptions {
  /** Only keys starting with this prefix (plain string prefix, case-sensitive). */
  prefix?: string;
  /** Stop after this many entries. */
  limit?: number;
  /** Only keys strictly greater than this (for paging). */
  after?: string;
}

export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  /** Unique id of this open store instance; appears as Change.origin. */
  readonly instanceId: string;

  get<T = unknown>(kind: string, key: string): Promise<Entry<T> | undefined>;
  /**
   * The entry's JSON text as stored, unparsed: for callers that cache something derived from an
   * entry and only need to know whether it changed (equal text, same value).
   */
  getText(kind: string, key: string): Promise<TextEntry | undefined>;
  list<T = unknown>(kind: string, options?: ListOptions): Promise<Entry<T>[]>;
  /**
   * Apply every op atomically, in order. Resolves once the batch is durable
   * (a process killed after the promise resolves loses nothing).
   * Rejects with ConflictError if any precondition fails; then nothing is written.
   */
  apply(ops: Op[]): Promise<void>;
  put(kind: string, key: string, value: unknown): Promise<void>;
  delete(kind: string, key: string): Promise<void>;

  /**
   * Every committed change, from this instance and (for PostgreSQL) from every other
   * instance sharing the database, in commit order per instance. Listeners must not throw.
   * A delete of a key that did not exist changes nothing and is not reported.
   * Local changes reach listeners before apply() resolves.
   */
  subscribe(listener: (change: Change) => void): () => void;

  /**
   * Called when changes from other instances may have been missed: the PostgreSQL
   * listener lost its connection and has just reconnected (notifications sent in the
   * gap are gone). Holders of caches built from subscribe() should reload them.
   * SQLite never calls it. Optional so test doubles need not implement it.
   */
  onResync?(listener: () => void): () => void;

  /**
   * Ids of the store instances open on this database right now (this one included), for work
   * an instance owns while it lives (a running deployment). PostgreSQL only; absent on SQLite,
   * whose single process owns everything.
   */
  liveInstances?(): Promise<Set<string>>;

  close(): Promise<void>;
}

export class ConflictError extends Error {
  constructor(
    readonly kind: string,
    readonly key: string,
    readonly reason: 'exists' | 'version' | 'missing',
  ) {
    super(`store conflict on ${kind}/${key}: ${reason}`);
    this.name = 'ConflictError';
  }
}

/**
 * The database cannot be reached right now (PostgreSQL restarting, connection cut): the operation
 * did not complete, or its outcome is unknown, and may be retried. Servers answer 503.
 */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the store is unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}
