// The pure pieces of the managed-identity subsystem: identity selection, the token cache,
// flavour decisions, and signature checks of external assertions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { selectIdentity, type AssignedIdentity } from '../../src/sts/managedIdentity/selection.js';
import { ManagedIdentityTokenCache, REFRESH_MARGIN_SECONDS } from '../../src/sts/managedIdentity/tokenCache.js';
import { decideFlavour } from '../../src/sts/managedIdentity/flavours.js';
import { verifyWithJwk } from '../../src/sts/federation/jws.js';
import { tokenBody } from '../../src/sts/managedIdentity/protocol.js';
import type { ServicePrincipal } from '../../src/directory/types.js';
import type { IssuedToken } from '../../src/sts/tokens.js';

function identity(type: 'SystemAssigned' | 'UserAssigned', n: number): AssignedIdentity {
  const principal: ServicePrincipal = {
    objectId: `00000000-0000-0000-0000-00000000000${n}`,
    appId: `aaaaaaaa-0000-0000-0000-00000000000${n}`,
    displayName: `id${n}`,
    servicePrincipalType: 'ManagedIdentity',
    accountEnabled: true,
    createdDateTime: '2025-01-01T00:00:00Z',
  };
  return { type, resourceId: `/subscriptions/s/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id${n}`, principal };
}

