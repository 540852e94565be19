// The managed-identity subsystem's token cache: one token per (identity, resource), handed
// out again until it nears expiry, so a busy app does not mint a token per call. Entries of
// an identity are dropped as soon as its principal changes, is disabled or is deleted.
import { createHash } from 'node:crypto';
import type { IssuedToken } from '../tokens.js';

export interface CachedToken {
  objectId: string;
  clientId: string;
  token: IssuedToken;
  /** Pre-rendered pieces of the JSON response around the seconds-left values (filled by the protocol layer). */
  rendered?: readonly [string, string, string];
  /** The whole response body as sent during one second (epoch seconds `at`). */
  bytes?: { at: number; body: Buffer };
  /** Lower-case hex SHA-256 of the access token (what `token_sha256_to_refresh` carries). */
  sha256(): string;
}

/** Reissue once fewer than this many seconds remain, so callers never get a nearly dead token. */
export const REFRESH_MARGIN_SECONDS = 300;
export const MAX_CACHED_TOKENS = 50_000;

const SEP = '\u0000';

export class ManagedIdentityTokenCache {
  /** Insertion-ordered, so the first key is the oldest entry. */
  private readonly entries = new Map<string, CachedToken>();
  private readonly keysByPrincipal = new Map<string, Set<string>>();
  private readonly generations = new Map<string, number>();

  constructor(private readonly maxEntries = MAX_CACHED_TOKENS) {}

  get size(): number {
    return this.entries.size;
  }

  /** A cached token with more than the refresh margin left, if any. */
  get(objectId: string, resource: string, nowSeconds: number): CachedToken | undefined {
    const e = this.entries.get(objectId + SEP + resource);
    if (!e) return undefined;
    if (e.token.expiresOn - nowSeconds <= REFRESH_MARGIN_SECONDS) {
      this.delete(objectId + SEP + resource, objectId);
      return undefined;
    }
    return e;
  }

  /** Bumped whenever an identity's entries are dropped, so a token minted before that is not cached after it. */
  generation(objectId: string): number {
    return this.generations.get(objectId) ?? 0;
  }

  /**
   * Caches a token; when `generation` is given and the identity changed since it was read,
   * the entry is returned to the caller but not kept.
   */
  set(objectId: string, resource: string, clientId: string, token: IssuedToken, generation?: number): CachedToken {
    const key = objectId + SEP + resource;
    let hex: string | undefined;
    const entry: CachedToken = { objectId, clientId, token, sha256: () => (hex ??= createHash('sha256').update(token.accessToken).digest('hex')) };
    if (generation !== undefined && generation !== this.generation(objectId)) return entry;
    this.entries.delete(key);
    this.entries.set(key, entry);
    let keys = this.keysByPrincipal.get(objectId);
    if (!keys) this.keysByPrincipal.set(objectId, (keys = new Set()));
    keys.add(key);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value!;
      this.delete(oldest, this.entries.get(oldest)!.objectId);
    }
    return entry;
  }

  /** Forgets one entry (e.g. the caller reported it revoked). */
  forget(objectId: string, resource: string): void {
    this.delete(objectId + SEP + resource, objectId);
  }

  /** Forgets every token of an identity. */
  dropPrincipal(objectId: string): void {
    this.generations.set(objectId, this.generation(objectId) + 1);
    const keys = this.keysByPrincipal.get(objectId);
    if (!keys) return;
    for (const k of keys) this.entries.delete(k);
    this.keysByPrincipal.delete(objectId);
  }

  clear(): void {
    for (const objectId of this.keysByPrincipal.keys()) this.generations.set(objectId, this.generation(objectId) + 1);
    this.entries.clear();
    this.keysByPrincipal.clear();
  }

  private delete(key: string, objectId: string): void {
    this.entries.delete(key);
    const keys = this.keysByPrincipal.get(objectId);
    if (keys) {
      keys.delete(key);
      if (keys.size === 0) this.keysByPrincipal.delete(objectId);
    }
  }
}
