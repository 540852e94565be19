// Minting and checking Entra ID v1 access tokens (the shape managed-identity and app-only
// tokens have in Azure: iss sts.windows.net, ver 1.0, idtyp app).
import { randomBytes } from 'node:crypto';
import type { KeyRing } from './signingKeys.js';
import { signJwt, signJwtAsync, TokenError, TokenVerifier, type Claims, type JwtHeader } from './jwt.js';
import type { ServicePrincipal, TenantInfo } from '../directory/types.js';

export interface IssuedToken {
  accessToken: string;
  /** Epoch seconds. */
  expiresOn: number;
  notBefore: number;
  expiresIn: number;
  resource: string;
}

export interface MintOptions {
  resource: string;
  lifetimeSeconds: number;
  /** How the client authenticated: "0" public, "1" secret, "2" certificate/assertion/managed identity. */
  appidacr: '0' | '1' | '2';
}

/** Managed identity tokens live about a day; app-only client-credential tokens about an hour. */
export const MANAGED_IDENTITY_TOKEN_LIFETIME = 86_400;
export const APP_TOKEN_LIFETIME = 3_599;
/** Entra backdates iat/nbf by five minutes to absorb clock skew. */
const BACKDATE = 300;

/**
 * What became of a verified token's principal since the token was issued: `deleted` (a deleted
 * user-assigned identity or app) or `disabled` (a system-assigned identity turned off, or its
 * resource deleted; or a principal whose account is disabled). Undefined while it lives.
 */
export type PrincipalState = 'deleted' | 'disabled';

export class TokenService {
  readonly issuer: string;
  readonly verifier: TokenVerifier;
  /** The directory's in-memory index of principals (set by the composition root). */
  private principals?: (objectId: string) => ServicePrincipal | undefined;
  /**
   * Set by `mimic start --revoke-deleted-principals`: a token whose principal was deleted or
   * disabled since it was issued is refused at once. Unset (the default), such a token stays
   * valid until it expires, as in Azure, and the services note it in the audit log.
   */
  private revokeGone = false;

  constructor(
    readonly tenant: TenantInfo,
    private readonly keys: KeyRing,
  ) {
    this.issuer = `https://sts.windows.net/${tenant.tenantId}/`;
    this.verifier = new TokenVerifier((kid) => keys.publicKey(kid));
    keys.onKeyRemoved(() => this.verifier.reset());
  }

  mint(sp: ServicePrincipal, opts: MintOptions): IssuedToken {
    const { header, claims, issued } = this.prepare(sp, opts);
    return { ...issued, accessToken: signJwt(header, claims, this.keys.active().privateKey) };
  }

  /** Like mint(), signing off the event loop: the token endpoints use this under load. */
  async mintAsync(sp: ServicePrincipal, opts: MintOptions): Promise<IssuedToken> {
    const { header, claims, issued, privateKey } = this.prepare(sp, opts);
    return { ...issued, accessToken: await signJwtAsync(header, claims, privateKey) };
  }

  private prepare(sp: ServicePrincipal, opts: MintOptions) {
    const now = Math.floor(Date.now() / 1000);
    const iat = now - BACKDATE;
    const exp = now + opts.lifetimeSeconds;
    const claims: Claims = {
      aud: opts.resource,
      iss: this.issuer,
      iat,
      nbf: iat,
      exp,
      aio: randomBytes(24).toString('base64url'),
      appid: sp.appId,
      appidacr: opts.appidacr,
      idp: this.issuer,
      idtyp: 'app',
      oid: sp.objectId,
      rh: `0.${randomBytes(18).toString('base64url')}.`,
      sub: sp.objectId,
      tid: this.tenant.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    };
    if (sp.servicePrincipalType === 'ManagedIdentity' && sp.managedIdentityResourceId) {
      claims.xms_mirid = miridOf(sp.managedIdentityResourceId);
    }
    const { kid, privateKey } = this.keys.active();
    const header: JwtHeader = { typ: 'JWT', alg: 'RS256', x5t: kid, kid };
    return { header, claims, privateKey, issued: { expiresOn: exp, notBefore: iat, expiresIn: exp - now, resource: opts.resource } };
  }

  /** Full verification: RS256 signature by one of our keys, issuer, exact audience, lifetime. */
  verify(token: string, audiences: ReadonlySet<string>): Claims {
    const claims = this.verifier.verify(token, { issuer: this.issuer, audiences });
    if (this.revokeGone && this.principalState(claims) !== undefined) {
      throw new TokenError('principalGone', 'The principal this token was issued to has been deleted or disabled.');
    }
    return claims;
  }

  /**
   * Whether a verified token's principal was deleted or disabled since: one lookup in the
   * directory's in-memory index, and only a principal missing from it costs more.
   */
  principalState(claims: Claims): PrincipalState | undefined {
    const sp = this.principals?.(String(claims.oid ?? ''));
    if (sp) return sp.accountEnabled ? undefined : 'disabled';
    if (!this.principals) return undefined;
    // A system-assigned identity's token names its resource; Azure deletes the principal when
    // the identity is turned off (or the resource deleted): to the caller, it was disabled.
    const mirid = typeof claims.xms_mirid === 'string' ? claims.xms_mirid : '';
    return mirid && !/\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\//i.test(mirid) ? 'disabled' : 'deleted';
  }

  /** The directory's index of principals, for principalState(). */
  trackPrincipals(lookup: (objectId: string) => ServicePrincipal | undefined): void {
    this.principals = lookup;
  }

  /** Refuse tokens of principals that no longer exist or are disabled (checked on every call). */
  revokeDeletedPrincipals(): void {
    this.revokeGone = true;
  }
}

/** Azure lower-cases the resource-group segment of xms_mirid. */
function miridOf(resourceId: string): string {
  return resourceId.replace(/(\/resourcegroups\/)([^/]+)/i, (_m, _p: string, rg: string) => `/resourcegroups/${rg.toLowerCase()}`);
}
