// RSA operations Key Vault performs on values the client prepared: signatures over a given
// digest (PKCS#1 v1.5 and PSS), and PKCS#1 v1.5 decryption. node:crypto hashes before signing
// and no longer decrypts PKCS#1 v1.5 with a private key, so these build the encodings
// (RFC 8017) around the raw RSA operation.
import { constants, createHash, privateDecrypt, privateEncrypt, publicDecrypt, publicEncrypt, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

export type HashName = 'sha256' | 'sha384' | 'sha512';

export const HASH_LENGTH: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** DER prefixes of DigestInfo for each hash (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: Readonly<Record<HashName, Buffer>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

function modulusBits(key: KeyObject): number {
  return key.asymmetricKeyDetails?.modulusLength ?? 0;
}

function rawPrivate(key: KeyObject, input: Buffer): Buffer {
  return privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, input);
}

function rawPublic(key: KeyObject, input: Buffer): Buffer {
  return publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, input);
}

export function signPkcs1(key: KeyObject, hash: HashName, digest: Buffer): Buffer {
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[hash], digest]));
}

export function verifyPkcs1(key: KeyObject, hash: HashName, digest: Buffer, signature: Buffer): boolean {
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  const expected = Buffer.concat([DIGEST_INFO[hash], digest]);
  return recovered.length === expected.length && timingSafeEqual(recovered, expected);
}

function mgf1(hash: HashName, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0, size = 0; size < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    out.push(block);
    size += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** RSASSA-PSS with MGF1 of the same hash and a salt as long as the hash (JWA PS256/384/512). */
export function signPss(key: KeyObject, hash: HashName, digest: Buffer): Buffer {
  const hLen = HASH_LENGTH[hash];
  const modBits = modulusBits(key);
  const k = Math.ceil(modBits / 8);
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - hLen - hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  return rawPrivate(key, Buffer.concat([Buffer.alloc(k - emLen), em]));
}

export function verifyPss(key: KeyObject, hash: HashName, digest: Buffer, signature: Buffer): boolean {
  const hLen = HASH_LENGTH[hash];
  const modBits = modulusBits(key);
  const k = Math.ceil(modBits / 8);
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (signature.length !== k) return false;
  let m: Buffer;
  try {
    m = rawPublic(key, signature);
  } catch {
    return false;
  }
  if (k > emLen && m[0] !== 0) return false;
  const em = m.subarray(k - emLen);
  if (em[em.length - 1] !== 0xbc) return false;
  const maskedDb = Buffer.from(em.subarray(0, emLen - hLen - 1));
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((maskedDb[0]! & ~topMask) !== 0) return false;
  const mask = mgf1(hash, h, maskedDb.length);
  for (let i = 0; i < maskedDb.length; i++) maskedDb[i]! ^= mask[i]!;
  maskedDb[0]! &= topMask;
  const psLen = emLen - hLen - hLen - 2;
  for (let i = 0; i < psLen; i++) if (maskedDb[i] !== 0) return false;
  if (maskedDb[psLen] !== 1) return false;
  const salt = maskedDb.subarray(psLen + 1);
  const expected = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  return timingSafeEqual(expected, h);
}

/** PKCS#1 v1.5 decryption: raw RSA, then the type-2 padding is checked and removed. */
export function decryptPkcs1(key: KeyObject, ciphertext: Buffer): Buffer | undefined {
  const k = Math.ceil(modulusBits(key) / 8);
  if (ciphertext.length !== k) return undefined;
  let em: Buffer;
  try {
    em = rawPrivate(key, ciphertext);
  } catch {
    return undefined;
  }
  let ok = em[0] === 0 && em[1] === 2;
  let sep = -1;
  for (let i = 2; i < em.length; i++) if (sep < 0 && em[i] === 0) sep = i;
  ok = ok && sep >= 10;
  return ok ? Buffer.from(em.subarray(sep + 1)) : undefined;
}
