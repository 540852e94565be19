// A vault with one secret the administrator may read, set up through Mimic's REST API: what the
// getSecret benchmarks measure against.
import { request } from 'node:https';
import { adminTokenFor, type RunningMimic } from './processes.js';

export const BENCH_VAULT = 'benchvault';
export const BENCH_VAULT_HOST = `${BENCH_VAULT}.vault.azure.net`;
export const GET_SECRET_PATH = '/secrets/bench/?api-version=2025-07-01';

export function call(origin: string, ca: string, method: string, path: string, token: string, body?: unknown, host?: string): Promise<{ status: number; text: string }> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${origin}${path}`, {
      method,
      ca,
      headers: { authorization: `Bearer ${token}`, ...(host ? { host } : {}), ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}) },
    }, (res) => {
      let t = '';
      res.on('data', (c: Buffer) => (t += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

export async function ok(p: Promise<{ status: number; text: string }>, what: string): Promise<any> {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.text ? JSON.parse(r.text) : undefined;
}

/** Creates the group, the vault and the secret `bench`; returns a vault token and one getSecret answer. */
export async function seedBenchSecret(mimic: RunningMimic, value: string): Promise<{ vaultToken: string; sample: string }> {
  const { origin, subscriptionId } = mimic.endpoints;
  const mgmt = await adminTokenFor(mimic);
  const adminOid = JSON.parse(Buffer.from(mgmt.split('.')[1]!, 'base64url').toString('utf8')).oid as string;
  const rg = `/subscriptions/${subscriptionId}/resourceGroups/bench`;
  await ok(call(origin, mimic.ca, 'PUT', `${rg}?api-version=2025-04-01`, mgmt, { location: 'eastus' }), 'group');
  const vaultId = `${rg}/providers/Microsoft.KeyVault/vaults/${BENCH_VAULT}`;
  await ok(call(origin, mimic.ca, 'PUT', `${vaultId}?api-version=2026-02-01`, mgmt, { location: 'eastus', properties: { tenantId: mimic.admin.tenantId, sku: { family: 'A', name: 'standard' } } }), 'vault');
  const assign = (scope: string, role: string, name: string) =>
    ok(call(origin, mimic.ca, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`, mgmt, {
      properties: { roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId: adminOid, principalType: 'ServicePrincipal' },
    }), 'role assignment');
  // Secrets Officer on the group to seed; Secrets User on the secret itself.
  await assign(rg, 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7', '0d6f8a52-3c1e-4b8e-9b1a-7e2f4c6d8a01');
  await assign(`${vaultId}/secrets/bench`, '4633458b-17de-408a-b874-0445c86b69e6', '0d6f8a52-3c1e-4b8e-9b1a-7e2f4c6d8a02');
  const vaultToken = await adminTokenFor(mimic, 'https://vault.azure.net');
  await ok(call(origin, mimic.ca, 'PUT', '/secrets/bench?api-version=2025-07-01', vaultToken, { value }, BENCH_VAULT_HOST), 'set secret');
  const sample = await call(origin, mimic.ca, 'GET', GET_SECRET_PATH, vaultToken, undefined, BENCH_VAULT_HOST);
  if (sample.status !== 200) throw new Error(`get secret: ${sample.status} ${sample.text}`);
  return { vaultToken, sample: sample.text };
}
