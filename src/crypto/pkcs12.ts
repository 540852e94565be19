// PKCS#12 (RFC 7292) files, integrity-protected by an HMAC-SHA-256 over the contents (key derived
// with the PKCS#12 KDF from the password), contents unencrypted:
//  - as Key Vault hands out certificate secrets with content type application/x-pkcs12: the
//    certificate and its private key, no password (the key bag is the plain PKCS#8 key, as the
//    file has no password to encrypt it);
//  - trust stores for Java (`mimic ca export --format p12`): certificates only, each marked as a
//    trusted entry the way Java's keystore reads it.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { bmpString, explicit, integer, octetString, oid, sequence, set, nullValue } from './der.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
  friendlyName: '1.2.840.113549.1.9.20',
  /** Java's marker of a trusted certificate entry, valued with the usages it is trusted for. */
  oracleTrustedKeyUsage: '2.16.840.1.113894.746875.1.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
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
  return pfx(sequence(...contents), '', MAC_ITERATIONS);
}

/** A PFX of trusted certificate entries (what `keytool -list` shows as trustedCertEntry) under `password`. */
export function buildTrustStore(certificates: Array<{ alias: string; der: Buffer }>, password: string): Buffer {
  const bags = certificates.map(({ alias, der }) =>
    sequence(
      oid(OID.certBag),
      explicit(0, sequence(oid(OID.x509Certificate), explicit(0, octetString(der)))),
      set(sequence(oid(OID.friendlyName), set(bmpString(alias))), sequence(oid(OID.oracleTrustedKeyUsage), set(oid(OID.anyExtendedKeyUsage)))),
    ),
  );
  return pfx(sequence(dataContent(sequence(...bags))), password, 10_000);
}

/** The PFX around an AuthenticatedSafe, with its MAC. */
function pfx(authSafe: Buffer, password: string, iterations: number): Buffer {
  const salt = randomBytes(16);
  const mac = createHmac('sha256', deriveMacKey(password, salt, iterations)).update(authSafe).digest();
  const macData = sequence(sequence(sequence(oid(OID.sha256), nullValue()), octetString(mac)), octetString(salt), integer(iterations));
  return sequence(integer(3), dataContent(authSafe), macData);
}
