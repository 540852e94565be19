// The management-group tree. A management group's scope string is not a prefix of the
// subscriptions under it, so inheritance from management groups needs this explicit
// child -> parent map (groups and subscriptions) instead of a path comparison.

import { managementGroupOf, managementGroupScope, subscriptionOf } from './scope.js';

const MAX_DEPTH = 32; // Azure allows 6 levels below the root; this only guards against cycles.
const CACHE_LIMIT = 10_000;

export class ManagementGroupTree {
  private readonly groupParent = new Map<string, string>();
  private readonly subscriptionGroup = new Map<string, string>();
  private readonly aboveCache = new Map<string, readonly string[]>();

  get isEmpty(): boolean {
    return this.groupParent.size === 0 && this.subscriptionGroup.size === 0;
  }

  /** Places a management group under another one; `undefined` detaches it. */
  setGroupParent(groupId: string, parentGroupId: string | undefined): void {
    const key = groupId.toLowerCase();
    if (parentGroupId === undefined) this.groupParent.delete(key);
    else this.groupParent.set(key, parentGroupId.toLowerCase());
    this.aboveCache.clear();
  }

  /** Places a subscription under a management group; `undefined` detaches it. */
  setSubscriptionGroup(subscriptionId: string, groupId: string | undefined): void {
    const key = subscriptionId.toLowerCase();
    if (groupId === undefined) this.subscriptionGroup.delete(key);
    else this.subscriptionGroup.set(key, groupId.toLowerCase());
    this.aboveCache.clear();
  }

  /**
   * Scopes of the management groups that contain `target` (normalized) through the
   * tree. A target inside a group's own path is covered by prefix already and its
   * group is not repeated here.
   */
  groupScopesAbove(target: string): readonly string[] {
    const cached = this.aboveCache.get(target);
    if (cached !== undefined) return cached;
    const result: string[] = [];
    const ownGroup = managementGroupOf(target);
    let next: string | undefined;
    if (ownGroup !== undefined) next = this.groupParent.get(ownGroup);
    else {
      const sub = subscriptionOf(target);
      if (sub !== undefined) next = this.subscriptionGroup.get(sub);
    }
    const seen = new Set<string>();
    while (next !== undefined && !seen.has(next) && seen.size < MAX_DEPTH) {
      seen.add(next);
      result.push(managementGroupScope(next));
      next = this.groupParent.get(next);
    }
    if (this.aboveCache.size >= CACHE_LIMIT) this.aboveCache.clear();
    this.aboveCache.set(target, result);
    return result;
  }
}
