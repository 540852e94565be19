// Microsoft.Authorization/roleAssignments at any scope: create (idempotent by name), get,
// delete and list with Azure's filters. Uniqueness of the name and of (scope, principal,
// role) is enforced by index keys written in the same store batch as the assignment.
import { ConflictError, type Op } from '../../store/types.js';
import { normalizeScope, scopeCovers, validateCondition, SUPPORTED_CONDITION_VERSION, type RequestAttributes, type RoleDefinition } from '../../authz/index.js';
import { sendEmpty, sendJson } from '../../server/http.js';
import { ArmError } from '../errors.js';
import { isGuid, keyOf } from '../ids.js';
import type { Caller } from '../model.js';
import type { ExtensionContext } from '../router.js';
import { audited, callerOf, methodNotAllowed, objectBody, optionalString, requireApiVersion, sendPage, type AuthorizationContext } from './context.js';
import { parseFilter } from './filters.js';
import {
  ACTIONS,
  ROLE_ASSIGNMENTS,
  ROLE_ASSIGNMENT_NAMES,
  ROLE_ASSIGNMENT_TRIPLES,
  assignmentView,
  extensionId,
  roleDefinitionIdAt,
  roleGuidOf,
  tripleKey,
  type StoredRoleAssignment,
} from './model.js';
import { parseScope, resolveScope, subscriptionOfScope } from './scopes.js';

/** Azure's documented limit of role assignments per subscription. */
export const MAX_ASSIGNMENTS_PER_SUBSCRIPTION = 4000;
const MAX_DESCRIPTION_LENGTH = 2048;
const PRINCIPAL_TYPES = ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'];

const REQUEST_ATTR = '@Request[Microsoft.Authorization/roleAssignments';
const RESOURCE_ATTR = '@Resource[Microsoft.Authorization/roleAssignments';

export async function handleRoleAssignments(ctx: AuthorizationContext, x: ExtensionContext): Promise<void> {
  requireApiVersion('roleAssignments', x.apiVersion);
  if (x.rest.length === 1) {
    if (x.req.method !== 'GET') throw methodNotAllowed(x.req);
    return sendPage(x.req, x.res, listAssignments(ctx, x.caller, x.scope, x.req.query.get('$filter')).map(assignmentView));
  }
  if (x.rest.length !== 2) throw new ArmError(404, 'InvalidResourceType', `The resource path '${x.req.path}' is not a valid Resource Manager path.`);
  const name = x.rest[1]!;
  switch (x.req.method) {
    case 'GET':
      return sendJson(x.res, 200, assignmentView(getAssignment(ctx, x.caller, x.scope, name)));
    case 'PUT': {
      const r = await putAssignment(ctx, x.caller, x.scope, name, await x.body());
      return sendJson(x.res, r.status, assignmentView(r.assignment));
    }
    case 'DELETE': {
      const deleted = await deleteAssignment(ctx, x.caller, x.scope, name);
      return deleted ? sendJson(x.res, 200, assignmentView(deleted)) : sendEmpty(x.res, 204);
    }
    default:
      throw methodNotAllowed(x.req);
  }
}

function requireOurSubscription(ctx: AuthorizationContext, scope: string): void {
  const p = parseScope(scope);
  if (p.subscriptionId) ctx.arm.requireSubscription(p.subscriptionId);
}

/**
 * Assignments visible at a scope: without a filter those at, above and below it; `atScope()`
 * keeps those at or above; a principal filter keeps one principal's. Assignments below the
 * scope are shown only where the caller may read assignments.
 */
export function listAssignments(ctx: AuthorizationContext, caller: Caller, scope: string, rawFilter: string | null): StoredRoleAssignment[] {
  const filter = parseFilter(rawFilter, ['atScope', 'principalId', 'assignedTo']);
  requireOurSubscription(ctx, scope);
  ctx.authorizer.check(caller, ACTIONS.roleAssignmentsRead, scope);
  const target = normalizeScope(scope);
  const principal = (filter.principalId ?? filter.assignedTo)?.toLowerCase();
  const out: StoredRoleAssignment[] = [];
  for (const a of ctx.feed.assignments.values()) {
    if (principal && a.principalId.toLowerCase() !== principal) continue;
    const at = normalizeScope(a.scope);
    const above = scopeCovers(at, target);
    if (!above) {
      if (filter.atScope || !scopeCovers(target, at)) continue;
      if (!ctx.authorizer.allows(caller, ACTIONS.roleAssignmentsRead, a.scope)) continue;
    }
    out.push(a);
  }
  return out.sort((p, q) => (p.createdOn < q.createdOn ? -1 : p.createdOn > q.createdOn ? 1 : p.name < q.name ? -1 : p.name > q.name ? 1 : 0));
}

