// Shared pieces of the storage tests: Resource Manager calls as the administrator (accounts,
// containers, queues, tables, role assignments, hosts with identities), raw data-plane
// requests, and the SDK fixture runner.
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import type { HttpResult } from '../../src/cli/client.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';
import { runFixture, type TestMimic } from '../helpers/mimic.js';
import { asEnvironment } from '../../src/cli/commands/identityRuntime.js';

export const STORAGE_API = '2023-05-01';
export const ROLE = {
  blobReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  blobContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  queueSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a',
  queueProcessor: '8a0f0c08-91a1-4084-bc3d-661d67233fed',
  tableReader: '76199698-9eea-4c19-bc75-cec21354c6b6',
  tableContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  blobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a',
} as const;

export type Arm = ArmCaller;

export function arm(m: TestMimic): Promise<Arm> {
  return armCaller(m.dataDir, STORAGE_API);
}

export interface Account {
  id: string;
  name: string;
  endpoints: { blob: string; queue: string; table: string };
  key: string;
}

export async function createAccount(a: Arm, rg: string, name: string, properties: Record<string, unknown> = {}): Promise<Account> {
  const id = `${a.sub}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/${name}`;
  const made = await a.call('PUT', id, { location: 'eastus', kind: 'StorageV2', sku: { name: 'Standard_LRS' }, properties });
  if (made.status !== 201 && made.status !== 200) throw new Error(`account: ${made.status} ${made.text}`);
  const keys = await a.call('POST', `${id}/listKeys`);
  if (keys.status !== 200) throw new Error(`listKeys: ${keys.status} ${keys.text}`);
  return { id, name, endpoints: made.body.properties.primaryEndpoints, key: keys.body.keys[0].value };
}

export async function createChild(a: Arm, account: Account, kind: 'container' | 'queue' | 'table', name: string, properties: Record<string, unknown> = {}): Promise<string> {
  const path = kind === 'container' ? `blobServices/default/containers/${name}` : kind === 'queue' ? `queueServices/default/queues/${name}` : `tableServices/default/tables/${name}`;
  const id = `${account.id}/${path}`;
  const r = await a.call('PUT', id, { properties });
  if (r.status !== 201 && r.status !== 200) throw new Error(`${kind}: ${r.status} ${r.text}`);
  return id;
}

export async function assignRole(a: Arm, scope: string, role: string, principalId: string, extra: Record<string, unknown> = {}): Promise<HttpResult & { body: any }> {
  return a.call(
    'PUT',
    `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`,
    { properties: { roleDefinitionId: `${a.sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId, principalType: 'ServicePrincipal', ...extra } },
    '2022-04-01',
  );
}

export interface Host {
  id: string;
  /** The user-assigned identity's principal and client ids. */
  principalId: string;
  clientId: string;
  env: Record<string, string>;
}

/** A container app with one user-assigned identity, and the environment code on it gets. */
export async function containerAppWithIdentity(m: TestMimic, a: Arm, rg: string, name: string): Promise<Host> {
  const uai = await a.call('PUT', `${a.sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}-id`, { location: 'eastus' }, '2023-01-31');
  if (uai.status !== 201) throw new Error(`identity: ${uai.status} ${uai.text}`);
  const appId = `${a.sub}/resourceGroups/${rg}/providers/Microsoft.App/containerApps/${name}`;
  const app = await a.call('PUT', appId, { location: 'eastus', identity: { type: 'UserAssigned', userAssignedIdentities: { [uai.body.id]: {} } }, properties: {} }, '2024-03-01');
  if (app.status !== 201) throw new Error(`container app: ${app.status} ${app.text}`);
  const { env } = await asEnvironment({ as: appId, dataDir: m.dataDir });
  return { id: appId, principalId: uai.body.properties.principalId, clientId: uai.body.properties.clientId, env };
}

export interface StepResult {
  ok: boolean;
  value?: any;
  status?: number;
  code?: string;
  message?: string;
}

/** Runs SDK steps in a child process; `as` is a host (managed identity) or the account key. */
export async function sdk(account: Account, as: Host | { key: true; env: Record<string, string> } | { token: string; env: Record<string, string> }, steps: Record<string, unknown>[]): Promise<StepResult[]> {
  const spec: Record<string, unknown> = { endpoints: account.endpoints, account: account.name, steps };
  let env = as.env;
  if ('clientId' in as) Object.assign(spec, { credential: 'mi', clientId: as.clientId });
  else if ('key' in as) Object.assign(spec, { credential: 'key', key: account.key });
  else {
    spec.credential = 'token';
    env = { ...env, MIMIC_STORAGE_TOKEN: as.token };
  }
  const out = await runFixture<{ results: StepResult[] }>('storage/data.mjs', [JSON.stringify(spec)], env);
  return out.results;
}

export interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One raw HTTPS request (no SDK), trusting Mimic's CA. */
export function raw(m: TestMimic, method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: m.context.tls.caCertPem, headers: { 'x-ms-version': '2025-11-05', ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
