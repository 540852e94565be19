// The attack matrix: every service that takes a bearer token × every token attack. One table of
// services (how to call a harmless read and a write, what its 401/403 look like, how to see that
// a write did not land) so a new service is covered by adding a row. Each cell must get that
// service's own refusal and change nothing.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { signJwt, decodeJwt, type Claims } from '../../src/sts/jwt.js';
import { createAccount, createChild, raw as storageRaw, ROLE, type Account } from '../storage/helpers.js';
import { arm, createVault, raw as kvRaw, ROLES as KV_ROLES, type Vault } from '../keyvault/helpers.js';
import { type ArmCaller } from '../helpers/arm.js';

const RG = 'attacks';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One row of the matrix: a service that takes bearer tokens. */
interface Row {
  name: string;
  /** The audience a genuine token for this service carries. */
  audience: string;
  read(token?: string, headers?: Record<string, string>): Promise<Answer>;
  write(token?: string): Promise<Answer>;
  /** True when no write attempt has landed (checked as a principal that may read). */
  unchanged(): Promise<boolean>;
  /** Asserts the service's own 401 shape. */
  is401(r: Answer, what: string): void;
  /** Asserts the service's own 403 (authorization) shape. */
  is403(r: Answer, what: string): void;
}

function json(r: Answer): any {
  try {
    return JSON.parse(r.text);
  } catch {
    return undefined;
  }
}

function armShape(status: number, codes: string[]) {
  return (r: Answer, what: string) => {
    assert.equal(r.status, status, `${what}: ${r.status} ${r.text}`);
    const code = json(r)?.error?.code;
    assert.ok(codes.includes(code), `${what}: code ${code} not in ${codes.join(',')}: ${r.text}`);
    assert.equal(typeof json(r).error.message, 'string', what);
    if (status === 401) assert.match(String(r.headers['www-authenticate']), /^Bearer authorization_uri="https:\/\/login\.microsoftonline\.com\//, what);
  };
}

function kvShape(status: number) {
  return (r: Answer, what: string) => {
    assert.equal(r.status, status, `${what}: ${r.status} ${r.text}`);
    const body = json(r);
    if (status === 401) {
      assert.equal(body?.error?.code, 'Unauthorized', `${what}: ${r.text}`);
      assert.match(String(r.headers['www-authenticate']), /^Bearer authorization="https:\/\/login\.microsoftonline\.com\/[^"]+", resource="https:\/\/vault\.azure\.net"/, what);
    } else {
      assert.equal(body?.error?.code, 'Forbidden', `${what}: ${r.text}`);
      assert.equal(body?.error?.innererror?.code, 'ForbiddenByRbac', `${what}: ${r.text}`);
    }
  };
}

function storageShape(status: number, table: boolean) {
  return (r: Answer, what: string) => {
    assert.equal(r.status, status, `${what}: ${r.status} ${r.text}`);
    const code = r.headers['x-ms-error-code'];
    const codes = status === 401 ? ['InvalidAuthenticationInfo', 'NoAuthenticationInformation'] : ['AuthorizationPermissionMismatch'];
    assert.ok(codes.includes(String(code)), `${what}: x-ms-error-code ${code}`);
    if (table) assert.equal(json(r)?.['odata.error']?.code, code, `${what}: ${r.text}`);
    else assert.match(r.text, new RegExp(`^<\\?xml[^>]*\\?><Error><Code>${code}</Code>`), `${what}: ${r.text}`);
    if (status === 401) assert.match(String(r.headers['www-authenticate']), /^Bearer authorization_uri=https:\/\/login\.microsoftonline\.com\/\S+ resource_id=https:\/\/storage\.azure\.com/, what);
  };
}

const bearer = (token?: string): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });

