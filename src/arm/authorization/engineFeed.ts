// Keeps the RBAC engine and an in-memory mirror of the authorization documents current from
// the store's change feed: the initial load at start, then every change made by this
// instance or (through PostgreSQL NOTIFY) by any other instance on the same database.
// The API handlers read the mirror, so listing assignments never waits on the database.
import type { Change, Store } from '../../store/types.js';
import { follow } from '../../store/follow.js';
import type { AuthzEngine } from '../../authz/index.js';
import {
  CUSTOM_ROLES,
  DENY_ASSIGNMENTS,
  ROLE_ASSIGNMENTS,
  type StoredDenyAssignment,
  type StoredRoleAssignment,
  type StoredRoleDefinition,
} from './model.js';

export type FeedListener = (kind: string, key: string, value: unknown) => void;

export class AuthzFeed {
  /** By store key (`keyOf(id)`). */
  readonly assignments = new Map<string, StoredRoleAssignment>();
  /** By role GUID (lower-case). */
  readonly customRoles = new Map<string, StoredRoleDefinition>();
  /** By store key (`keyOf(id)`). */
  readonly denyAssignments = new Map<string, StoredDenyAssignment>();
  private readonly builtinGuids: ReadonlySet<string>;
  private readonly listeners = new Set<FeedListener>();
  private unsubscribe?: () => void;

  private constructor(
    private readonly engine: AuthzEngine,
    private readonly warn: (message: string) => void,
  ) {
    this.builtinGuids = new Set(engine.roleDefinitions().filter((r) => r.roleType === 'BuiltInRole').map((r) => r.name.toLowerCase()));
  }

  static async start(store: Store, engine: AuthzEngine, warn: (message: string) => void = (m) => console.warn(`mimic: ${m}`)): Promise<AuthzFeed> {
    const feed = new AuthzFeed(engine, warn);
    // Changes that arrive while the initial lists are read are replayed after them, in
    // order, so the last word on every key is the newest one.
    let pending: Change[] | undefined = [];
    // After a lost change feed (PostgreSQL listener reconnected) the kinds are read again: an
    // assignment removed on another instance meanwhile must stop granting here too.
    const follower = follow(store, [CUSTOM_ROLES, ROLE_ASSIGNMENTS, DENY_ASSIGNMENTS], (c) => {
      if (pending) pending.push(c);
      else feed.applySafely(c.kind, c.key, c.deleted ? undefined : c.value);
    }, (kind) => feed.keysOf(kind));
    feed.unsubscribe = () => follower.close();
    try {
      // Roles first so assignments find their definitions.
      for (const e of await store.list(CUSTOM_ROLES)) feed.applySafely(CUSTOM_ROLES, e.key, e.value);
      for (const kind of [ROLE_ASSIGNMENTS, DENY_ASSIGNMENTS]) {
        for (const e of await store.list(kind)) feed.applySafely(kind, e.key, e.value);
      }
    } catch (err) {
      feed.close();
      throw err;
    }
    const replay = pending;
    pending = undefined;
    for (const c of replay) feed.applySafely(c.kind, c.key, c.deleted ? undefined : c.value);
    return feed;
  }

  /** Called after every applied change (e.g. to drop caches). */
  onChange(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The store keys held for a kind. */
  private keysOf(kind: string): Iterable<string> {
    if (kind === CUSTOM_ROLES) return this.customRoles.keys();
    if (kind === ROLE_ASSIGNMENTS) return this.assignments.keys();
    if (kind === DENY_ASSIGNMENTS) return this.denyAssignments.keys();
    return [];
  }

  isBuiltinRole(guid: string): boolean {
    return this.builtinGuids.has(guid.toLowerCase());
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** A bad document (e.g. a condition the engine refuses) must not stop the feed. */
  private applySafely(kind: string, key: string, value: unknown): void {
    try {
      this.apply(kind, key, value);
    } catch (err) {
      this.warn(`authorization feed: cannot apply ${kind}/${key}: ${(err as Error).message}`);
    }
    for (const l of this.listeners) {
      try {
        l(kind, key, value);
      } catch (err) {
        this.warn(`authorization feed listener failed: ${(err as Error).message}`);
      }
    }
  }

  private apply(kind: string, key: string, value: unknown): void {
    switch (kind) {
      case CUSTOM_ROLES: {
        if (this.builtinGuids.has(key)) return; // never shadow a built-in role
        if (value === undefined) {
          this.customRoles.delete(key);
          this.engine.removeRoleDefinition(key);
        } else {
          const def = value as StoredRoleDefinition;
          this.customRoles.set(key, def);
          this.engine.upsertRoleDefinition(def);
        }
        return;
      }
      case ROLE_ASSIGNMENTS: {
        const previous = this.assignments.get(key);
        if (value === undefined) {
          this.assignments.delete(key);
          if (previous) this.engine.removeRoleAssignment(previous.id);
        } else {
          const a = value as StoredRoleAssignment;
          this.assignments.set(key, a);
          if (previous && previous.id.toLowerCase() !== a.id.toLowerCase()) this.engine.removeRoleAssignment(previous.id);
          try {
            this.engine.upsertRoleAssignment(a);
          } catch (err) {
            // Fail closed: an assignment whose condition cannot be compiled grants nothing.
            this.engine.removeRoleAssignment(a.id);
            throw err;
          }
        }
        return;
      }
      case DENY_ASSIGNMENTS: {
        const previous = this.denyAssignments.get(key);
        if (value === undefined) {
          this.denyAssignments.delete(key);
          if (previous) this.engine.removeDenyAssignment(previous.id);
        } else {
          const d = value as StoredDenyAssignment;
          this.denyAssignments.set(key, d);
          this.engine.upsertDenyAssignment(d);
        }
        return;
      }
    }
  }
}
