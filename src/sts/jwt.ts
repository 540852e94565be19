// JWT signing and verification with node:crypto. Only RS256 is accepted: a token with any
// other `alg` (including `none`) is refused before its signature is even looked at.
import { createSign, createVerify, sign as signAsync, type KeyObject } from 'node:crypto';

export type Claims = Record<string, unknown> & {
  aud?: string | string[];
  iss?: string;
  exp?: number;
  nbf?: number;
  iat?: number;
  oid?: string;
  tid?: string;
  appid?: string;
};

export interface JwtHeader {
  typ?: string;
  alg?: string;
  kid?: string;
  x5t?: string;
}

export type TokenProblem = 'malformed' | 'algorithm' | 'unknownKey' | 'signature' | 'issuer' | 'audience' | 'expired' | 'notYetValid' | 'principalGone';

export class TokenError extends Error {
  constructor(readonly problem: TokenProblem, message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

export function b64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function signJwt(header: JwtHeader, claims: Claims, key: KeyObject): string {
  const input = `${b64urlJson(header)}.${b64urlJson(claims)}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key).toString('base64url');
  return `${input}.${signature}`;
}

/** Same as signJwt, with the RSA operation on libuv's thread pool so the event loop keeps serving. */
export function signJwtAsync(header: JwtHeader, claims: Claims, key: KeyObject): Promise<string> {
  const input = `${b64urlJson(header)}.${b64urlJson(claims)}`;
  return new Promise((resolve, reject) => {
    signAsync('sha256', Buffer.from(input), key, (err, signature) => (err ? reject(err) : resolve(`${input}.${signature.toString('base64url')}`)));
  });
}

export interface DecodedJwt {
  header: JwtHeader;
  claims: Claims;
  signingInput: string;
  signature: Buffer;
}

/** Three base64url segments (RFC 7515 compact serialization); an unsecured token's signature is empty. */
const BASE64URL_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function decodeJwt(token: string): DecodedJwt {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 1 || second < 0 || token.indexOf('.', second + 1) >= 0) throw new TokenError('malformed', 'The token is not a JWS compact serialization.');
  // Buffer's base64url decoder skips characters outside the alphabet: without this check a
  // signature with junk appended (`...sig!!`) still verified (found by the tokenEndpoint fuzz target).
  if (!BASE64URL_JWS.test(token)) throw new TokenError('malformed', 'The token is not base64url-encoded.');
  let header: JwtHeader;
  let claims: Claims;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString('utf8')) as JwtHeader;
    claims = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8')) as Claims;
  } catch {
    throw new TokenError('malformed', 'The token header or payload is not valid base64url JSON.');
  }
  if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object') throw new TokenError('malformed', 'The token header or payload is not a JSON object.');
  return { header, claims, signingInput: token.slice(0, second), signature: Buffer.from(token.slice(second + 1), 'base64url') };
}

export interface VerifyOptions {
  keyFor(kid: string): KeyObject | undefined;
  issuer: string;
  /** Exact audience values accepted (compared as given: trailing slashes matter). */
  audiences: ReadonlySet<string>;
  /** Seconds of clock skew tolerated on nbf/exp. */
  clockSkew?: number;
  now?: number;
}

const MAX_CACHE = 10_000;
/** 48 base64url characters: 288 bits of an RS256 signature. */
const CACHE_KEY_CHARS = 48;

/**
 * Verifies tokens and remembers the ones whose signature checked out, so a client reusing its
 * token pays for the RSA check once. Lifetime, issuer and audience are checked on every call.
 * The map is keyed by the token's last characters (its signature's tail: hashing a whole 1.5 KB
 * token was a visible share of an ARM read), and a hit still requires the exact token text.
 */
export class TokenVerifier {
  private readonly verified = new Map<string, { token: string; claims: Claims }>();

  constructor(private readonly keyFor: (kid: string) => KeyObject | undefined) {}

  /** Forget every cached signature check (e.g. after a signing key was removed). */
  reset(): void {
    this.verified.clear();
  }

  verify(token: string, opts: Omit<VerifyOptions, 'keyFor'>): Claims {
    const cacheKey = token.slice(-CACHE_KEY_CHARS);
    const hit = this.verified.get(cacheKey);
    let claims: Claims;
    if (hit !== undefined && hit.token === token) {
      claims = hit.claims;
    } else {
      claims = verifySignature(token, this.keyFor);
      if (this.verified.size >= MAX_CACHE) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(cacheKey, { token, claims });
    }
    checkClaims(claims, opts);
    return claims;
  }
}

function verifySignature(token: string, keyFor: (kid: string) => KeyObject | undefined): Claims {
  const { header, claims, signingInput, signature } = decodeJwt(token);
  if (header.alg !== 'RS256') throw new TokenError('algorithm', `The token's algorithm '${String(header.alg)}' is not accepted; only RS256 is.`);
  const kid = header.kid ?? header.x5t;
  const key = typeof kid === 'string' ? keyFor(kid) : undefined;
  if (!key) throw new TokenError('unknownKey', 'The token was signed with a key this tenant does not publish.');
  if (!createVerify('RSA-SHA256').update(signingInput).verify(key, signature)) throw new TokenError('signature', 'The token signature is invalid.');
  return claims;
}

export function checkClaims(claims: Claims, opts: Omit<VerifyOptions, 'keyFor'>): void {
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const skew = opts.clockSkew ?? 300;
  if (claims.iss !== opts.issuer) throw new TokenError('issuer', `The token issuer '${String(claims.iss)}' is not this tenant's.`);
  const aud = claims.aud;
  const audOk = Array.isArray(aud) ? aud.some((a) => opts.audiences.has(a)) : typeof aud === 'string' && opts.audiences.has(aud);
  if (!audOk) throw new TokenError('audience', `The audience '${Array.isArray(aud) ? aud.join(',') : String(aud)}' is invalid.`);
  if (typeof claims.exp !== 'number' || claims.exp + skew <= now) throw new TokenError('expired', 'The token is expired.');
  if (typeof claims.nbf === 'number' && claims.nbf - skew > now) throw new TokenError('notYetValid', 'The token is not yet valid.');
}
