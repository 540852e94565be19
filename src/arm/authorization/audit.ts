// The audit log: every refused authorization decision and every change to roles, assignments,
// deny assignments and app registrations, with who, what, where, when and the outcome; and
// every decision, granted or not, on a request whose token belongs to a principal deleted or
// disabled since it was issued (Azure keeps such tokens valid until they expire).
//
// Entries are written in small batches off the request path (recording never blocks or fails
// a request) under time-ordered keys, so listing is chronological. The size is bounded: the
// entry count is followed through the change feed (entries from every instance), and once it
// passes the limit by a batch the oldest entries are deleted in one go.
import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/types.js';
import type { PrincipalState } from '../../sts/tokens.js';

export const AUDIT_LOG = 'auditLog';
export const DEFAULT_AUDIT_MAX_ENTRIES = 10_000;

export type AuditCategory = 'AccessDenied' | 'AccessGranted' | 'RoleAssignment' | 'RoleDefinition' | 'DenyAssignment' | 'Application';
export type AuditResult = 'Denied' | 'Succeeded' | 'Failed';

export interface AuditEntry {
  id: string;
  /** ISO 8601, UTC. */
  time: string;
  category: AuditCategory;
  /** The action asked for or performed, e.g. `Microsoft.Authorization/roleAssignments/write`. */
  operation: string;
  result: AuditResult;
  caller: { objectId: string; appId: string };
  scope: string;
  /** Id of the object changed (assignment, role definition, ...), when there is one. */
  target?: string;
  /** The principal a role assignment is for. */
  principalId?: string;
  roleDefinitionId?: string;
  roleName?: string;
  /** Decision reason or Azure error code. */
  reason?: string;
  message?: string;
  /** Set when the caller's token belongs to a principal deleted or disabled since it was issued. */
  principalState?: PrincipalState;
  /** What the entry means, when it needs saying (e.g. why a deleted principal's token still works). */
  note?: string;
  /** Store instance that recorded the entry. */
  instance: string;
}

export type AuditRecord = Omit<AuditEntry, 'id' | 'time' | 'instance'>;

/** Why a token of a deleted or disabled principal still works (audit notes and `mimic role check`). */
export const GONE_PRINCIPAL_TOKENS =
  'as in Azure, access tokens already issued to it stay valid until they expire, and its role assignments stay, orphaned; start Mimic with --revoke-deleted-principals to refuse such tokens at once.';

/** The fields an entry carries when the caller's principal is gone. */
export function principalStateFields(state: PrincipalState): Pick<AuditEntry, 'principalState' | 'note'> {
  const what = state === 'deleted' ? 'was deleted' : 'was disabled (a system-assigned identity turned off, or its resource deleted)';
  return { principalState: state, note: `The token's principal ${what} after the token was issued: ${GONE_PRINCIPAL_TOKENS}` };
}

/**
 * A data plane's decision on a request whose token belongs to a deleted or disabled principal:
 * recorded granted or refused, so the log shows such a token at work. Other decisions of the
 * data planes are not recorded (their volume would drown the log).
 */
export function recordGonePrincipalAccess(
  audit: AuditLog | undefined,
  a: { caller: { objectId: string; appId: string }; principalState: PrincipalState; action: string; scope: string; allowed: boolean; reason?: string },
): void {
  audit?.record({
    category: a.allowed ? 'AccessGranted' : 'AccessDenied',
    operation: a.action,
    result: a.allowed ? 'Succeeded' : 'Denied',
    caller: a.caller,
    scope: a.scope,
    ...(a.reason ? { reason: a.reason } : {}),
    ...principalStateFields(a.principalState),
  });
}

export interface AuditQuery {
  /** Only entries at or below this scope. */
  scope?: string;
  since?: Date;
  principalId?: string;
  category?: AuditCategory;
  result?: AuditResult;
  /** The newest N (default 100). */
  top?: number;
}

export interface AuditOptions {
  maxEntries?: number;
  /** Entries over the limit tolerated before a trim (default: a twentieth of the limit). */
  trimBatch?: number;
  flushDelayMs?: number;
}

