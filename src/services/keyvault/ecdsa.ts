// ECDSA over a digest the client already computed (Key Vault's sign/verify take digests).
// node:crypto only signs messages (it hashes them first), so the curve arithmetic is done by
// OpenSSL through ECDH (a scalar times the base point) and the rest with BigInt modulo the
// curve order. Verification uses the private key the vault holds: u1·G + u2·Q = (u1 + u2·d)·G.
import { createECDH, randomBytes } from 'node:crypto';

interface Curve {
  /** OpenSSL curve name. */
  openssl: string;
  /** Group order. */
  n: bigint;
  /** Bytes of a field element / scalar (also each half of a JWS signature). */
  size: number;
}

export const CURVES: Readonly<Record<string, Curve>> = {
  'P-256': { openssl: 'prime256v1', n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n, size: 32 },
  'P-384': { openssl: 'secp384r1', n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n, size: 48 },
  'P-521': {
    openssl: 'secp521r1',
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    size: 66,
  },
  'P-256K': { openssl: 'secp256k1', n: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n, size: 32 },
};

function toBigInt(b: Buffer): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + b.toString('hex'));
}

function toBytes(v: bigint, size: number): Buffer {
  const hex = v.toString(16).padStart(size * 2, '0');
  return Buffer.from(hex, 'hex');
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function invert(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

function bitLength(v: bigint): number {
  return v.toString(2).length;
}

/** The digest as an integer, truncated to the order's bit length. */
function digestInteger(digest: Buffer, n: bigint): bigint {
  let z = toBigInt(digest);
  const excess = digest.length * 8 - bitLength(n);
  if (excess > 0) z >>= BigInt(excess);
  return z;
}

/** x coordinate of k·G. */
function baseMultipleX(curve: Curve, k: bigint): bigint {
  const ecdh = createECDH(curve.openssl);
  ecdh.setPrivateKey(toBytes(k, curve.size));
  const point = ecdh.getPublicKey();
  return toBigInt(point.subarray(1, 1 + curve.size));
}

function randomScalar(curve: Curve): bigint {
  for (let i = 0; i < 64; i++) {
    const k = mod(toBigInt(randomBytes(curve.size + 8)), curve.n);
    if (k !== 0n) return k;
  }
  throw new Error('could not draw a nonce');
}

/** JWS signature (r ‖ s, each `size` bytes) of `digest` with private scalar `d`. */
export function signDigest(crv: string, d: Buffer, digest: Buffer): Buffer {
  const curve = CURVES[crv];
  if (!curve) throw new Error(`unsupported curve ${crv}`);
  const dInt = toBigInt(d);
  const z = digestInteger(digest, curve.n);
  for (let i = 0; i < 16; i++) {
    const k = randomScalar(curve);
    const r = mod(baseMultipleX(curve, k), curve.n);
    if (r === 0n) continue;
    const s = mod(invert(k, curve.n) * (z + r * dInt), curve.n);
    if (s === 0n) continue;
    return Buffer.concat([toBytes(r, curve.size), toBytes(s, curve.size)]);
  }
  throw new Error('could not produce a signature');
}

/** Checks a JWS signature of `digest` against the key with private scalar `d`. */
export function verifyDigest(crv: string, d: Buffer, digest: Buffer, signature: Buffer): boolean {
  const curve = CURVES[crv];
  if (!curve || signature.length !== curve.size * 2) return false;
  const r = toBigInt(signature.subarray(0, curve.size));
  const s = toBigInt(signature.subarray(curve.size));
  if (r <= 0n || r >= curve.n || s <= 0n || s >= curve.n) return false;
  const z = digestInteger(digest, curve.n);
  const w = invert(s, curve.n);
  const scalar = mod(z * w + r * w * toBigInt(d), curve.n);
  if (scalar === 0n) return false;
  return mod(baseMultipleX(curve, scalar), curve.n) === r;
}
