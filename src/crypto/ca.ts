// Local certificate authority and the TLS server certificate for every Mimic listener.
// The CA lives in the store (key sealed with the master key) so that instances sharing a
// database trust one CA; each data dir gets the PEM files that NODE_EXTRA_CA_CERTS and the
// listeners read.
import { webcrypto, X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, writeFile, mkdir, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../store/types.js';
import type { Sealer } from './masterKey.js';
import { ConflictError } from '../store/types.js';

/** Host names the server certificate covers: loopback plus Azure's public names that the preload module routes here. */
export const SERVER_CERT_NAMES = [
  'localhost',
  'login.microsoftonline.com',
  'login.windows.net',
  'sts.windows.net',
  'management.azure.com',
  'management.core.windows.net',
  'graph.microsoft.com',
  'graph.windows.net',
  'vault.azure.net',
  '*.vault.azure.net',
  '*.blob.core.windows.net',
  '*.queue.core.windows.net',
  '*.table.core.windows.net',
];
export const SERVER_CERT_IPS = ['127.0.0.1', '::1'];

export interface TlsMaterial {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  caCertFile: string;
}

interface StoredCa {
  certPem: string;
  sealedKey: string;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;

async function x509lib() {
  // Loaded only when a certificate must be issued: keeps warm starts fast.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as never);
  return x509;
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

async function importKeyPem(pem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
}

async function createCa(tenantLabel: string): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await x509lib();
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Mimic Local CA ${tenantLabel}, O=Mimic`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    keys: keys as never,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

async function issueServerCert(ca: { certPem: string; keyPem: string }): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await x509lib();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importKeyPem(ca.keyPem);
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'CN=localhost, O=Mimic',
    issuer: caCert.subject,
    notBefore: new Date(now - DAY),
    // Under 398 days, the most any TLS client accepts for a leaf certificate.
    notAfter: new Date(now + 390 * DAY),
    signingKey: caKey as never,
    publicKey: keys.publicKey as never,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...SERVER_CERT_NAMES.map((value) => ({ type: 'dns' as const, value })),
        ...SERVER_CERT_IPS.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive integer
  return Buffer.from(bytes).toString('hex');
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The CA shared through the store: created once, whichever instance gets there first. */
async function sharedCa(store: Store, sealer: Sealer, tenantId: string): Promise<{ certPem: string; keyPem: string }> {
  const existing = await store.get<StoredCa>('meta', 'ca');
  if (existing) return { certPem: existing.value.certPem, keyPem: sealer.openText(existing.value.sealedKey, 'meta/ca') };
  const ca = await createCa(tenantId.slice(0, 8));
  try {
    await store.apply([{ op: 'put', kind: 'meta', key: 'ca', value: { certPem: ca.certPem, sealedKey: sealer.seal(ca.keyPem, 'meta/ca') } satisfies StoredCa, ifAbsent: true }]);
    return ca;
  } catch (err) {
    if (err instanceof ConflictError) return sharedCa(store, sealer, tenantId);
    throw err;
  }
}

function serverCertUsable(certPem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    if (!cert.verify(ca.publicKey)) return false;
    if (Date.parse(cert.validTo) - Date.now() < 30 * DAY) return false;
    const san = cert.subjectAltName ?? '';
    return SERVER_CERT_NAMES.every((n) => san.includes(`DNS:${n}`));
  } catch {
    return false;
  }
}

/**
 * Make sure the data dir holds ca.crt, server.crt and server.key (owner-only key) issued by the
 * shared CA, and return the PEMs for the listeners.
 */
export async function ensureTls(store: Store, sealer: Sealer, dataDir: string, tenantId: string): Promise<TlsMaterial> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const ca = await sharedCa(store, sealer, tenantId);
  const caCertFile = join(dataDir, 'ca.crt');
  if ((await readIfPresent(caCertFile)) !== ca.certPem) await writeFile(caCertFile, ca.certPem, { mode: 0o644 });
  const certFile = join(dataDir, 'server.crt');
  const keyFile = join(dataDir, 'server.key');
  let certPem = await readIfPresent(certFile);
  let keyPem = await readIfPresent(keyFile);
  if (!certPem || !keyPem || !serverCertUsable(certPem, ca.certPem)) {
    ({ certPem, keyPem } = await issueServerCert(ca));
    await writeFile(keyFile, keyPem, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    await writeFile(certFile, certPem + ca.certPem, { mode: 0o644 });
    certPem = certPem + ca.certPem;
  }
  return { caCertPem: ca.certPem, certPem, keyPem, caCertFile };
}
