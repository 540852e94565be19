// X.509 material for certificates: self-signed certificates and signing requests built from a
// certificate policy's x509_props (subject, SANs, EKUs, key usage, validity).
import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { badParameter } from './errors.js';
import type { KeyFamily } from './keyCrypto.js';

export interface X509Props {
  subject?: string;
  sans?: { emails?: string[]; dns_names?: string[]; upns?: string[]; uris?: string[]; ipAddresses?: string[] };
  ekus?: string[];
  key_usage?: string[];
  validity_months?: number;
}

export const KEY_USAGES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

async function x509lib() {
  // Loaded on first use: @peculiar/x509 needs reflect-metadata and a WebCrypto provider.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as never);
  return x509;
}

const HASH_OF_CURVE: Readonly<Record<string, string>> = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' };

function algorithms(family: KeyFamily, crv?: string) {
  if (family === 'RSA') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { importAlg: alg, signingAlgorithm: alg };
  }
  const hash = HASH_OF_CURVE[crv ?? ''];
  if (!hash) throw badParameter(`Certificates cannot use the curve '${String(crv)}'; use P-256, P-384 or P-521.`);
  return { importAlg: { name: 'ECDSA', namedCurve: crv! }, signingAlgorithm: { name: 'ECDSA', hash } };
}

async function cryptoKeys(privateKey: KeyObject, family: KeyFamily, crv?: string) {
  const { importAlg, signingAlgorithm } = algorithms(family, crv);
  const subtle = webcrypto.subtle;
  const priv = await subtle.importKey('pkcs8', privateKey.export({ format: 'der', type: 'pkcs8' }), importAlg, false, ['sign']);
  const pub = await subtle.importKey('spki', createPublicKey(privateKey).export({ format: 'der', type: 'spki' }), importAlg, true, ['verify']);
  return { keys: { privateKey: priv, publicKey: pub }, signingAlgorithm };
}

async function extensions(x509: Awaited<ReturnType<typeof x509lib>>, props: X509Props, publicKey: webcrypto.CryptoKey) {
  const out = [];
  const usage = (props.key_usage ?? []).reduce((flags, u) => flags | (x509.KeyUsageFlags as unknown as Record<string, number>)[u]!, 0);
  if (usage) out.push(new x509.KeyUsagesExtension(usage, true));
  if (props.ekus && props.ekus.length > 0) out.push(new x509.ExtendedKeyUsageExtension(props.ekus));
  const s = props.sans ?? {};
  const names = [
    ...(s.dns_names ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(s.emails ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(s.upns ?? []).map((value) => ({ type: 'upn' as const, value })),
    ...(s.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(s.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length > 0) out.push(new x509.SubjectAlternativeNameExtension(names));
  out.push(await x509.SubjectKeyIdentifierExtension.create(publicKey as never));
  return out;
}

/** Attribute types are case-insensitive in a DN string ('cn=MyCert'); the builder wants them upper-case. */
function subjectOf(props: X509Props): string {
  const subject = props.subject ?? '';
  return subject.replace(/(^|[,+;]\s*)([a-zA-Z]+)\s*=/g, (_m, sep: string, type: string) => `${sep}${type.toUpperCase()}=`);
}

/** DER of a self-signed certificate valid from `notBefore` for the policy's validity. */
export async function selfSignedCertificate(privateKey: KeyObject, family: KeyFamily, crv: string | undefined, props: X509Props, notBefore: Date, notAfter: Date): Promise<Buffer> {
  const x509 = await x509lib();
  const { keys, signingAlgorithm } = await cryptoKeys(privateKey, family, crv);
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] = serial[0]! & 0x7f;
  try {
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial.toString('hex'),
      name: subjectOf(props),
      notBefore,
      notAfter,
      keys: keys as never,
      signingAlgorithm,
      extensions: await extensions(x509, props, keys.publicKey),
    });
    return Buffer.from(cert.rawData);
  } catch (err) {
    throw badParameter(`The certificate could not be built from the policy: ${(err as Error).message}.`);
  }
}

/** DER of a PKCS#10 request for the policy's subject and extensions. */
export async function certificateRequest(privateKey: KeyObject, family: KeyFamily, crv: string | undefined, props: X509Props): Promise<Buffer> {
  const x509 = await x509lib();
  const { keys, signingAlgorithm } = await cryptoKeys(privateKey, family, crv);
  try {
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subjectOf(props), keys: keys as never, signingAlgorithm, extensions: await extensions(x509, props, keys.publicKey) });
    return Buffer.from(csr.rawData);
  } catch (err) {
    throw badParameter(`The certificate request could not be built from the policy: ${(err as Error).message}.`);
  }
}
