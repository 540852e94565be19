// In-memory view of the tenant's service principals, kept current from the store's change
// feed so token minting and authorization never wait on the database.
import type { Store, Change } from '../store/types.js';
import { follow } from '../store/follow.js';
import { PRINCIPALS, type ServicePrincipal } from './types.js';

export class Directory {
  private readonly byObjectId = new Map<string, ServicePrincipal>();
  private readonly byAppId = new Map<string, ServicePrincipal>();
  private unsubscribe?: () => void;
  private readonly listeners = new Set<(objectId: string, sp: ServicePrincipal | undefined) => void>();

  static async load(store: Store): Promise<Directory> {
    const dir = new Directory();
    // Following, not a plain subscribe: after a lost PostgreSQL change feed the principals are read
    // again, and changes arriving during any read are replayed after it, so a principal created
    // meanwhile is never dropped by a snapshot taken before it.
    const follower = follow(store, [PRINCIPALS], (c) => dir.onChange(c), () => dir.byObjectId.keys());
    dir.unsubscribe = () => follower.close();
    await follower.load();
    return dir;
  }

  private onChange(c: Change): void {
    if (c.kind !== PRINCIPALS) return;
    this.set(c.key, c.deleted ? undefined : (c.value as ServicePrincipal));
  }

  private set(key: string, sp: ServicePrincipal | undefined): void {
    const objectId = key.toLowerCase();
    const old = this.byObjectId.get(objectId);
    if (old) this.byAppId.delete(old.appId.toLowerCase());
    if (sp) {
      this.byObjectId.set(objectId, sp);
      this.byAppId.set(sp.appId.toLowerCase(), sp);
    } else {
      this.byObjectId.delete(objectId);
    }
    for (const l of this.listeners) l(objectId, sp);
  }

  /** Called with every principal added, changed or removed (e.g. to drop token caches). */
  onPrincipalChange(listener: (objectId: string, sp: ServicePrincipal | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  byObject(objectId: string): ServicePrincipal | undefined {
    return this.byObjectId.get(objectId.toLowerCase());
  }

  byApp(appId: string): ServicePrincipal | undefined {
    return this.byAppId.get(appId.toLowerCase());
  }

  all(): IterableIterator<ServicePrincipal> {
    return this.byObjectId.values();
  }

  close(): void {
    this.unsubscribe?.();
  }
}
