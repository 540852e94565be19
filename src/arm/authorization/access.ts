// Questions about access rather than changes to it:
// - `GET {scope}/providers/Microsoft.Authorization/permissions`: the caller's own permission
//   blocks that apply at a scope (Azure's API, used by `az role permission`-style tooling);
// - `POST {scope}/providers/Microsoft.Authorization/checkAccess` (Mimic's own): whether a
//   principal may perform an action at a scope, and why: the deciding assignment and role,
//   the deny assignment, or the nearest misses. Asking about oneself is always allowed;
//   asking about another principal needs `roleAssignments/read` at the scope.
import { actionMatches, normalizeScope, scopeCovers, type Decision, type NearMiss, type RequestAttributes, type RoleDefinition } from '../../authz/index.js';
import { sendJson } from '../../server/http.js';
import { ArmError } from '../errors.js';
import { isGuid } from '../ids.js';
import type { ExtensionContext } from '../router.js';
import { methodNotAllowed, requireApiVersion, type AuthorizationContext } from './context.js';
import { ACTIONS } from './model.js';
import { parseScope } from './scopes.js';
import { GONE_PRINCIPAL_TOKENS } from './audit.js';

export async function handlePermissions(ctx: AuthorizationContext, x: ExtensionContext): Promise<void> {
  requireApiVersion('permissions', x.apiVersion);
  if (x.req.method !== 'GET' || x.rest.length !== 1) throw methodNotAllowed(x.req);
  const p = parseScope(x.scope);
  if (p.subscriptionId) ctx.arm.requireSubscription(p.subscriptionId);
  const target = normalizeScope(x.scope);
  const value = ctx.engine
    .assignmentsFor(x.caller.objectId)
    .filter((a) => scopeCovers(normalizeScope(a.scope), target))
    .flatMap((a) => ctx.engine.roleDefinition(a.roleDefinitionId)?.permissions ?? [])
    .map((p) => ({ actions: [...p.actions], notActions: [...p.notActions], dataActions: [...p.dataActions], notDataActions: [...p.notDataActions] }));
  sendJson(x.res, 200, { value });
}

export interface CheckAccessRequest {
  principalId: string;
  action: string;
  /** Guessed from the built-in roles when absent. */
  isDataAction?: boolean;
  subOperation?: string;
  attributes?: RequestAttributes;
}

export interface CheckAccessResult {
  principalId: string;
  principalName: string;
  action: string;
  isDataAction: boolean;
  scope: string;
  allowed: boolean;
  reason: Decision['reason'];
  assignment: { id: string; scope: string; roleDefinitionId: string; roleName: string | null; condition: string | null } | null;
  denyAssignment: { id: string; name: string; scope: string } | null;
  nearMisses: Array<{ assignmentId: string; scope: string; roleDefinitionId: string; roleName: string | null; why: string }>;
  explanation: string;
}

export async function handleCheckAccess(ctx: AuthorizationContext, x: ExtensionContext): Promise<void> {
  if (x.req.method !== 'POST' || x.rest.length !== 1) throw methodNotAllowed(x.req);
  const p = parseScope(x.scope);
  if (p.subscriptionId) ctx.arm.requireSubscription(p.subscriptionId);
  const body = await x.body();
  const principalId = typeof body.principalId === 'string' && body.principalId ? body.principalId.toLowerCase() : x.caller.objectId;
  if (!isGuid(principalId)) throw new ArmError(400, 'InvalidPrincipalId', `The principal ID '${principalId}' is not valid. Principal IDs must be GUIDs.`);
  if (typeof body.action !== 'string' || !body.action) throw new ArmError(400, 'InvalidRequestContent', "The property 'action' is required.");
  if (body.attributes !== undefined && (typeof body.attributes !== 'object' || body.attributes === null || Array.isArray(body.attributes))) {
    throw new ArmError(400, 'InvalidRequestContent', "The property 'attributes' must be an object of attribute values.");
  }
  if (principalId !== x.caller.objectId.toLowerCase()) ctx.authorizer.check(x.caller, ACTIONS.roleAssignmentsRead, x.scope);
  const result = checkAccess(ctx, x.scope, {
    principalId,
    action: body.action,
    ...(typeof body.isDataAction === 'boolean' ? { isDataAction: body.isDataAction } : {}),
    ...(typeof body.subOperation === 'string' ? { subOperation: body.subOperation } : {}),
    ...(body.attributes ? { attributes: body.attributes as RequestAttributes } : {}),
  });
  sendJson(x.res, 200, result);
}

const dataActionMemo = new Map<string, boolean>();

/**
 * Whether an action is a data action: some built-in role lists it among its DataActions
 * (through a pattern narrower than a provider-wide wildcard).
 */
