// ARM resource ids: `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}...]`.
import { armKey } from '../store/keys.js';

export interface ResourceId {
  subscriptionId: string;
  resourceGroup: string;
  namespace: string;
  /** Type segments, e.g. ['userAssignedIdentities'] or ['storageAccounts','blobServices','containers']. */
  types: string[];
  names: string[];
}

export function formatResourceId(r: ResourceId): string {
  let id = `/subscriptions/${r.subscriptionId}/resourceGroups/${r.resourceGroup}/providers/${r.namespace}`;
  r.types.forEach((t, i) => (id += `/${t}/${r.names[i]}`));
  return id;
}

/** Full type as Azure writes it: `Microsoft.Web/sites`, `Microsoft.Storage/storageAccounts/blobServices/containers`. */
export function fullType(r: Pick<ResourceId, 'namespace' | 'types'>): string {
  return `${r.namespace}/${r.types.join('/')}`;
}

/** Parses a resource id; undefined when it is not a resource id of a resource group. */
export function parseResourceId(id: string): ResourceId | undefined {
  const segs = id.split('/').filter((s) => s.length > 0);
  if (segs.length < 8 || segs.length % 2 !== 0) return undefined;
  if (segs[0]!.toLowerCase() !== 'subscriptions' || segs[2]!.toLowerCase() !== 'resourcegroups' || segs[4]!.toLowerCase() !== 'providers') return undefined;
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 6; i < segs.length; i += 2) {
    types.push(segs[i]!);
    names.push(segs[i + 1]!);
  }
  return { subscriptionId: segs[1]!, resourceGroup: segs[3]!, namespace: segs[5]!, types, names };
}

export function resourceGroupId(subscriptionId: string, rg: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}`;
}

/** Store key for an ARM id: ids are case-insensitive in Azure. */
export { armKey as keyOf } from '../store/keys.js';

/** A resource's id in the forms the layers use, worked out once (the router keeps them per path). */
export interface ResourceTarget {
  r: ResourceId;
  /** As formatted from the request, its store key, and the read action on its type. */
  id: string;
  key: string;
  readAction: string;
}

export function resourceTarget(r: ResourceId): ResourceTarget {
  const id = formatResourceId(r);
  return { r, id, key: armKey(id), readAction: `${fullType(r)}/read` };
}

export function isGuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
