// The bootstrap administrator starts as Owner of the subscription: one role assignment with a
// name derived from the tenant, written once per tenant (a marker in the same batch makes the
// step idempotent across restarts and across instances starting together).
import { createHash } from 'node:crypto';
import { ConflictError, type Store } from '../../store/types.js';
import { META, type TenantInfo } from '../../directory/types.js';
import { keyOf } from '../ids.js';
import { ROLE_ASSIGNMENTS, ROLE_ASSIGNMENT_NAMES, ROLE_ASSIGNMENT_TRIPLES, extensionId, roleDefinitionIdAt, tripleKey, type StoredRoleAssignment } from './model.js';

export const OWNER_ROLE_ID = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const MARKER = 'rbacBootstrap';

/** A name-based GUID (version 5 layout) so every instance derives the same assignment name. */
export function deterministicGuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\n')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function bootstrapOwnerAssignment(tenant: TenantInfo, now = new Date().toISOString()): StoredRoleAssignment {
  const scope = `/subscriptions/${tenant.subscriptionId}`;
  const name = deterministicGuid('mimic-bootstrap-owner', tenant.subscriptionId, tenant.adminObjectId);
  return {
    id: extensionId(scope, 'roleAssignments', name),
    name,
    scope,
    roleDefinitionId: roleDefinitionIdAt(tenant.subscriptionId, OWNER_ROLE_ID),
    principalId: tenant.adminObjectId.toLowerCase(),
    principalType: 'ServicePrincipal',
    description: 'Mimic bootstrap administrator',
    condition: null,
    conditionVersion: null,
    delegatedManagedIdentityResourceId: null,
    createdOn: now,
    updatedOn: now,
    createdBy: tenant.adminObjectId,
    updatedBy: tenant.adminObjectId,
  };
}

/**
 * Creates the administrator's Owner assignment unless this tenant already had it created. An
 * administrator left without any role assignment (e.g. it deleted its own) gets it back at the
 * next start, so a local instance cannot be locked out for good.
 */
export async function ensureBootstrapOwner(store: Store, tenant: TenantInfo, adminHasAssignments: boolean, warn: (m: string) => void = (m) => console.warn(`mimic: ${m}`)): Promise<void> {
  const marked = (await store.get(META, MARKER)) !== undefined;
  if (marked && adminHasAssignments) return;
  const a = bootstrapOwnerAssignment(tenant);
  if (marked) warn(`the administrator holds no role assignment; restoring its Owner assignment on /subscriptions/${tenant.subscriptionId}`);
  try {
    await store.apply([
      ...(marked ? [] : [{ op: 'put' as const, kind: META, key: MARKER, value: { assignmentId: a.id, createdOn: a.createdOn }, ifAbsent: true }]),
      { op: 'put', kind: ROLE_ASSIGNMENTS, key: keyOf(a.id), value: a, ifAbsent: true },
      { op: 'put', kind: ROLE_ASSIGNMENT_NAMES, key: a.name, value: { id: a.id }, ifAbsent: true },
      { op: 'put', kind: ROLE_ASSIGNMENT_TRIPLES, key: tripleKey(keyOf(a.scope), a.principalId, OWNER_ROLE_ID), value: { id: a.id }, ifAbsent: true },
    ]);
  } catch (err) {
    // Another instance did it first (or the administrator already holds Owner there).
    if (!(err instanceof ConflictError)) throw err;
  }
}
