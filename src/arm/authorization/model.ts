// What the authorization module stores and how it is shown on the wire: role assignments,
// custom role definitions, deny assignments and their uniqueness indexes. Each index is a
// kind of its own so a batch with `ifAbsent` enforces uniqueness across every instance
// that shares the database.
import type { DenyAssignment, Permission, RoleAssignment, RoleDefinition } from '../../authz/index.js';

/** Role assignments by `keyOf(id)`. */
export const ROLE_ASSIGNMENTS = 'roleAssignments';
/** Assignment name (GUID, lower-case) -> assignment id: names are unique across every scope. */
export const ROLE_ASSIGNMENT_NAMES = 'roleAssignmentNames';
/** `scopeKey|principalId|roleGuid` -> assignment id: one assignment per principal, role and scope. */
export const ROLE_ASSIGNMENT_TRIPLES = 'roleAssignmentTriples';
/** Custom role definitions by GUID (lower-case). */
export const CUSTOM_ROLES = 'customRoleDefinitions';
/** Role name (lower-case) -> GUID: role names are unique in the tenant. */
export const CUSTOM_ROLE_NAMES = 'customRoleNames';
/** Deny assignments by `keyOf(id)`. */
export const DENY_ASSIGNMENTS = 'denyAssignments';

export const NAMESPACE = 'Microsoft.Authorization';
export const ROLE_ASSIGNMENT_TYPE = 'Microsoft.Authorization/roleAssignments';
export const ROLE_DEFINITION_TYPE = 'Microsoft.Authorization/roleDefinitions';
export const DENY_ASSIGNMENT_TYPE = 'Microsoft.Authorization/denyAssignments';

export const ACTIONS = {
  roleAssignmentsRead: 'Microsoft.Authorization/roleAssignments/read',
  roleAssignmentsWrite: 'Microsoft.Authorization/roleAssignments/write',
  roleAssignmentsDelete: 'Microsoft.Authorization/roleAssignments/delete',
  roleDefinitionsWrite: 'Microsoft.Authorization/roleDefinitions/write',
  roleDefinitionsDelete: 'Microsoft.Authorization/roleDefinitions/delete',
  denyAssignmentsRead: 'Microsoft.Authorization/denyAssignments/read',
  /** What reading the activity log needs in Azure; Mimic's audit log asks the same. */
  activityLogRead: 'Microsoft.Insights/eventtypes/values/read',
} as const;

/** Published api-versions, per resource type of the namespace. */
export const API_VERSIONS: Record<string, readonly string[]> = {
  roleassignments: ['2014-04-01-preview', '2015-06-01', '2015-07-01', '2017-10-01-preview', '2018-01-01-preview', '2018-09-01-preview', '2020-03-01-preview', '2020-04-01-preview', '2020-08-01-preview', '2020-10-01-preview', '2022-01-01-preview', '2022-04-01'],
  roledefinitions: ['2014-04-01-preview', '2015-06-01', '2015-07-01', '2017-05-01', '2018-01-01-preview', '2022-04-01', '2022-05-01-preview'],
  denyassignments: ['2018-07-01-preview', '2022-04-01'],
  permissions: ['2014-04-01-preview', '2015-06-01', '2015-07-01', '2017-05-01', '2018-01-01-preview', '2022-04-01'],
};

export interface Audited {
  createdOn: string;
  updatedOn: string;
  /** Object id of the principal that made the change. */
  createdBy: string;
  updatedBy: string;
}

export interface StoredRoleAssignment extends RoleAssignment, Audited {
  principalType: string;
  delegatedManagedIdentityResourceId?: string | null;
}

export interface StoredRoleDefinition extends RoleDefinition, Audited {
  roleType: 'CustomRole';
}

export interface StoredDenyAssignment extends DenyAssignment, Audited {}

/** The GUID at the end of a role definition id (or the GUID itself), lower-cased. */
export function roleGuidOf(idOrGuid: string): string {
  const trimmed = idOrGuid.trim().replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1).toLowerCase();
}

/** `{scope}/providers/Microsoft.Authorization/{collection}/{name}` with the root scope written as ''. */
export function extensionId(scope: string, collection: string, name: string): string {
  const prefix = scope === '/' ? '' : scope.replace(/\/+$/, '');
  return `${prefix}/providers/${NAMESPACE}/${collection}/${name}`;
}

/**
 * Role definition ids name the subscription they are read through (or nothing at the tenant
 * root and management groups), whatever deeper scope the request used.
 */
export function roleDefinitionIdAt(subscriptionId: string | undefined, guid: string): string {
  return subscriptionId ? `/subscriptions/${subscriptionId}/providers/${NAMESPACE}/roleDefinitions/${guid}` : `/providers/${NAMESPACE}/roleDefinitions/${guid}`;
}

export function tripleKey(scopeKey: string, principalId: string, roleGuid: string): string {
  return `${scopeKey}|${principalId.toLowerCase()}|${roleGuid.toLowerCase()}`;
}

// ---- wire shapes -----------------------------------------------------------------------------

export function assignmentView(a: StoredRoleAssignment): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    type: ROLE_ASSIGNMENT_TYPE,
    properties: {
      roleDefinitionId: a.roleDefinitionId,
      principalId: a.principalId,
      principalType: a.principalType,
      scope: a.scope,
      condition: a.condition ?? null,
      conditionVersion: a.conditionVersion ?? null,
      description: a.description ?? null,
      createdOn: a.createdOn,
      updatedOn: a.updatedOn,
      createdBy: a.createdBy,
      updatedBy: a.updatedBy,
      delegatedManagedIdentityResourceId: a.delegatedManagedIdentityResourceId ?? null,
    },
  };
}

function permissionView(p: Permission): Record<string, unknown> {
  return {
    actions: [...p.actions],
    notActions: [...p.notActions],
    dataActions: [...p.dataActions],
    notDataActions: [...p.notDataActions],
    ...(p.condition ? { condition: p.condition, conditionVersion: p.conditionVersion ?? null } : {}),
  };
}

export function roleDefinitionView(def: RoleDefinition, id: string): Record<string, unknown> {
  const audit = def.roleType === 'CustomRole' ? (def as StoredRoleDefinition) : undefined;
  return {
    id,
    name: def.name,
    type: ROLE_DEFINITION_TYPE,
    properties: {
      roleName: def.roleName,
      type: def.roleType,
      description: def.description,
      assignableScopes: [...def.assignableScopes],
      permissions: def.permissions.map(permissionView),
      ...(audit ? { createdOn: audit.createdOn, updatedOn: audit.updatedOn, createdBy: audit.createdBy, updatedBy: audit.updatedBy } : {}),
    },
  };
}

export function denyAssignmentView(d: StoredDenyAssignment): Record<string, unknown> {
  return {
    id: d.id,
    name: d.name,
    type: DENY_ASSIGNMENT_TYPE,
    properties: {
      denyAssignmentName: d.denyAssignmentName ?? d.name,
      description: d.description ?? '',
      permissions: d.permissions.map(permissionView),
      scope: d.scope,
      doNotApplyToChildScopes: d.doNotApplyToChildScopes,
      principals: d.principals.map((p) => ({ id: p.id, type: p.type })),
      excludePrincipals: d.excludePrincipals.map((p) => ({ id: p.id, type: p.type })),
      isSystemProtected: d.isSystemProtected ?? true,
      condition: null,
      conditionVersion: null,
      createdOn: d.createdOn,
      updatedOn: d.updatedOn,
      createdBy: d.createdBy,
      updatedBy: d.updatedBy,
    },
  };
}