export function looksLikeDataAction(ctx: AuthorizationContext, action: string): boolean {
  const key = action.toLowerCase();
  const memo = dataActionMemo.get(key);
  if (memo !== undefined) return memo;
  let found = false;
  outer: for (const r of ctx.engine.roleDefinitions()) {
    if (r.roleType !== 'BuiltInRole') continue;
    for (const p of r.permissions) {
      for (const pattern of p.dataActions) {
        if (pattern !== '*' && actionMatches(pattern, action)) {
          found = true;
          break outer;
        }
      }
    }
  }
  if (dataActionMemo.size > 4096) dataActionMemo.clear();
  dataActionMemo.set(key, found);
  return found;
}

/** Why a deleted identity can still act: its role assignments stay (orphaned) and so do its tokens. */
export const GONE_PRINCIPAL_NOTE = ` The principal does not exist (a deleted user-assigned identity or a disabled system-assigned identity) or is disabled: ${GONE_PRINCIPAL_TOKENS}`;

export function checkAccess(ctx: AuthorizationContext, scope: string, req: CheckAccessRequest): CheckAccessResult {
  const isDataAction = req.isDataAction ?? looksLikeDataAction(ctx, req.action);
  const decision = ctx.engine.explain({
    principalId: req.principalId,
    action: req.action,
    isDataAction,
    scope,
    ...(req.subOperation ? { subOperation: req.subOperation } : {}),
    ...(req.attributes ? { attributes: req.attributes } : {}),
  });
  const principal = ctx.directory.byObject(req.principalId);
  const principalName = principal?.displayName ?? 'Unknown';
  const target = normalizeScope(scope);
  const misses = [...decision.nearMisses].sort((a, b) => rank(a, target, req.action, isDataAction) - rank(b, target, req.action, isDataAction));
  const a = decision.assignment;
  const d = decision.denyAssignment;
  return {
    principalId: req.principalId,
    principalName,
    action: req.action,
    isDataAction,
    scope,
    allowed: decision.allowed,
    reason: decision.reason,
    assignment: a ? { id: a.id, scope: a.scope, roleDefinitionId: a.roleDefinitionId, roleName: decision.role?.roleName ?? null, condition: a.condition ?? null } : null,
    denyAssignment: d ? { id: d.id, name: d.denyAssignmentName ?? d.name, scope: d.scope } : null,
    nearMisses: misses.map((m) => ({ assignmentId: m.assignment.id, scope: m.assignment.scope, roleDefinitionId: m.assignment.roleDefinitionId, roleName: m.role?.roleName ?? null, why: m.why })),
    explanation: explain(decision, req.action, scope, principalName, isDataAction, misses) + (principal?.accountEnabled ? '' : GONE_PRINCIPAL_NOTE),
  };
}

/**
 * How near a miss is: a grant held back by a condition, then the right role at the wrong
 * scope, then a role at the right scope that lacks the action, then the rest.
 */
function rank(m: NearMiss, target: string, action: string, isData: boolean): number {
  const covers = scopeCovers(normalizeScope(m.assignment.scope), target);
  const grants = m.role !== undefined && roleGrants(m.role, action, isData);
  if (covers && grants) return 0;
  if (grants) return 1;
  return covers ? 2 : 3;
}

function roleGrants(role: RoleDefinition, action: string, isData: boolean): boolean {
  return role.permissions.some((p) => {
    const [allow, deny] = isData ? [p.dataActions, p.notDataActions] : [p.actions, p.notActions];
    return allow.some((x) => actionMatches(x, action)) && !deny.some((x) => actionMatches(x, action));
  });
}

function explain(decision: Decision, action: string, scope: string, principalName: string, isData: boolean, misses: readonly NearMiss[]): string {
  const kind = isData ? 'data action' : 'action';
  const role = decision.role?.roleName ?? decision.assignment?.roleDefinitionId ?? '';
  switch (decision.reason) {
    case 'Allowed':
      return `Allowed: the role '${role}' assigned to ${principalName} at '${decision.assignment!.scope}' (assignment ${decision.assignment!.name}) grants the ${kind} '${action}' at '${scope}'.`;
    case 'DeniedByDenyAssignment': {
      const deny = decision.denyAssignment!;
      return `Denied: the deny assignment '${deny.denyAssignmentName ?? deny.name}' at '${deny.scope}' blocks the ${kind} '${action}' for ${principalName}, whatever roles grant.`;
    }
    case 'ConditionNotMet':
      return `Denied: the role '${role}' at '${decision.assignment!.scope}' grants the ${kind} '${action}' only under a condition, which this request does not meet.`;
    default: {
      const nearest = misses[0];
      const tail = nearest ? ` Nearest miss: ${nearest.why}.` : ` ${principalName} has no role assignments.`;
      return `Denied: no role assignment of ${principalName} grants the ${kind} '${action}' at '${scope}'.${tail}`;
    }
  }
}
