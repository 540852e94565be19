// Scope arithmetic for narrowing: the parent of a scope one level up (a secret's vault, a
// container's storage account, a resource's group, a group's subscription) and which of a set
// of scopes to keep when several are covered by a parent.

/** Lower-cased, no repeated or trailing slash. */
export function canonicalScope(scope: string): string {
  const lower = scope.toLowerCase();
  // The common case (a well-formed id) needs no regular expression.
  if (!lower.includes('//') && !lower.endsWith('/')) return lower;
  const s = lower.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  return s === '' ? '/' : s;
}

/** Index of the n-th slash from the end (n = 1 is the last), or -1. */
function slashFromEnd(s: string, n: number): number {
  let at = s.length;
  for (let i = 0; i < n; i++) {
    at = s.lastIndexOf('/', at - 1);
    if (at < 0) return -1;
  }
  return at;
}

/**
 * One level up, skipping the `{x}Services/default` layer of storage (a container's parent is
 * its account). Undefined at a subscription, a management group or the root.
 */
export function parentScope(scope: string): string | undefined {
  const lower = scope.toLowerCase();
  const providers = lower.lastIndexOf('/providers/');
  if (providers > 0) {
    // segments after /providers/: namespace, type, name[, childType, childName ...]
    let after = 0;
    for (let i = providers + 11; i < lower.length; i++) if (lower.charCodeAt(i) === 47) after++;
    if (after === 2) return scope.slice(0, providers) || undefined; // a top-level resource: its group
    if (after > 2) {
      let cut = slashFromEnd(scope, 2);
      const up = lower.slice(0, cut);
      if (after > 4 && up.endsWith('/default') && /services$/.test(up.slice(0, up.length - 8))) cut = slashFromEnd(up, 2);
      return scope.slice(0, cut);
    }
    return undefined;
  }
  if (lower.startsWith('/subscriptions/')) {
    const parts = lower.split('/');
    if (parts.length === 5 && parts[3] === 'resourcegroups') return scope.slice(0, slashFromEnd(scope, 2));
  }
  return undefined;
}

export function isWithin(scope: string, ancestor: string): boolean {
  return within(canonicalScope(scope), canonicalScope(ancestor));
}

/** `isWithin` for scopes already canonical. */
export function within(scope: string, ancestor: string): boolean {
  return ancestor === '/' || scope === ancestor || (scope.length > ancestor.length && scope.charCodeAt(ancestor.length) === 47 && scope.startsWith(ancestor));
}

/** Whether a scope is a subscription or a management group (or the root). */
export function isBroadScope(scope: string): boolean {
  const s = canonicalScope(scope);
  return s === '/' || /^\/subscriptions\/[^/]+$/.test(s) || /^\/providers\/microsoft\.management\/managementgroups\/[^/]+$/.test(s);
}

/**
 * Collapses scopes: when more than `threshold` scopes share a parent, the parent replaces them
 * (repeated upwards, never past a resource group: the advisor does not widen to a subscription
 * the uses never touched). Scopes below another kept scope are dropped.
 */
export function collapseScopes(scopes: Iterable<string>, threshold: number): string[] {
  /** canonical -> as first seen */
  const set = new Map<string, string>();
  for (const s of scopes) set.set(canonicalScope(s), s);
  const parents = new Map<string, string | undefined>();
  const parentOf = (key: string): string | undefined => {
    if (!parents.has(key)) {
      const p = parentScope(set.get(key)!);
      parents.set(key, p === undefined || isBroadScope(p) ? undefined : p);
    }
    return parents.get(key);
  };
  for (;;) {
    const byParent = new Map<string, { original: string; children: string[] }>();
    for (const key of set.keys()) {
      const p = parentOf(key);
      if (p === undefined) continue;
      const k = canonicalScope(p);
      const entry = byParent.get(k);
      if (entry) entry.children.push(key);
      else byParent.set(k, { original: p, children: [key] });
    }
    let changed = false;
    for (const [parent, { original, children }] of byParent) {
      if (children.length <= threshold) continue;
      for (const c of children) set.delete(c);
      set.set(parent, original);
      changed = true;
    }
    if (!changed) break;
  }
  // Drop scopes covered by another kept scope: an ancestor is shorter, so sort by length and
  // look each scope's ancestors up (at most one per path segment).
  const keys = [...set.keys()].sort((a, b) => a.length - b.length);
  const kept = new Set<string>();
  const out: string[] = [];
  for (const k of keys) {
    let covered = kept.has('/');
    for (let at = k.indexOf('/', 1); at > 0 && !covered; at = k.indexOf('/', at + 1)) covered = kept.has(k.slice(0, at));
    if (covered) continue;
    kept.add(k);
    out.push(set.get(k)!);
  }
  return out.sort();
}
