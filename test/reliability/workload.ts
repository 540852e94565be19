// The stream of writes the durability and consistency tests run, and the invariants they check
// afterwards. Every kind of state Mimic keeps is written: user-assigned identities (resource and
// service principal in one batch) with a role assignment each, resources with a system-assigned
// identity, custom role definitions with an assignment of each, Key Vault secret versions and key
// versions (data plane), and template deployments. What was acknowledged is recorded, so a check
// can count acknowledged writes that were lost and report every broken invariant.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { MimicClient } from '../../src/cli/client.js';
import { readEndpoints } from '../../src/server/config.js';
import { armCaller, type ArmCaller, type ArmResponse } from '../helpers/arm.js';
import { CLI } from '../helpers/mimic.js';

export const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const KV_ADMINISTRATOR = '00482a5a-887f-4fb3-b363-3b7fe8e74483';
const KV_DATA_API = '2025-07-01';
const UAI_API = '2023-01-31';
const SITE_API = '2023-12-01';
const RBAC_API = '2022-04-01';
const RESOURCES_API = '2021-04-01';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';

/** A request that does not answer within this long is a failure (a hung request must not hang a test). */
const REQUEST_TIMEOUT_MS = 20_000;

export const WRITE_KINDS = ['identity', 'site', 'secret', 'key', 'customRole', 'deployment'] as const;
export type WriteKind = (typeof WRITE_KINDS)[number];

/** What the service acknowledged (2xx), keyed by lower-cased ARM id or Key Vault id. */
export class Acked {
  identities = new Map<string, string>(); // id -> principalId
  sites = new Map<string, string>(); // id -> system-assigned principalId
  assignments = new Map<string, { roleDefinitionId: string; principalId: string }>();
  customRoles = new Set<string>(); // role definition id
  secrets = new Map<string, string>(); // secret version id -> value
  keys = new Map<string, string>(); // key version id (kid) -> public x coordinate
  deployments = new Map<string, string>(); // deployment id -> id of the identity it deploys
  /** Writes attempted and acknowledged, per kind (an identity or custom role counts with its assignment as one). */
  attempted: Record<WriteKind, number> = Object.fromEntries(WRITE_KINDS.map((k) => [k, 0])) as Record<WriteKind, number>;
  acknowledged: Record<WriteKind, number> = Object.fromEntries(WRITE_KINDS.map((k) => [k, 0])) as Record<WriteKind, number>;

  total(which: 'attempted' | 'acknowledged'): number {
    return Object.values(this[which]).reduce((a, b) => a + b, 0);
  }
}

export function withTimeout<T>(p: Promise<T>, what: string, ms = REQUEST_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** A small stable number from a tag: spreads writes over a few names so that names get many versions. */
function bucket(tag: string, n: number): number {
  let h = 0;
  for (const c of tag) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % n;
}

/** The caller's object id, from its token. */
function oidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).oid as string;
}

/** A vault-audience token for the administrator of a data dir (the ARM caller's client caches only its ARM token). */
export async function vaultToken(dataDir: string): Promise<string> {
  return (await MimicClient.open(dataDir)).adminToken('https://vault.azure.net');
}

/** The resource group, the vault and the administrator's data role the workload needs (idempotent). */
export async function prepare(a: ArmCaller, rgName: string, vaultName: string): Promise<Workload> {
  const rg = `${a.sub}/resourceGroups/${rgName}`;
  const must = (r: ArmResponse, what: string) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
    return r;
  };
  must(await a.call('PUT', rg, { location: 'eastus' }, '2025-04-01'), 'resource group');
  const vault = must(
    await a.call('PUT', `${rg}/providers/Microsoft.KeyVault/vaults/${vaultName}`, { location: 'eastus', properties: { tenantId: a.client.endpoints.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true } }, '2026-02-01'),
    'vault',
  ).body;
  const admin = oidOf(await a.client.adminToken());
  const grant = await a.call('PUT', `${vault.id}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`, { properties: { roleDefinitionId: `${a.sub}/providers/Microsoft.Authorization/roleDefinitions/${KV_ADMINISTRATOR}`, principalId: admin, principalType: 'ServicePrincipal' } }, RBAC_API);
  if (grant.status !== 201 && grant.body?.error?.code !== 'RoleAssignmentExists') must(grant, 'vault role');
  return new Workload(rg, vaultName, admin);
}

export class Workload {
  constructor(
    readonly rg: string,
    readonly vault: string,
    readonly adminObjectId: string,
  ) {}

