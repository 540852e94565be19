// ARM scope strings. Scopes are compared case-insensitively and segment-wise, so every
// scope is lower-cased and stripped of trailing slashes once, before any comparison.

export const TENANT_ROOT = '/';

const MANAGEMENT_GROUP_PREFIX = '/providers/microsoft.management/managementgroups/';
const SUBSCRIPTION_PREFIX = '/subscriptions/';

export function normalizeScope(scope: string): string {
  let s = scope.trim().toLowerCase();
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47 /* / */) end--;
  if (end === 0) return TENANT_ROOT;
  s = s.slice(0, end);
  return s.charCodeAt(0) === 47 ? s : `/${s}`;
}

/**
 * Whether an assignment at `assigned` applies to `target` by path: the same scope, a
 * scope below it (a `/` must follow the prefix), or anything when assigned at the root.
 * Both arguments must be normalized.
 */
export function scopeCovers(assigned: string, target: string): boolean {
  const n = assigned.length;
  if (n === 1) return true;
  const m = target.length;
  if (m === n) return target === assigned;
  return m > n && target.charCodeAt(n) === 47 && target.startsWith(assigned);
}

/** Management group id when `scope` (normalized) is a management group or lies under one. */
export function managementGroupOf(scope: string): string | undefined {
  if (!scope.startsWith(MANAGEMENT_GROUP_PREFIX)) return undefined;
  const rest = scope.slice(MANAGEMENT_GROUP_PREFIX.length);
  const slash = rest.indexOf('/');
  const id = slash === -1 ? rest : rest.slice(0, slash);
  return id.length > 0 ? id : undefined;
}

/** Subscription id when `scope` (normalized) is a subscription or lies under one. */
export function subscriptionOf(scope: string): string | undefined {
  if (!scope.startsWith(SUBSCRIPTION_PREFIX)) return undefined;
  const rest = scope.slice(SUBSCRIPTION_PREFIX.length);
  const slash = rest.indexOf('/');
  const id = slash === -1 ? rest : rest.slice(0, slash);
  return id.length > 0 ? id : undefined;
}

export function managementGroupScope(groupId: string): string {
  return `${MANAGEMENT_GROUP_PREFIX}${groupId.toLowerCase()}`;
}

/** True when `scope` (normalized) is exactly a management group scope. */
export function isManagementGroupScope(scope: string): boolean {
  const id = managementGroupOf(scope);
  return id !== undefined && scope.length === MANAGEMENT_GROUP_PREFIX.length + id.length;
}
