// Bearer authentication of data-plane requests. A request without a token gets the challenge
// the SDKs expect (401 + WWW-Authenticate naming the authority and the resource) before its
// body is read; a token must be signed by this tenant's keys (RS256), carry its issuer, the
// audience `https://vault.azure.net` exactly, and be within its lifetime.
import type { Request } from '../../server/http.js';
import type { PrincipalState, TokenService } from '../../sts/tokens.js';
import { decodeJwt, TokenError } from '../../sts/jwt.js';
import { KvError } from './errors.js';
import { VAULT_AUDIENCE } from './vaultModel.js';

export const VAULT_AUDIENCES: ReadonlySet<string> = new Set([VAULT_AUDIENCE]);

export interface KvCaller {
  objectId: string;
  appId: string;
  issuer: string;
  /** Set when the token's principal was deleted or disabled since it was issued (noted in the audit log). */
  principalState?: PrincipalState;
}

/** `appid=…;oid=…;iss=…`, as Key Vault names callers in its errors. */
export function callerLabel(c: KvCaller): string {
  return `appid=${c.appId};oid=${c.objectId};iss=${c.issuer}`;
}

/** The challenge header; the SDK reads the tenant from the authorization URL's path. */
export function challengeHeader(tenantId: string): string {
  return `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="${VAULT_AUDIENCE}"`;
}

export class KvAuthenticator {
  private readonly challenge: Record<string, string>;

  constructor(private readonly tokens: TokenService) {
    this.challenge = { 'www-authenticate': challengeHeader(tokens.tenant.tenantId) };
  }

  private unauthorized(message: string): KvError {
    return new KvError(401, 'Unauthorized', message, undefined, this.challenge);
  }

  authenticate(req: Request): KvCaller {
    const header = req.header('authorization');
    if (!header || !/^(Bearer|PoP) /i.test(header)) throw this.unauthorized('AKV10000: Request is missing a Bearer or PoP token.');
    const token = header.slice(header.indexOf(' ') + 1).trim();
    let claims;
    try {
      claims = this.tokens.verify(token, VAULT_AUDIENCES);
    } catch (err) {
      if (err instanceof TokenError) throw this.unauthorized(this.describe(err, token));
      throw err;
    }
    const objectId = String(claims.oid ?? '');
    const appId = String(claims.appid ?? claims.azp ?? '');
    const issuer = String(claims.iss);
    const principalState = this.tokens.principalState(claims);
    return principalState ? { objectId, appId, issuer, principalState } : { objectId, appId, issuer };
  }

  private describe(err: TokenError, token: string): string {
    const claim = (name: 'aud' | 'iss') => {
      try {
        const v = decodeJwt(token).claims[name];
        return Array.isArray(v) ? v.join(',') : String(v);
      } catch {
        return 'undefined';
      }
    };
    switch (err.problem) {
      case 'audience':
        return `AKV10022: Invalid audience. Expected ${VAULT_AUDIENCE}, found: ${claim('aud')}.`;
      case 'issuer':
        return `AKV10032: Invalid issuer. Expected ${this.tokens.issuer}, found ${claim('iss')}.`;
      case 'unknownKey':
        return 'AKV10046: Unable to resolve the key used for signature validation.';
      case 'expired':
        return 'Token validation failed: the token is expired.';
      case 'notYetValid':
        return 'Token validation failed: the token is not yet valid.';
      case 'signature':
        return 'Token validation failed: the signature is invalid.';
      case 'algorithm':
        return 'Token validation failed: the signing algorithm is not accepted.';
      case 'principalGone':
        return 'Token validation failed: the principal of the token has been deleted or disabled.';
      default:
        return 'Token validation failed: the token is malformed.';
    }
  }
}
