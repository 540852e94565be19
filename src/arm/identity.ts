// The `identity` property of ARM resources, with Azure's semantics: enabling the
// system-assigned identity creates a service principal (a new one each time it is
// re-enabled), disabling or deleting the resource removes it, user-assigned identities are
// references that must exist, and each host type limits the combinations it accepts.
import { randomUUID } from 'node:crypto';
import type { Op } from '../store/types.js';
import { PRINCIPALS, type ServicePrincipal } from '../directory/types.js';
import { ArmError } from './errors.js';
import type { HostType } from './hostTypes.js';
import { parseResourceId, fullType } from './ids.js';
import type { StoredIdentity, StoredResource, UserAssignedRef } from './model.js';

export const USER_ASSIGNED_TYPE = 'microsoft.managedidentity/userassignedidentities';

interface ParsedType {
  system: boolean;
  user: boolean;
  /** The spelling to return for the combined type (providers differ on the space). */
  spelling: string;
}

export function parseIdentityType(value: unknown): ParsedType {
  if (typeof value !== 'string') throw new ArmError(400, 'InvalidIdentityType', "The property 'identity.type' is required and must be a string.", 'identity.type');
  const parts = value.split(',').map((p) => p.trim().toLowerCase());
  const known = new Set(['none', 'systemassigned', 'userassigned']);
  if (parts.length === 0 || parts.some((p) => !known.has(p)) || (parts.includes('none') && parts.length > 1) || new Set(parts).size !== parts.length) {
    throw new ArmError(400, 'InvalidIdentityType', `The identity type '${value}' is invalid. Allowed values: 'None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned'.`, 'identity.type');
  }
  const system = parts.includes('systemassigned');
  const user = parts.includes('userassigned');
  const spelling = system && user ? (value.includes(', ') ? 'SystemAssigned, UserAssigned' : 'SystemAssigned,UserAssigned') : system ? 'SystemAssigned' : user ? 'UserAssigned' : 'None';
  return { system, user, spelling };
}

export interface IdentityContext {
  resourceId: string;
  resourceName: string;
  tenantId: string;
  host: HostType;
  /** Reads a user-assigned identity resource by id. */
  lookupUserAssigned(id: string): Promise<StoredResource | undefined>;
}

export interface IdentityResult {
  identity?: StoredIdentity;
  ops: Op[];
}

/**
 * Computes the identity block to store for a PUT (`requested` replaces) or a PATCH
 * (`requested` merges; a user-assigned entry set to null is removed), and the directory
 * writes it implies.
 */
export async function resolveIdentity(ctx: IdentityContext, previous: StoredIdentity | undefined, requested: unknown, mode: 'put' | 'patch'): Promise<IdentityResult> {
  if (requested === undefined || requested === null) {
    if (mode === 'patch') return { identity: previous, ops: [] };
    return { identity: undefined, ops: removeSystem(previous) };
  }
  if (typeof requested !== 'object' || Array.isArray(requested)) throw new ArmError(400, 'InvalidRequestContent', "The property 'identity' must be an object.", 'identity');
  const req = requested as { type?: unknown; userAssignedIdentities?: unknown };
  const type = parseIdentityType(req.type ?? (mode === 'patch' ? previous?.type ?? 'None' : undefined));

  // User-assigned references requested (PATCH merges onto the previous set).
  let refs: Record<string, UserAssignedRef | null> = {};
  if (mode === 'patch' && previous?.userAssignedIdentities && type.user) refs = { ...previous.userAssignedIdentities };
  const requestedRefs = req.userAssignedIdentities;
  if (requestedRefs !== undefined && requestedRefs !== null) {
    if (typeof requestedRefs !== 'object' || Array.isArray(requestedRefs)) {
      throw new ArmError(400, 'InvalidRequestContent', "The property 'identity.userAssignedIdentities' must be an object keyed by identity resource id.", 'identity.userAssignedIdentities');
    }
    if (!type.user && Object.keys(requestedRefs).length > 0) {
      throw new ArmError(400, 'InvalidIdentityType', `The identity type '${type.spelling}' does not allow user-assigned identities; use 'UserAssigned' or 'SystemAssigned, UserAssigned'.`, 'identity.type');
    }
    for (const [id, value] of Object.entries(requestedRefs as Record<string, unknown>)) {
      const existingKey = Object.keys(refs).find((k) => k.toLowerCase() === id.toLowerCase());
      if (existingKey) delete refs[existingKey];
      if (value === null) {
        if (mode !== 'patch') throw new ArmError(400, 'InvalidRequestContent', `A user-assigned identity can be removed with null only in a PATCH request ('${id}').`, 'identity.userAssignedIdentities');
        continue;
      }
      refs[id] = await resolveUserAssigned(ctx, id);
    }
  }
  const userRefs = Object.fromEntries(Object.entries(refs).filter((e): e is [string, UserAssignedRef] => e[1] !== null));
  const userCount = Object.keys(userRefs).length;
  if (type.user && userCount === 0) {
    throw new ArmError(400, 'InvalidIdentity', `The identity type '${type.spelling}' requires at least one entry in 'identity.userAssignedIdentities'.`, 'identity.userAssignedIdentities');
  }
  checkHostRules(ctx.host, type, userCount);

  if (!type.system && !type.user) return { identity: undefined, ops: removeSystem(previous) };
  const identity: StoredIdentity = { type: type.spelling };
  const ops: Op[] = [];
  if (type.system) {
    if (previous?.principalId) {
      identity.principalId = previous.principalId;
    } else {
      const sp = newSystemAssignedPrincipal(ctx.resourceId, ctx.resourceName);
      ops.push({ op: 'put', kind: PRINCIPALS, key: sp.objectId, value: sp, ifAbsent: true });
      identity.principalId = sp.objectId;
    }
    identity.tenantId = ctx.tenantId;
  } else {
    ops.push(...removeSystem(previous));
  }
  if (type.user) identity.userAssignedIdentities = userRefs;
  return { identity, ops };
}

