// Which identity of a resource a token request gets, with the managed-identity endpoints'
// rules: a client id, object id or identity resource id picks one of the identities the
// resource carries; without one, the system-assigned identity, else the only user-assigned
// one; several user-assigned identities and no choice is an error, as is a choice the
// resource does not carry.
import type { ServicePrincipal } from '../../directory/types.js';
import { keyOf } from '../../arm/ids.js';
import type { HostRecord } from './hosts.js';

export interface IdentitySelector {
  clientId?: string;
  objectId?: string;
  /** ARM id of a user-assigned identity (`msi_res_id` / `mi_res_id`). */
  resourceId?: string;
}

export interface AssignedIdentity {
  type: 'SystemAssigned' | 'UserAssigned';
  /** The user-assigned identity's id, or the host's own id for the system-assigned one. */
  resourceId: string;
  principal: ServicePrincipal;
}

export type Selection = { ok: true; identity: AssignedIdentity } | { ok: false; reason: 'noIdentity' | 'multipleUserAssigned' | 'notFound' };

/** The identities a resource carries whose principals still exist (a deleted user-assigned identity leaves an orphaned reference). */
export function assignedIdentities(host: HostRecord, principal: (objectId: string) => ServicePrincipal | undefined): AssignedIdentity[] {
  const out: AssignedIdentity[] = [];
  const identity = host.identity;
  if (!identity) return out;
  if (identity.principalId) {
    const sp = principal(identity.principalId);
    if (sp) out.push({ type: 'SystemAssigned', resourceId: host.id, principal: sp });
  }
  for (const [id, ref] of Object.entries(identity.userAssignedIdentities ?? {})) {
    const sp = principal(ref.principalId);
    if (sp) out.push({ type: 'UserAssigned', resourceId: id, principal: sp });
  }
  return out;
}

export function isEmptySelector(s: IdentitySelector): boolean {
  return !s.clientId && !s.objectId && !s.resourceId;
}

export function selectIdentity(identities: AssignedIdentity[], selector: IdentitySelector): Selection {
  if (!isEmptySelector(selector)) {
    const clientId = selector.clientId?.toLowerCase();
    const objectId = selector.objectId?.toLowerCase();
    const resourceKey = selector.resourceId ? keyOf(selector.resourceId) : undefined;
    const found = identities.find(
      (i) =>
        (clientId !== undefined && i.principal.appId.toLowerCase() === clientId) ||
        (objectId !== undefined && i.principal.objectId.toLowerCase() === objectId) ||
        (resourceKey !== undefined && i.type === 'UserAssigned' && keyOf(i.resourceId) === resourceKey),
    );
    return found ? { ok: true, identity: found } : { ok: false, reason: 'notFound' };
  }
  const system = identities.find((i) => i.type === 'SystemAssigned');
  if (system) return { ok: true, identity: system };
  const users = identities.filter((i) => i.type === 'UserAssigned');
  if (users.length === 1) return { ok: true, identity: users[0]! };
  return { ok: false, reason: users.length === 0 ? 'noIdentity' : 'multipleUserAssigned' };
}
