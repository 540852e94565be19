// In-memory index of the vaults that exist, by DNS name, kept current from the store's change
// feed (this instance's writes and, with PostgreSQL, every other instance's), so routing a
// data-plane request never waits on the database.
import type { Change, Store } from '../../store/types.js';
import { follow } from '../../store/follow.js';
import { RESOURCES, type StoredResource } from '../../arm/model.js';
import { VAULT_TYPE, vaultInfoOf, type VaultInfo } from './vaultModel.js';

const VAULT_KEY = /\/providers\/microsoft\.keyvault\/vaults\/[^/]+$/;

export class VaultIndex {
  private readonly byName = new Map<string, VaultInfo>();
  /** ARM key -> vault name, to handle deletions (whose change carries no value). */
  private readonly nameByKey = new Map<string, string>();
  private unsubscribe?: () => void;

  static async load(store: Store): Promise<VaultIndex> {
    const index = new VaultIndex();
    // Resyncs after a lost change feed hand it every resource again (and deletions as deletes).
    const follower = follow(store, [RESOURCES], (c) => index.onChange(c), () => index.nameByKey.keys());
    index.unsubscribe = () => follower.close();
    for (const e of await store.list<StoredResource>(RESOURCES, { prefix: '/subscriptions/' })) {
      if (VAULT_KEY.test(e.key) && e.value.type.toLowerCase() === VAULT_TYPE) index.set(e.key, e.value);
    }
    return index;
  }

  private onChange(c: Change): void {
    if (c.kind !== RESOURCES || !VAULT_KEY.test(c.key)) return;
    if (c.deleted) {
      const name = this.nameByKey.get(c.key);
      if (name !== undefined && this.byName.get(name)?.resourceId.toLowerCase() === c.key) this.byName.delete(name);
      this.nameByKey.delete(c.key);
      return;
    }
    const doc = c.value as StoredResource;
    if (doc.type.toLowerCase() === VAULT_TYPE) this.set(c.key, doc);
  }

  private set(key: string, doc: StoredResource): void {
    const info = vaultInfoOf(doc);
    this.byName.set(info.name, info);
    this.nameByKey.set(key, info.name);
  }

  /** The vault named by a `{name}.vault.azure.net` host (lower-case, no port). */
  byHost(host: string): VaultInfo | undefined {
    const dot = host.indexOf('.');
    return dot > 0 ? this.byName.get(host.slice(0, dot)) : undefined;
  }

  byVaultName(name: string): VaultInfo | undefined {
    return this.byName.get(name.toLowerCase());
  }

  all(): VaultInfo[] {
    return [...this.byName.values()];
  }

  close(): void {
    this.unsubscribe?.();
  }
}
