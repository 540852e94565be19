// Microsoft.Authorization/roleDefinitions: every built-in role (read-only) and custom roles
// (create, update, delete) with Azure's validation of names, actions and assignable scopes.
// Role definitions are readable by every principal of the tenant, as `az role definition list`
// works for a principal without any role assignment.
import { ConflictError, type Op } from '../../store/types.js';
import { normalizeScope, scopeCovers, type Permission, type RoleDefinition } from '../../authz/index.js';
import { sendEmpty, sendJson } from '../../server/http.js';
import { namespaces } from '../providers.js';
import { ArmError } from '../errors.js';
import { isGuid, keyOf } from '../ids.js';
import type { Caller } from '../model.js';
import type { ExtensionContext } from '../router.js';
import { audited, callerOf, methodNotAllowed, objectBody, optionalString, requireApiVersion, sendPage, type AuthorizationContext } from './context.js';
import { parseFilter } from './filters.js';
import { ACTIONS, CUSTOM_ROLES, CUSTOM_ROLE_NAMES, roleDefinitionIdAt, roleDefinitionView, type StoredRoleDefinition } from './model.js';
import { parseScope, subscriptionOfScope } from './scopes.js';

export const MAX_CUSTOM_ROLES = 5000;
const MAX_ROLE_NAME = 512;
const MAX_DESCRIPTION = 2048;
const MAX_ASSIGNABLE_SCOPES = 2000;

export async function handleRoleDefinitions(ctx: AuthorizationContext, x: ExtensionContext): Promise<void> {
  requireApiVersion('roleDefinitions', x.apiVersion);
  const sub = requireOurSubscription(ctx, x.scope);
  if (x.rest.length === 1) {
    if (x.req.method !== 'GET') throw methodNotAllowed(x.req);
    const roles = listRoleDefinitions(ctx, x.scope, x.req.query.get('$filter'));
    return sendPage(x.req, x.res, roles.map((r) => roleDefinitionView(r, roleDefinitionIdAt(sub, r.name))), Number.MAX_SAFE_INTEGER);
  }
  if (x.rest.length !== 2) throw new ArmError(404, 'InvalidResourceType', `The resource path '${x.req.path}' is not a valid Resource Manager path.`);
  const guid = x.rest[1]!.toLowerCase();
  switch (x.req.method) {
    case 'GET': {
      const role = visibleRole(ctx, x.scope, guid);
      if (!role) throw roleNotFound(guid);
      return sendJson(x.res, 200, roleDefinitionView(role, roleDefinitionIdAt(sub, role.name)));
    }
    case 'PUT': {
      const role = await putCustomRole(ctx, x.caller, x.scope, guid, await x.body());
      // The SDK accepts only 201 here, for updates too.
      return sendJson(x.res, 201, roleDefinitionView(role, role.id));
    }
    case 'DELETE': {
      const role = await deleteCustomRole(ctx, x.caller, x.scope, guid);
      return role ? sendJson(x.res, 200, roleDefinitionView(role, role.id)) : sendEmpty(x.res, 204);
    }
    default:
      throw methodNotAllowed(x.req);
  }
}

/** The subscription id (our spelling) when the scope lies in a subscription. */
function requireOurSubscription(ctx: AuthorizationContext, scope: string): string | undefined {
  const p = parseScope(scope);
  if (!p.subscriptionId) return undefined;
  ctx.arm.requireSubscription(p.subscriptionId);
  return ctx.tenant.subscriptionId;
}