const KEY_TIME_DIGITS = 15;

export class AuditLog {
  private readonly maxEntries: number;
  private readonly trimBatch: number;
  private readonly flushDelayMs: number;
  private readonly prefix = randomBytes(3).toString('hex');
  private sequence = 0;
  private pending: AuditEntry[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private trimming = false;
  private count = 0;
  private unsubscribe?: () => void;
  private closed = false;

  private constructor(
    private readonly store: Store,
    opts: AuditOptions,
  ) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? DEFAULT_AUDIT_MAX_ENTRIES);
    this.trimBatch = Math.max(1, opts.trimBatch ?? Math.ceil(this.maxEntries / 20));
    this.flushDelayMs = opts.flushDelayMs ?? 50;
  }

  static async open(store: Store, opts: AuditOptions = {}): Promise<AuditLog> {
    const log = new AuditLog(store, opts);
    let counting = false;
    log.unsubscribe = store.subscribe((c) => {
      if (c.kind !== AUDIT_LOG || !counting) return;
      if (c.deleted) log.count--;
      else if (c.version === 1) log.count++;
    });
    log.count = (await store.list(AUDIT_LOG)).length;
    counting = true;
    return log;
  }

  /** Queues an entry; it reaches the store within the flush delay. */
  record(r: AuditRecord): void {
    if (this.closed) return;
    const now = Date.now();
    const key = `${String(now).padStart(KEY_TIME_DIGITS, '0')}-${this.prefix}-${(this.sequence++ % 1e6).toString().padStart(6, '0')}`;
    this.pending.push({ ...r, id: key, time: new Date(now).toISOString(), instance: this.store.instanceId });
    if (this.pending.length >= 200) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushDelayMs);
  }

  /** Writes every queued entry (and trims when over the limit). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length > 0) {
        try {
          await this.store.apply(batch.map((e) => ({ op: 'put' as const, kind: AUDIT_LOG, key: e.id, value: e })));
        } catch (err) {
          console.warn(`mimic: audit log write failed: ${(err as Error).message}`);
        }
      }
      await this.trimIfNeeded();
    });
    return this.flushing;
  }

  /** Approximate number of stored entries (every instance's). */
  size(): number {
    return this.count;
  }

  async query(q: AuditQuery = {}): Promise<AuditEntry[]> {
    await this.flush();
    const after = q.since ? String(q.since.getTime() - 1).padStart(KEY_TIME_DIGITS, '0') + '~' : undefined;
    const entries = (await this.store.list<AuditEntry>(AUDIT_LOG, after ? { after } : {})).map((e) => e.value);
    const scope = q.scope ? normalize(q.scope) : undefined;
    const principal = q.principalId?.toLowerCase();
    const out = entries.filter(
      (e) =>
        (!scope || scope === '/' || within(normalize(e.scope), scope)) &&
        (!principal || e.principalId?.toLowerCase() === principal || e.caller.objectId.toLowerCase() === principal) &&
        (!q.category || e.category === q.category) &&
        (!q.result || e.result === q.result),
    );
    const top = q.top ?? 100;
    return top >= out.length ? out : out.slice(out.length - top);
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.unsubscribe?.();
  }

  private async trimIfNeeded(): Promise<void> {
    if (this.trimming || this.count <= this.maxEntries + this.trimBatch) return;
    this.trimming = true;
    try {
      const excess = this.count - this.maxEntries;
      const oldest = await this.store.list(AUDIT_LOG, { limit: excess });
      // Deleting a key another instance already trimmed is a no-op, so concurrent trims are safe.
      await this.store.apply(oldest.map((e) => ({ op: 'delete' as const, kind: AUDIT_LOG, key: e.key })));
    } catch (err) {
      console.warn(`mimic: audit log trim failed: ${(err as Error).message}`);
    } finally {
      this.trimming = false;
    }
  }
}

function normalize(scope: string): string {
  const s = scope.toLowerCase().replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  return s === '' ? '/' : s;
}

function within(scope: string, ancestor: string): boolean {
  return scope === ancestor || scope.startsWith(ancestor + '/');
}
