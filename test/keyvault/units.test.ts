// The Key Vault module's pure parts: access-policy merging and evaluation, routing, vault
// defaults, and the digest-level cryptography checked against node:crypto.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, publicEncrypt, sign, verify, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { applyAccessPolicyOperation, CompiledAccessPolicies, validateAccessPolicies, type AccessPolicyEntry } from '../../src/services/keyvault/accessPolicies.js';
import { resolveRoute } from '../../src/services/keyvault/routes.js';
import { recoveryLevelOf } from '../../src/services/keyvault/vaultModel.js';
import { vaultProperties } from '../../src/services/keyvault/vaultResource.js';
import { signDigest, verifyDigest } from '../../src/services/keyvault/ecdsa.js';
import { decryptPkcs1, signPss, verifyPkcs1, verifyPss, signPkcs1 } from '../../src/services/keyvault/rsaDigest.js';
import { buildPfx } from '../../src/crypto/pkcs12.js';
import { selfSignedCertificate } from '../../src/services/keyvault/x509.js';
import { ArmError } from '../../src/arm/errors.js';
import { KvError } from '../../src/services/keyvault/errors.js';

const TENANT = '11111111-1111-1111-1111-111111111111';
const entry = (objectId: string, secrets: string[], applicationId?: string): AccessPolicyEntry => ({ tenantId: TENANT, objectId, ...(applicationId ? { applicationId } : {}), permissions: { secrets } });

describe('access policies', () => {
  test('add merges into the same identity, replace sets, remove subtracts and drops empty entries', () => {
    let list = applyAccessPolicyOperation([], 'add', [entry('a', ['get'])]);
    list = applyAccessPolicyOperation(list, 'add', [entry('A', ['list', 'GET']), entry('b', ['set'])]);
    assert.deepEqual(list.map((e) => [e.objectId, e.permissions.secrets]), [['a', ['get', 'list']], ['b', ['set']]]);
    list = applyAccessPolicyOperation(list, 'replace', [entry('a', ['purge'])]);
    assert.deepEqual(list[0]!.permissions.secrets, ['purge']);
    list = applyAccessPolicyOperation(list, 'remove', [entry('a', ['purge'])]);
    assert.deepEqual(list.map((e) => e.objectId), ['b']);
    list = applyAccessPolicyOperation(list, 'add', [entry('b', ['get'], '22222222-2222-2222-2222-222222222222')]);
    assert.equal(list.length, 2, 'a compound identity is its own entry');
    assert.throws(() => applyAccessPolicyOperation([], 'add', Array.from({ length: 1025 }, (_, i) => entry(`o${i}`, ['get']))), ArmError);
  });

  test('evaluation: objectId, compound application, all, case-insensitive names', () => {
    const app = '33333333-3333-3333-3333-333333333333';
    const p = new CompiledAccessPolicies([entry('user', ['Get']), entry('user', ['set'], app), { tenantId: TENANT, objectId: 'ops', permissions: { keys: ['all'] } }]);
    assert.equal(p.permits('USER', 'any', 'secrets', 'get'), true);
    assert.equal(p.permits('user', 'any', 'secrets', 'set'), false);
    assert.equal(p.permits('user', app, 'secrets', 'set'), true);
    assert.equal(p.permits('user', app, 'keys', 'get'), false);
    assert.equal(p.permits('ops', 'x', 'keys', 'sign'), true);
    assert.equal(p.permits('ops', 'x', 'secrets', 'get'), false);
    assert.equal(p.permits('nobody', 'x', 'secrets', 'get'), false);
  });

  test('validation', () => {
    assert.throws(() => validateAccessPolicies([{ tenantId: 'not-a-guid', objectId: 'x', permissions: {} }], TENANT), ArmError);
    assert.throws(() => validateAccessPolicies([{ tenantId: TENANT, objectId: 'x', permissions: { secrets: ['sign'] } }], TENANT), ArmError);
    assert.throws(() => validateAccessPolicies([{ tenantId: TENANT, objectId: 'x', permissions: { blobs: ['get'] } }], TENANT), ArmError);
    assert.throws(() => validateAccessPolicies([{ tenantId: TENANT, objectId: 'x' }], TENANT), ArmError);
    assert.deepEqual(validateAccessPolicies([{ tenantId: TENANT, objectId: 'x', permissions: { keys: ['WrapKey', 'getrotationpolicy'] } }], TENANT)[0]!.permissions, { keys: ['WrapKey', 'getrotationpolicy'] });
  });
});

describe('routes', () => {
  const route = (method: string, path: string) => resolveRoute(method, path, path.split('/').filter((s) => s));
  test('paths map to operations and parameters', () => {
    assert.deepEqual(route('GET', '/secrets/s1'), { op: 'secret.get', name: 's1' });
    assert.deepEqual(route('GET', '/secrets/s1/abc'), { op: 'secret.get', name: 's1', version: 'abc' });
    assert.deepEqual(route('GET', '/secrets/s1/versions'), { op: 'secret.versions', name: 's1' });
    assert.deepEqual(route('POST', '/secrets/restore'), { op: 'secret.restore', name: '' });
    assert.deepEqual(route('PUT', '/secrets/restore'), { op: 'secret.set', name: 'restore' });
    assert.deepEqual(route('DELETE', '/deletedsecrets/s1'), { op: 'secret.purge', name: 's1' });
    assert.deepEqual(route('POST', '/deletedkeys/k/recover'), { op: 'key.recover', name: 'k' });
    assert.deepEqual(route('POST', '/keys/k/sign'), { op: 'key.sign', name: 'k' });
    assert.deepEqual(route('POST', '/keys/k/v1/unwrapkey'), { op: 'key.unwrapKey', name: 'k', version: 'v1' });
    assert.deepEqual(route('PUT', '/keys/k/rotationpolicy'), { op: 'key.setRotationPolicy', name: 'k' });
    assert.deepEqual(route('POST', '/certificates/c/pending/merge'), { op: 'certificate.merge', name: 'c' });
    assert.deepEqual(route('GET', '/certificates'), { op: 'certificate.list', name: '' });
  });
  test('errors', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as KvError).status;
      }
      return 0;
    };
    assert.equal(code(() => route('GET', '/nothing')), 404);
    assert.equal(code(() => route('POST', '/secrets/s1')), 405);
    assert.equal(code(() => route('GET', '/secrets/bad_name')), 400);
    assert.equal(code(() => route('GET', '/secrets/' + 'x'.repeat(128))), 400);
  });
});