export function getAssignment(ctx: AuthorizationContext, caller: Caller, scope: string, name: string): StoredRoleAssignment {
  requireOurSubscription(ctx, scope);
  ctx.authorizer.check(caller, ACTIONS.roleAssignmentsRead, scope);
  const found = ctx.feed.assignments.get(keyOf(extensionId(scope, 'roleAssignments', name)));
  if (!found) throw new ArmError(404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
  return found;
}

interface AssignmentRequest {
  roleDefinitionId: string;
  roleGuid: string;
  principalId: string;
  principalType?: string;
  description?: string;
  condition?: string;
  conditionVersion?: string;
  delegatedManagedIdentityResourceId?: string;
}

function parseRequest(body: Record<string, unknown>): AssignmentRequest {
  const props = objectBody(body);
  const roleDefinitionId = optionalString(props, 'roleDefinitionId');
  if (!roleDefinitionId) throw new ArmError(400, 'InvalidRequestContent', "The property 'roleDefinitionId' is required.", 'properties.roleDefinitionId');
  const roleGuid = roleGuidOf(roleDefinitionId);
  if (!isGuid(roleGuid)) throw new ArmError(400, 'InvalidRoleDefinitionId', `The role definition ID '${roleDefinitionId}' is not valid.`, 'properties.roleDefinitionId');
  const principalId = optionalString(props, 'principalId');
  if (!principalId) throw new ArmError(400, 'InvalidRequestContent', "The property 'principalId' is required.", 'properties.principalId');
  if (!isGuid(principalId)) throw new ArmError(400, 'InvalidPrincipalId', `The principal ID '${principalId}' is not valid. Principal IDs must be GUIDs.`, 'properties.principalId');
  const principalType = optionalString(props, 'principalType');
  if (principalType !== undefined && !PRINCIPAL_TYPES.includes(principalType)) {
    throw new ArmError(400, 'InvalidPrincipalType', `The principal type '${principalType}' is not valid. Allowed values: ${PRINCIPAL_TYPES.join(', ')}.`, 'properties.principalType');
  }
  const description = optionalString(props, 'description');
  if (description !== undefined && description.length > MAX_DESCRIPTION_LENGTH) {
    throw new ArmError(400, 'InvalidRequestContent', `The description is longer than ${MAX_DESCRIPTION_LENGTH} characters.`, 'properties.description');
  }
  const condition = optionalString(props, 'condition');
  const conditionVersion = optionalString(props, 'conditionVersion');
  const delegated = optionalString(props, 'delegatedManagedIdentityResourceId');
  return {
    roleDefinitionId,
    roleGuid,
    principalId: principalId.toLowerCase(),
    ...(principalType !== undefined ? { principalType } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(condition ? { condition } : {}),
    ...(condition && conditionVersion !== undefined ? { conditionVersion } : {}),
    ...(delegated !== undefined ? { delegatedManagedIdentityResourceId: delegated } : {}),
  };
}

/** The condition and its version as stored; refuses what the engine cannot evaluate. */
function checkCondition(ctx: AuthorizationContext, r: AssignmentRequest): { condition: string | null; conditionVersion: string | null } {
  if (!r.condition) return { condition: null, conditionVersion: null };
  const version = r.conditionVersion ?? SUPPORTED_CONDITION_VERSION;
  if (version !== SUPPORTED_CONDITION_VERSION) {
    throw new ArmError(400, 'InvalidConditionVersion', `The condition version '${version}' is not supported. The only supported condition version is '${SUPPORTED_CONDITION_VERSION}'.`, 'properties.conditionVersion');
  }
  const problems = [...validateCondition(r.condition, version).map((p) => p.message), ...ctx.conditionValidators.flatMap((v) => v(r.condition!))];
  if (problems.length > 0) {
    const detail = problems.join('; ');
    throw new ArmError(400, 'InvalidCondition', `The condition is invalid: ${detail}.`, 'properties.condition');
  }
  return { condition: r.condition, conditionVersion: version };
}

function checkRole(ctx: AuthorizationContext, r: AssignmentRequest, scope: string): RoleDefinition {
  const role = ctx.engine.roleDefinition(r.roleGuid);
  const target = normalizeScope(scope);
  if (!role || !role.assignableScopes.some((s) => scopeCovers(normalizeScope(s), target))) {
    throw new ArmError(400, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${r.roleGuid}' does not exist${role ? ` at scope '${scope}' (it is not assignable there)` : ''}.`);
  }
  return role;
}

function checkPrincipal(ctx: AuthorizationContext, r: AssignmentRequest): string {
  const sp = ctx.directory.byObject(r.principalId);
  if (!sp) {
    // A principal type given up front skips the lookup, as in Azure (for principals that are
    // still replicating); without it an unknown principal is refused.
    if (r.principalType) return r.principalType;
    throw new ArmError(
      400,
      'PrincipalNotFound',
      `Principal ${r.principalId.replace(/-/g, '')} does not exist in the directory ${ctx.tenant.tenantId}. Verify the principal id; to assign a role to a principal that is not (or not yet) in the directory, give principalType in the request.`,
    );
  }
  if (r.principalType && r.principalType !== 'ServicePrincipal') {
    throw new ArmError(400, 'UnmatchedPrincipalType', `The principal type '${r.principalType}' does not match the type of principal '${r.principalId}' (ServicePrincipal).`, 'properties.principalType');
  }
  return 'ServicePrincipal';
}

export async function putAssignment(
  ctx: AuthorizationContext,
  caller: Caller,
  rawScope: string,
  name: string,
  body: Record<string, unknown>,
): Promise<{ status: 200 | 201; assignment: StoredRoleAssignment }> {
  const base = { category: 'RoleAssignment' as const, operation: ACTIONS.roleAssignmentsWrite, caller: callerOf(caller), scope: rawScope, target: extensionId(rawScope, 'roleAssignments', name) };
  return audited(ctx.audit, base, async () => {
    if (!isGuid(name)) throw new ArmError(400, 'InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
    const { scope } = await resolveScope(ctx.arm, rawScope);
    const r = parseRequest(body);
    // Attributes for delegation conditions on roleAssignments/write.
    const requestedType = r.principalType ?? (ctx.directory.byObject(r.principalId) ? 'ServicePrincipal' : undefined);
    const attributes: RequestAttributes = {
      [`${REQUEST_ATTR}:RoleDefinitionId]`]: r.roleGuid,
      [`${REQUEST_ATTR}:PrincipalId]`]: r.principalId,
      ...(requestedType ? { [`${REQUEST_ATTR}:PrincipalType]`]: requestedType } : {}),
    };
    ctx.authorizer.check(caller, ACTIONS.roleAssignmentsWrite, scope, attributes);
    const role = checkRole(ctx, r, scope);
    const principalType = checkPrincipal(ctx, r);
    const condition = checkCondition(ctx, r);
    const result = await writeAssignment(ctx, caller, scope, name.toLowerCase(), r, principalType, condition);
    return { result, record: { target: result.assignment.id, scope, principalId: r.principalId, roleDefinitionId: result.assignment.roleDefinitionId, roleName: role.roleName } };
  });
}

async function writeAssignment(
  ctx: AuthorizationContext,
  caller: Caller,
  scope: string,
  name: string,
  r: AssignmentRequest,
  principalType: string,
  condition: { condition: string | null; conditionVersion: string | null },
  retried = false,
): Promise<{ status: 200 | 201; assignment: StoredRoleAssignment }> {
  const id = extensionId(scope, 'roleAssignments', name);
  const key = keyOf(id);
  const previous = await ctx.store.get<StoredRoleAssignment>(ROLE_ASSIGNMENTS, key);
  const now = new Date().toISOString();
  const subscriptionId = subscriptionOfScope(scope) ? ctx.tenant.subscriptionId : undefined;
  if (previous) {
    const p = previous.value;
    if (roleGuidOf(p.roleDefinitionId) !== r.roleGuid || p.principalId.toLowerCase() !== r.principalId) {
      throw new ArmError(409, 'RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
    }
    // Only the description and the condition of an existing assignment may change.
    const updated: StoredRoleAssignment = {
      ...p,
      description: r.description ?? p.description ?? null,
      condition: condition.condition,
      conditionVersion: condition.conditionVersion,
      ...(r.delegatedManagedIdentityResourceId !== undefined ? { delegatedManagedIdentityResourceId: r.delegatedManagedIdentityResourceId } : {}),
    };
    const unchanged = updated.description === (p.description ?? null) && updated.condition === (p.condition ?? null) && updated.conditionVersion === (p.conditionVersion ?? null);
    if (unchanged) return { status: 200, assignment: p };
    updated.updatedOn = now;
    updated.updatedBy = caller.objectId;
    try {
      await ctx.store.apply([{ op: 'put', kind: ROLE_ASSIGNMENTS, key, value: updated, ifVersion: previous.version }]);
    } catch (err) {
      if (err instanceof ConflictError && !retried) return writeAssignment(ctx, caller, scope, name, r, principalType, condition, true);
      throw err;
    }
    return { status: 200, assignment: updated };
  }

  if (subscriptionId) {
    const prefix = keyOf(`/subscriptions/${subscriptionId}`);
    let count = 0;
    for (const k of ctx.feed.assignments.keys()) if (k === prefix || k.startsWith(prefix + '/')) count++;
    if (count >= MAX_ASSIGNMENTS_PER_SUBSCRIPTION) {
      throw new ArmError(400, 'RoleAssignmentLimitExceeded', `No more role assignments can be created in subscription '${subscriptionId}': the limit of ${MAX_ASSIGNMENTS_PER_SUBSCRIPTION} role assignments has been reached.`);
    }
  }
  const assignment: StoredRoleAssignment = {
    id,
    name,
    scope,
    roleDefinitionId: roleDefinitionIdAt(subscriptionId, r.roleGuid),
    principalId: r.principalId,
    principalType,
    description: r.description ?? null,
    condition: condition.condition,
    conditionVersion: condition.conditionVersion,
    delegatedManagedIdentityResourceId: r.delegatedManagedIdentityResourceId ?? null,
    createdOn: now,
    updatedOn: now,
    createdBy: caller.objectId,
    updatedBy: caller.objectId,
  };
  const triple = tripleKey(keyOf(scope), r.principalId, r.roleGuid);
  const ops: Op[] = [
    { op: 'put', kind: ROLE_ASSIGNMENTS, key, value: assignment, ifVersion: 0 },
    { op: 'put', kind: ROLE_ASSIGNMENT_NAMES, key: name, value: { id }, ifAbsent: true },
    { op: 'put', kind: ROLE_ASSIGNMENT_TRIPLES, key: triple, value: { id }, ifAbsent: true },
  ];
  try {
    await ctx.store.apply(ops);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    if (err.kind === ROLE_ASSIGNMENTS && !retried) return writeAssignment(ctx, caller, scope, name, r, principalType, condition, true);
    if (err.kind === ROLE_ASSIGNMENT_NAMES) {
      const other = (await ctx.store.get<{ id: string }>(ROLE_ASSIGNMENT_NAMES, name))?.value.id;
      throw new ArmError(409, 'RoleAssignmentExists', `A role assignment named '${name}' already exists${other ? ` at '${other.slice(0, other.toLowerCase().indexOf('/providers/microsoft.authorization/')) || '/'}'` : ''}. Role assignment names are unique across all scopes.`);
    }
    throw new ArmError(409, 'RoleAssignmentExists', 'The role assignment already exists.');
  }
  return { status: 201, assignment };
}

export async function deleteAssignment(ctx: AuthorizationContext, caller: Caller, scope: string, name: string): Promise<StoredRoleAssignment | undefined> {
  const base = { category: 'RoleAssignment' as const, operation: ACTIONS.roleAssignmentsDelete, caller: callerOf(caller), scope, target: extensionId(scope, 'roleAssignments', name) };
  requireOurSubscription(ctx, scope);
  const key = keyOf(extensionId(scope, 'roleAssignments', name));
  const existing = ctx.feed.assignments.get(key) ?? (await ctx.store.get<StoredRoleAssignment>(ROLE_ASSIGNMENTS, key))?.value;
  const attributes: RequestAttributes | undefined = existing
    ? {
        [`${RESOURCE_ATTR}:RoleDefinitionId]`]: roleGuidOf(existing.roleDefinitionId),
        [`${RESOURCE_ATTR}:PrincipalId]`]: existing.principalId,
        [`${RESOURCE_ATTR}:PrincipalType]`]: existing.principalType,
      }
    : undefined;
  ctx.authorizer.check(caller, ACTIONS.roleAssignmentsDelete, scope, attributes);
  if (!existing) return undefined;
  return audited(ctx.audit, base, async () => {
    const ops: Op[] = [{ op: 'delete', kind: ROLE_ASSIGNMENTS, key }];
    const byName = await ctx.store.get<{ id: string }>(ROLE_ASSIGNMENT_NAMES, existing.name.toLowerCase());
    if (byName && keyOf(byName.value.id) === key) ops.push({ op: 'delete', kind: ROLE_ASSIGNMENT_NAMES, key: existing.name.toLowerCase() });
    ops.push({ op: 'delete', kind: ROLE_ASSIGNMENT_TRIPLES, key: tripleKey(keyOf(existing.scope), existing.principalId, roleGuidOf(existing.roleDefinitionId)) });
    await ctx.store.apply(ops);
    const role = ctx.engine.roleDefinition(existing.roleDefinitionId);
    return {
      result: existing,
      record: { target: existing.id, scope: existing.scope, principalId: existing.principalId, roleDefinitionId: existing.roleDefinitionId, ...(role ? { roleName: role.roleName } : {}) },
    };
  });
}
