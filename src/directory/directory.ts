// In-memory view of the tenant's service principals, kept current from the store's change
// feed so token minting and authorization never wait on the database.
import type { Store, Change } from '../store/types.js';
import { PRINCIPALS, type ServicePrincipal } from './types.js';

export class Directory {
  private readonly byObjectId = new Map<string, ServicePrincipal>();
  private readonly byAppId = new Map<string, ServicePrincipal>();
  private unsubscribe?: () => void;
  private readonly listeners = new Set<(objectId: string, sp: ServicePrincipal | undefined) => void>();

  static async load(store: Store): Promise<Directory> {
    const dir = new Directory();
    // Subscribe before the initial read so no change slips between the two.
    dir.unsubscribe = store.subscribe((c) => dir.onChange(c));
    // Notifications missed while a PostgreSQL listener reconnected: read everything again.
    const unresync = store.onResync?.(() => void dir.reload(store));
    const unsub = dir.unsubscribe;
    dir.unsubscribe = () => {
      unsub();
      unresync?.();
    };
    await dir.reload(store);
    return dir;
  }

  private async reload(store: Store): Promise<void> {
    const entries = await store.list<ServicePrincipal>(PRINCIPALS);
    const present = new Set(entries.map((e) => e.key));
    for (const key of [...this.byObjectId.keys()]) if (!present.has(key)) this.set(key, undefined);
    for (const e of entries) this.set(e.key, e.value);
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
