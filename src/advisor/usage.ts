// The usage record: what every principal really did, as seen by every authorization decision
// (Resource Manager, Key Vault, storage, and any later service that calls `note`).
//
// The hot path (`note`) is one Map lookup and a few field updates on an in-memory aggregate
// keyed by principal, action and scope. The aggregate holds only what changed since the last
// flush; it is bounded (past the limit a flush is started, past twice the limit new keys are
// dropped and counted). Flushes run off the request path on a timer and at shutdown and ADD the
// deltas to the stored rows with a read-modify-write in one batch guarded by each row's version,
// so several instances on one PostgreSQL merge into one record (a conflict re-reads and retries).
// The stored record is bounded too: past `maxEntries` rows, new (principal, action, scope)
// triples are dropped while existing rows keep counting.
import type { Store } from '../store/types.js';
import { ConflictError } from '../store/types.js';

export const USAGE_KIND = 'advisorUsage';
export const DEFAULT_USAGE_MAX_ENTRIES = 200_000;
export const DEFAULT_USAGE_MAX_PENDING = 20_000;
export const DEFAULT_USAGE_FLUSH_MS = 2_000;
/** Granting assignments remembered per row: enough to tell which grants were used. */
const MAX_GRANTS = 8;
const FLUSH_CHUNK = 250;
const MAX_RETRIES = 8;

/** What a service tells the usage record about one decision. */
export interface UsageSink {
  /**
   * One authorization decision: `grant` is the id of the granting role assignment (or
   * `accessPolicy:{vaultId}` for a Key Vault access policy) when allowed.
   */
  note(principalId: string, action: string, isDataAction: boolean, scope: string, allowed: boolean, grant?: string): void;
}

/** The sink used until the advisor module sets up its recorder (and when modules leave it out). */
export const NO_USAGE: UsageSink = Object.freeze({ note() {} });

/** Prefix of the grant noted for a Key Vault access policy (followed by the vault id). */
export const ACCESS_POLICY_GRANT = 'accessPolicy:';

/** One stored row: a (principal, action, scope) triple's aggregate. */
export interface UsageEntry {
  principalId: string;
  action: string;
  isDataAction: boolean;
  scope: string;
  allowed: number;
  denied: number;
  /** ISO 8601 UTC. */
  firstSeen: string;
  lastSeen: string;
  /** Assignment ids that granted it (bounded). */
  grants: string[];
}

interface Pending {
  principalId: string;
  action: string;
  isDataAction: boolean;
  scope: string;
  allowed: number;
  denied: number;
  first: number;
  last: number;
  grants: string[] | undefined;
}

export interface UsageOptions {
  enabled?: boolean;
  maxEntries?: number;
  maxPending?: number;
  flushMs?: number;
}

/** The row key: lower-cased so the same triple in any letter case is one row. */
export function usageKey(principalId: string, action: string, scope: string): string {
  return `${principalId}|${action}|${scope}`.toLowerCase();
}

function addGrant(list: string[], id: string): void {
  if (list.length < MAX_GRANTS && !list.includes(id)) list.push(id);
}

function merge(stored: UsageEntry | undefined, p: Pending): UsageEntry {
  const first = new Date(p.first).toISOString();
  const last = new Date(p.last).toISOString();
  if (stored === undefined) {
    return { principalId: p.principalId.toLowerCase(), action: p.action, isDataAction: p.isDataAction, scope: p.scope, allowed: p.allowed, denied: p.denied, firstSeen: first, lastSeen: last, grants: p.grants ? [...p.grants] : [] };
  }
  const grants = [...stored.grants];
  for (const g of p.grants ?? []) addGrant(grants, g);
  return {
    ...stored,
    allowed: stored.allowed + p.allowed,
    denied: stored.denied + p.denied,
    firstSeen: first < stored.firstSeen ? first : stored.firstSeen,
    lastSeen: last > stored.lastSeen ? last : stored.lastSeen,
    grants,
  };
}

function* pendingEntries(batch: Map<string, Map<string, Map<string, Pending>>>): Generator<Pending> {
  for (const byAction of batch.values()) for (const byScope of byAction.values()) yield* byScope.values();
}

export class UsageRecorder implements UsageSink {
  /** Off: `note` returns at once (the bench compares both in one run). */
  enabled: boolean;
  private readonly maxEntries: number;
  private readonly maxPending: number;
  private readonly flushMs: number;
  /** principal -> action -> scope -> what changed since the last flush. */
  private pending = new Map<string, Map<string, Map<string, Pending>>>();
  private pendingCount = 0;
  /** Triples handed to flushes not yet written. */
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private stored = 0;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  /** Decisions not recorded because a bound was reached (since start). */
  dropped = 0;

  private constructor(
    private readonly store: Store,
    opts: UsageOptions,
  ) {
    this.enabled = opts.enabled ?? true;
    this.maxEntries = Math.max(1, opts.maxEntries ?? DEFAULT_USAGE_MAX_ENTRIES);
    this.maxPending = Math.max(1, opts.maxPending ?? DEFAULT_USAGE_MAX_PENDING);
    this.flushMs = Math.max(10, opts.flushMs ?? DEFAULT_USAGE_FLUSH_MS);
  }

