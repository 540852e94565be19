// The two deterministic name generators of the template language.
import { createHash } from 'node:crypto';

// guid(): an RFC 4122 name-based (version 5, SHA-1) UUID in Azure's fixed namespace, over the
// arguments joined with '-' and encoded as UTF-8.
const GUID_NAMESPACE = Buffer.from('11fb06fb712d4ddd98c7e71bbd588830', 'hex');

export function guid(...parts: string[]): string {
  const h = createHash('sha1').update(GUID_NAMESPACE).update(Buffer.from(parts.join('-'), 'utf8')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// uniqueString(): 13 characters of lowercase base32 (a-z2-7) from the top 65 bits of a 64-bit
// MurmurHash variant (two interleaved 32-bit lanes, as Azure's resource stack computes it) over
// the UTF-8 bytes of the arguments joined with '-'.
const C1 = 0xab0e9789; // 2869860233
const C2 = 0x239b961b; // 597399067
const F1 = 0x85ebca6b;
const F2 = 0xc2b2ae35;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;
const fmix = (h: number) => {
  h = mul(h ^ (h >>> 16), F1);
  h = mul(h ^ (h >>> 13), F2);
  return (h ^ (h >>> 16)) >>> 0;
};

function murmur64(data: Buffer): bigint {
  const len = data.length;
  let h1 = 0;
  let h2 = 0;
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    const k1 = mul(rotl(mul(data.readUInt32LE(i), C2), 15), C1);
    const k2 = mul(rotl(mul(data.readUInt32LE(i + 4), C1), 17), C2);
    h1 = (rotl((h1 ^ k1) >>> 0, 19) + h2) >>> 0;
    h1 = (mul(h1, 5) + 0x561ccd1b) >>> 0;
    h2 = (rotl((h2 ^ k2) >>> 0, 13) + h1) >>> 0;
    h2 = (mul(h2, 5) + 0x0bcaa747) >>> 0;
  }
  const rem = len - i;
  if (rem > 0) {
    const word = (off: number, n: number) => {
      let k = 0;
      for (let j = 0; j < n; j++) k |= data[off + j]! << (8 * j);
      return k >>> 0;
    };
    const k1 = mul(rotl(mul(word(i, Math.min(rem, 4)), C2), 15), C1);
    h1 = (h1 ^ k1) >>> 0;
    if (rem > 4) {
      const k2 = mul(rotl(mul(word(i + 4, rem - 4), C1), 17), C2);
      h2 = (h2 ^ k2) >>> 0;
    }
  }
  h2 = (h2 ^ len) >>> 0;
  h1 = (((h1 ^ len) >>> 0) + h2) >>> 0;
  h2 = (h2 + h1) >>> 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) >>> 0;
  h2 = (h2 + h1) >>> 0;
  return (BigInt(h2) << 32n) | BigInt(h1);
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function uniqueString(...parts: string[]): string {
  let h = murmur64(Buffer.from(parts.join('-'), 'utf8'));
  let out = '';
  for (let i = 0; i < 13; i++) {
    out += BASE32[Number((h >> 59n) & 31n)];
    h = (h << 5n) & 0xffffffffffffffffn;
  }
  return out;
}