function roleNotFound(guid: string): ArmError {
  return new ArmError(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${guid}' does not exist.`);
}

/** A custom role is visible where it can be assigned, and from above its assignable scopes. */
function visibleAt(role: RoleDefinition, scope: string, andBelow: boolean): boolean {
  if (role.roleType === 'BuiltInRole') return true;
  const target = normalizeScope(scope);
  if (target === '/') return true;
  return role.assignableScopes.some((s) => {
    const a = normalizeScope(s);
    return scopeCovers(a, target) || (andBelow && scopeCovers(target, a));
  });
}

function visibleRole(ctx: AuthorizationContext, scope: string, guid: string): RoleDefinition | undefined {
  if (!isGuid(guid)) return undefined;
  const role = ctx.engine.roleDefinition(guid);
  return role && visibleAt(role, scope, true) ? role : undefined;
}

export function listRoleDefinitions(ctx: AuthorizationContext, scope: string, rawFilter: string | null): RoleDefinition[] {
  const filter = parseFilter(rawFilter, ['roleName', 'roleType', 'atScopeAndBelow']);
  const name = filter.roleName?.toLowerCase();
  const type = filter.roleType?.toLowerCase();
  return ctx.engine
    .roleDefinitions()
    .filter((r) => (!name || r.roleName.toLowerCase() === name) && (!type || r.roleType.toLowerCase() === type) && visibleAt(r, scope, filter.atScopeAndBelow))
    .sort((a, b) => (a.roleType === b.roleType ? a.roleName.localeCompare(b.roleName) : a.roleType === 'BuiltInRole' ? -1 : 1));
}

// ---- validation of custom roles -----------------------------------------------------------------

interface KnownNamespaces {
  control: Set<string>;
  data: Set<string>;
}

let known: KnownNamespaces | undefined;

/** Provider namespaces actions may name: those of built-in roles and of the provider catalog. */
function knownNamespaces(ctx: AuthorizationContext): KnownNamespaces {
  if (known) return known;
  const control = new Set(namespaces().map((n) => n.toLowerCase()));
  const data = new Set<string>();
  for (const r of ctx.engine.roleDefinitions()) {
    if (r.roleType !== 'BuiltInRole') continue;
    for (const p of r.permissions) {
      for (const a of [...p.actions, ...p.notActions]) if (!a.startsWith('*')) control.add(a.split('/')[0]!.toLowerCase());
      for (const a of [...p.dataActions, ...p.notDataActions]) if (!a.startsWith('*')) data.add(a.split('/')[0]!.toLowerCase());
    }
  }
  known = { control, data };
  return known;
}

function invalidAction(message: string): ArmError {
  return new ArmError(400, 'InvalidActionOrNotAction', message);
}

function checkActions(ctx: AuthorizationContext, list: unknown, field: string, data: boolean): string[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || list.some((a) => typeof a !== 'string' || a.trim() === '')) {
    throw new ArmError(400, 'InvalidRequestContent', `The property '${field}' must be an array of action strings.`);
  }
  const ns = knownNamespaces(ctx);
  for (const a of list as string[]) {
    if (/\s/.test(a)) throw invalidAction(`The action '${a}' in '${field}' contains whitespace.`);
    if (a.split('*').length > 2) throw invalidAction(`The action '${a}' in '${field}' has more than one wildcard; only one is allowed.`);
    const namespace = a.split('/')[0]!.toLowerCase();
    if (data && namespace.includes('*')) {
      throw invalidAction(`The data action '${a}' in '${field}' is not allowed: a wildcard in DataActions must stay within one provider namespace.`);
    }
    if (namespace.includes('*')) continue; // '*' and '*/read' in Actions span every provider
    if (!(data ? ns.data : ns.control).has(namespace)) {
      throw invalidAction(`The ${data ? 'data action' : 'action'} '${a}' in '${field}' does not match any of the ${data ? 'data actions' : 'actions'} supported by the providers.`);
    }
  }
  return [...(list as string[])];
}

function checkPermissions(ctx: AuthorizationContext, raw: unknown): Permission[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new ArmError(400, 'InvalidRequestContent', "The property 'permissions' must be a non-empty array.", 'properties.permissions');
  return raw.map((p, i) => {
    if (typeof p !== 'object' || p === null) throw new ArmError(400, 'InvalidRequestContent', `permissions[${i}] must be an object.`);
    const block = p as Record<string, unknown>;
    if (block.condition) throw new ArmError(400, 'InvalidRoleDefinition', 'Conditions are not supported on custom role definitions; put the condition on a role assignment instead.');
    const permission: Permission = {
      actions: checkActions(ctx, block.actions, `permissions[${i}].actions`, false),
      notActions: checkActions(ctx, block.notActions, `permissions[${i}].notActions`, false),
      dataActions: checkActions(ctx, block.dataActions, `permissions[${i}].dataActions`, true),
      notDataActions: checkActions(ctx, block.notDataActions, `permissions[${i}].notDataActions`, true),
    };
    if (permission.actions.length + permission.dataActions.length === 0) {
      throw new ArmError(400, 'InvalidRoleDefinition', `permissions[${i}] grants nothing: give at least one action or data action.`);
    }
    return permission;
  });
}

function invalidScopeError(message: string): ArmError {
  return new ArmError(400, 'InvalidAssignableScope', message);
}

