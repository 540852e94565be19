// Many role assignments for the access-map test and the IAM benchmark: `principals` user-assigned
// identities, each given `perPrincipal` distinct built-in roles (data roles first, so the map has
// data actions to group) at the scope, created through Resource Manager as the administrator.
import { loadBuiltinRoles } from '../../src/authz/builtinRoles.js';
import type { ArmCaller } from '../helpers/arm.js';
import { assignRole } from '../keyvault/helpers.js';

export interface Seeded {
  principals: Array<{ id: string; principalId: string; name: string }>;
  assignments: number;
}

async function inBatches<T>(items: T[], size: number, fn: (t: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

export async function seedAssignments(a: ArmCaller, rgId: string, scope: string, principals: number, perPrincipal: number, prefix = 'map-id'): Promise<Seeded> {
  const roles = loadBuiltinRoles()
    .slice()
    .sort((x, y) => Number(y.permissions.some((p) => p.dataActions.length > 0)) - Number(x.permissions.some((p) => p.dataActions.length > 0)) || x.roleName.localeCompare(y.roleName))
    .slice(0, perPrincipal);
  const out: Seeded = { principals: [], assignments: 0 };
  const names = Array.from({ length: principals }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  await inBatches(names, 20, async (name) => {
    const r = await a.call('PUT', `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`, { location: 'eastus' }, '2023-01-31');
    if (r.status !== 201 && r.status !== 200) throw new Error(`identity ${name}: ${r.status} ${r.text}`);
    out.principals.push({ id: r.body.id, principalId: r.body.properties.principalId, name });
  });
  const pairs = out.principals.flatMap((p) => roles.map((role) => ({ p, role })));
  await inBatches(pairs, 25, async ({ p, role }) => {
    await assignRole(a, scope, role.name, p.principalId);
    out.assignments++;
  });
  return out;
}
