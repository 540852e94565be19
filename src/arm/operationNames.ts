// The names of a Resource Manager request for `mimic fault --service arm`: its operation as
// Azure's operation lists spell them (`Microsoft.ManagedIdentity/userAssignedIdentities/read`,
// `.../listKeys/action`) and its method with the resource type (`GET Microsoft.ManagedIdentity/
// userAssignedIdentities`). Worked out only while a fault rule names the Resource Manager.

/** Azure's request kinds: GET and HEAD read, DELETE deletes, everything else writes. */
export function armRequestKind(method: string): 'reads' | 'writes' | 'deletes' {
  if (method === 'GET' || method === 'HEAD') return 'reads';
  return method === 'DELETE' ? 'deletes' : 'writes';
}

/** The resource type a path addresses (a collection or one resource), with the trailing action segment of a POST. */
export function armResourceType(segs: readonly string[]): string {
  const lower = segs.map((s) => s.toLowerCase());
  const p = lower.lastIndexOf('providers');
  if (p >= 0 && p + 1 < segs.length) {
    const types = segs.slice(p + 2).filter((_, i) => i % 2 === 0);
    return [segs[p + 1]!, ...types].join('/');
  }
  if (lower[0] !== 'subscriptions') return segs[0] === 'tenants' ? 'Microsoft.Resources/tenants' : 'Microsoft.Resources';
  if (segs.length <= 2) return 'Microsoft.Resources/subscriptions';
  if (lower[2] === 'resourcegroups') return segs.length <= 4 ? 'Microsoft.Resources/subscriptions/resourceGroups' : `Microsoft.Resources/subscriptions/resourceGroups/${segs[4]}`;
  return `Microsoft.Resources/subscriptions/${segs[2]}`;
}

export function armOperationNames(method: string, segs: readonly string[]): string[] {
  const type = armResourceType(segs);
  const verb = method === 'POST' ? 'action' : ({ reads: 'read', writes: 'write', deletes: 'delete' } as const)[armRequestKind(method)];
  return [`${type}/${verb}`, `${method} ${type}`];
}