async function checkAssignableScopes(ctx: AuthorizationContext, raw: unknown, hasDataActions: boolean): Promise<string[]> {
  if (!Array.isArray(raw) || raw.length === 0 || raw.some((s) => typeof s !== 'string')) {
    throw invalidScopeError('A custom role needs at least one assignable scope: a management group, a subscription or a resource group.');
  }
  if (raw.length > MAX_ASSIGNABLE_SCOPES) throw invalidScopeError(`A custom role can have at most ${MAX_ASSIGNABLE_SCOPES} assignable scopes.`);
  const out: string[] = [];
  const seen = new Set<string>();
  let managementGroups = 0;
  for (const s of raw as string[]) {
    if (s.includes('*')) throw invalidScopeError(`The assignable scope '${s}' contains a wildcard; wildcards are not allowed in assignable scopes.`);
    if (normalizeScope(s) === '/') throw invalidScopeError("The root scope '/' cannot be an assignable scope of a custom role.");
    let p;
    try {
      p = parseScope(s);
    } catch {
      throw invalidScopeError(`The assignable scope '${s}' is not a valid scope.`);
    }
    let canonical: string;
    switch (p.level) {
      case 'managementGroup':
        // Azure does not check that the management group exists.
        if (hasDataActions) throw invalidScopeError(`A custom role with DataActions cannot be assignable at management group scope ('${s}').`);
        if (++managementGroups > 1) throw invalidScopeError('A custom role can have at most one management group in its assignable scopes.');
        canonical = `/providers/Microsoft.Management/managementGroups/${p.managementGroupId}`;
        break;
      case 'subscription':
        if (p.subscriptionId!.toLowerCase() !== ctx.tenant.subscriptionId) throw invalidScopeError(`The subscription '${p.subscriptionId}' of assignable scope '${s}' could not be found.`);
        canonical = `/subscriptions/${ctx.tenant.subscriptionId}`;
        break;
      case 'resourceGroup': {
        if (p.subscriptionId!.toLowerCase() !== ctx.tenant.subscriptionId) throw invalidScopeError(`The subscription '${p.subscriptionId}' of assignable scope '${s}' could not be found.`);
        const group = await ctx.arm.resourceGroupExists(p.subscriptionId!, p.resourceGroup!);
        if (!group) throw invalidScopeError(`The resource group of assignable scope '${s}' could not be found.`);
        canonical = group.id;
        break;
      }
      default:
        throw invalidScopeError(`The assignable scope '${s}' is not a management group, subscription or resource group.`);
    }
    const k = keyOf(canonical);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(canonical);
    }
  }
  return out;
}

// ---- writes -------------------------------------------------------------------------------------

function builtInRefused(guid: string): ArmError {
  return new ArmError(400, 'BuiltInRoleDefinitionCannotBeModified', `The role definition '${guid}' is a built-in role; built-in roles cannot be created, changed or deleted.`);
}

