// Signature checks for assertions from external issuers, whose keys come as JWKs: RSA
// (RS*/PS*) and elliptic-curve (ES*) algorithms. Symmetric and unsigned tokens are refused:
// a public issuer cannot share a secret with Entra.
import { constants, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const CURVE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

export const SUPPORTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

/** True when `signature` over `signingInput` verifies with `jwk` under `alg`; false on any mismatch. */
export function verifyWithJwk(alg: string, jwk: JsonWebKey, signingInput: string, signature: Buffer): boolean {
  if (!SUPPORTED_ALGORITHMS.includes(alg)) return false;
  if (typeof jwk.alg === 'string' && jwk.alg !== alg) return false;
  const family = alg.slice(0, 2);
  const hash = HASH[alg.slice(2)]!;
  if ((family === 'RS' || family === 'PS') && jwk.kty !== 'RSA') return false;
  if (family === 'ES' && (jwk.kty !== 'EC' || jwk.crv !== CURVE[alg])) return false;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    return false;
  }
  const data = Buffer.from(signingInput, 'utf8');
  try {
    if (family === 'RS') return verify(hash, data, key, signature);
    if (family === 'PS') return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
    return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
