// Microsoft.Authorization/denyAssignments. Reading follows Azure (get, get by id, list with
// `atScope()`, `principalId eq`, `denyAssignmentName eq`). Azure lets only the platform create
// them (blueprints, managed applications); in Mimic the bootstrap administrator plays the
// platform: PUT and DELETE are accepted from it alone and refused like any unauthorized write
// for everyone else.
import { ALL_PRINCIPALS_ID, normalizeScope, scopeCovers, type DenyPrincipal, type Permission } from '../../authz/index.js';
import { sendEmpty, sendJson } from '../../server/http.js';
import { ArmError } from '../errors.js';
import { isGuid, keyOf } from '../ids.js';
import type { Caller } from '../model.js';
import type { ExtensionContext } from '../router.js';
import { authorizationFailed } from './authorizer.js';
import { audited, callerOf, methodNotAllowed, objectBody, optionalString, requireApiVersion, sendPage, type AuthorizationContext } from './context.js';
import { parseFilter } from './filters.js';
import { ACTIONS, DENY_ASSIGNMENTS, denyAssignmentView, extensionId, type StoredDenyAssignment } from './model.js';
import { parseScope, resolveScope } from './scopes.js';

const DENY_WRITE = 'Microsoft.Authorization/denyAssignments/write';
const DENY_DELETE = 'Microsoft.Authorization/denyAssignments/delete';

export async function handleDenyAssignments(ctx: AuthorizationContext, x: ExtensionContext): Promise<void> {
  requireApiVersion('denyAssignments', x.apiVersion);
  const p = parseScope(x.scope);
  if (p.subscriptionId) ctx.arm.requireSubscription(p.subscriptionId);
  if (x.rest.length === 1) {
    if (x.req.method !== 'GET') throw methodNotAllowed(x.req);
    return sendPage(x.req, x.res, listDenyAssignments(ctx, x.caller, x.scope, x.req.query.get('$filter')).map(denyAssignmentView));
  }
  if (x.rest.length !== 2) throw new ArmError(404, 'InvalidResourceType', `The resource path '${x.req.path}' is not a valid Resource Manager path.`);
  const name = x.rest[1]!;
  const key = keyOf(extensionId(x.scope, 'denyAssignments', name));
  switch (x.req.method) {
    case 'GET': {
      ctx.authorizer.check(x.caller, ACTIONS.denyAssignmentsRead, x.scope);
      const found = ctx.feed.denyAssignments.get(key);
      if (!found) throw new ArmError(404, 'DenyAssignmentNotFound', `The deny assignment '${name}' could not be found.`);
      return sendJson(x.res, 200, denyAssignmentView(found));
    }
    case 'PUT': {
      const d = await putDenyAssignment(ctx, x.caller, x.scope, name, await x.body());
      return sendJson(x.res, 201, denyAssignmentView(d));
    }
    case 'DELETE': {
      requirePlatform(ctx, x.caller, DENY_DELETE, x.scope);
      const existing = ctx.feed.denyAssignments.get(key) ?? (await ctx.store.get<StoredDenyAssignment>(DENY_ASSIGNMENTS, key))?.value;
      if (!existing) return sendEmpty(x.res, 204);
      await audited(ctx.audit, { category: 'DenyAssignment', operation: DENY_DELETE, caller: callerOf(x.caller), scope: existing.scope, target: existing.id }, async () => {
        await ctx.store.apply([{ op: 'delete', kind: DENY_ASSIGNMENTS, key }]);
        return { result: undefined };
      });
      return sendJson(x.res, 200, denyAssignmentView(existing));
    }
    default:
      throw methodNotAllowed(x.req);
  }
}

function requirePlatform(ctx: AuthorizationContext, caller: Caller, action: string, scope: string): void {
  if (caller.objectId.toLowerCase() === ctx.tenant.adminObjectId.toLowerCase()) return;
  ctx.audit.record({ category: 'AccessDenied', operation: action, result: 'Denied', caller: callerOf(caller), scope, reason: 'PlatformOnly' });
  throw authorizationFailed(caller, action, scope, { allowed: false, reason: 'NoMatchingAssignment', nearMisses: [] });
}

