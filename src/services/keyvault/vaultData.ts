// Reads and writes of vault contents in the store (see records.ts for the layout). Writes
// that touch an item's object record carry its version as a precondition, so concurrent
// writers (also in other instances sharing PostgreSQL) never lose each other's versions.
import { randomUUID } from 'node:crypto';
import { ConflictError, type Entry, type Op, type Store } from '../../store/types.js';
import { DerivedCache } from '../../store/derived.js';
import { KV_OBJECTS, KV_VERSIONS, objectKey, versionKey, type Collection, type ObjectRecord, type VersionRecord } from './records.js';

const MAX_ATTEMPTS = 8;

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Key Vault version ids: 32 lower-case hex digits. */
export const newVersionId = () => randomUUID().replace(/-/g, '');

export interface ItemRef {
  vault: string;
  coll: Collection;
  name: string;
}

/** A parsed record shared between reads, so frozen: a change goes into a copy. */
function frozenEntry<T>(e: Entry): Entry<T> {
  return Object.freeze({ key: e.key, value: deepFreeze(e.value) as T, version: e.version });
}

function deepFreeze(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

export class VaultData {
  // Records are read on every data-plane request: each is parsed once per stored text, and the
  // same (frozen) object is handed out until the record changes.
  private readonly objectRecords: DerivedCache<Entry<ObjectRecord>>;
  private readonly versionRecords: DerivedCache<Entry<VersionRecord>>;

  constructor(readonly store: Store) {
    this.objectRecords = new DerivedCache(store, KV_OBJECTS, (e) => frozenEntry<ObjectRecord>(e));
    this.versionRecords = new DerivedCache(store, KV_VERSIONS, (e) => frozenEntry<VersionRecord>(e));
  }

  /**
   * The object record (frozen: copy it to change it); an expired soft-deleted item is purged on
   * the way (as the retention period ends).
   */
  async object(ref: ItemRef): Promise<Entry<ObjectRecord> | undefined> {
    const e = await this.objectRecords.get(objectKey(ref.vault, ref.coll, ref.name));
    if (e?.value.deleted && e.value.deleted.scheduledPurgeDate <= nowSeconds()) {
      await this.store.apply(await this.purgeOps(ref)).catch(() => undefined);
      return undefined;
    }
    return e;
  }

  /** A version record (frozen: copy it to change it; the same object until the record changes). */
  async version(ref: ItemRef, version: string): Promise<VersionRecord | undefined> {
    return (await this.versionRecords.get(versionKey(ref.vault, ref.coll, ref.name, version)))?.value;
  }

  async versions(ref: ItemRef): Promise<VersionRecord[]> {
    return (await this.store.list<VersionRecord>(KV_VERSIONS, { prefix: objectKey(ref.vault, ref.coll, ref.name) + '/' })).map((e) => e.value);
  }

  /** Object records of a collection in key order, for paging (`after` is a store key). */
  async objects(vault: string, coll: Collection, opts: { after?: string; limit?: number } = {}): Promise<Entry<ObjectRecord>[]> {
    return this.store.list<ObjectRecord>(KV_OBJECTS, { prefix: `${vault}/${coll}/`, after: opts.after, limit: opts.limit });
  }

  /** Ops that remove an item and all its versions. */
  async purgeOps(ref: ItemRef): Promise<Op[]> {
    const ops: Op[] = (await this.store.list(KV_VERSIONS, { prefix: objectKey(ref.vault, ref.coll, ref.name) + '/' })).map((e) => ({ op: 'delete', kind: KV_VERSIONS, key: e.key }));
    ops.push({ op: 'delete', kind: KV_OBJECTS, key: objectKey(ref.vault, ref.coll, ref.name) });
    return ops;
  }

  /** Ops that remove everything a vault holds. */
  async vaultPurgeOps(vault: string): Promise<Op[]> {
    const ops: Op[] = [];
    for (const kind of [KV_VERSIONS, KV_OBJECTS]) {
      for (const e of await this.store.list(kind, { prefix: `${vault}/` })) ops.push({ op: 'delete', kind, key: e.key });
    }
    return ops;
  }

  /**
   * Read-modify-write of one object record with optimistic concurrency. `change` gets the
   * current entry (undefined when absent) and returns the new record plus extra ops, or
   * throws to abort. Retries when another writer got there first.
   */
  async update<T>(ref: ItemRef, change: (current: Entry<ObjectRecord> | undefined) => Promise<{ record?: ObjectRecord; remove?: boolean; ops?: Op[]; result: T }>): Promise<T> {
    const key = objectKey(ref.vault, ref.coll, ref.name);
    for (let attempt = 1; ; attempt++) {
      const current = await this.object(ref);
      const { record, remove, ops = [], result } = await change(current);
      const all: Op[] = [...ops];
      if (remove) all.push({ op: 'delete', kind: KV_OBJECTS, key });
      else if (record) all.push({ op: 'put', kind: KV_OBJECTS, key, value: record, ifVersion: current?.version ?? 0 });
      try {
        await this.store.apply(all);
        return result;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  putVersionOp(ref: ItemRef, rec: VersionRecord, opts: { mustBeNew?: boolean } = {}): Op {
    return { op: 'put', kind: KV_VERSIONS, key: versionKey(ref.vault, ref.coll, ref.name, rec.version), value: rec, ...(opts.mustBeNew ? { ifAbsent: true } : {}) };
  }
}
