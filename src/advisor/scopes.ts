// Scope arithmetic for narrowing: the parent of a scope one level up (a secret's vault, a
// container's storage account, a resource's group, a group's subscription) and which of a set
// of scopes to keep when several are covered by a parent.

/** Lower-cased, no trailing slash. */
export function canonicalScope(scope: string): string {
  const s = scope.toLowerCase().replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  return s === '' ? '/' : s;
}

/**
 * One level up, skipping the `{x}Services/default` layer of storage (a container's parent is
 * its account). Undefined at a subscription, a management group or the root.
 */
export function parentScope(scope: string): string | undefined {
  const parts = scope.split('/');
  // ['', 'subscriptions', s, 'resourcegroups', rg, 'providers', ns, type, name, ...]
  const lower = parts.map((p) => p.toLowerCase());
  const providers = lower.lastIndexOf('providers');
  if (providers > 0 && parts.length > providers + 4) {
    let up = parts.slice(0, -2);
    if (up.length > providers + 4 && /services$/i.test(up[up.length - 2]!) && up[up.length - 1]!.toLowerCase() === 'default') up = up.slice(0, -2);
    return up.join('/');
  }
  if (providers > 0 && parts.length === providers + 4) {
    // a top-level resource: its group (or the subscription for subscription-level resources)
    return parts.slice(0, providers).join('/') || undefined;
  }
  if (lower[1] === 'subscriptions' && lower[3] === 'resourcegroups' && parts.length === 5) return parts.slice(0, 3).join('/');
  return undefined;
}

export function isWithin(scope: string, ancestor: string): boolean {
  const s = scope.toLowerCase();
  const a = ancestor.toLowerCase();
  return a === '/' || s === a || s.startsWith(a + '/');
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
  let set = new Map<string, string>();
  for (const s of scopes) set.set(canonicalScope(s), s);
  for (;;) {
    const byParent = new Map<string, string[]>();
    for (const key of set.keys()) {
      const p = parentScope(set.get(key)!);
      if (p === undefined || isBroadScope(p)) continue;
      const k = canonicalScope(p);
      const list = byParent.get(k) ?? [];
      list.push(key);
      byParent.set(k, list);
    }
    let changed = false;
    for (const [parent, children] of byParent) {
      if (children.length <= threshold) continue;
      const original = parentScope(set.get(children[0]!)!)!;
      for (const c of children) set.delete(c);
      set.set(parent, original);
      changed = true;
    }
    if (!changed) break;
  }
  // Drop scopes covered by another kept scope.
  const keys = [...set.keys()].sort((a, b) => a.length - b.length);
  const kept = new Map<string, string>();
  for (const k of keys) if (![...kept.keys()].some((a) => isWithin(k, a))) kept.set(k, set.get(k)!);
  set = kept;
  return [...set.values()].sort();
}