export function listDenyAssignments(ctx: AuthorizationContext, caller: Caller, scope: string, rawFilter: string | null): StoredDenyAssignment[] {
  const filter = parseFilter(rawFilter, ['atScope', 'principalId', 'denyAssignmentName']);
  ctx.authorizer.check(caller, ACTIONS.denyAssignmentsRead, scope);
  const target = normalizeScope(scope);
  const principal = filter.principalId?.toLowerCase();
  const name = filter.denyAssignmentName?.toLowerCase();
  const out: StoredDenyAssignment[] = [];
  for (const d of ctx.feed.denyAssignments.values()) {
    const at = normalizeScope(d.scope);
    const above = scopeCovers(at, target);
    if (filter.atScope ? !above : !(above || scopeCovers(target, at))) continue;
    if (name && (d.denyAssignmentName ?? '').toLowerCase() !== name) continue;
    if (principal) {
      const applies = d.principals.some((p) => p.id.toLowerCase() === principal || p.id === ALL_PRINCIPALS_ID);
      if (!applies || d.excludePrincipals.some((p) => p.id.toLowerCase() === principal)) continue;
    }
    out.push(d);
  }
  return out.sort((a, b) => (a.createdOn < b.createdOn ? -1 : a.createdOn > b.createdOn ? 1 : 0));
}

function principals(raw: unknown, field: string, allowEveryone: boolean): DenyPrincipal[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ArmError(400, 'InvalidRequestContent', `The property '${field}' must be an array.`);
  return raw.map((p) => {
    const entry = (p ?? {}) as Record<string, unknown>;
    const id = typeof entry.id === 'string' ? entry.id.toLowerCase() : '';
    const type = typeof entry.type === 'string' ? entry.type : 'ServicePrincipal';
    if (!isGuid(id)) throw new ArmError(400, 'InvalidRequestContent', `Every entry of '${field}' needs an 'id' that is a GUID.`);
    if (id === ALL_PRINCIPALS_ID) {
      if (!allowEveryone) throw new ArmError(400, 'InvalidRequestContent', `The all-principals id '${ALL_PRINCIPALS_ID}' can only be used in 'principals'.`);
      if (type !== 'SystemDefined') throw new ArmError(400, 'InvalidRequestContent', `The all-principals id '${ALL_PRINCIPALS_ID}' must have type 'SystemDefined'.`);
    }
    return { id, type };
  });
}

function permissionsOf(raw: unknown): Permission[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new ArmError(400, 'InvalidRequestContent', "The property 'permissions' must be a non-empty array.");
  return raw.map((p) => {
    const b = (p ?? {}) as Record<string, unknown>;
    const list = (v: unknown, f: string): string[] => {
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ArmError(400, 'InvalidRequestContent', `The property '${f}' must be an array of strings.`);
      return v as string[];
    };
    const permission = { actions: list(b.actions, 'actions'), notActions: list(b.notActions, 'notActions'), dataActions: list(b.dataActions, 'dataActions'), notDataActions: list(b.notDataActions, 'notDataActions') };
    if (permission.actions.length + permission.dataActions.length === 0) throw new ArmError(400, 'InvalidRequestContent', 'A deny assignment permission needs at least one action or data action.');
    return permission;
  });
}

async function putDenyAssignment(ctx: AuthorizationContext, caller: Caller, rawScope: string, name: string, body: Record<string, unknown>): Promise<StoredDenyAssignment> {
  requirePlatform(ctx, caller, DENY_WRITE, rawScope);
  return audited(ctx.audit, { category: 'DenyAssignment', operation: DENY_WRITE, caller: callerOf(caller), scope: rawScope, target: extensionId(rawScope, 'denyAssignments', name) }, async () => {
    if (!isGuid(name)) throw new ArmError(400, 'InvalidDenyAssignmentId', `The deny assignment ID '${name}' is not valid. It must be a GUID.`);
    const { scope } = await resolveScope(ctx.arm, rawScope);
    const props = objectBody(body);
    const included = principals(props.principals, 'principals', true);
    if (included.length === 0) throw new ArmError(400, 'InvalidRequestContent', "The property 'principals' must name at least one principal.");
    const id = extensionId(scope, 'denyAssignments', name.toLowerCase());
    const key = keyOf(id);
    const previous = await ctx.store.get<StoredDenyAssignment>(DENY_ASSIGNMENTS, key);
    const now = new Date().toISOString();
    const deny: StoredDenyAssignment = {
      id,
      name: name.toLowerCase(),
      scope,
      denyAssignmentName: optionalString(props, 'denyAssignmentName') ?? name,
      description: optionalString(props, 'description') ?? '',
      permissions: permissionsOf(props.permissions),
      principals: included,
      excludePrincipals: principals(props.excludePrincipals, 'excludePrincipals', false),
      doNotApplyToChildScopes: props.doNotApplyToChildScopes === true,
      isSystemProtected: props.isSystemProtected !== false,
      createdOn: previous?.value.createdOn ?? now,
      updatedOn: now,
      createdBy: previous?.value.createdBy ?? caller.objectId,
      updatedBy: caller.objectId,
    };
    await ctx.store.apply([{ op: 'put', kind: DENY_ASSIGNMENTS, key, value: deny }]);
    return { result: deny, record: { target: id, scope } };
  });
}
