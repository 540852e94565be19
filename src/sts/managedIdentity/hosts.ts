// In-memory view of the resources code can run as: id, type, kind, identity block and
// creation time, fed by the store's change feed so the token endpoints never read the
// database on a request. Also tells listeners when a resource's identities change, which
// is when its endpoint secrets rotate.
import { createHash } from 'node:crypto';
import type { Change, Store } from '../../store/types.js';
import { follow } from '../../store/follow.js';
import { RESOURCES, type StoredIdentity, type StoredResource } from '../../arm/model.js';
import { keyOf } from '../../arm/ids.js';

export interface HostRecord {
  key: string;
  id: string;
  name: string;
  type: string;
  kind?: string;
  identity?: StoredIdentity;
  /** Changes whenever a principal is added to or removed from the resource, or it is re-created. */
  fingerprint: string;
}

type HostListener = (key: string, host: HostRecord | undefined) => void;

export function identityFingerprint(doc: Pick<StoredResource, 'identity' | 'systemData'>): string {
  const users = Object.keys(doc.identity?.userAssignedIdentities ?? {})
    .map((id) => keyOf(id))
    .sort();
  return createHash('sha256')
    .update(`${doc.systemData?.createdAt ?? ''}|${doc.identity?.principalId ?? ''}|${users.join(',')}`)
    .digest('base64url')
    .slice(0, 22);
}

function toHost(key: string, doc: StoredResource): HostRecord {
  return { key, id: doc.id, name: doc.name, type: doc.type, kind: doc.kind, identity: doc.identity, fingerprint: identityFingerprint(doc) };
}

export class HostIndex {
  private readonly hosts = new Map<string, HostRecord>();
  private readonly listeners = new Set<HostListener>();
  private unsubscribe?: () => void;

  static async load(store: Store): Promise<HostIndex> {
    const index = new HostIndex();
    // Subscribe first so no change slips between the listing and the feed.
    // Resyncs after a lost change feed hand it every resource again (and deletions as deletes).
    const follower = follow(store, [RESOURCES], (c) => index.onChange(c), () => index.hosts.keys());
    index.unsubscribe = () => follower.close();
    for (const e of await store.list<StoredResource>(RESOURCES)) {
      if (!index.hosts.has(e.key)) index.hosts.set(e.key, toHost(e.key, e.value));
    }
    return index;
  }

  private onChange(c: Change): void {
    if (c.kind !== RESOURCES) return;
    const before = this.hosts.get(c.key);
    const after = c.deleted ? undefined : toHost(c.key, c.value as StoredResource);
    if (after) this.hosts.set(c.key, after);
    else this.hosts.delete(c.key);
    if (before && before.fingerprint !== after?.fingerprint) for (const l of this.listeners) l(c.key, after);
  }

  /** Called when a resource's set of identities changed or the resource went away. */
  onIdentityChange(listener: HostListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(key: string): HostRecord | undefined {
    return this.hosts.get(key);
  }

  byId(id: string): HostRecord | undefined {
    return this.hosts.get(keyOf(id));
  }

  /** Resources whose name matches (case-insensitively), for `--as NAME`. */
  byName(name: string): HostRecord[] {
    const lower = name.toLowerCase();
    return [...this.hosts.values()].filter((h) => h.name.toLowerCase() === lower);
  }

  close(): void {
    this.unsubscribe?.();
  }
}
