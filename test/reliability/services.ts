// The shared table of services that take bearer tokens, for the attack matrix and the other
// reliability tests: how to call a harmless read and a write on each, what its 401/403 look
// like, and how to see that a write did not land. A new service is covered by adding a row.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestMimic } from '../helpers/mimic.js';
import { createAccount, createChild, raw as storageRaw, ROLE } from '../storage/helpers.js';
import { arm, createVault, raw as kvRaw, ROLES as KV_ROLES } from '../keyvault/helpers.js';
import type { ArmCaller } from '../helpers/arm.js';


export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One row of the matrix: a service that takes bearer tokens. */
export interface Row {
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
  /**
   * False for a service that does not ask Azure RBAC (Microsoft Graph authorizes by the app's
   * Graph permissions): role assignments neither grant nor take away anything there.
   */
  rbac?: false;
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

/** Microsoft Graph: `{error:{code,message,innerError:{date,request-id,client-request-id}}}`, and its challenge on a 401. */
function graphShape(status: number) {
  return (r: Answer, what: string) => {
    assert.equal(r.status, status, `${what}: ${r.status} ${r.text}`);
    const error = json(r)?.error;
    assert.equal(error?.code, status === 401 ? 'InvalidAuthenticationToken' : 'Authorization_RequestDenied', `${what}: ${r.text}`);
    assert.equal(typeof error.message, 'string', what);
    assert.match(String(error.innerError?.['request-id']), /^[0-9a-f-]{36}$/, `${what}: ${r.text}`);
    assert.equal(typeof error.innerError?.date, 'string', what);
    assert.equal(typeof error.innerError?.['client-request-id'], 'string', what);
    assert.equal(r.headers['request-id'], error.innerError['request-id'], what);
    if (status === 401) assert.equal(r.headers['www-authenticate'], 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"', what);
  };
}

const bearer = (token?: string): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });


export interface Matrix {
  a: ArmCaller;
  rgId: string;
  rows: Row[];
  /** Gives a principal read and write on every row; returns the role assignment ids. */
  grantAll(principalId: string): Promise<string[]>;
  /** A genuine token of a principal for an audience, as Mimic issues it. */
  mint(principalId: string, audience: string): string;
}

const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const QUEUE_CONTRIBUTOR = '974c5e8b-45b9-4653-ba55-5f855dd0fb88';

/** Creates one instance of every service (in resource group `rg`) and its row. */
export async function serviceMatrix(m: TestMimic, rg: string, suffix: string): Promise<Matrix> {
  const a = await arm(m);
  assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/${rg}`, { location: 'eastus' }, '2025-04-01')).status, 201);
  const rgId = `${a.sub}/resourceGroups/${rg}`;
  const account = await createAccount(a, rg, `mimic${suffix}`);
  await createChild(a, account, 'container', 'box');
  await createChild(a, account, 'queue', 'inbox');
  await createChild(a, account, 'table', 'ledger');
  const vault = await createVault(a, rg, `mimic-${suffix}`, { enableRbacAuthorization: true });
  const mint = (principalId: string, resource: string) => m.tokens.mint(m.directory.byObject(principalId)!, { resource, lifetimeSeconds: 3600, appidacr: '2' }).accessToken;
  const assign = async (role: string, principalId: string) => {
    const id = `${rgId}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
    const r = await a.call('PUT', id, { properties: { roleDefinitionId: `${a.sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId, principalType: 'ServicePrincipal' } }, '2022-04-01');
    assert.equal(r.status, 201, r.text);
    return id;
  };
  const grantAll = async (principalId: string) => {
    const ids: string[] = [];
    for (const role of [CONTRIBUTOR, KV_ROLES.secretsOfficer, ROLE.blobContributor, QUEUE_CONTRIBUTOR, ROLE.tableContributor]) ids.push(await assign(role, principalId));
    return ids;
  };
  const adminId = m.context.tenant.adminObjectId;
  // The administrator checks that nothing landed.
  for (const role of [KV_ROLES.secretsOfficer, ROLE.blobContributor, QUEUE_CONTRIBUTOR, ROLE.tableContributor]) await assign(role, adminId);
  const admin = (resource: string) => mint(adminId, resource);
  const kvPath = (name: string) => `/secrets/${name}`;
  const tableJson = { accept: 'application/json;odata=nometadata' };
  const rows: Row[] = [
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
    {
      name: 'Microsoft Graph',
      audience: 'https://graph.microsoft.com',
      rbac: false,
      read: (t) => a.client.send('GET', `${a.client.endpoints.origin}/v1.0/servicePrincipals/${adminId}`, undefined, { ...bearer(t), host: 'graph.microsoft.com' }),
      write: (t) => a.client.send('POST', `${a.client.endpoints.origin}/v1.0/servicePrincipals`, JSON.stringify({ appId: randomUUID(), displayName: 'planted' }), { ...bearer(t), host: 'graph.microsoft.com', 'content-type': 'application/json' }),
      unchanged: async () => ![...m.directory.all()].some((sp) => sp.displayName === 'planted'),
      is401: graphShape(401),
      is403: graphShape(403),
    },
  ];
  // Something to read on each data plane.
  assert.equal((await kvRaw(m, vault, 'PUT', kvPath('present'), { token: admin('https://vault.azure.net'), body: { value: 'v' } })).status, 200);
  assert.equal((await storageRaw(m, 'PUT', `${account.endpoints.blob}box/present.txt`, { ...bearer(admin('https://storage.azure.com')), 'x-ms-blob-type': 'BlockBlob' }, 'v')).status, 201);
  return { a, rgId, rows, grantAll, mint };
}
