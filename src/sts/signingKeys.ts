// The tenant's token-signing keys: RSA-2048, kept in the store with the private half sealed
// under the master key, shared by every instance on the database, rotated without breaking
// tokens already issued (old keys stay published until they retire).
import { follow } from '../store/follow.js';
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Store, Change } from '../store/types.js';
import type { Sealer } from '../crypto/masterKey.js';

const generateKeyPairAsync = promisify(generateKeyPair);
export const SIGNING_KEYS = 'signingKeys';

export interface StoredSigningKey {
  kid: string;
  publicKeyPem: string;
  sealedPrivateKey: string;
  createdAt: string;
}

interface LoadedKey {
  kid: string;
  createdAt: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

export class KeyRing {
  private readonly keys = new Map<string, LoadedKey>();
  private activeKey?: LoadedKey;
  private unsubscribe?: () => void;
  private readonly removedListeners = new Set<() => void>();

  private constructor(
    private readonly store: Store,
    private readonly sealer: Sealer,
  ) {}

  static async load(store: Store, sealer: Sealer): Promise<KeyRing> {
    const ring = new KeyRing(store, sealer);
    // Following: keys added or removed elsewhere while a PostgreSQL listener reconnected are read
    // again, and a removal arriving during a read is not undone by that read's older snapshot.
    const follower = follow(store, [SIGNING_KEYS], (c) => ring.onChange(c), () => ring.keys.keys());
    ring.unsubscribe = () => follower.close();
    await follower.load();
    if (ring.keys.size === 0) await ring.rotate();
    return ring;
  }

  private onChange(c: Change): void {
    if (c.kind !== SIGNING_KEYS) return;
    if (c.deleted) {
      this.keys.delete(c.key);
      this.pickActive();
      for (const l of this.removedListeners) l();
    } else {
      this.add(c.value as StoredSigningKey);
    }
  }

  private add(stored: StoredSigningKey): void {
    if (this.keys.has(stored.kid)) return;
    const publicKey = createPublicKey(stored.publicKeyPem);
    const privateKey = createPrivateKey(this.sealer.open(stored.sealedPrivateKey, `${SIGNING_KEYS}/${stored.kid}`));
    const jwk = { kty: 'RSA', use: 'sig', kid: stored.kid, x5t: stored.kid, ...publicKey.export({ format: 'jwk' }), alg: 'RS256' };
    this.keys.set(stored.kid, { kid: stored.kid, createdAt: stored.createdAt, publicKey, privateKey, jwk });
    this.pickActive();
  }

  private pickActive(): void {
    let best: LoadedKey | undefined;
    for (const k of this.keys.values()) if (!best || k.createdAt > best.createdAt) best = k;
    this.activeKey = best;
  }

  /** Adds a new key and makes it the one that signs; earlier keys keep verifying. */
  async rotate(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    // Entra publishes kid == x5t; we derive both from the public key.
    const kid = createHash('sha1').update(spki).digest('base64url');
    const stored: StoredSigningKey = {
      kid,
      publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      sealedPrivateKey: this.sealer.seal(privateKey.export({ format: 'pem', type: 'pkcs8' }), `${SIGNING_KEYS}/${kid}`),
      createdAt: new Date().toISOString(),
    };
    await this.store.apply([{ op: 'put', kind: SIGNING_KEYS, key: kid, value: stored }]);
    this.add(stored);
    return kid;
  }

  /** Removes a key: tokens it signed stop verifying everywhere. */
  async retire(kid: string): Promise<void> {
    await this.store.delete(SIGNING_KEYS, kid);
  }

  onKeyRemoved(listener: () => void): void {
    this.removedListeners.add(listener);
  }

  active(): { kid: string; privateKey: KeyObject } {
    if (!this.activeKey) throw new Error('no signing key');
    return this.activeKey;
  }

  publicKey(kid: string): KeyObject | undefined {
    return this.keys.get(kid)?.publicKey;
  }

  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [...this.keys.values()].map((k) => k.jwk) };
  }

  close(): void {
    this.unsubscribe?.();
  }
}
