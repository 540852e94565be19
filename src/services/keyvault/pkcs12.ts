// PKCS#12 (RFC 7292) files as Key Vault hands out certificate secrets with content type
// application/x-pkcs12: the certificate and its private key, no password, integrity-protected
// by an HMAC-SHA-256 over the contents (key derived with the PKCS#12 KDF from the empty
// password). The key bag is the plain PKCS#8 key, as the file has no password to encrypt it.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { explicit, integer, octetString, oid, sequence, set, nullValue } from './der.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
};

const MAC_ITERATIONS = 2048;

const dataContent = (content: Buffer) => sequence(oid(OID.data), explicit(0, octetString(content)));
const localKeyId = (id: Buffer) => set(sequence(oid(OID.localKeyId), set(octetString(id))));

/** RFC 7292 appendix B.2 with SHA-256, for a 32-byte key (one block of output). */
function deriveMacKey(password: string, salt: Buffer, iterations: number): Buffer {
  const v = 64;
  const pwd = Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
  const repeat = (b: Buffer) => {
    if (b.length === 0) return b;
    const out = Buffer.alloc(v * Math.ceil(b.length / v));
    for (let i = 0; i < out.length; i++) out[i] = b[i % b.length]!;
    return out;
  };
  let a = createHash('sha256').update(Buffer.alloc(v, 3)).update(repeat(salt)).update(repeat(pwd)).digest();
  for (let i = 1; i < iterations; i++) a = createHash('sha256').update(a).digest();
  return a;
}

/** A PFX holding `certificates` (leaf first) and, when given, the leaf's PKCS#8 private key. */
export function buildPfx(pkcs8: Buffer | undefined, certificates: Buffer[]): Buffer {
  const id = createHash('sha1').update(certificates[0]!).digest();
  const certBags = certificates.map((cert, i) =>
    sequence(oid(OID.certBag), explicit(0, sequence(oid(OID.x509Certificate), explicit(0, octetString(cert)))), ...(i === 0 ? [localKeyId(id)] : [])),
  );
  const contents = [dataContent(sequence(...certBags))];
  if (pkcs8) contents.push(dataContent(sequence(sequence(oid(OID.keyBag), explicit(0, pkcs8), localKeyId(id)))));
  const authSafe = sequence(...contents);
  const salt = randomBytes(16);
  const mac = createHmac('sha256', deriveMacKey('', salt, MAC_ITERATIONS)).update(authSafe).digest();
  const macData = sequence(sequence(sequence(oid(OID.sha256), nullValue()), octetString(mac)), octetString(salt), integer(MAC_ITERATIONS));
  return sequence(integer(3), dataContent(authSafe), macData);
}
