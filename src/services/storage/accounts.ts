// In-memory index of the storage accounts Mimic hosts, fed by the store's change feed: the
// ARM resource (name, scope, settings that change how requests are admitted) joined with the
// account keys (sealed at rest in the `storageAccountKeys` kind). The gate and the emulator
// read it on every request, so nothing here touches the database on the hot path.
import { follow } from '../../store/follow.js';
import { randomBytes } from 'node:crypto';
import type { Change, Op, Store } from '../../store/types.js';
import type { Sealer } from '../../crypto/masterKey.js';
import { RESOURCES, type StoredResource } from '../../arm/model.js';
import { keyOf, parseResourceId } from '../../arm/ids.js';

export const STORAGE_ACCOUNT_TYPE = 'microsoft.storage/storageaccounts';
export const STORAGE_KEYS = 'storageAccountKeys';
export const KEY_NAMES = ['key1', 'key2'] as const;
export type KeyName = (typeof KEY_NAMES)[number];

export interface StoredAccountKey {
  keyName: KeyName;
  /** The key (64 random bytes, base64) sealed under the master key. */
  sealed: string;
  creationTime: string;
}

export interface StoredAccountKeys {
  accountId: string;
  keys: StoredAccountKey[];
}

export interface AccountKey {
  keyName: KeyName;
  value: string;
  bytes: Buffer;
  creationTime: string;
}

export interface StorageAccount {
  name: string;
  /** ARM id as stored. */
  id: string;
  /** Store key (lower-cased id). */
  key: string;
  subscriptionId: string;
  resourceGroup: string;
  /** false only when the account explicitly refuses Shared Key (and account-key SAS). */
  allowSharedKeyAccess: boolean;
  allowBlobPublicAccess: boolean;
  isHnsEnabled: boolean;
}

function sealContext(accountKey: string, keyName: string): string {
  return `storagekey/${accountKey}/${keyName}`;
}

export function newAccountKeys(sealer: Sealer, accountKey: string, accountId: string, previous?: StoredAccountKeys, regenerate?: KeyName): StoredAccountKeys {
  const now = new Date().toISOString();
  const keys = KEY_NAMES.map((keyName): StoredAccountKey => {
    const old = previous?.keys.find((k) => k.keyName === keyName);
    if (old && keyName !== regenerate) return old;
    return { keyName, sealed: sealer.seal(randomBytes(64).toString('base64'), sealContext(accountKey, keyName)), creationTime: now };
  });
  return { accountId, keys };
}

export function keysOp(accountKey: string, value: StoredAccountKeys): Op {
  return { op: 'put', kind: STORAGE_KEYS, key: accountKey, value };
}

function toAccount(key: string, doc: StoredResource): StorageAccount | undefined {
  const r = parseResourceId(doc.id);
  if (!r) return undefined;
  const p = (doc.properties ?? {}) as Record<string, unknown>;
  return {
    name: doc.name.toLowerCase(),
    id: doc.id,
    key,
    subscriptionId: r.subscriptionId,
    resourceGroup: r.resourceGroup,
    allowSharedKeyAccess: p.allowSharedKeyAccess !== false,
    allowBlobPublicAccess: p.allowBlobPublicAccess === true,
    isHnsEnabled: p.isHnsEnabled === true,
  };
}

export class StorageAccounts {
  private readonly byName = new Map<string, StorageAccount>();
  private readonly nameByKey = new Map<string, string>();
  private readonly keys = new Map<string, AccountKey[]>();
  private readonly listeners = new Set<(name: string, account: StorageAccount | undefined) => void>();
  private unsubscribe?: () => void;

  private constructor(
    private readonly store: Store,
    private readonly sealer: Sealer,
  ) {}

  static async load(store: Store, sealer: Sealer): Promise<StorageAccounts> {
    const a = new StorageAccounts(store, sealer);
    // Following: read again after a lost PostgreSQL change feed, with changes that arrive during a
    // read replayed after it (a key regenerated meanwhile is not set back to the older snapshot).
    const follower = follow(store, [STORAGE_KEYS, RESOURCES], (c) => a.onChange(c), (kind) => (kind === STORAGE_KEYS ? a.keys.keys() : a.nameByKey.keys()));
    a.unsubscribe = () => follower.close();
    await follower.load();
    return a;
  }

  private onChange(c: Change): void {
    if (c.kind === STORAGE_KEYS) this.setKeys(c.key, c.deleted ? undefined : (c.value as StoredAccountKeys));
    else if (c.kind === RESOURCES) {
      if (c.deleted) {
        if (this.nameByKey.has(c.key)) this.setAccount(c.key, undefined);
      } else if ((c.value as StoredResource).type?.toLowerCase() === STORAGE_ACCOUNT_TYPE) {
        this.setAccount(c.key, c.value as StoredResource);
      }
    }
  }

  private setKeys(accountKey: string, value: StoredAccountKeys | undefined): void {
    if (!value) {
      this.keys.delete(accountKey);
      return;
    }
    this.keys.set(
      accountKey,
      value.keys.map((k) => {
        const text = this.sealer.open(k.sealed, sealContext(accountKey, k.keyName)).toString('utf8');
        return { keyName: k.keyName, value: text, bytes: Buffer.from(text, 'base64'), creationTime: k.creationTime };
      }),
    );
  }

  private setAccount(key: string, doc: StoredResource | undefined): void {
    const oldName = this.nameByKey.get(key);
    if (oldName) {
      this.byName.delete(oldName);
      this.nameByKey.delete(key);
    }
    const account = doc ? toAccount(key, doc) : undefined;
    if (account) {
      this.byName.set(account.name, account);
      this.nameByKey.set(key, account.name);
    }
    const name = account?.name ?? oldName;
    if (name) for (const l of this.listeners) l(name, account);
  }

  /** Called with every account added, changed or removed. */
  onAccountChange(listener: (name: string, account: StorageAccount | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(name: string): StorageAccount | undefined {
    return this.byName.get(name);
  }

  all(): IterableIterator<StorageAccount> {
    return this.byName.values();
  }

  keysOf(account: StorageAccount | string): AccountKey[] {
    const k = typeof account === 'string' ? keyOf(account) : account.key;
    return this.keys.get(k) ?? [];
  }

  /** key1 (what Mimic signs its own emulator calls with). */
  primaryKey(account: StorageAccount): Buffer | undefined {
    return this.keysOf(account)[0]?.bytes;
  }

  close(): void {
    this.unsubscribe?.();
  }
}
