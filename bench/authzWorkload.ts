// Synthetic but realistic RBAC data for the authz benchmark: all built-in roles,
// managed identities and groups with assignments at subscription, resource group,
// resource and nested scopes, a few deny assignments, and a mix of data-plane requests
// (blobs in containers, Key Vault secrets and keys) at deep scopes.
// Deterministic: the same seed gives the same world. Roles whose permission blocks carry
// ABAC conditions are left out: the Cedar and casbin translations have no conditions.

import type { AccessRequest, DenyAssignment, RoleAssignment, RoleDefinition } from '../src/authz/types.js';

export interface Workload {
  roles: RoleDefinition[];
  assignments: RoleAssignment[];
  denies: DenyAssignment[];
  /** principal id -> groups it belongs to */
  memberships: Map<string, string[]>;
  requests: AccessRequest[];
}

/** mulberry32: small, fast, good enough for choosing test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function guid(rand: () => number): string {
  const hex = (n: number) =>
    Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
}

const DATA_ROLE_WEIGHTS: ReadonlyArray<[string, number]> = [
  ['Storage Blob Data Reader', 18],
  ['Storage Blob Data Contributor', 10],
  ['Storage Blob Data Owner', 3],
  ['Key Vault Secrets User', 18],
  ['Key Vault Secrets Officer', 5],
  ['Key Vault Crypto User', 5],
  ['Key Vault Reader', 4],
  ['Key Vault Administrator', 2],
  ['Reader', 10],
  ['Contributor', 8],
  ['Owner', 2],
];
const RANDOM_ROLE_WEIGHT = 15;

export const BLOB = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs';
export const SECRETS = 'Microsoft.KeyVault/vaults/secrets';
export const KEYS = 'Microsoft.KeyVault/vaults/keys';

const BLOB_DATA = [`${BLOB}/read`, `${BLOB}/write`, `${BLOB}/delete`, `${BLOB}/add/action`, `${BLOB}/tags/read`];
const SECRET_DATA = [`${SECRETS}/getSecret/action`, `${SECRETS}/readMetadata/action`, `${SECRETS}/setSecret/action`, `${SECRETS}/delete`];
const KEY_DATA = [`${KEYS}/read`, `${KEYS}/decrypt/action`, `${KEYS}/sign/action`, `${KEYS}/wrap/action`];
const CONTROL = [
  'Microsoft.Storage/storageAccounts/blobServices/containers/read',
  'Microsoft.KeyVault/vaults/read',
  'Microsoft.Storage/storageAccounts/write',
  'Microsoft.Authorization/roleAssignments/write',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
];

interface Topology {
  subscriptions: string[];
  resourceGroups: string[];
  storageAccounts: string[];
  containers: string[];
  vaults: string[];
  /** lower-cased scope -> containers / vaults at or below it */
  containersUnder: Map<string, string[]>;
  vaultsUnder: Map<string, string[]>;
}

function addUnder(map: Map<string, string[]>, scopes: string[], item: string): void {
  for (const s of scopes) {
    const key = s.toLowerCase();
    const list = map.get(key);
    if (list === undefined) map.set(key, [item]);
    else list.push(item);
  }
}

