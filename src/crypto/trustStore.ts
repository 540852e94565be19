// Trust material for clients that do not read NODE_EXTRA_CA_CERTS: a PEM bundle of Mimic's CA
// plus the system roots (REQUESTS_CA_BUNDLE, SSL_CERT_FILE, CURL_CA_BUNDLE replace the default
// roots in those clients, so the system roots must stay in it), and a PKCS#12 trust store for
// Java (`-Djavax.net.ssl.trustStore`), built here with a few lines of DER.
import { createHash, createHmac, randomBytes, X509Certificate } from 'node:crypto';
import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** Debian's (and Ubuntu's) bundle of the system's trusted roots. */
export const SYSTEM_ROOTS_FILE = '/etc/ssl/certs/ca-certificates.crt';
export const CA_BUNDLE_FILE = 'ca-bundle.pem';

export function caBundlePath(dataDir: string): string {
  return join(dataDir, CA_BUNDLE_FILE);
}

/** Mimic's CA first, then the system roots when the machine has them. */
export async function caBundle(caCertPem: string, systemRootsFile = SYSTEM_ROOTS_FILE): Promise<string> {
  let roots = '';
  try {
    roots = await readFile(systemRootsFile, 'utf8');
  } catch {
    // No system bundle (a minimal container): Mimic's CA alone.
  }
  const ours = caCertPem.endsWith('\n') ? caCertPem : `${caCertPem}\n`;
  return roots ? `${ours}${roots.endsWith('\n') ? roots : `${roots}\n`}` : ours;
}

/** Writes `ca-bundle.pem` in the data dir (replaced atomically, readable by all: certificates only). */
export async function writeCaBundle(dataDir: string, caCertPem: string): Promise<string> {
  const file = caBundlePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, await caBundle(caCertPem), { mode: 0o644 });
  await rename(tmp, file);
  return file;
}

// --- PKCS#12 (RFC 7292) trust store: certificate bags only, integrity by HMAC-SHA256 ---

const OID = {
  data: '1.2.840.113549.1.7.1',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  sha256: '2.16.840.1.101.3.4.2.1',
  /** Java's marker of a trusted certificate entry in a PKCS#12 store, valued with the usages trusted. */
  oracleTrustedKeyUsage: '2.16.840.1.113894.746875.1.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
};

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : (() => {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    return Buffer.from([0x80 | bytes.length, ...bytes]);
  })();
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => der(0x31, Buffer.concat(items));
const octets = (b: Buffer) => der(0x04, b);
const explicit0 = (b: Buffer) => der(0xa0, b);
const integer = (n: number) => {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return der(0x02, Buffer.from(bytes));
};
const bmpString = (s: string) => der(0x1e, Buffer.from(s, 'utf16le').swap16());
function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return der(0x06, Buffer.from(out));
}

/** RFC 7292 appendix B.2 key derivation with SHA-256, for the MAC key (ID 3), 32 bytes. */
function pkcs12MacKey(password: string, salt: Buffer, iterations: number): Buffer {
  const v = 64;
  const fill = (b: Buffer) => (b.length === 0 ? Buffer.alloc(0) : Buffer.alloc(v * Math.ceil(b.length / v), b));
  // The password as a BMPString with its two-byte terminator.
  const pw = Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
  let a = createHash('sha256').update(Buffer.alloc(v, 3)).update(fill(salt)).update(fill(pw)).digest();
  for (let i = 1; i < iterations; i++) a = createHash('sha256').update(a).digest();
  return a; // SHA-256 gives exactly the 32 bytes needed: one round of the derivation.
}

/**
 * A PKCS#12 store holding `certificates` as trusted certificate entries (what `keytool -list`
 * shows as trustedCertEntry), unencrypted (certificates are public) and MAC-protected with
 * `password`, as Java's keystore loader verifies it.
 */
export function pkcs12TrustStore(certificates: Array<{ alias: string; pem: string }>, password: string): Buffer {
  const bags = certificates.map(({ alias, pem }) => {
    const cert = new X509Certificate(pem).raw;
    return seq(
      oid(OID.certBag),
      explicit0(seq(oid(OID.x509Certificate), explicit0(octets(cert)))),
      set(seq(oid(OID.friendlyName), set(bmpString(alias))), seq(oid(OID.oracleTrustedKeyUsage), set(oid(OID.anyExtendedKeyUsage)))),
    );
  });
  const authSafe = seq(seq(oid(OID.data), explicit0(octets(seq(...bags)))));
  const salt = randomBytes(16);
  const iterations = 10_000;
  const mac = createHmac('sha256', pkcs12MacKey(password, salt, iterations)).update(authSafe).digest();
  return seq(integer(3), seq(oid(OID.data), explicit0(octets(authSafe))), seq(seq(seq(oid(OID.sha256), Buffer.from([0x05, 0x00])), octets(mac)), octets(salt), integer(iterations)));
}