  /**
   * One write of the given kind as `tag` (unique per call), recording what was acknowledged.
   * Throws when the connection fails (the process died); a refusal is not acknowledged (and is
   * handed to `onRefusal`).
   */
  async write(a: ArmCaller, kvToken: string, kind: WriteKind, tag: string, acked: Acked, onRefusal?: (r: ArmResponse) => void): Promise<void> {
    const call = async (method: string, path: string, body?: unknown, apiVersion?: string, token?: string) => {
      const r = await withTimeout(a.call(method, path, body, apiVersion, token), `${method} ${path}`);
      if (r.status >= 300) onRefusal?.(r);
      return r;
    };
    acked.attempted[kind]++;
    switch (kind) {
      case 'identity': {
        const r = await call('PUT', `${this.rg}/providers/${UAI}/id-${tag}`, { location: 'eastus' }, UAI_API);
        if (r.status !== 201) return;
        acked.identities.set(r.body.id.toLowerCase(), r.body.properties.principalId);
        const ra = `${this.rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
        const roleDefinitionId = `${a.sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`;
        const p = await call('PUT', ra, { properties: { roleDefinitionId, principalId: r.body.properties.principalId, principalType: 'ServicePrincipal' } }, RBAC_API);
        if (p.status !== 201) return;
        acked.assignments.set(ra.toLowerCase(), { roleDefinitionId, principalId: r.body.properties.principalId });
        break;
      }
      case 'site': {
        const r = await call('PUT', `${this.rg}/providers/Microsoft.Web/sites/site-${tag}`, { location: 'eastus', kind: 'app', identity: { type: 'SystemAssigned' }, properties: {} }, SITE_API);
        if (r.status !== 201 && r.status !== 200) return;
        acked.sites.set(r.body.id.toLowerCase(), r.body.identity.principalId);
        break;
      }
      case 'secret': {
        const value = randomBytes(12).toString('base64url');
        const r = await call('PUT', `/_vault/${this.vault}/secrets/s-${bucket(tag, 3)}`, { value }, KV_DATA_API, kvToken);
        if (r.status !== 200) return;
        acked.secrets.set(r.body.id, value);
        break;
      }
      case 'key': {
        const r = await call('POST', `/_vault/${this.vault}/keys/k-${bucket(tag, 2)}/create`, { kty: 'EC', crv: 'P-256' }, KV_DATA_API, kvToken);
        if (r.status !== 200) return;
        acked.keys.set(r.body.key.kid, r.body.key.x);
        break;
      }
      case 'customRole': {
        const guid = randomUUID();
        const id = `${a.sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
        const r = await call('PUT', id, { properties: { roleName: `reader-${tag}`, type: 'CustomRole', permissions: [{ actions: ['Microsoft.Resources/subscriptions/resourceGroups/read'] }], assignableScopes: [this.rg] } }, RBAC_API);
        if (r.status !== 201) return;
        acked.customRoles.add(id.toLowerCase());
        const ra = `${this.rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
        const p = await call('PUT', ra, { properties: { roleDefinitionId: id, principalId: this.adminObjectId, principalType: 'ServicePrincipal' } }, RBAC_API);
        if (p.status !== 201) return;
        acked.assignments.set(ra.toLowerCase(), { roleDefinitionId: id, principalId: this.adminObjectId });
        break;
      }
      case 'deployment': {
        const identity = `dep-${tag}`;
        const template = { $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#', contentVersion: '1.0.0.0', resources: [{ type: UAI, apiVersion: UAI_API, name: identity, location: 'eastus' }] };
        const id = `${this.rg}/providers/Microsoft.Resources/deployments/d-${tag}`;
        const r = await call('PUT', id, { properties: { mode: 'Incremental', template } }, RESOURCES_API);
        if (r.status !== 201 && r.status !== 200) return;
        acked.deployments.set(id.toLowerCase(), `${this.rg}/providers/${UAI}/${identity}`.toLowerCase());
        break;
      }
    }
    acked.acknowledged[kind]++;
  }

  /**
   * Counts acknowledged writes that are gone and lists every broken invariant, as seen through
   * the REST API of one instance. With `recent`, only those acknowledged writes are checked one
   * by one (the invariants always cover everything stored).
   */
  async check(a: ArmCaller, kvToken: string, acked: Acked, opts: { recent?: Acked; settledDeployments?: boolean } = {}): Promise<{ lost: string[]; broken: string[] }> {
    const call = async (path: string, apiVersion?: string, token?: string) => {
      const r = await withTimeout(a.call('GET', path, undefined, apiVersion, token), `GET ${path}`);
      if (r.status !== 200 && r.status !== 404) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
      return r;
    };
    const list = async <T>(path: string, apiVersion: string): Promise<T[]> => {
      const out: T[] = [];
      for (let next: string | undefined = path; next; ) {
        const r = await call(next, apiVersion);
        out.push(...(r.body.value as T[]));
        next = r.body.nextLink ? new URL(r.body.nextLink).pathname + new URL(r.body.nextLink).search : undefined;
      }
      return out;
    };
    const lost: string[] = [];
    const broken: string[] = [];
    const want = opts.recent ?? acked;

    type Res = { id: string; properties?: { principalId?: string }; identity?: { principalId?: string } };
    const identities = new Map((await list<Res>(`${this.rg}/providers/${UAI}`, UAI_API)).map((x) => [x.id.toLowerCase(), x.properties!.principalId!]));
    const sites = new Map((await list<Res>(`${this.rg}/providers/Microsoft.Web/sites`, SITE_API)).map((x) => [x.id.toLowerCase(), x.identity?.principalId]));
    const principals = await list<{ objectId: string; managedIdentityResourceId: string | null; isSystemAssigned: boolean }>('/providers/Mimic.Directory/servicePrincipals', '2025-01-01');
    const principalIds = new Set(principals.map((p) => p.objectId.toLowerCase()));
    // Role definitions by GUID (the last segment), as assignable in the group.
    const guidOf = (id: string) => id.slice(id.lastIndexOf('/') + 1).toLowerCase();
    const definitions = new Set((await list<{ id: string }>(`${this.rg}/providers/Microsoft.Authorization/roleDefinitions`, RBAC_API)).map((d) => guidOf(d.id)));
    const assignments = (await list<{ id: string; properties: { roleDefinitionId: string; principalId: string; scope: string } }>(`${this.rg}/providers/Microsoft.Authorization/roleAssignments`, RBAC_API)).filter((x) => x.properties.scope.toLowerCase() === this.rg.toLowerCase());
    const assignmentIds = new Map(assignments.map((x) => [x.id.toLowerCase(), x.properties]));

    // Acknowledged writes.
    for (const [id, pid] of want.identities) if (identities.get(id) !== pid) lost.push(`identity ${id}`);
    for (const [id, pid] of want.sites) if (sites.get(id) !== pid) lost.push(`site ${id}`);
    for (const [id, x] of want.assignments) {
      const got = assignmentIds.get(id);
      if (!got || got.principalId !== x.principalId || got.roleDefinitionId.toLowerCase() !== x.roleDefinitionId.toLowerCase()) lost.push(`role assignment ${id}`);
    }
    for (const id of want.customRoles) if (!definitions.has(guidOf(id))) lost.push(`role definition ${id}`);
    for (const [kid, value] of want.secrets) {
      const r = await call(`/_vault/${this.vault}${new URL(kid).pathname}`, KV_DATA_API, kvToken);
      if (r.status !== 200 || r.body.value !== value) lost.push(`secret ${kid}`);
    }
    for (const [kid, x] of want.keys) {
      const r = await call(`/_vault/${this.vault}${new URL(kid).pathname}`, KV_DATA_API, kvToken);
      if (r.status !== 200 || r.body.key.x !== x) lost.push(`key ${kid}`);
    }
    for (const [id, identity] of want.deployments) {
      const r = await call(id, RESOURCES_API);
      if (r.status !== 200) {
        lost.push(`deployment ${id}`);
        continue;
      }
      const state = r.body.properties.provisioningState;
      if (state === 'Succeeded' && !identities.has(identity)) broken.push(`deployment ${id} succeeded but its identity ${identity} is missing`);
      if (opts.settledDeployments && state !== 'Succeeded' && !(state === 'Failed' && r.body.properties.error?.code === 'DeploymentInterrupted')) broken.push(`deployment ${id} is ${state} after the restart`);
    }

    // Invariants over everything stored.
    const rgLower = this.rg.toLowerCase() + '/';
    for (const [id, pid] of identities) if (!principalIds.has(pid.toLowerCase())) broken.push(`identity ${id} has no service principal ${pid}`);
    for (const [id, pid] of sites) if (!pid || !principalIds.has(pid.toLowerCase())) broken.push(`site ${id} has no system-assigned principal`);
    for (const p of principals) {
      const rid = p.managedIdentityResourceId?.toLowerCase();
      if (!rid?.startsWith(rgLower)) continue;
      const owner = p.isSystemAssigned ? sites.get(rid) : identities.get(rid);
      if (owner?.toLowerCase() !== p.objectId.toLowerCase()) broken.push(`${p.isSystemAssigned ? 'system' : 'user'}-assigned principal ${p.objectId} has no resource (${rid} ${owner === undefined ? 'missing' : `carries ${owner}`})`);
    }
    for (const x of assignments) {
      if (!definitions.has(guidOf(x.properties.roleDefinitionId))) broken.push(`role assignment ${x.id} has no definition ${x.properties.roleDefinitionId}`);
      if (!principalIds.has(x.properties.principalId.toLowerCase())) broken.push(`role assignment ${x.id} names a principal that does not exist`);
    }
    return { lost, broken };
  }
}

/** Merges b's acknowledged writes into a. */
export function mergeAcked(into: Acked, from: Acked): void {
  for (const k of ['identities', 'sites', 'assignments', 'secrets', 'keys', 'deployments'] as const) for (const [id, v] of from[k] as Map<string, never>) (into[k] as Map<string, never>).set(id, v);
  for (const id of from.customRoles) into.customRoles.add(id);
  for (const k of WRITE_KINDS) {
    into.attempted[k] += from.attempted[k];
    into.acknowledged[k] += from.acknowledged[k];
  }
}

/** Starts `mimic start` and waits for its endpoints file; the time it took is returned too. */
export async function startChild(dataDir: string, storeUrl?: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; a: ArmCaller; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--port', '0', ...(storeUrl ? ['--store', storeUrl] : [])], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mimic start exited ${child.exitCode}: ${stderr}`);
    try {
      const e = await readEndpoints(dataDir);
      if (e.pid === child.pid) return { child, a: await armCaller(dataDir, '2023-01-31'), ms: performance.now() - started };
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mimic start not ready within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}
