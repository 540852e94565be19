// `GET /providers/{namespace}/operations`: the operations a provider exposes, in Azure's
// Operation shape. Derived from what Mimic knows of the provider: the concrete actions and
// data actions the built-in roles name, plus read/write/delete on each catalog type.
import { loadBuiltinRoles } from '../authz/builtinRoles.js';
import { lookupType, typesOf } from './providers.js';

/** Namespaces that answer the operations list (those whose behaviour Mimic implements). */
const SERVED = ['Microsoft.Resources', 'Microsoft.ManagedIdentity', 'Microsoft.Authorization', 'Microsoft.KeyVault', 'Microsoft.Storage'];

/** Actions of providers outside the catalog (Microsoft.Resources, Microsoft.Authorization) Mimic serves. */
const EXTRA_ACTIONS: Record<string, string[]> = {
  'Microsoft.Resources': [
    'Microsoft.Resources/subscriptions/read', 'Microsoft.Resources/subscriptions/locations/read', 'Microsoft.Resources/subscriptions/providers/read',
    'Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.Resources/subscriptions/resourceGroups/write', 'Microsoft.Resources/subscriptions/resourceGroups/delete',
    'Microsoft.Resources/subscriptions/resourceGroups/resources/read', 'Microsoft.Resources/subscriptions/resources/read',
    'Microsoft.Resources/tags/read', 'Microsoft.Resources/tags/write', 'Microsoft.Resources/tags/delete', 'Microsoft.Resources/tenants/read',
  ],
  'Microsoft.Authorization': [
    'Microsoft.Authorization/roleAssignments/read', 'Microsoft.Authorization/roleAssignments/write', 'Microsoft.Authorization/roleAssignments/delete',
    'Microsoft.Authorization/roleDefinitions/read', 'Microsoft.Authorization/roleDefinitions/write', 'Microsoft.Authorization/roleDefinitions/delete',
    'Microsoft.Authorization/denyAssignments/read', 'Microsoft.Authorization/permissions/read',
  ],
  'Microsoft.ManagedIdentity': ['Microsoft.ManagedIdentity/identities/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'],
};

const cache = new Map<string, Record<string, unknown>[]>();

export function servesOperations(namespace: string): string | undefined {
  return SERVED.find((n) => n.toLowerCase() === namespace.toLowerCase());
}

function describe(name: string, isDataAction: boolean): Record<string, unknown> {
  const [provider, ...rest] = name.split('/');
  const verb = rest[rest.length - 1]!;
  const resourcePath = verb === 'action' ? rest.slice(0, -2) : rest.slice(0, -1);
  const what = verb === 'action' ? rest[rest.length - 2]! : verb;
  const resource = resourcePath.join('/') || provider!;
  const operation = `${what[0]!.toUpperCase()}${what.slice(1)} ${resource}`;
  return {
    name,
    isDataAction,
    display: { provider: provider!, resource, operation, description: `${operation} (${name}).` },
    origin: isDataAction ? 'user' : 'user,system',
  };
}

/** The operation list of a served namespace, in its canonical spelling. */
export function operationsOf(namespace: string): Record<string, unknown>[] {
  const ns = servesOperations(namespace)!;
  const hit = cache.get(ns);
  if (hit) return hit;
  const prefix = ns.toLowerCase() + '/';
  const actions = new Map<string, boolean>();
  const add = (a: string, data: boolean) => {
    if (a.toLowerCase().startsWith(prefix) && !a.includes('*') && !actions.has(a)) actions.set(a, data);
  };
  for (const role of loadBuiltinRoles()) {
    for (const p of role.permissions) {
      for (const a of [...p.actions, ...p.notActions]) add(a, false);
      for (const a of [...p.dataActions, ...p.notDataActions]) add(a, true);
    }
  }
  for (const a of EXTRA_ACTIONS[ns] ?? []) add(a, false);
  if (lookupType(ns, []).namespace) {
    for (const t of typesOf(ns)) for (const verb of ['read', 'write', 'delete']) add(`${ns}/${t}/${verb}`, false);
  }
  const list = [...actions].sort(([a], [b]) => a.localeCompare(b)).map(([name, data]) => describe(name, data));
  cache.set(ns, list);
  return list;
}
