// Key material and the cryptographic operations a vault performs with it, with Key Vault's
// algorithm names: RS256..RS512, PS256..PS512, ES256/ES384/ES512/ES256K over client digests;
// RSA1_5, RSA-OAEP, RSA-OAEP-256 for encrypt/decrypt and wrapKey/unwrapKey.
import { constants, createPrivateKey, createPublicKey, generateKeyPair, privateDecrypt, publicEncrypt, type JsonWebKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { badParameter, KvError } from './errors.js';
import { signDigest, verifyDigest } from './ecdsa.js';
import { decryptPkcs1, HASH_LENGTH, signPkcs1, signPss, verifyPkcs1, verifyPss, type HashName } from './rsaDigest.js';
import type { StoredKey } from './records.js';

const generate = promisify(generateKeyPair);

export const RSA_KEY_SIZES = [2048, 3072, 4096];
export const EC_CURVE_NAMES = ['P-256', 'P-384', 'P-521', 'P-256K'];
/** node:crypto's names for Key Vault's curves. */
const NODE_CURVE: Readonly<Record<string, string>> = { 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521', 'P-256K': 'secp256k1' };
const KV_CURVE: Readonly<Record<string, string>> = { 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521', secp256k1: 'P-256K' };

export const RSA_KEY_OPS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'];
export const EC_KEY_OPS = ['sign', 'verify'];
export const KEY_OPS = [...RSA_KEY_OPS, 'import', 'export'];

export type KeyFamily = 'RSA' | 'EC';

/** RSA and RSA-HSM keys compute alike here; -HSM records the protection the caller asked for. */
export function familyOf(kty: string): KeyFamily | undefined {
  if (kty === 'RSA' || kty === 'RSA-HSM') return 'RSA';
  if (kty === 'EC' || kty === 'EC-HSM') return 'EC';
  return undefined;
}

export async function generateKey(family: KeyFamily, opts: { size?: number; exponent?: number; crv?: string }): Promise<KeyObject> {
  if (family === 'RSA') {
    const { privateKey } = await generate('rsa', { modulusLength: opts.size ?? 2048, publicExponent: opts.exponent ?? 65537 });
    return privateKey;
  }
  const { privateKey } = await generate('ec', { namedCurve: NODE_CURVE[opts.crv ?? 'P-256']! });
  return privateKey;
}

/** The public JWK members Key Vault returns (RSA n/e, EC crv/x/y). */
export function publicMembers(privateKey: KeyObject): Pick<StoredKey, 'n' | 'e' | 'crv' | 'x' | 'y'> {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (jwk.kty === 'RSA') return { n: jwk.n, e: jwk.e };
  return { crv: KV_CURVE[jwk.crv ?? ''] ?? jwk.crv, x: jwk.x, y: jwk.y };
}

export function pkcs8Of(privateKey: KeyObject): Buffer {
  return privateKey.export({ format: 'der', type: 'pkcs8' });
}

export function privateKeyFromPkcs8(der: Buffer): KeyObject {
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** A private key from an imported JWK (Key Vault's kty names and curve names accepted). */
export function privateKeyFromJwk(jwk: Record<string, unknown>): { key: KeyObject; family: KeyFamily } {
  const family = familyOf(String(jwk.kty));
  if (!family) throw badParameter(`The key type '${String(jwk.kty)}' cannot be imported into a vault; use RSA or EC.`);
  if (typeof jwk.d !== 'string' || jwk.d.length === 0) throw badParameter('An imported key must include its private key.');
  const nodeJwk: JsonWebKey = { ...(jwk as JsonWebKey), kty: family };
  if (family === 'EC') {
    const crv = String(jwk.crv);
    if (!NODE_CURVE[crv]) throw badParameter(`The curve '${crv}' is not supported; use ${EC_CURVE_NAMES.join(', ')}.`);
    nodeJwk.crv = NODE_CURVE[crv];
  }
  for (const k of ['key_ops', 'kid', 'key_hsm', 'alg', 'use']) delete (nodeJwk as Record<string, unknown>)[k];
  try {
    const key = createPrivateKey({ key: nodeJwk, format: 'jwk' });
    if (family === 'RSA' && !RSA_KEY_SIZES.includes(key.asymmetricKeyDetails?.modulusLength ?? 0)) {
      throw badParameter(`RSA keys must be ${RSA_KEY_SIZES.join(', ')} bits.`);
    }
    return { key, family };
  } catch (err) {
    if (err instanceof KvError) throw err;
    throw badParameter(`The key could not be imported: ${(err as Error).message}.`);
  }
}

const SIGNATURE_ALGORITHMS: Readonly<Record<string, { family: KeyFamily; hash: HashName; scheme: 'pkcs1' | 'pss' | 'ecdsa'; crv?: string }>> = {
  RS256: { family: 'RSA', hash: 'sha256', scheme: 'pkcs1' },
  RS384: { family: 'RSA', hash: 'sha384', scheme: 'pkcs1' },
  RS512: { family: 'RSA', hash: 'sha512', scheme: 'pkcs1' },
  PS256: { family: 'RSA', hash: 'sha256', scheme: 'pss' },
  PS384: { family: 'RSA', hash: 'sha384', scheme: 'pss' },
  PS512: { family: 'RSA', hash: 'sha512', scheme: 'pss' },
  ES256: { family: 'EC', hash: 'sha256', scheme: 'ecdsa', crv: 'P-256' },
  ES384: { family: 'EC', hash: 'sha384', scheme: 'ecdsa', crv: 'P-384' },
  ES512: { family: 'EC', hash: 'sha512', scheme: 'ecdsa', crv: 'P-521' },
  ES256K: { family: 'EC', hash: 'sha256', scheme: 'ecdsa', crv: 'P-256K' },
};

export const ENCRYPTION_ALGORITHMS = ['RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256'];

function signatureAlgorithm(stored: StoredKey, alg: unknown, digest: Buffer) {
  const a = typeof alg === 'string' ? SIGNATURE_ALGORITHMS[alg] : undefined;
  if (!a) throw badParameter(`The algorithm '${String(alg)}' is not a signature algorithm Key Vault supports.`);
  if (familyOf(stored.kty) !== a.family || (a.crv && a.crv !== stored.crv)) {
    throw badParameter(`The algorithm '${String(alg)}' cannot be used with this ${stored.kty}${stored.crv ? ` ${stored.crv}` : ''} key.`);
  }
  if (digest.length !== HASH_LENGTH[a.hash]) throw badParameter(`The digest must be ${HASH_LENGTH[a.hash]} bytes for ${String(alg)}; got ${digest.length}.`);
  return a;
}

export function signWith(stored: StoredKey, key: KeyObject, alg: unknown, digest: Buffer): Buffer {
  const a = signatureAlgorithm(stored, alg, digest);
  if (a.scheme === 'pkcs1') return signPkcs1(key, a.hash, digest);
  if (a.scheme === 'pss') return signPss(key, a.hash, digest);
  return signDigest(stored.crv!, privateScalar(key), digest);
}

export function verifyWith(stored: StoredKey, key: KeyObject, alg: unknown, digest: Buffer, signature: Buffer): boolean {
  const a = signatureAlgorithm(stored, alg, digest);
  if (a.scheme === 'pkcs1') return verifyPkcs1(createPublicKey(key), a.hash, digest, signature);
  if (a.scheme === 'pss') return verifyPss(createPublicKey(key), a.hash, digest, signature);
  return verifyDigest(stored.crv!, privateScalar(key), digest, signature);
}

function privateScalar(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
}

function encryptionAlgorithm(stored: StoredKey, alg: unknown): string {
  if (typeof alg !== 'string' || !ENCRYPTION_ALGORITHMS.includes(alg)) {
    throw badParameter(`The algorithm '${String(alg)}' is not supported for this operation; use ${ENCRYPTION_ALGORITHMS.join(', ')}.`);
  }
  if (familyOf(stored.kty) !== 'RSA') throw badParameter(`The algorithm '${alg}' needs an RSA key; this key is ${stored.kty}.`);
  return alg;
}

export function encryptWith(stored: StoredKey, key: KeyObject, alg: unknown, plaintext: Buffer): Buffer {
  const a = encryptionAlgorithm(stored, alg);
  const publicKey = createPublicKey(key);
  try {
    if (a === 'RSA1_5') return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, plaintext);
    return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: a === 'RSA-OAEP' ? 'sha1' : 'sha256' }, plaintext);
  } catch {
    throw badParameter(`The value is too long to encrypt with ${a} and this key.`);
  }
}

export function decryptWith(stored: StoredKey, key: KeyObject, alg: unknown, ciphertext: Buffer): Buffer {
  const a = encryptionAlgorithm(stored, alg);
  let out: Buffer | undefined;
  if (a === 'RSA1_5') out = decryptPkcs1(key, ciphertext);
  else {
    try {
      out = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: a === 'RSA-OAEP' ? 'sha1' : 'sha256' }, ciphertext);
    } catch {
      out = undefined;
    }
  }
  if (!out) throw badParameter(`The ciphertext could not be decrypted with ${a} and this key.`);
  return out;
}