  /** Opens the recorder over the store; the stored row count is followed through the change feed. */
  static async open(store: Store, opts: UsageOptions = {}): Promise<UsageRecorder> {
    const r = new UsageRecorder(store, opts);
    let counting = false;
    r.unsubscribe = store.subscribe((c) => {
      if (c.kind !== USAGE_KIND || !counting) return;
      if (c.deleted) r.stored = Math.max(0, r.stored - 1);
      else if (c.version === 1) r.stored++;
    });
    r.stored = (await store.list(USAGE_KIND)).length;
    counting = true;
    return r;
  }

  note(principalId: string, action: string, isDataAction: boolean, scope: string, allowed: boolean, grant?: string): void {
    if (!this.enabled || this.closed) return;
    // Nested maps rather than one concatenated key: no string is built, and the action (a
    // constant) and the principal hash once; only the scope string is hashed per call.
    let byAction = this.pending.get(principalId);
    if (byAction === undefined) this.pending.set(principalId, (byAction = new Map()));
    let byScope = byAction.get(action);
    if (byScope === undefined) byAction.set(action, (byScope = new Map()));
    const now = Date.now();
    let p = byScope.get(scope);
    if (p === undefined) {
      if (this.pendingCount >= this.maxPending) {
        // Past twice the bound counting batches still being written (a slow store), drop
        // rather than grow; otherwise hand this aggregate to a flush now.
        if (this.pendingCount + this.queued >= 2 * this.maxPending) {
          this.dropped++;
          return;
        }
        // The flush takes the aggregate these maps belong to: note again into the fresh one.
        void this.flush();
        return this.note(principalId, action, isDataAction, scope, allowed, grant);
      }
      p = { principalId, action, isDataAction, scope, allowed: 0, denied: 0, first: now, last: now, grants: undefined };
      byScope.set(scope, p);
      this.pendingCount++;
      this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
    }
    p.last = now;
    if (allowed) {
      p.allowed++;
      if (grant !== undefined && (p.grants === undefined || p.grants[p.grants.length - 1] !== grant)) addGrant((p.grants ??= []), grant);
    } else p.denied++;
  }

  /** Adds every pending delta to the store. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    const count = this.pendingCount;
    if (count === 0) return this.flushing;
    this.pending = new Map();
    this.pendingCount = 0;
    this.queued += count;
    this.flushing = this.flushing
      .then(() => this.write(batch))
      .catch((err: unknown) => {
        console.warn(`mimic: usage record write failed: ${(err as Error).message}`);
      })
      .finally(() => {
        this.queued -= count;
      });
    return this.flushing;
  }

  private async write(batch: Map<string, Map<string, Map<string, Pending>>>): Promise<void> {
    // Triples that differ only in letter case land in one row.
    const byKey = new Map<string, Pending[]>();
    for (const p of pendingEntries(batch)) {
      const k = usageKey(p.principalId, p.action, p.scope);
      const list = byKey.get(k);
      if (list) list.push(p);
      else byKey.set(k, [p]);
    }
    // In one global order: two instances flushing rows they share then lock them in the same
    // order, so their transactions wait for each other instead of deadlocking.
    const keys = [...byKey.keys()].sort();
    for (let i = 0; i < keys.length; i += FLUSH_CHUNK) {
      await this.writeChunk(keys.slice(i, i + FLUSH_CHUNK), byKey);
    }
  }

  private async writeChunk(keys: string[], byKey: Map<string, Pending[]>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const current = await Promise.all(keys.map((k) => this.store.get<UsageEntry>(USAGE_KIND, k)));
      let room = this.maxEntries - this.stored;
      const ops = [];
      for (let j = 0; j < keys.length; j++) {
        const entry = current[j];
        if (entry === undefined) {
          if (room <= 0) {
            this.dropped += byKey.get(keys[j]!)!.reduce((n, p) => n + p.allowed + p.denied, 0);
            continue;
          }
          room--;
        }
        let value = entry?.value;
        for (const p of byKey.get(keys[j]!)!) value = merge(value, p);
        ops.push({ op: 'put' as const, kind: USAGE_KIND, key: keys[j]!, value, ifVersion: entry?.version ?? 0 });
      }
      if (ops.length === 0) return;
      try {
        await this.store.apply(ops);
        return;
      } catch (err) {
        // Another instance added to one of these rows meanwhile: read again and re-add.
        if (!(err instanceof ConflictError) || attempt >= MAX_RETRIES) throw err;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
      }
    }
  }

  /** The stored record (after a flush), for some principals or all. */
  async read(principalIds?: readonly string[]): Promise<UsageEntry[]> {
    await this.flush();
    if (principalIds === undefined) return (await this.store.list<UsageEntry>(USAGE_KIND)).map((e) => e.value);
    const out: UsageEntry[] = [];
    for (const id of new Set(principalIds.map((p) => p.toLowerCase()))) {
      for (const e of await this.store.list<UsageEntry>(USAGE_KIND, { prefix: `${id}|` })) out.push(e.value);
    }
    return out;
  }

  /** Clears the record (every instance's rows) and what this instance has pending. */
  async reset(): Promise<number> {
    this.pending = new Map();
    this.pendingCount = 0;
    await this.flushing;
    let removed = 0;
    for (;;) {
      const rows = await this.store.list(USAGE_KIND, { limit: 500 });
      if (rows.length === 0) return removed;
      await this.store.apply(rows.map((e) => ({ op: 'delete' as const, kind: USAGE_KIND, key: e.key })));
      removed += rows.length;
    }
  }

  /** Approximate number of stored rows (every instance's). */
  size(): number {
    return this.stored;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.unsubscribe?.();
  }
}