function checkHostRules(host: HostType, type: ParsedType, userCount: number): void {
  if (type.system && !host.systemAssigned) {
    throw new ArmError(400, 'InvalidIdentityConfiguration', `A ${host.name} resource does not support a system-assigned managed identity.`, 'identity.type');
  }
  if (type.user && host.userAssigned === 'none') {
    throw new ArmError(400, 'InvalidIdentityConfiguration', `A ${host.name} resource does not support user-assigned managed identities.`, 'identity.type');
  }
  if (type.system && type.user && !host.both) {
    throw new ArmError(400, 'InvalidIdentityConfiguration', `A ${host.name} resource can have either the system-assigned identity or a user-assigned identity, not both. Choose 'SystemAssigned' or 'UserAssigned'.`, 'identity.type');
  }
  if (host.userAssigned === 'one' && userCount > 1) {
    throw new ArmError(400, 'InvalidIdentityConfiguration', `A ${host.name} resource can have only a single user-assigned identity; ${userCount} were given.`, 'identity.userAssignedIdentities');
  }
}

async function resolveUserAssigned(ctx: IdentityContext, id: string): Promise<UserAssignedRef> {
  const parsed = parseResourceId(id);
  if (!parsed || fullType(parsed).toLowerCase() !== USER_ASSIGNED_TYPE) {
    throw new ArmError(400, 'LinkedInvalidPropertyId', `Property id '${id}' at path 'identity.userAssignedIdentities' is invalid. Expect fully qualified resource Id of a user-assigned identity: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}'.`, 'identity.userAssignedIdentities');
  }
  const uai = await ctx.lookupUserAssigned(id);
  const props = uai?.properties as { principalId?: string; clientId?: string } | undefined;
  if (!uai || !props?.principalId || !props.clientId) {
    throw new ArmError(400, 'FailedIdentityOperation', `Identity operation for resource '${ctx.resourceId}' failed: the user-assigned identity '${id}' was not found.`, 'identity.userAssignedIdentities');
  }
  return { principalId: props.principalId, clientId: props.clientId };
}

export function newSystemAssignedPrincipal(resourceId: string, displayName: string): ServicePrincipal {
  return {
    objectId: randomUUID(),
    appId: randomUUID(),
    displayName,
    servicePrincipalType: 'ManagedIdentity',
    managedIdentityResourceId: resourceId,
    isSystemAssigned: true,
    accountEnabled: true,
    createdDateTime: new Date().toISOString(),
  };
}

/** Deleting the system-assigned identity deletes its service principal; its role assignments stay, orphaned. */
export function removeSystem(previous: StoredIdentity | undefined): Op[] {
  return previous?.principalId ? [{ op: 'delete', kind: PRINCIPALS, key: previous.principalId }] : [];
}

/** The identity block as Azure returns it. */
export function identityView(identity: StoredIdentity | undefined): Record<string, unknown> | undefined {
  if (!identity) return undefined;
  const view: Record<string, unknown> = { type: identity.type };
  if (identity.principalId) {
    view.principalId = identity.principalId;
    view.tenantId = identity.tenantId;
  }
  if (identity.userAssignedIdentities) view.userAssignedIdentities = identity.userAssignedIdentities;
  return view;
}
