// Shared pieces of the Key Vault tests: Resource Manager calls as the administrator (vaults,
// role assignments, hosts with identities), raw data-plane requests with any token, and the
// SDK fixture runner (as the administrator, a fixed token, or under `mimic run --as`).
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { join } from 'node:path';
import type { HttpResult } from '../../src/cli/client.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';
import { CLI, FIXTURES, runFixture, runNode, type TestMimic } from '../helpers/mimic.js';

export const KV_API = '2026-02-01';
export const KV_DATA_API = '2025-07-01';
export const ROLES = {
  secretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  secretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  cryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424',
  cryptoOfficer: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603',
  certificatesOfficer: 'a4417e6f-fecd-4de8-b567-7b0420556985',
  administrator: '00482a5a-887f-4fb3-b363-3b7fe8e74483',
} as const;

export type Res = HttpResult & { body: any };

export type Arm = ArmCaller;

export function arm(m: TestMimic): Promise<Arm> {
  return armCaller(m.dataDir, KV_API);
}

export async function createGroup(a: Arm, rg: string): Promise<string> {
  const r = await a.call('PUT', `${a.sub}/resourceGroups/${rg}`, { location: 'eastus' }, '2025-04-01');
  if (r.status !== 201 && r.status !== 200) throw new Error(`group: ${r.status} ${r.text}`);
  return r.body.id;
}

export interface Vault {
  id: string;
  name: string;
  uri: string;
  body: any;
}

export async function createVault(a: Arm, rg: string, name: string, properties: Record<string, unknown> = {}, apiVersion = KV_API): Promise<Vault> {
  const id = `${a.sub}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`;
  const r = await a.call('PUT', id, { location: 'eastus', properties: { tenantId: a.client.endpoints.tenantId, sku: { family: 'A', name: 'standard' }, ...properties } }, apiVersion);
  if (r.status !== 201 && r.status !== 200) throw new Error(`vault: ${r.status} ${r.text}`);
  return { id: r.body.id, name, uri: r.body.properties.vaultUri, body: r.body };
}

export async function assignRole(a: Arm, scope: string, role: string, principalId: string): Promise<string> {
  const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
  const r = await a.call('PUT', id, { properties: { roleDefinitionId: `${a.sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId, principalType: 'ServicePrincipal' } }, '2022-04-01');
  if (r.status !== 201) throw new Error(`role assignment: ${r.status} ${r.text}`);
  return id;
}

export async function deleteAssignment(a: Arm, id: string): Promise<void> {
  const r = await a.call('DELETE', id, undefined, '2022-04-01');
  if (r.status !== 200) throw new Error(`delete assignment: ${r.status} ${r.text}`);
}

export interface StepResult {
  ok: boolean;
  value?: any;
  status?: number;
  code?: string;
  message?: string;
}

export type Who =
  | { admin: true }
  | { token: string }
  /** Under `mimic run --as <resource>` (with `--client-id` for a user-assigned identity). */
  | { as: string; clientId?: string };

/** Runs SDK steps against a vault in a child process, as `who`. */
export async function kv(m: TestMimic, vault: Vault, who: Who, steps: Record<string, unknown>[]): Promise<StepResult[]> {
  const spec: Record<string, unknown> = { vaultUrl: vault.uri, steps, credential: 'default' };
  let out: { results: StepResult[] };
  if ('admin' in who) out = await runFixture('keyvault/kv.mjs', [JSON.stringify(spec)], m.adminEnv);
  else if ('token' in who) out = await runFixture('keyvault/kv.mjs', [JSON.stringify({ ...spec, credential: 'token' })], { ...m.adminEnv, MIMIC_KV_TOKEN: who.token });
  else {
    const args = ['run', '--as', who.as, '--data-dir', m.dataDir, ...(who.clientId ? ['--client-id', who.clientId] : []), '--', process.execPath, join(FIXTURES, 'keyvault/kv.mjs'), JSON.stringify(spec)];
    const r = await runNode(CLI, args, {});
    const last = r.stdout.trim().split('\n').pop() ?? '';
    try {
      out = JSON.parse(last) as { results: StepResult[] };
    } catch {
      throw new Error(`mimic run exited ${r.code} without JSON:\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
  }
  return out.results;
}

export interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
}

/** A raw data-plane request to a vault (Host/SNI `{vault}.vault.azure.net`, connected to the origin). */
export function raw(m: TestMimic, vault: Vault | string, method: string, path: string, opts: { token?: string; body?: unknown; apiVersion?: string } = {}): Promise<Raw> {
  const host = new URL(typeof vault === 'string' ? vault : vault.uri).hostname;
  const origin = new URL(m.endpoints.origin);
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const sep = path.includes('?') ? '&' : '?';
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: Number(origin.port),
        servername: host,
        method,
        path: `${path}${sep}api-version=${opts.apiVersion ?? KV_DATA_API}`,
        ca: m.context.tls.caCertPem,
        headers: {
          host,
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A vault-audience token for the administrator, minted in-process. */
export function adminVaultToken(m: TestMimic, resource = 'https://vault.azure.net'): string {
  const sp = m.directory.byObject(m.context.tenant.adminObjectId)!;
  return m.tokens.mint(sp, { resource, lifetimeSeconds: 3600, appidacr: '1' }).accessToken;
}