describe('attack matrix: every bearer-token service refuses every forged, stale or misdirected token', () => {
  let m: TestMimic;
  let a: ArmCaller;
  let account: Account;
  let vault: Vault;
  let rows: Row[];
  /** The caller under attack: a user-assigned identity with read and write roles on every row. */
  let victim: { principalId: string; assignments: string[] };
  const mint = (principalId: string, resource: string) => m.tokens.mint(m.directory.byObject(principalId)!, { resource, lifetimeSeconds: 3600, appidacr: '2' }).accessToken;
  const adminId = () => m.context.tenant.adminObjectId;

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/${RG}`, { location: 'eastus' }, '2025-04-01')).status, 201);
    const rgId = `${a.sub}/resourceGroups/${RG}`;
    account = await createAccount(a, RG, 'mimicattacks');
    await createChild(a, account, 'container', 'box');
    await createChild(a, account, 'queue', 'inbox');
    await createChild(a, account, 'table', 'ledger');
    vault = await createVault(a, RG, 'mimic-attacks', { enableRbacAuthorization: true });
    const uai = await a.call('PUT', `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/victim`, { location: 'eastus' }, '2023-01-31');
    assert.equal(uai.status, 201, uai.text);
    victim = { principalId: uai.body.properties.principalId, assignments: [] };
    const assign = async (role: string, principalId: string) => {
      const id = `${rgId}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
      const r = await a.call('PUT', id, { properties: { roleDefinitionId: `${a.sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId, principalType: 'ServicePrincipal' } }, '2022-04-01');
      assert.equal(r.status, 201, r.text);
      return id;
    };
    const contributor = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
    const tableContributor = ROLE.tableContributor;
    const queueContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88';
    for (const role of [contributor, KV_ROLES.secretsOfficer, ROLE.blobContributor, queueContributor, tableContributor]) victim.assignments.push(await assign(role, victim.principalId));
    // The administrator checks that nothing landed.
    for (const role of [KV_ROLES.secretsOfficer, ROLE.blobContributor, queueContributor, tableContributor]) await assign(role, adminId());

    const admin = (resource: string) => mint(adminId(), resource);
    const kvPath = (name: string) => `/secrets/${name}`;
    const tableJson = { accept: 'application/json;odata=nometadata' };
    rows = [
      {
        name: 'Resource Manager',
        audience: 'https://management.azure.com/',
        read: (t, h) => a.client.send('GET', `${a.client.endpoints.armEndpoint}${rgId}?api-version=2025-04-01`, undefined, { ...bearer(t), ...h }),
        write: (t) => a.client.send('PUT', `${a.client.endpoints.armEndpoint}${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/planted?api-version=2023-01-31`, JSON.stringify({ location: 'eastus' }), { ...bearer(t), 'content-type': 'application/json' }),
        unchanged: async () => (await a.call('GET', `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/planted`, undefined, '2023-01-31')).status === 404,
        is401: armShape(401, ['AuthenticationFailed', 'InvalidAuthenticationToken', 'ExpiredAuthenticationToken', 'InvalidAuthenticationTokenAudience', 'InvalidAuthenticationTokenTenant']),
        is403: armShape(403, ['AuthorizationFailed']),
      },
      {
        name: 'Key Vault',
        audience: 'https://vault.azure.net',
        read: (t) => kvRaw(m, vault, 'GET', kvPath('present'), { token: t }),
        write: (t) => kvRaw(m, vault, 'PUT', kvPath('planted'), { token: t, body: { value: 'planted' } }),
        unchanged: async () => (await kvRaw(m, vault, 'GET', kvPath('planted'), { token: admin('https://vault.azure.net') })).status === 404,
        is401: kvShape(401),
        is403: kvShape(403),
      },
      {
        name: 'Blob',
        audience: 'https://storage.azure.com',
        read: (t) => storageRaw(m, 'GET', `${account.endpoints.blob}box/present.txt`, bearer(t)),
        write: (t) => storageRaw(m, 'PUT', `${account.endpoints.blob}box/planted.txt`, { ...bearer(t), 'x-ms-blob-type': 'BlockBlob' }, 'planted'),
        unchanged: async () => (await storageRaw(m, 'GET', `${account.endpoints.blob}box/planted.txt`, bearer(admin('https://storage.azure.com')))).status === 404,
        is401: storageShape(401, false),
        is403: storageShape(403, false),
      },
      {
        name: 'Queue',
        audience: 'https://storage.azure.com',
        read: (t) => storageRaw(m, 'GET', `${account.endpoints.queue}inbox/messages?peekonly=true`, bearer(t)),
        write: (t) => storageRaw(m, 'POST', `${account.endpoints.queue}inbox/messages`, { ...bearer(t), 'content-type': 'application/xml' }, '<QueueMessage><MessageText>planted</MessageText></QueueMessage>'),
        unchanged: async () => {
          const r = await storageRaw(m, 'GET', `${account.endpoints.queue}inbox/messages?peekonly=true&numofmessages=32`, bearer(admin('https://storage.azure.com')));
          return r.status === 200 && !r.text.includes('planted');
        },
        is401: storageShape(401, false),
        is403: storageShape(403, false),
      },
      {
        name: 'Table',
        audience: 'https://storage.azure.com',
        read: (t) => storageRaw(m, 'GET', `${account.endpoints.table}ledger()`, { ...bearer(t), ...tableJson }),
        write: (t) => storageRaw(m, 'POST', `${account.endpoints.table}ledger`, { ...bearer(t), ...tableJson, 'content-type': 'application/json' }, JSON.stringify({ PartitionKey: 'p', RowKey: 'planted' })),
        unchanged: async () => (await storageRaw(m, 'GET', `${account.endpoints.table}ledger(PartitionKey='p',RowKey='planted')`, { ...bearer(admin('https://storage.azure.com')), ...tableJson })).status === 404,
        is401: storageShape(401, true),
        is403: storageShape(403, true),
      },
    ];
    // Something to read on each data plane.
    assert.equal((await kvRaw(m, vault, 'PUT', kvPath('present'), { token: admin('https://vault.azure.net'), body: { value: 'v' } })).status, 200);
    assert.equal((await storageRaw(m, 'PUT', `${account.endpoints.blob}box/present.txt`, { ...bearer(admin('https://storage.azure.com')), 'x-ms-blob-type': 'BlockBlob' }, 'v')).status, 201);
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
      'wrong aud': ours({ ...claims, aud: 'https://graph.microsoft.com' }),
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
    for (const row of rows) {
      const token = tokens.get(row.name)!;
      row.is403(await row.read(token), `${row.name} read after role removal`);
      row.is403(await row.write(token), `${row.name} write after role removal`);
      assert.ok(await row.unchanged(), `${row.name}: the refused write left something behind`);
    }
  });
});

