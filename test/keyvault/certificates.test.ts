// Certificates through @azure/keyvault-certificates over HTTPS: self-signed issuance whose
// poller completes, the linked key and secret (PKCS#12 or PEM, with the private key only when
// exportable), deletion and recovery of all three, and a CA-signed certificate merged into a
// pending operation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { adminVaultToken, arm, assignRole, createGroup, createVault, kv, raw, ROLES, type Vault } from './helpers.js';

describe('Key Vault certificates', () => {
  let m: TestMimic;
  let vault: Vault;
  let token: string;

  before(async () => {
    m = await startTestMimic('sqlite');
    const a = await arm(m);
    await createGroup(a, 'kv-certs');
    vault = await createVault(a, 'kv-certs', 'certsvault');
    await assignRole(a, vault.id, ROLES.administrator, m.context.tenant.adminObjectId);
    token = adminVaultToken(m);
  });
  after(() => m.dispose());

  test('a self-signed certificate: the poller completes; key and secret belong to it', async () => {
    const r = await kv(m, vault, { admin: true }, [
      { op: 'createCertificate', name: 'web', policy: { issuerName: 'Self', subject: 'cn=web.contoso.test', subjectAlternativeNames: { dnsNames: ['web.contoso.test', 'www.contoso.test'] }, validityInMonths: 6 } },
      { op: 'getCertificate', name: 'web' },
      { op: 'getSecret', name: 'web' },
      { op: 'getKey', name: 'web' },
      { op: 'listCertificates' },
      { op: 'setSecret', name: 'web', value: 'overwrite' },
    ]);
    assert.ok(r.slice(0, 5).every((x) => x.ok), JSON.stringify(r));
    const created = r[0]!.value;
    const version = created.keyId.split('/').pop();
    assert.equal(created.keyId, `${vault.uri}keys/web/${version}`);
    assert.equal(created.secretId, `${vault.uri}secrets/web/${version}`);
    const cert = new X509Certificate(Buffer.from(created.cer, 'base64url'));
    assert.equal(cert.subject, 'CN=web.contoso.test');
    assert.equal(cert.subjectAltName, 'DNS:web.contoso.test, DNS:www.contoso.test');
    assert.equal(created.x5t, createHash('sha1').update(cert.raw).digest('hex'));
    const months = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (30.4375 * 86_400_000);
    assert.ok(Math.abs(months - 6) < 0.1, `validity ${months} months`);
    assert.equal(r[1]!.value.version, version);

    const secret = r[2]!.value;
    assert.equal(secret.contentType, 'application/x-pkcs12');
    assert.equal(secret.managed, true);
    const context = createSecureContext({ pfx: Buffer.from(secret.value, 'base64') });
    assert.ok(Buffer.from((context.context as { getCertificate(): Buffer }).getCertificate()).equals(cert.raw), 'the PFX holds the certificate');
    assert.equal(r[3]!.value.managed, true);
    assert.equal(r[3]!.value.d, undefined);
    assert.equal(r[3]!.value.n, cert.publicKey.export({ format: 'jwk' }).n);
    assert.deepEqual(r[4]!.value, ['web']);
    assert.equal(r[5]!.status, 403, 'a certificate-owned secret is not set directly');

    // The certificate's key signs in the vault; the certificate's public key verifies.
    const digest = createHash('sha256').update('hello').digest();
    const signed = await raw(m, vault, 'POST', `/keys/web/${version}/sign`, { token, body: { alg: 'RS256', value: digest.toString('base64url') } });
    assert.equal(signed.status, 200, signed.text);
    const { verify } = await import('node:crypto');
    assert.ok(verify('sha256', Buffer.from('hello'), cert.publicKey, Buffer.from(signed.json().value, 'base64url')));
  });

  test('PEM content type, EC keys, and a non-exportable key stays out of the secret', async () => {
    const create = (name: string, policy: Record<string, unknown>) => raw(m, vault, 'POST', `/certificates/${name}/create`, { token, body: { policy } });
    const pem = await create('pemcert', { issuer: { name: 'Self' }, key_props: { kty: 'EC', crv: 'P-384' }, secret_props: { contentType: 'application/x-pem-file' }, x509_props: { subject: 'CN=pem' } });
    assert.equal(pem.status, 202, pem.text);
    assert.equal(pem.json().id, `${vault.uri}certificates/pemcert/pending`);
    const pending = await raw(m, vault, 'GET', '/certificates/pemcert/pending', { token });
    assert.equal(pending.json().status, 'completed');
    assert.equal(pending.json().target, `${vault.uri}certificates/pemcert`);
    const secret = (await raw(m, vault, 'GET', '/secrets/pemcert/', { token })).json();
    assert.equal(secret.contentType, 'application/x-pem-file');
    const key = createPrivateKey(secret.value);
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.ok(new X509Certificate(secret.value).checkPrivateKey(key));

    const sealed = await create('noexport', { issuer: { name: 'Self' }, key_props: { exportable: false }, secret_props: { contentType: 'application/x-pem-file' }, x509_props: { subject: 'CN=noexport' } });
    assert.equal(sealed.status, 202, sealed.text);
    const noKey = (await raw(m, vault, 'GET', '/secrets/noexport/', { token })).json();
    assert.ok(noKey.value.includes('BEGIN CERTIFICATE'));
    assert.ok(!noKey.value.includes('PRIVATE KEY'));
    const policy = (await raw(m, vault, 'GET', '/certificates/noexport/policy', { token })).json();
    assert.equal(policy.id, `${vault.uri}certificates/noexport/policy`);
    assert.equal(policy.key_props.exportable, false);

    assert.equal((await create('bad', { issuer: { name: 'DigiCert' }, x509_props: { subject: 'CN=x' } })).status, 400);
    assert.equal((await create('bad', { issuer: { name: 'Self' } })).status, 400, 'subject or SANs required');
  });

  test('deleting a certificate deletes its key and secret; recovery brings all three back', async () => {
    const r = await kv(m, vault, { admin: true }, [
      { op: 'createCertificate', name: 'temp', policy: { issuerName: 'Self', subject: 'CN=temp' } },
      { op: 'deleteCertificate', name: 'temp' },
      { op: 'getSecret', name: 'temp' },
      { op: 'getKey', name: 'temp' },
    ]);
    assert.ok(r[1]!.ok, JSON.stringify(r[1]));
    assert.equal(r[2]!.status, 404);
    assert.equal(r[3]!.status, 404);
    assert.equal((await raw(m, vault, 'POST', '/deletedcertificates/temp/recover', { token })).status, 200);
    assert.equal((await raw(m, vault, 'GET', '/secrets/temp/', { token })).status, 200);
    assert.equal((await raw(m, vault, 'GET', '/keys/temp/', { token })).status, 200);
  });

  test('backup and restore carry the certificate with its key and secret', async () => {
    assert.equal((await raw(m, vault, 'POST', '/certificates/carried/create', { token, body: { policy: { issuer: { name: 'Self' }, x509_props: { subject: 'CN=carried' } } } })).status, 202);
    const before = (await raw(m, vault, 'GET', '/secrets/carried/', { token })).json().value;
    const backup = await raw(m, vault, 'POST', '/certificates/carried/backup', { token });
    assert.equal(backup.status, 200, backup.text);
    assert.equal((await raw(m, vault, 'DELETE', '/certificates/carried', { token })).status, 200);
    assert.equal((await raw(m, vault, 'DELETE', '/deletedcertificates/carried', { token })).status, 204);
    assert.equal((await raw(m, vault, 'GET', '/deletedsecrets/carried', { token })).status, 404, 'purged with the certificate');
    const restored = await raw(m, vault, 'POST', '/certificates/restore', { token, body: { value: backup.json().value } });
    assert.equal(restored.status, 200, restored.text);
    assert.equal((await raw(m, vault, 'GET', '/secrets/carried/', { token })).json().value, before);
    const digest = createHash('sha256').update('x').digest().toString('base64url');
    assert.equal((await raw(m, vault, 'POST', '/keys/carried/sign', { token, body: { alg: 'RS256', value: digest } })).status, 200);
    assert.equal((await raw(m, vault, 'POST', '/certificates/restore', { token, body: { value: backup.json().value } })).status, 409);
  });

  test("issuer 'Unknown': a pending operation with a CSR, completed by merging the CA-issued certificate", async () => {
    const created = await raw(m, vault, 'POST', '/certificates/merged/create', { token, body: { policy: { issuer: { name: 'Unknown' }, x509_props: { subject: 'CN=merged' } } } });
    assert.equal(created.status, 202, created.text);
    assert.equal(created.json().status, 'inProgress');
    assert.equal((await raw(m, vault, 'GET', '/certificates/merged/', { token })).status, 404, 'nothing issued yet');

    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as never);
    const csr = new x509.Pkcs10CertificateRequest(Buffer.from(created.json().csr, 'base64'));
    assert.equal(csr.subject, 'CN=merged');
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const ca = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const issued = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: csr.subject,
      issuer: 'CN=Test CA',
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 86_400_000),
      signingKey: ca.privateKey as never,
      publicKey: (await csr.publicKey.export()) as never,
      signingAlgorithm: alg,
    });
    const der = Buffer.from(issued.rawData);
    const merged = await raw(m, vault, 'POST', '/certificates/merged/pending/merge', { token, body: { x5c: [der.toString('base64')] } });
    assert.equal(merged.status, 201, merged.text);
    assert.equal(merged.json().cer, der.toString('base64'));
    assert.equal((await raw(m, vault, 'GET', '/certificates/merged/pending', { token })).json().status, 'completed');
    const secret = (await raw(m, vault, 'GET', '/secrets/merged/', { token })).json();
    const context = createSecureContext({ pfx: Buffer.from(secret.value, 'base64') });
    assert.ok(context);

    // A certificate for another key is refused.
    const other = await raw(m, vault, 'POST', '/certificates/other/create', { token, body: { policy: { issuer: { name: 'Unknown' }, x509_props: { subject: 'CN=other' } } } });
    assert.equal(other.status, 202);
    const wrong = await raw(m, vault, 'POST', '/certificates/other/pending/merge', { token, body: { x5c: [der.toString('base64')] } });
    assert.equal(wrong.status, 400);
  });
});
