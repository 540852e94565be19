// The attack matrix: every service that takes a bearer token × every token attack. One table of
// services (how to call a harmless read and a write, what its 401/403 look like, how to see that
// a write did not land) so a new service is covered by adding a row. Each cell must get that
// service's own refusal and change nothing.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { signJwt, decodeJwt, type Claims } from '../../src/sts/jwt.js';
import type { ArmCaller } from '../helpers/arm.js';
import { serviceMatrix, type Matrix, type Row } from './services.js';

const RG = 'attacks';

describe('attack matrix: every bearer-token service refuses every forged, stale or misdirected token', () => {
  let m: TestMimic;
  let a: ArmCaller;
  let rows: Row[];
  let mint: Matrix['mint'];
  /** The caller under attack: a user-assigned identity with read and write roles on every row. */
  let victim: { principalId: string; assignments: string[] };
  const adminId = () => m.context.tenant.adminObjectId;

  before(async () => {
    m = await startTestMimic('sqlite');
    const matrix = await serviceMatrix(m, RG, 'attacks');
    ({ a, rows, mint } = matrix);
    const uai = await a.call('PUT', `${matrix.rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/victim`, { location: 'eastus' }, '2023-01-31');
    assert.equal(uai.status, 201, uai.text);
    victim = { principalId: uai.body.properties.principalId, assignments: await matrix.grantAll(uai.body.properties.principalId) };
  });
  after(() => m?.dispose());

  test('control: a genuine token of the victim reads on every row (so refusals below are the attacks\' doing)', async () => {
    for (const row of rows) {
      const r = await row.read(mint(victim.principalId, row.audience));
      assert.equal(r.status, 200, `${row.name}: ${r.status} ${r.text}`);
      assert.ok(await row.unchanged(), `${row.name}: nothing planted yet`);
    }
  });

  /** Forged and misdirected tokens, built for one row from a genuine token of the victim. */
  function attacks(row: Row): Record<string, string | undefined> {
    const genuine = mint(victim.principalId, row.audience);
    const { header, claims } = decodeJwt(genuine);
    const { kid, privateKey } = m.keys.active();
    const ours = (c: Claims, h: Record<string, unknown> = {}) => signJwt({ typ: 'JWT', alg: 'RS256', kid, x5t: kid, ...h }, c, privateKey);
    const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const foreignSigned = (h: Record<string, unknown>, c: Claims = claims, key: KeyObject = foreign.privateKey) => signJwt({ typ: 'JWT', alg: 'RS256', ...h }, c, key);
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const otherTenant = randomUUID();
    // HS256 keyed with our published RSA public key (the classic algorithm-confusion attack).
    const publicPem = m.keys.publicKey(kid)!.export({ format: 'pem', type: 'spki' }).toString();
    const hsInput = `${enc({ ...header, alg: 'HS256' })}.${enc(claims)}`;
    const otherAudience = row.name === 'Resource Manager' ? 'https://vault.azure.net' : 'https://management.azure.com/';
    const foreignJwk = { ...(foreign.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'RS256', use: 'sig' };
    return {
      'no token': undefined,
      'malformed token': 'not.a-jwt',
      'two segments': genuine.split('.').slice(0, 2).join('.'),
      'alg none': `${enc({ typ: 'JWT', alg: 'none' })}.${enc(claims)}.`,
      'alg none with our kid': `${enc({ typ: 'JWT', alg: 'none', kid })}.${enc(claims)}.`,
      'HS256 signed with our RSA public key': `${hsInput}.${createHmac('sha256', publicPem).update(hsInput).digest('base64url')}`,
      expired: ours({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 1800 }),
      'nbf in the future': ours({ ...claims, iat: now + 3600, nbf: now + 3600, exp: now + 7200 }),
      'no exp': ours(Object.fromEntries(Object.entries(claims).filter(([k]) => k !== 'exp'))),
      'wrong aud': ours({ ...claims, aud: row.audience === 'https://graph.microsoft.com' ? 'https://storage.azure.com' : 'https://graph.microsoft.com' }),
      'wrong iss': ours({ ...claims, iss: 'https://login.evil.example/' }),
      'another tenant': ours({ ...claims, iss: `https://sts.windows.net/${otherTenant}/`, tid: otherTenant, idp: `https://sts.windows.net/${otherTenant}/` }),
      'foreign key under our kid': foreignSigned({ kid, x5t: kid }),
      'unknown kid': foreignSigned({ kid: 'not-a-key-of-ours', x5t: 'not-a-key-of-ours' }),
      'jwk header injection': foreignSigned({ kid, jwk: foreignJwk }),
      'jwk header without kid': foreignSigned({ jwk: foreignJwk }),
      'jku header injection': foreignSigned({ kid, jku: 'https://attacker.example/keys' }),
      'x5u header injection': foreignSigned({ kid, x5u: 'https://attacker.example/cert.pem' }),
      'truncated signature': genuine.slice(0, -12),
      'signature of another token': `${genuine.split('.').slice(0, 2).join('.')}.${mint(victim.principalId, otherAudience).split('.')[2]}`,
      'tampered payload (oid of the administrator)': `${genuine.split('.')[0]}.${enc({ ...claims, oid: adminId(), sub: adminId() })}.${genuine.split('.')[2]}`,
      'genuine token for another audience': mint(victim.principalId, otherAudience),
      'oversized token (8 KB of claims)': foreignSigned({ kid }, { ...claims, pad: 'x'.repeat(6_000) }),
      'oversized genuine-looking token with our key stripped': `${ours({ ...claims, pad: 'x'.repeat(6_000) }).slice(0, -40)}`,
    };
  }

  test('every forged, stale or misdirected token is refused with the service\'s own 401, on reads and writes', async () => {
    let cells = 0;
    for (const row of rows) {
      for (const [attack, token] of Object.entries(attacks(row))) {
        row.is401(await row.read(token), `${row.name} read, ${attack}`);
        row.is401(await row.write(token), `${row.name} write, ${attack}`);
        cells += 2;
      }
      assert.ok(await row.unchanged(), `${row.name}: a refused write left something behind`);
    }
    assert.ok(cells >= rows.length * 40);
  });

  test('a non-Bearer scheme and a bearer header with no token are refused with the 401 shape', async () => {
    for (const row of rows) {
      if (row.name === 'Resource Manager') {
        row.is401(await row.read(undefined, { authorization: 'Basic YWRtaW46YWRtaW4=' }), `${row.name}: Basic`);
      }
      row.is401(await row.read(''), `${row.name}: empty bearer`);
    }
  });

  test('a header too large for any listener is cut off by Node (431), and the service keeps answering', async () => {
    for (const row of rows) {
      const r = await row.read('x'.repeat(100_000)).catch((e: Error) => ({ status: -1, headers: {}, text: e.message }));
      assert.ok(r.status === 431 || r.status === -1, `${row.name}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.equal((await row.read(mint(victim.principalId, row.audience))).status, 200, `${row.name} after the oversized header`);
    }
  });

  test('a token whose roles were removed a moment ago is refused at once with the service\'s own 403', async () => {
    const tokens = new Map(rows.map((row) => [row.name, mint(victim.principalId, row.audience)]));
    for (const id of victim.assignments) assert.equal((await a.call('DELETE', id, undefined, '2022-04-01')).status, 200);
    for (const row of rows.filter((r) => r.rbac !== false)) {
      const token = tokens.get(row.name)!;
      row.is403(await row.read(token), `${row.name} read after role removal`);
      row.is403(await row.write(token), `${row.name} write after role removal`);
      assert.ok(await row.unchanged(), `${row.name}: the refused write left something behind`);
    }
  });
});

