// Per-resource endpoint secrets: what lets a program ask for the tokens of the resource it
// runs as, and of no other. A secret travels as the App Service / Machine Learning / Service
// Fabric secret header, or as the unguessable path prefix of the IMDS and Cloud Shell
// endpoints (those protocols carry no secret). Only a hash is stored; the clear value is
// returned once, when issued. A resource may hold several live secrets (one per program
// started with `mimic env --as`, like the instances of a scaled-out app); all of them stop
// working when a principal is added to or removed from the resource, as an app restart in
// Azure hands out a new one.
import { randomBytes } from 'node:crypto';
import type { Change, Op, Store } from '../../store/types.js';
import { follow } from '../../store/follow.js';
import { hashSecret } from '../../crypto/masterKey.js';
import type { HostIndex, HostRecord } from './hosts.js';
import type { ServedFlavour } from './flavours.js';

export const HOST_CREDENTIALS = 'miHostCredentials';
/** Live secrets kept per resource; issuing one more retires the oldest. */
export const MAX_SECRETS_PER_HOST = 32;

export interface StoredHostCredential {
  resourceKey: string;
  resourceId: string;
  flavour: ServedFlavour;
  /** The resource's identity fingerprint when issued; a different one means rotated. */
  fingerprint: string;
  issuedAt: string;
  /** objectId of the principal that asked for it. */
  issuedBy: string;
}

/** How many recently presented live secrets keep their hash in memory. */
const KNOWN_SECRETS_LIMIT = 4096;

export class HostCredentials {
  private readonly byHash = new Map<string, StoredHostCredential>();
  /**
   * Hashes of secrets recently presented and found live: a program asks with the same secret
   * call after call, and SHA-256 was a visible share of a cached token response. Only live
   * secrets enter, so unknown ones cannot fill it; retired ones stop matching `byHash`.
   */
  private readonly knownSecrets = new Map<string, string>();
  private unsubscribe?: () => void;
  private unlisten?: () => void;

  private constructor(
    private readonly store: Store,
    private readonly hosts: HostIndex,
  ) {}

  static async load(store: Store, hosts: HostIndex): Promise<HostCredentials> {
    const c = new HostCredentials(store, hosts);
    // Resyncs after a lost change feed drop secrets retired elsewhere meanwhile.
    const follower = follow(store, [HOST_CREDENTIALS], (ch) => c.onChange(ch), () => c.byHash.keys());
    c.unsubscribe = () => follower.close();
    for (const e of await store.list<StoredHostCredential>(HOST_CREDENTIALS)) c.byHash.set(e.key, e.value);
    c.unlisten = hosts.onIdentityChange((key) => {
      // Outside the change-feed callback: the store may still be committing the change.
      setImmediate(() => c.revoke(key).catch((err: unknown) => console.error('mimic: could not retire endpoint secrets of', key, err)));
    });
    return c;
  }

  private onChange(c: Change): void {
    if (c.kind !== HOST_CREDENTIALS) return;
    if (c.deleted) this.byHash.delete(c.key);
    else this.byHash.set(c.key, c.value as StoredHostCredential);
  }

  /** Issues a new secret for the resource; lower-case hex because MSAL lower-cases IMDS URLs. */
  async issue(host: HostRecord, flavour: ServedFlavour, issuedBy: string): Promise<string> {
    const secret = randomBytes(32).toString('hex');
    const record: StoredHostCredential = {
      resourceKey: host.key,
      resourceId: host.id,
      flavour,
      fingerprint: host.fingerprint,
      issuedAt: new Date().toISOString(),
      issuedBy,
    };
    const ops: Op[] = [{ op: 'put', kind: HOST_CREDENTIALS, key: hashSecret(secret), value: record, ifAbsent: true }];
    const mine = [...this.byHash.entries()].filter(([, v]) => v.resourceKey === host.key).sort((a, b) => a[1].issuedAt.localeCompare(b[1].issuedAt));
    for (const [hash] of mine.slice(0, Math.max(0, mine.length - MAX_SECRETS_PER_HOST + 1))) ops.push({ op: 'delete', kind: HOST_CREDENTIALS, key: hash });
    await this.store.apply(ops);
    return secret;
  }

  /**
   * The resource a secret acts for, if the secret is live for this flavour: issued for it,
   * and the resource still exists with the same identities as when it was issued.
   */
  resolve(secret: string, flavour: ServedFlavour): HostRecord | undefined {
    if (secret.length !== 64) return undefined;
    const known = this.knownSecrets.get(secret);
    const hash = known ?? hashSecret(secret);
    const record = this.byHash.get(hash);
    if (!record) {
      if (known !== undefined) this.knownSecrets.delete(secret);
      return undefined;
    }
    if (known === undefined) {
      if (this.knownSecrets.size >= KNOWN_SECRETS_LIMIT) this.knownSecrets.clear();
      this.knownSecrets.set(secret, hash);
    }
    if (record.flavour !== flavour) return undefined;
    const host = this.hosts.get(record.resourceKey);
    if (!host || host.fingerprint !== record.fingerprint) return undefined;
    return host;
  }

  /** Retires every secret of a resource (its identities changed, or it was deleted). */
  async revoke(resourceKey: string): Promise<void> {
    const ops: Op[] = [];
    for (const [hash, v] of this.byHash) if (v.resourceKey === resourceKey) ops.push({ op: 'delete', kind: HOST_CREDENTIALS, key: hash });
    if (ops.length > 0) await this.store.apply(ops);
  }

  close(): void {
    this.unsubscribe?.();
    this.unlisten?.();
  }
}