export async function putCustomRole(ctx: AuthorizationContext, caller: Caller, scope: string, guid: string, body: Record<string, unknown>): Promise<StoredRoleDefinition> {
  const base = { category: 'RoleDefinition' as const, operation: ACTIONS.roleDefinitionsWrite, caller: callerOf(caller), scope, target: roleDefinitionIdAt(subscriptionOfScope(scope) && ctx.tenant.subscriptionId, guid) };
  return audited(ctx.audit, base, async () => {
    if (!isGuid(guid)) throw new ArmError(400, 'InvalidRoleDefinitionId', `The role definition ID '${guid}' is not valid. The role definition ID must be a GUID.`);
    if (ctx.feed.isBuiltinRole(guid)) throw builtInRefused(guid);
    const props = objectBody(body);
    const roleName = optionalString(props, 'roleName')?.trim();
    if (!roleName) throw new ArmError(400, 'InvalidRequestContent', "The property 'roleName' is required.", 'properties.roleName');
    if (roleName.length > MAX_ROLE_NAME) throw new ArmError(400, 'InvalidRequestContent', `The role name is longer than ${MAX_ROLE_NAME} characters.`, 'properties.roleName');
    const description = optionalString(props, 'description') ?? '';
    if (description.length > MAX_DESCRIPTION) throw new ArmError(400, 'InvalidRequestContent', `The description is longer than ${MAX_DESCRIPTION} characters.`, 'properties.description');
    const type = optionalString(props, 'type') ?? optionalString(props, 'roleType');
    if (type !== undefined && type.toLowerCase() !== 'customrole') throw new ArmError(400, 'InvalidRoleDefinition', `Only roles of type 'CustomRole' can be created; got '${type}'.`, 'properties.type');
    const permissions = checkPermissions(ctx, props.permissions);
    const hasData = permissions.some((p) => p.dataActions.length > 0);
    const assignableScopes = await checkAssignableScopes(ctx, props.assignableScopes, hasData);
    // Creating or changing a custom role needs the right on every scope it can be assigned at.
    for (const s of assignableScopes) ctx.authorizer.check(caller, ACTIONS.roleDefinitionsWrite, s);

    const builtinSameName = ctx.engine.roleByName(roleName);
    if (builtinSameName && builtinSameName.roleType === 'BuiltInRole') throw sameName();
    const previous = await ctx.store.get<StoredRoleDefinition>(CUSTOM_ROLES, guid);
    if (previous) {
      for (const s of previous.value.assignableScopes) ctx.authorizer.check(caller, ACTIONS.roleDefinitionsWrite, s);
    } else if (ctx.feed.customRoles.size >= MAX_CUSTOM_ROLES) {
      throw new ArmError(400, 'RoleDefinitionLimitExceeded', `The tenant already has ${MAX_CUSTOM_ROLES} custom role definitions, the most it can have.`);
    }
    const now = new Date().toISOString();
    const inSubscription = assignableScopes.some((s) => subscriptionOfScope(s));
    const role: StoredRoleDefinition = {
      id: roleDefinitionIdAt(inSubscription ? ctx.tenant.subscriptionId : undefined, guid),
      name: guid,
      roleName,
      description,
      roleType: 'CustomRole',
      permissions,
      assignableScopes,
      createdOn: previous?.value.createdOn ?? now,
      updatedOn: now,
      createdBy: previous?.value.createdBy ?? caller.objectId,
      updatedBy: caller.objectId,
    };
    const nameKey = roleName.toLowerCase();
    const oldNameKey = previous?.value.roleName.toLowerCase();
    const ops: Op[] = [{ op: 'put', kind: CUSTOM_ROLES, key: guid, value: role, ifVersion: previous?.version ?? 0 }];
    if (oldNameKey !== nameKey) {
      ops.push({ op: 'put', kind: CUSTOM_ROLE_NAMES, key: nameKey, value: { name: guid }, ifAbsent: true });
      if (oldNameKey !== undefined) ops.push({ op: 'delete', kind: CUSTOM_ROLE_NAMES, key: oldNameKey });
    }
    try {
      await ctx.store.apply(ops);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      if (err.kind === CUSTOM_ROLE_NAMES) throw sameName();
      throw new ArmError(409, 'Conflict', `The role definition '${guid}' was changed by another request; retry.`);
    }
    return { result: role, record: { target: role.id, roleDefinitionId: role.id, roleName } };
  });
}

function sameName(): ArmError {
  return new ArmError(409, 'RoleDefinitionWithSameNameExists', 'A role definition cannot be updated with a name that already exists.');
}

export async function deleteCustomRole(ctx: AuthorizationContext, caller: Caller, scope: string, guid: string): Promise<StoredRoleDefinition | undefined> {
  if (ctx.feed.isBuiltinRole(guid)) throw builtInRefused(guid);
  ctx.authorizer.check(caller, ACTIONS.roleDefinitionsDelete, scope);
  const existing = isGuid(guid) ? await ctx.store.get<StoredRoleDefinition>(CUSTOM_ROLES, guid) : undefined;
  if (!existing) return undefined;
  const base = { category: 'RoleDefinition' as const, operation: ACTIONS.roleDefinitionsDelete, caller: callerOf(caller), scope, target: existing.value.id, roleDefinitionId: existing.value.id, roleName: existing.value.roleName };
  return audited(ctx.audit, base, async () => {
    const inUse = [...ctx.feed.assignments.values()].filter((a) => a.roleDefinitionId.toLowerCase().endsWith(`/${guid}`));
    if (inUse.length > 0) {
      throw new ArmError(409, 'RoleDefinitionHasAssignments', `The role definition '${guid}' is used by ${inUse.length} role assignment${inUse.length === 1 ? '' : 's'} (for example '${inUse[0]!.id}'). Remove them before deleting the role definition.`);
    }
    await ctx.store.apply([
      { op: 'delete', kind: CUSTOM_ROLES, key: guid },
      { op: 'delete', kind: CUSTOM_ROLE_NAMES, key: existing.value.roleName.toLowerCase() },
    ]);
    return { result: existing.value };
  });
}