describe('identity selection', () => {
  const system = identity('SystemAssigned', 1);
  const u2 = identity('UserAssigned', 2);
  const u3 = identity('UserAssigned', 3);

  test('defaults to the system-assigned identity, else the only user-assigned one', () => {
    assert.equal((selectIdentity([u2, system], {}) as { identity: AssignedIdentity }).identity, system);
    assert.equal((selectIdentity([u3], {}) as { identity: AssignedIdentity }).identity, u3);
    assert.deepEqual(selectIdentity([u2, u3], {}), { ok: false, reason: 'multipleUserAssigned' });
    assert.deepEqual(selectIdentity([], {}), { ok: false, reason: 'noIdentity' });
  });

  test('matches ids case-insensitively and resource ids only of user-assigned identities', () => {
    assert.equal((selectIdentity([system, u2, u3], { clientId: u3.principal.appId.toUpperCase() }) as { identity: AssignedIdentity }).identity, u3);
    assert.equal((selectIdentity([system, u2, u3], { objectId: u2.principal.objectId }) as { identity: AssignedIdentity }).identity, u2);
    assert.equal((selectIdentity([system, u2, u3], { resourceId: u2.resourceId.toLowerCase() + '/' }) as { identity: AssignedIdentity }).identity, u2);
    assert.deepEqual(selectIdentity([system, u2], { resourceId: u3.resourceId }), { ok: false, reason: 'notFound' });
    assert.deepEqual(selectIdentity([{ ...system, resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm' }], { resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm' }), { ok: false, reason: 'notFound' });
  });
});

describe('token cache', () => {
  const token = (expiresOn: number, resource = 'r'): IssuedToken => ({ accessToken: `t${expiresOn}`, expiresOn, notBefore: 0, expiresIn: 0, resource });

  test('keeps one token per identity and resource until it nears expiry', () => {
    const cache = new ManagedIdentityTokenCache();
    cache.set('a', 'r', 'ca', token(10_000));
    assert.equal(cache.get('a', 'r', 1_000)?.token.expiresOn, 10_000);
    assert.equal(cache.get('a', 'r2', 1_000), undefined);
    assert.equal(cache.get('b', 'r', 1_000), undefined);
    assert.equal(cache.get('a', 'r', 10_000 - REFRESH_MARGIN_SECONDS), undefined);
    assert.equal(cache.size, 0);
  });

  test('drops an identity, and evicts the oldest entries past its bound', () => {
    const cache = new ManagedIdentityTokenCache(3);
    cache.set('a', 'r1', 'c', token(9_000));
    cache.set('a', 'r2', 'c', token(9_000));
    cache.set('b', 'r1', 'c', token(9_000));
    cache.dropPrincipal('a');
    assert.equal(cache.size, 1);
    for (let i = 0; i < 5; i++) cache.set('c', `r${i}`, 'c', token(9_000));
    assert.equal(cache.size, 3);
    assert.equal(cache.get('b', 'r1', 0), undefined);
    assert.ok(cache.get('c', 'r4', 0));
  });

  test('does not keep a token minted before its identity changed', () => {
    const cache = new ManagedIdentityTokenCache();
    const before = cache.generation('a');
    cache.dropPrincipal('a');
    const e = cache.set('a', 'r', 'c', token(9_000), before);
    assert.equal(e.token.expiresOn, 9_000, 'the caller still gets its token');
    assert.equal(cache.get('a', 'r', 0), undefined);
    cache.set('a', 'r', 'c', token(9_000), cache.generation('a'));
    assert.ok(cache.get('a', 'r', 0));
    const gen = cache.generation('a');
    cache.clear();
    cache.set('a', 'r', 'c', token(9_000), gen);
    assert.equal(cache.get('a', 'r', 0), undefined);
  });

  test('renders the response with the seconds left', () => {
    const cache = new ManagedIdentityTokenCache();
    const e = cache.set('a', 'https://vault.azure.net', 'client', { accessToken: 'x.y.z', expiresOn: 2_000, notBefore: 500, expiresIn: 1_000, resource: 'https://vault.azure.net' });
    assert.deepEqual(JSON.parse(tokenBody(e, 1_500)), {
      access_token: 'x.y.z',
      client_id: 'client',
      expires_in: '500',
      expires_on: '2000',
      ext_expires_in: '500',
      not_before: '500',
      resource: 'https://vault.azure.net',
      token_type: 'Bearer',
    });
    assert.equal(JSON.parse(tokenBody(e, 1_900)).expires_in, '100');
  });
});

describe('flavour decisions', () => {
  test('hosts without user code have no endpoint unless asked; Arc falls back to IMDS', () => {
    assert.deepEqual(decideFlavour('appService', 'App Service'), { flavour: 'appService' });
    const none = decideFlavour('none', 'Data Factory');
    assert.equal(none.flavour, undefined);
    assert.equal(decideFlavour('none', 'Data Factory', 'imds').flavour, 'imds');
    const arc = decideFlavour('azureArc', 'Azure Arc-enabled server');
    assert.equal(arc.flavour, 'imds');
    assert.match((arc as { note: string }).note, /root/);
  });
});

describe('external assertion signatures', () => {
  const input = 'header.payload';
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaJwk = rsa.publicKey.export({ format: 'jwk' });
  const ecJwk = ec.publicKey.export({ format: 'jwk' });

  test('verifies RS256, PS256 and ES256 with the matching key type only', () => {
    const rs = sign('sha256', Buffer.from(input), rsa.privateKey);
    const ps = sign('sha256', Buffer.from(input), { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    const es = sign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    assert.equal(verifyWithJwk('RS256', rsaJwk, input, rs), true);
    assert.equal(verifyWithJwk('PS256', rsaJwk, input, ps), true);
    assert.equal(verifyWithJwk('ES256', ecJwk, input, es), true);
    assert.equal(verifyWithJwk('RS256', rsaJwk, input + 'x', rs), false);
    assert.equal(verifyWithJwk('ES256', rsaJwk, input, es), false);
    assert.equal(verifyWithJwk('ES384', ecJwk, input, es), false);
    assert.equal(verifyWithJwk('RS384', { ...rsaJwk, alg: 'RS256' }, input, rs), false);
  });

  test('refuses unsigned and symmetric algorithms', () => {
    for (const alg of ['none', 'HS256', 'RS1', '']) assert.equal(verifyWithJwk(alg, rsaJwk, input, Buffer.alloc(0)), false);
  });
});
