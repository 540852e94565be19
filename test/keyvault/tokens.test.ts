// Authentication of the Key Vault data plane over HTTPS: the challenge a token-less request
// gets (before its body is read), and the 401 for tokens that are not exactly right — wrong
// audience (even a trailing slash), expired, unsigned, or re-signed with another key — with
// nothing read or written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { b64urlJson, decodeJwt, signJwt } from '../../src/sts/jwt.js';
import { adminVaultToken, arm, assignRole, createGroup, createVault, raw, ROLES, type Vault } from './helpers.js';

describe('Key Vault token checks', () => {
  let m: TestMimic;
  let vault: Vault;
  let good: string;

  before(async () => {
    m = await startTestMimic('sqlite');
    const a = await arm(m);
    await createGroup(a, 'kv-tokens');
    vault = await createVault(a, 'kv-tokens', 'tokenvault');
    await assignRole(a, vault.id, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    good = adminVaultToken(m);
    assert.equal((await raw(m, vault, 'PUT', '/secrets/existing', { token: good, body: { value: 'the value' } })).status, 200);
  });
  after(() => m.dispose());

  test('a request without a token gets the challenge, before its body is looked at', async () => {
    const challenge = `Bearer authorization="https://login.microsoftonline.com/${m.context.tenant.tenantId}", resource="https://vault.azure.net"`;
    for (const [method, path, body] of [
      ['GET', '/secrets/existing/', undefined],
      ['PUT', '/secrets/new', '{not json'],
      ['POST', '/keys/k/create', ''],
    ] as const) {
      const r = await raw(m, vault, method, path, { body });
      assert.equal(r.status, 401, `${method} ${path}: ${r.text}`);
      assert.equal(r.headers['www-authenticate'], challenge);
      assert.deepEqual(r.json(), { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } });
    }
  });

  test('wrong audience, expired, unsigned or re-signed tokens: 401, nothing read or written', async () => {
    const sp = m.directory.byObject(m.context.tenant.adminObjectId)!;
    const { header, claims } = decodeJwt(good);
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const bad: Record<string, { token: string; message: RegExp }> = {
      'trailing slash audience': { token: adminVaultToken(m, 'https://vault.azure.net/'), message: /^AKV10022: Invalid audience\. Expected https:\/\/vault\.azure\.net, found: https:\/\/vault\.azure\.net\/\.$/ },
      'storage audience': { token: adminVaultToken(m, 'https://storage.azure.com/'), message: /^AKV10022: .*found: https:\/\/storage\.azure\.com\/\.$/ },
      expired: { token: m.tokens.mint(sp, { resource: 'https://vault.azure.net', lifetimeSeconds: -900, appidacr: '1' }).accessToken, message: /expired/ },
      unsigned: { token: `${b64urlJson({ ...header, alg: 'none' })}.${b64urlJson(claims)}.`, message: /algorithm/ },
      'signed by another key': { token: signJwt(header, claims, otherKey), message: /signature/ },
      'another tenant': { token: signJwt(header, { ...claims, iss: 'https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/' }, otherKey), message: /./ },
    };
    for (const [label, { token, message }] of Object.entries(bad)) {
      const write = await raw(m, vault, 'PUT', '/secrets/written', { token, body: { value: 'should not land' } });
      assert.equal(write.status, 401, `${label}: ${write.text}`);
      assert.equal(write.json().error.code, 'Unauthorized');
      assert.match(write.json().error.message, message, label);
      assert.ok(write.headers['www-authenticate'], label);
      const read = await raw(m, vault, 'GET', '/secrets/existing/', { token });
      assert.equal(read.status, 401, label);
      assert.ok(!read.text.includes('the value'), label);
    }
    assert.equal((await raw(m, vault, 'GET', '/secrets/written/', { token: good })).status, 404);
    assert.equal((await raw(m, vault, 'GET', '/secrets/existing/', { token: good })).json().value, 'the value');
  });

  test('api-version: required and one Key Vault publishes', async () => {
    const missing = await raw(m, vault, 'GET', '/secrets/existing/', { token: good, apiVersion: '' });
    assert.equal(missing.status, 400);
    assert.equal(missing.json().error.code, 'BadParameter');
    const unknown = await raw(m, vault, 'GET', '/secrets/existing/', { token: good, apiVersion: '9.9' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json().error.message, /9\.9/);
    for (const v of ['7.4', '7.6', '2025-07-01']) assert.equal((await raw(m, vault, 'GET', '/secrets/existing/', { token: good, apiVersion: v })).status, 200, v);
  });

  test('an unknown vault host answers 404', async () => {
    const r = await raw(m, 'https://novault.vault.azure.net', 'GET', '/secrets/x/', { token: good });
    assert.equal(r.status, 404);
    assert.equal(r.json().error.code, 'VaultNotFound');
  });
});