function topology(rand: () => number, subscriptionCount: number): Topology {
  const t: Topology = {
    subscriptions: [],
    resourceGroups: [],
    storageAccounts: [],
    containers: [],
    vaults: [],
    containersUnder: new Map(),
    vaultsUnder: new Map(),
  };
  for (let s = 0; s < subscriptionCount; s++) {
    const sub = `/subscriptions/${guid(rand)}`;
    t.subscriptions.push(sub);
    for (let r = 0; r < 10; r++) {
      const rg = `${sub}/resourceGroups/rg-${s}-${r}`;
      t.resourceGroups.push(rg);
      for (let k = 0; k < 2; k++) {
        const sa = `${rg}/providers/Microsoft.Storage/storageAccounts/st${s}x${r}x${k}`;
        t.storageAccounts.push(sa);
        for (const c of ['logs', 'data', 'backup']) {
          const container = `${sa}/blobServices/default/containers/${c}`;
          t.containers.push(container);
          addUnder(t.containersUnder, [sub, rg, sa, container], container);
        }
        const vault = `${rg}/providers/Microsoft.KeyVault/vaults/kv-${s}-${r}-${k}`;
        t.vaults.push(vault);
        addUnder(t.vaultsUnder, [sub, rg, vault], vault);
      }
    }
  }
  return t;
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

function weightedRole(rand: () => number, byName: Map<string, RoleDefinition>, all: RoleDefinition[]): RoleDefinition {
  const total = DATA_ROLE_WEIGHTS.reduce((n, [, w]) => n + w, 0) + RANDOM_ROLE_WEIGHT;
  let x = rand() * total;
  for (const [name, w] of DATA_ROLE_WEIGHTS) {
    if ((x -= w) < 0) return byName.get(name)!;
  }
  return pick(rand, all);
}

type Kind = 'blob' | 'secret' | 'key' | 'control';

function actionsOf(kind: Kind): readonly string[] {
  return kind === 'blob' ? BLOB_DATA : kind === 'secret' ? SECRET_DATA : kind === 'key' ? KEY_DATA : CONTROL;
}

/** Plain reading of a role: does some block list the action (and not exclude it)? */
function roleGrants(role: RoleDefinition | undefined, action: string, isData: boolean): boolean {
  const match = (p: string) => new RegExp(`^${p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i').test(action);
  return (role?.permissions ?? []).some((b) =>
    (isData ? b.dataActions : b.actions).some(match) && !(isData ? b.notDataActions : b.notActions).some(match),
  );
}

/** The kind of request an assignment of this role is most likely used for. */
function kindFor(rand: () => number, roleName: string): Kind {
  if (roleName.startsWith('Storage Blob')) return 'blob';
  if (roleName.startsWith('Key Vault Crypto')) return 'key';
  if (roleName.startsWith('Key Vault')) return rand() < 0.8 ? 'secret' : 'key';
  const x = rand();
  return x < 0.4 ? 'control' : x < 0.7 ? 'blob' : x < 0.9 ? 'secret' : 'key';
}

/** A scope at or below `base`, down to a blob, secret or key. */
function deepScopeUnder(rand: () => number, t: Topology, base: string, kind: Exclude<Kind, 'control'>): string {
  const key = base.toLowerCase();
  if (kind === 'blob') {
    const containers = t.containersUnder.get(key);
    const container = containers ? pick(rand, containers) : base;
    return `${container}/blobs/app/${Math.floor(rand() * 1000)}/part-${Math.floor(rand() * 100)}.json`;
  }
  if (base.includes('/secrets/')) return kind === 'secret' ? base : base.replace(/\/secrets\/.*$/, `/keys/key-${Math.floor(rand() * 50)}`);
  const vaults = t.vaultsUnder.get(key);
  const vault = vaults ? pick(rand, vaults) : base;
  return `${vault}/${kind === 'secret' ? 'secrets' : 'keys'}/${kind}-${Math.floor(rand() * 50)}`;
}

export function buildWorkload(roles: RoleDefinition[], assignmentCount: number, requestCount: number, seed = 42): Workload {
  const rand = rng(seed);
  const byName = new Map(roles.map((r) => [r.roleName, r]));
  const unconditional = roles.filter((r) => !r.permissions.some((p) => p.condition));
  const principalCount = Math.max(50, Math.floor(assignmentCount / 4));
  const t = topology(rand, Math.max(4, Math.floor(assignmentCount / 1000)));
  const principals = Array.from({ length: principalCount }, () => guid(rand));
  const groups = Array.from({ length: Math.max(5, Math.floor(principalCount / 20)) }, () => guid(rand));
  const memberships = new Map<string, string[]>();
  for (const p of principals) {
    if (rand() < 0.2) memberships.set(p, [pick(rand, groups), ...(rand() < 0.3 ? [pick(rand, groups)] : [])]);
  }

  const assignments: RoleAssignment[] = [];
  const byPrincipal = new Map<string, RoleAssignment[]>();
  for (let i = 0; i < assignmentCount; i++) {
    const toGroup = rand() < 0.05;
    const principalId = toGroup ? pick(rand, groups) : principals[i % principalCount]!;
    const role = weightedRole(rand, byName, unconditional);
    const x = rand();
    const isStorage = role.roleName.startsWith('Storage') || (!role.roleName.startsWith('Key Vault') && rand() < 0.5);
    let scope: string;
    if (x < 0.1) scope = pick(rand, t.subscriptions);
    else if (x < 0.45) scope = pick(rand, t.resourceGroups);
    else if (x < 0.85) scope = isStorage ? pick(rand, t.storageAccounts) : pick(rand, t.vaults);
    else scope = isStorage ? pick(rand, t.containers) : `${pick(rand, t.vaults)}/secrets/secret-${Math.floor(rand() * 50)}`;
    const name = guid(rand);
    const a: RoleAssignment = {
      id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      scope,
      roleDefinitionId: `${t.subscriptions[0]}/providers/Microsoft.Authorization/roleDefinitions/${role.name}`,
      principalId,
      principalType: toGroup ? 'Group' : 'ServicePrincipal',
    };
    assignments.push(a);
    const list = byPrincipal.get(principalId);
    if (list === undefined) byPrincipal.set(principalId, [a]);
    else list.push(a);
  }

  // A handful of deny assignments naming principals (as Blueprints or managed apps create them).
  const denies: DenyAssignment[] = [];
  for (let i = 0; i < 6; i++) {
    const scope = i % 2 === 0 ? pick(rand, t.resourceGroups) : pick(rand, t.vaults);
    const named = [pick(rand, principals), pick(rand, principals), pick(rand, groups)];
    const name = guid(rand);
    denies.push({
      id: `${scope}/providers/Microsoft.Authorization/denyAssignments/${name}`,
      name,
      scope,
      permissions: [
        {
          actions: i % 3 === 0 ? ['*/write'] : [],
          notActions: [],
          dataActions: i % 2 === 0 ? [`${BLOB}/delete`, `${SECRETS}/*`] : [`${SECRETS}/setSecret/action`, `${KEYS}/*`],
          notDataActions: i % 2 === 0 ? [`${SECRETS}/readMetadata/action`] : [],
        },
      ],
      principals: named.map((id, k) => ({ id, type: k === 2 ? 'Group' : 'ServicePrincipal' })),
      excludePrincipals: [],
      doNotApplyToChildScopes: i === 1,
    });
  }
  // Make sure deny principals have requests aimed at the deny scopes.
  const denyTargets = denies.flatMap((d) => d.principals.map((p) => ({ principalId: p.id, scope: d.scope })));

  const roleByGuid = new Map(roles.map((r) => [r.name, r]));
  const roleOf = (a: RoleAssignment) => roleByGuid.get(a.roleDefinitionId.slice(a.roleDefinitionId.lastIndexOf('/') + 1));
  // Per role and kind, the request actions the role grants (computed on first use).
  const grantedCache = new Map<string, readonly string[]>();
  const granted = (role: RoleDefinition | undefined, kind: Kind) => {
    const key = `${role?.name}|${kind}`;
    let list = grantedCache.get(key);
    if (list === undefined) grantedCache.set(key, (list = actionsOf(kind).filter((a) => roleGrants(role, a, kind !== 'control'))));
    return list;
  };
  const requests: AccessRequest[] = [];
  for (let i = 0; i < requestCount; i++) {
    const mode = rand();
    let principalId = pick(rand, principals);
    let base: string;
    let kind: Kind;
    let preferred: readonly string[] = [];
    if (mode < 0.6) {
      // Aimed at one of the principal's own (or its groups') assignments: often allowed.
      const own = byPrincipal.get(principalId) ?? [];
      const via = (memberships.get(principalId) ?? []).flatMap((g) => byPrincipal.get(g) ?? []);
      const candidates = own.length + via.length > 0 ? [...own, ...via] : undefined;
      const target = candidates ? pick(rand, candidates) : undefined;
      base = target ? target.scope : pick(rand, t.resourceGroups);
      const role = target ? roleOf(target) : undefined;
      kind = kindFor(rand, role?.roleName ?? '');
      if (rand() < 0.7) preferred = granted(role, kind);
    } else if (mode < 0.65) {
      const target = pick(rand, denyTargets);
      if (principals.includes(target.principalId)) principalId = target.principalId;
      base = target.scope;
      kind = rand() < 0.5 ? 'blob' : 'secret';
    } else {
      base = pick(rand, rand() < 0.7 ? t.resourceGroups : t.subscriptions);
      kind = kindFor(rand, '');
    }
    let action: string;
    let isDataAction = true;
    let scope: string;
    action = pick(rand, preferred.length > 0 ? preferred : actionsOf(kind));
    if (kind === 'control') {
      isDataAction = false;
      scope = base;
    } else {
      scope = deepScopeUnder(rand, t, base, kind);
    }
    const groupIds = memberships.get(principalId);
    requests.push(groupIds ? { principalId, groupIds, action, isDataAction, scope } : { principalId, action, isDataAction, scope });
  }
  return { roles, assignments, denies, memberships, requests };
}
