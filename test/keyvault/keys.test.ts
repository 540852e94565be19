// Keys through @azure/keyvault-keys over HTTPS: RSA and EC keys, remote signatures from the
// SDK's CryptographyClient checked locally with node:crypto, wrap/unwrap and encrypt/decrypt
// round trips, what Key Vault Crypto User may and may not do, key attributes that gate
// operations, import, rotation, and private keys that never leave the vault.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, generateKeyPairSync, publicEncrypt, verify as verifySignature, type JsonWebKey } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { KV_VERSIONS } from '../../src/services/keyvault/records.js';
import { adminVaultToken, arm, assignRole, createGroup, createVault, kv, raw, ROLES, type Arm, type Vault } from './helpers.js';

const RG = 'kv-keys';
const DATA = 'message to sign';

function publicKeyOf(k: { kty: string; n?: string; e?: string; crv?: string; x?: string; y?: string }) {
  const jwk: JsonWebKey = k.kty.startsWith('RSA') ? { kty: 'RSA', n: k.n, e: k.e } : { kty: 'EC', crv: k.crv === 'P-256K' ? 'secp256k1' : k.crv, x: k.x, y: k.y };
  return createPublicKey({ key: jwk, format: 'jwk' });
}

describe('Key Vault keys and cryptography', () => {
  let m: TestMimic;
  let a: Arm;
  let vault: Vault;
  let site: { id: string; principalId: string };
  const created: Record<string, any> = {};

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    const rgId = await createGroup(a, RG);
    vault = await createVault(a, RG, 'keysvault');
    await assignRole(a, vault.id, ROLES.cryptoOfficer, m.context.tenant.adminObjectId);
    const web = await a.call('PUT', `${rgId}/providers/Microsoft.Web/sites/signer`, { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} }, '2023-12-01');
    site = { id: web.body.id, principalId: web.body.identity.principalId };
    const r = await kv(m, vault, { admin: true }, [
      { op: 'createKey', name: 'rsa2048', type: 'RSA' },
      { op: 'createKey', name: 'rsa4096', type: 'RSA', options: { keySize: 4096 } },
      { op: 'createKey', name: 'ec256', type: 'EC', options: { curve: 'P-256' } },
      { op: 'createKey', name: 'ec384', type: 'EC', options: { curve: 'P-384' } },
      { op: 'createKey', name: 'ec521', type: 'EC', options: { curve: 'P-521' } },
      { op: 'createKey', name: 'ec256k', type: 'EC', options: { curve: 'P-256K' } },
    ]);
    assert.ok(r.every((x) => x.ok), JSON.stringify(r));
    for (const x of r) created[x.value.id.split('/')[4]] = x.value;
  });
  after(() => m.dispose());

  test('created keys: sizes, curves, operations, and no private part in any response', () => {
    assert.equal(Buffer.from(created.rsa2048.n, 'base64url').length * 8, 2048);
    assert.equal(Buffer.from(created.rsa4096.n, 'base64url').length * 8, 4096);
    assert.equal(created.rsa2048.e, 'AQAB');
    assert.deepEqual(created.rsa2048.ops, ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey']);
    assert.deepEqual([created.ec256.crv, created.ec384.crv, created.ec521.crv, created.ec256k.crv], ['P-256', 'P-384', 'P-521', 'P-256K']);
    assert.deepEqual(created.ec384.ops, ['sign', 'verify']);
    for (const k of Object.values(created)) assert.equal(k.d, undefined);
  });

  test('Key Vault Crypto User: remote signatures verify locally, wrap/unwrap round trips, no delete', async () => {
    await assignRole(a, vault.id, ROLES.cryptoUser, site.principalId);
    const cases = [
      { key: 'rsa2048', alg: 'RS256', hash: 'sha256' },
      { key: 'rsa4096', alg: 'RS512', hash: 'sha512' },
      { key: 'rsa2048', alg: 'PS256', hash: 'sha256' },
      { key: 'rsa2048', alg: 'PS384', hash: 'sha384' },
      { key: 'ec256', alg: 'ES256', hash: 'sha256' },
      { key: 'ec384', alg: 'ES384', hash: 'sha384' },
      { key: 'ec521', alg: 'ES512', hash: 'sha512' },
      { key: 'ec256k', alg: 'ES256K', hash: 'sha256' },
    ];
    const steps: Record<string, unknown>[] = cases.map((c) => ({ op: 'sign', keyId: created[c.key].id, alg: c.alg, hash: c.hash, data: DATA }));
    steps.push(
      { op: 'wrapUnwrap', keyId: created.rsa2048.id, alg: 'RSA-OAEP' },
      { op: 'wrapUnwrap', keyId: created.rsa2048.id, alg: 'RSA-OAEP-256' },
      { op: 'wrapUnwrap', keyId: created.rsa4096.id, alg: 'RSA1_5' },
      { op: 'encryptDecrypt', keyId: created.rsa2048.id, alg: 'RSA-OAEP-256', text: 'round trip' },
      { op: 'deleteKey', name: 'rsa2048' },
      { op: 'createKey', name: 'another', type: 'RSA' },
    );
    const r = await kv(m, vault, { as: site.id }, steps);
    cases.forEach((c, i) => {
      const res = r[i]!;
      assert.ok(res.ok, `${c.alg}: ${JSON.stringify(res)}`);
      assert.equal(res.value.keyID, created[c.key].id);
      const key = publicKeyOf(created[c.key]);
      const signature = Buffer.from(res.value.signature, 'base64url');
      const ok = c.alg.startsWith('PS')
        ? verifySignature(c.hash, Buffer.from(DATA), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(c.hash).digest().length }, signature)
        : verifySignature(c.hash, Buffer.from(DATA), c.alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : key, signature);
      assert.ok(ok, `${c.alg} signature does not verify locally`);
    });
    const n = cases.length;
    assert.deepEqual(r[n]!.value, { same: true, wrappedLength: 256 });
    assert.deepEqual(r[n + 1]!.value, { same: true, wrappedLength: 256 });
    assert.deepEqual(r[n + 2]!.value, { same: true, wrappedLength: 512 });
    assert.equal(r[n + 3]!.value, 'round trip');
    assert.equal(r[n + 4]!.status, 403, JSON.stringify(r[n + 4]));
    assert.ok(r[n + 4]!.message!.includes("Action: 'Microsoft.KeyVault/vaults/keys/delete'"));
    assert.equal(r[n + 5]!.status, 403);
    assert.ok(r[n + 5]!.message!.includes("Action: 'Microsoft.KeyVault/vaults/keys/create/action'"));
  });

  test('remote verify, and attributes that gate operations (disabled, expired, key_ops)', async () => {
    const token = adminVaultToken(m);
    const digest = createHash('sha256').update(DATA).digest().toString('base64url');
    const signed = await raw(m, vault, 'POST', `/keys/ec256/sign`, { token, body: { alg: 'ES256', value: digest } });
    assert.equal(signed.status, 200, signed.text);
    const sig = signed.json().value;
    const verified = await kv(m, vault, { admin: true }, [
      { op: 'verify', keyId: created.ec256.id, alg: 'ES256', data: DATA, signature: sig },
      { op: 'verify', keyId: created.ec256.id, alg: 'ES256', data: 'tampered', signature: sig },
    ]);
    assert.deepEqual(verified.map((v) => v.value), [true, false]);
    // A digest of the wrong size and an algorithm of the wrong family are refused.
    assert.equal((await raw(m, vault, 'POST', '/keys/ec256/sign', { token, body: { alg: 'ES256', value: Buffer.alloc(20).toString('base64url') } })).status, 400);
    assert.equal((await raw(m, vault, 'POST', '/keys/ec256/sign', { token, body: { alg: 'RS256', value: digest } })).status, 400);
    assert.equal((await raw(m, vault, 'POST', '/keys/ec384/sign', { token, body: { alg: 'ES256', value: digest } })).status, 400);

    const expired = await raw(m, vault, 'PATCH', `/keys/ec256/`, { token, body: { attributes: { exp: Math.floor(Date.now() / 1000) - 60 } } });
    assert.equal(expired.status, 200, expired.text);
    assert.equal((await raw(m, vault, 'POST', '/keys/ec256/sign', { token, body: { alg: 'ES256', value: digest } })).status, 403);
    const stillVerifies = await raw(m, vault, 'POST', '/keys/ec256/verify', { token, body: { alg: 'ES256', digest, value: sig } });
    assert.deepEqual(stillVerifies.json(), { value: true });
    assert.equal((await raw(m, vault, 'PATCH', `/keys/ec256/`, { token, body: { attributes: { enabled: false, exp: null } } })).status, 200);
    const disabled = await raw(m, vault, 'POST', '/keys/ec256/verify', { token, body: { alg: 'ES256', digest, value: sig } });
    assert.equal(disabled.status, 403);
    assert.equal(disabled.json().error.innererror.code, 'KeyDisabled');

    const signOnly = await raw(m, vault, 'POST', '/keys/signonly/create', { token, body: { kty: 'RSA', key_ops: ['sign', 'verify'] } });
    assert.equal(signOnly.status, 200, signOnly.text);
    assert.equal((await raw(m, vault, 'POST', '/keys/signonly/encrypt', { token, body: { alg: 'RSA-OAEP', value: 'aGVsbG8' } })).status, 403);
    assert.equal((await raw(m, vault, 'POST', '/keys/badsize/create', { token, body: { kty: 'RSA', key_size: 1024 } })).status, 400);
    assert.equal((await raw(m, vault, 'POST', '/keys/hsm/create', { token, body: { kty: 'RSA-HSM' } })).status, 400, 'HSM keys need a premium vault');
    assert.equal((await raw(m, vault, 'POST', '/keys/oct/create', { token, body: { kty: 'oct' } })).status, 400);
  });

  test('import, rotate, backup and restore; private keys sealed at rest', async () => {
    const token = adminVaultToken(m);
    const local = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = local.privateKey.export({ format: 'jwk' });
    const imported = await raw(m, vault, 'PUT', '/keys/imported', { token, body: { key: { ...jwk, key_ops: ['decrypt', 'unwrapKey'] } } });
    assert.equal(imported.status, 200, imported.text);
    const body = imported.json();
    assert.equal(body.key.n, jwk.n);
    assert.equal(body.key.d, undefined);
    assert.deepEqual(body.key.key_ops, ['decrypt', 'unwrapKey']);
    // Data encrypted locally with the public key is decrypted by the vault (RSA-OAEP-256 and RSA1_5).
    const secret = Buffer.from('for the vault only');
    const oaep = publicEncrypt({ key: local.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, secret);
    const dec = await raw(m, vault, 'POST', '/keys/imported/decrypt', { token, body: { alg: 'RSA-OAEP-256', value: oaep.toString('base64url') } });
    assert.equal(Buffer.from(dec.json().value, 'base64url').toString(), 'for the vault only');
    const pkcs1 = publicEncrypt({ key: local.publicKey, padding: constants.RSA_PKCS1_PADDING }, secret);
    const dec1 = await raw(m, vault, 'POST', '/keys/imported/unwrapkey', { token, body: { alg: 'RSA1_5', value: pkcs1.toString('base64url') } });
    assert.equal(Buffer.from(dec1.json().value, 'base64url').toString(), 'for the vault only');

    const r = await kv(m, vault, { admin: true }, [
      { op: 'rotateKey', name: 'ec384' },
      { op: 'getKey', name: 'ec384' },
      { op: 'listKeys' },
    ]);
    assert.ok(r.every((x) => x.ok), JSON.stringify(r));
    assert.notEqual(r[0]!.value.version, created.ec384.id.split('/')[5]);
    assert.equal(r[1]!.value.id.split('/')[5], r[0]!.value.version);
    assert.ok(r[2]!.value.includes('imported'));

    const backup = await raw(m, vault, 'POST', '/keys/imported/backup', { token });
    assert.equal(backup.status, 200);
    assert.equal((await raw(m, vault, 'DELETE', '/keys/imported', { token })).status, 200);
    assert.equal((await raw(m, vault, 'DELETE', '/deletedkeys/imported', { token })).status, 204);
    const restored = await raw(m, vault, 'POST', '/keys/restore', { token, body: { value: backup.json().value } });
    assert.equal(restored.status, 200, restored.text);
    const again = await raw(m, vault, 'POST', '/keys/imported/decrypt', { token, body: { alg: 'RSA-OAEP-256', value: oaep.toString('base64url') } });
    assert.equal(Buffer.from(again.json().value, 'base64url').toString(), 'for the vault only');

    const stored = await m.store.list<{ key?: { sealedPrivateKey: string } }>(KV_VERSIONS, { prefix: 'keysvault/keys/' });
    assert.ok(stored.length >= 8);
    for (const e of stored) {
      assert.match(e.value.key!.sealedPrivateKey, /^v1\./);
      assert.ok(!JSON.stringify(e.value).includes(String(jwk.d)), 'private exponent stored in clear');
      assert.ok(!('d' in e.value.key!));
    }
  });
});
