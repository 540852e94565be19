// The managed-identity subsystem shared by every endpoint flavour: picks the identity a
// request asks for, checks the audience with the token service's rules, and serves the
// cached token or mints a v1 managed-identity token (about a day long).
import type { Directory } from '../../directory/directory.js';
import type { ResourceRegistry } from '../resources.js';
import { MANAGED_IDENTITY_TOKEN_LIFETIME, type TokenService } from '../tokens.js';
import type { HostRecord } from './hosts.js';
import { assignedIdentities, selectIdentity, type AssignedIdentity, type IdentitySelector, type Selection } from './selection.js';
import type { CachedToken, ManagedIdentityTokenCache } from './tokenCache.js';

export type IdentityFailure =
  | { kind: 'noIdentity' }
  | { kind: 'multipleUserAssigned' }
  | { kind: 'identityNotFound' }
  | { kind: 'unknownResource'; resource: string }
  | { kind: 'disabled'; appId: string };

export type TokenOutcome = { ok: true; entry: CachedToken; identity: AssignedIdentity } | { ok: false; failure: IdentityFailure };

export interface AcquireOptions {
  /** Hex SHA-256 of a token the caller found revoked: if it is the cached one, mint anew. */
  refreshSha256?: string;
  now?: number;
}

export class ManagedIdentityTokens {
  private readonly inflight = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly directory: Directory,
    private readonly tokens: TokenService,
    private readonly resources: ResourceRegistry,
    readonly cache: ManagedIdentityTokenCache,
  ) {}

  identitiesOf(host: HostRecord): AssignedIdentity[] {
    return assignedIdentities(host, (oid) => this.directory.byObject(oid));
  }

  /**
   * The answer when it needs no signature: the cached token, or why no token can be had for
   * this selection. Undefined when a token must be minted (then call acquire).
   */
  cachedOutcome(host: HostRecord, selector: IdentitySelector, resource: string, opts: AcquireOptions = {}): TokenOutcome | undefined {
    const selection = selectIdentity(this.identitiesOf(host), selector);
    return selection.ok ? this.fromCache(selection.identity, resource, opts) : notSelected(selection);
  }

  async acquire(host: HostRecord, selector: IdentitySelector, resource: string, opts: AcquireOptions = {}): Promise<TokenOutcome> {
    const selection = selectIdentity(this.identitiesOf(host), selector);
    if (!selection.ok) return notSelected(selection);
    const cached = this.fromCache(selection.identity, resource, opts);
    if (cached) return cached;
    const sp = selection.identity.principal;
    // A cached token the caller reported revoked is replaced.
    this.cache.forget(sp.objectId, resource);
    // Entra checks these when the subsystem asks it for a token, i.e. on a cache miss.
    if (!this.resources.isKnown(resource)) return { ok: false, failure: { kind: 'unknownResource', resource } };
    if (!sp.accountEnabled) return { ok: false, failure: { kind: 'disabled', appId: sp.appId } };
    // Concurrent misses for the same identity and resource share one signature (never across a change of the identity).
    const generation = this.cache.generation(sp.objectId);
    const key = `${sp.objectId}\u0000${resource}\u0000${generation}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.tokens
        .mintAsync(sp, { resource, lifetimeSeconds: MANAGED_IDENTITY_TOKEN_LIFETIME, appidacr: '2' })
        .then((token) => this.cache.set(sp.objectId, resource, sp.appId, token, generation))
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return { ok: true, entry: await pending, identity: selection.identity };
  }

  /** The cached token of this identity and resource, unless the caller reported it revoked. */
  private fromCache(identity: AssignedIdentity, resource: string, opts: AcquireOptions): TokenOutcome | undefined {
    const cached = this.cache.get(identity.principal.objectId, resource, opts.now ?? Math.floor(Date.now() / 1000));
    if (!cached || (opts.refreshSha256 && opts.refreshSha256.toLowerCase() === cached.sha256())) return undefined;
    return { ok: true, entry: cached, identity };
  }
}

function notSelected(selection: Extract<Selection, { ok: false }>): TokenOutcome {
  return { ok: false, failure: { kind: selection.reason === 'notFound' ? 'identityNotFound' : selection.reason } };
}
