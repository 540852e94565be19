// `GET {scope}/providers/Microsoft.Authorization/auditEvents` (Mimic's own): the audit log
// entries at or below a scope, newest last. Reading it needs what reading Azure's activity
// log needs (`Microsoft.Insights/eventtypes/values/read`, which Reader has).
import { sendJson } from '../../server/http.js';
import { ArmError } from '../errors.js';
import type { ExtensionContext } from '../router.js';
import type { AuditCategory, AuditResult } from './audit.js';
import { methodNotAllowed, type AuthorizationContext } from './context.js';
import { ACTIONS } from './model.js';
import { parseScope } from './scopes.js';

const CATEGORIES: readonly AuditCategory[] = ['AccessDenied', 'AccessGranted', 'RoleAssignment', 'RoleDefinition', 'DenyAssignment', 'Application'];
const RESULTS: readonly AuditResult[] = ['Denied', 'Succeeded', 'Failed'];
const MAX_TOP = 10_000;

export async function handleAuditEvents(ctx: AuthorizationContext, x: ExtensionContext): Promise<void> {
  if (x.req.method !== 'GET' || x.rest.length !== 1) throw methodNotAllowed(x.req);
  const p = parseScope(x.scope);
  if (p.subscriptionId) ctx.arm.requireSubscription(p.subscriptionId);
  ctx.authorizer.check(x.caller, ACTIONS.activityLogRead, x.scope);
  const q = x.req.query;
  const topRaw = q.get('$top');
  const top = topRaw === null ? 100 : Number(topRaw);
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) throw new ArmError(400, 'InvalidQueryParameter', `'$top' must be an integer from 1 to ${MAX_TOP}.`);
  const sinceRaw = q.get('since');
  const since = sinceRaw ? new Date(sinceRaw) : undefined;
  if (since && Number.isNaN(since.getTime())) throw new ArmError(400, 'InvalidQueryParameter', `'since' must be an ISO 8601 time; got '${sinceRaw}'.`);
  const category = q.get('category') ?? undefined;
  if (category && !CATEGORIES.includes(category as AuditCategory)) throw new ArmError(400, 'InvalidQueryParameter', `'category' must be one of ${CATEGORIES.join(', ')}.`);
  const result = q.get('result') ?? undefined;
  if (result && !RESULTS.includes(result as AuditResult)) throw new ArmError(400, 'InvalidQueryParameter', `'result' must be one of ${RESULTS.join(', ')}.`);
  const entries = await ctx.audit.query({
    scope: x.scope,
    top,
    ...(since ? { since } : {}),
    ...(q.get('principalId') ? { principalId: q.get('principalId')! } : {}),
    ...(category ? { category: category as AuditCategory } : {}),
    ...(result ? { result: result as AuditResult } : {}),
  });
  sendJson(x.res, 200, { value: entries });
}