describe('vault properties', () => {
  const base = { tenantId: TENANT, mode: 'put' as const, body: { properties: { tenantId: TENANT, sku: { name: 'Premium' } } } };
  test('RBAC by default from api-version 2026-02-01 on create, kept on update', () => {
    assert.equal(vaultProperties({ ...base, apiVersion: '2026-02-01' }, 'v').enableRbacAuthorization, true);
    assert.equal(vaultProperties({ ...base, apiVersion: '2026-04-01-preview' }, 'v').enableRbacAuthorization, true);
    assert.equal(vaultProperties({ ...base, apiVersion: '2025-05-01' }, 'v').enableRbacAuthorization, false);
    const previous = { id: 'x', name: 'v', type: 't', systemData: {} as never, properties: vaultProperties({ ...base, apiVersion: '2023-07-01' }, 'v') as never };
    assert.equal(vaultProperties({ ...base, apiVersion: '2026-02-01', previous }, 'v').enableRbacAuthorization, false);
    const p = vaultProperties({ ...base, apiVersion: '2026-02-01' }, 'MyVault');
    assert.equal(p.vaultUri, 'https://myvault.vault.azure.net/');
    assert.deepEqual(p.sku, { family: 'A', name: 'premium' });
  });
  test('recovery levels', () => {
    assert.equal(recoveryLevelOf(90, false), 'Recoverable+Purgeable');
    assert.equal(recoveryLevelOf(90, true), 'Recoverable');
    assert.equal(recoveryLevelOf(7, false), 'CustomizedRecoverable+Purgeable');
    assert.equal(recoveryLevelOf(30, true), 'CustomizedRecoverable');
  });
});

describe('digest cryptography', () => {
  const data = Buffer.from('the message');
  test('ECDSA over a digest, on every curve, interoperates with node:crypto', () => {
    for (const [crv, nodeCurve, hash] of [['P-256', 'P-256', 'sha256'], ['P-384', 'P-384', 'sha384'], ['P-521', 'P-521', 'sha512'], ['P-256K', 'secp256k1', 'sha256']] as const) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: nodeCurve });
      const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
      const digest = createHash(hash).update(data).digest();
      const ours = signDigest(crv, d, digest);
      assert.ok(verify(hash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, ours), crv);
      const theirs = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      assert.ok(verifyDigest(crv, d, digest, theirs), crv);
      assert.equal(verifyDigest(crv, d, createHash(hash).update('other').digest(), theirs), false);
      assert.equal(verifyDigest(crv, d, digest, Buffer.concat([theirs.subarray(1), Buffer.from([0])])), false);
    }
  });

  test('RSA PKCS#1 v1.5 and PSS over a digest, and PKCS#1 v1.5 decryption', () => {
    for (const bits of [2048, 3072]) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      const digest = createHash('sha384').update(data).digest();
      assert.ok(verify('sha384', data, publicKey, signPkcs1(privateKey, 'sha384', digest)));
      assert.ok(verifyPkcs1(publicKey, 'sha384', digest, sign('sha384', data, privateKey)));
      const pss = signPss(privateKey, 'sha384', digest);
      assert.ok(verify('sha384', data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, pss));
      const nodePss = sign('sha384', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
      assert.ok(verifyPss(publicKey, 'sha384', digest, nodePss));
      assert.equal(verifyPss(publicKey, 'sha384', createHash('sha384').update('x').digest(), nodePss), false);
    }
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ct = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('cek'));
    assert.equal(decryptPkcs1(privateKey, ct)?.toString(), 'cek');
    assert.equal(decryptPkcs1(privateKey, Buffer.alloc(256, 1)), undefined);
  });

  test('PKCS#12 files open without a password and hold the certificate and its key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = await selfSignedCertificate(privateKey, 'EC', 'P-256', { subject: 'cn=unit', key_usage: ['digitalSignature'], ekus: ['1.3.6.1.5.5.7.3.1'] }, new Date(), new Date(Date.now() + 86_400_000));
    const cert = new X509Certificate(der);
    assert.equal(cert.subject, 'CN=unit');
    assert.ok(cert.checkPrivateKey(privateKey));
    const withKey = createSecureContext({ pfx: buildPfx(privateKey.export({ format: 'der', type: 'pkcs8' }), [der]) });
    assert.ok(Buffer.from((withKey.context as { getCertificate(): Buffer }).getCertificate()).equals(der));
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    assert.throws(() => createSecureContext({ pfx: buildPfx(other.export({ format: 'der', type: 'pkcs8' }), [der]) }), 'OpenSSL refuses a key that does not match');
    // Without the key (a non-exportable policy) the file carries the certificate bag only.
    const keyBagOid = Buffer.from('060b2a864886f70d010c0a0101', 'hex');
    const certOnly = buildPfx(undefined, [der]);
    assert.ok(certOnly.includes(der));
    assert.ok(!certOnly.includes(keyBagOid));
    assert.ok(buildPfx(privateKey.export({ format: 'der', type: 'pkcs8' }), [der]).includes(keyBagOid));
  });
});
