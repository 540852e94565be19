// Trust material for clients that do not read NODE_EXTRA_CA_CERTS: a PEM bundle of Mimic's CA
// plus the system roots (REQUESTS_CA_BUNDLE, SSL_CERT_FILE, CURL_CA_BUNDLE replace the default
// roots in those clients, so the system roots must stay in it), and a PKCS#12 trust store for
// Java (`-Djavax.net.ssl.trustStore`).
import { X509Certificate } from 'node:crypto';
import { buildTrustStore } from './pkcs12.js';
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

/** A PKCS#12 trust store of PEM certificates, for Java (`-Djavax.net.ssl.trustStore`). */
export function pkcs12TrustStore(certificates: Array<{ alias: string; pem: string }>, password: string): Buffer {
  return buildTrustStore(certificates.map(({ alias, pem }) => ({ alias, der: new X509Certificate(pem).raw })), password);
}
