// The Azure RBAC decision engine over in-memory indexes. No I/O: callers feed it role
// definitions, role assignments and deny assignments, and ask for decisions.
//
// Hot path (`decide`): scope string -> normalized scope (memo), principal -> its
// assignments (Map), per assignment a path-prefix test and a memoised per-role lookup of
// the action; the returned Decision objects are prebuilt per assignment, so a decision
// allocates nothing once the memos are warm. `explain` repeats the decision and adds
// the near misses.

import { compileCondition, type CompiledCondition, type ConditionContext } from './conditions.js';
import { ManagementGroupTree } from './managementGroups.js';
import { CompiledPermissions, type GrantEntry } from './permissions.js';
import { isManagementGroupScope, normalizeScope, scopeCovers } from './scope.js';
import type {
  AccessRequest,
  Decision,
  DenyAssignment,
  DenyPrincipal,
  NearMiss,
  Permission,
  RequestAttributes,
  RoleAssignment,
  RoleDefinition,
} from './types.js';

/** Principal id that stands for every principal in a deny assignment. */
export const ALL_PRINCIPALS_ID = '00000000-0000-0000-0000-000000000000';

const NO_NEAR_MISSES: readonly NearMiss[] = Object.freeze([]);
const NO_ATTRIBUTES: RequestAttributes = Object.freeze({});
const NO_MATCH: Decision = Object.freeze({ allowed: false, reason: 'NoMatchingAssignment', nearMisses: NO_NEAR_MISSES });
const SCOPE_MEMO_LIMIT = 65_536;

interface RoleSlot {
  readonly key: string;
  def: RoleDefinition | undefined;
  perms: CompiledPermissions | undefined;
  /** Assignments pointing at this slot; a slot without a definition or references is dropped. */
  refs: number;
}

interface AssignmentRecord {
  readonly source: RoleAssignment;
  readonly principal: string;
  readonly scope: string;
  /** Assigned at a management group, whose reach also follows the group tree. */
  readonly viaTree: boolean;
  readonly slot: RoleSlot;
  readonly condition: CompiledCondition | null;
  // Prebuilt decisions, rebuilt when the role definition object changes.
  allowed: Decision | undefined;
  allowedRole: RoleDefinition | undefined;
  conditionFailed: Decision | undefined;
  conditionFailedRole: RoleDefinition | undefined;
}

interface DenyRecord {
  readonly source: DenyAssignment;
  readonly scope: string;
  readonly viaTree: boolean;
  readonly exactScopeOnly: boolean;
  readonly principalKeys: readonly string[];
  readonly excluded: ReadonlySet<string>;
  readonly perms: CompiledPermissions;
  readonly decision: Decision;
}

/** The GUID at the end of a role definition id (or the GUID itself), lower-cased. */
function roleKey(idOrGuid: string): string {
  const trimmed = idOrGuid.trim().replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1).toLowerCase();
}

function frozenList<T>(list: readonly T[] | undefined): T[] {
  return Object.freeze([...(list ?? [])]) as T[];
}

function copyPermission(p: Permission): Permission {
  const copy: Permission = {
    actions: frozenList(p.actions),
    notActions: frozenList(p.notActions),
    dataActions: frozenList(p.dataActions),
    notDataActions: frozenList(p.notDataActions),
  };
  if (p.condition) {
    copy.condition = p.condition;
    copy.conditionVersion = p.conditionVersion ?? null;
  }
  return Object.freeze(copy);
}

function copyPrincipals(list: readonly DenyPrincipal[] | undefined): DenyPrincipal[] {
  return frozenList((list ?? []).map((p) => Object.freeze({ id: p.id, type: p.type })));
}

function removeFrom<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list === undefined) return;
  const at = list.indexOf(item);
  if (at !== -1) list.splice(at, 1);
  if (list.length === 0) map.delete(key);
}

function pushTo<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [item]);
  else list.push(item);
}

/** Index lookup by principal id; ids are stored lower-cased and usually arrive that way. */
function byPrincipal<T>(map: Map<string, T[]>, principalId: string): T[] | undefined {
  const list = map.get(principalId);
  if (list !== undefined) return list;
  const lower = principalId.toLowerCase();
  return lower === principalId ? undefined : map.get(lower);
}

function contextOf(req: AccessRequest): ConditionContext {
  const ctx: ConditionContext = { action: req.action, attributes: req.attributes ?? NO_ATTRIBUTES };
  if (req.subOperation !== undefined) ctx.subOperation = req.subOperation;
  return ctx;
}

function anyHolds(conditions: readonly CompiledCondition[], ctx: ConditionContext): boolean {
  for (const c of conditions) if (c.evaluate(ctx)) return true;
  return false;
}

export class AuthzEngine {
  private readonly roles = new Map<string, RoleSlot>();
  private readonly rolesByName = new Map<string, Set<RoleSlot>>();
  private readonly assignmentsById = new Map<string, AssignmentRecord>();
  private readonly assignmentsByPrincipal = new Map<string, AssignmentRecord[]>();
  private readonly denyById = new Map<string, DenyRecord>();
  private readonly denyByPrincipal = new Map<string, DenyRecord[]>();
  private readonly scopeMemo = new Map<string, string>();
  private readonly tree = new ManagementGroupTree();
  /** Set by `scan` when a grant was found but its conditions did not hold. */
  private conditionFailure: AssignmentRecord | undefined;

  // ---- role definitions ----

  /** Adds or replaces a role definition; throws ConditionError when a block condition is invalid. */
  upsertRoleDefinition(def: RoleDefinition): void {
    const key = roleKey(def.name || def.id);
    const perms = new CompiledPermissions(def.permissions);
    const copy: RoleDefinition = Object.freeze({
      id: def.id || `/providers/Microsoft.Authorization/roleDefinitions/${def.name}`,
      name: def.name,
      roleName: def.roleName,
      description: def.description ?? '',
      roleType: def.roleType,
      permissions: frozenList(def.permissions.map(copyPermission)),
      assignableScopes: frozenList(def.assignableScopes),
    });
    const slot = this.slotFor(key);
    if (slot.def !== undefined) this.unindexName(slot);
    slot.def = copy;
    slot.perms = perms;
    const name = copy.roleName.toLowerCase();
    let set = this.rolesByName.get(name);
    if (set === undefined) this.rolesByName.set(name, (set = new Set()));
    set.add(slot);
  }

  removeRoleDefinition(idOrGuid: string): boolean {
    const slot = this.roles.get(roleKey(idOrGuid));
    if (slot?.def === undefined) return false;
    this.unindexName(slot);
    slot.def = undefined;
    slot.perms = undefined;
    if (slot.refs === 0) this.roles.delete(slot.key);
    return true;
  }

  roleDefinition(idOrGuid: string): RoleDefinition | undefined {
    return this.roles.get(roleKey(idOrGuid))?.def;
  }

  /** Case-insensitive lookup by display name. */
  roleByName(roleName: string): RoleDefinition | undefined {
    const set = this.rolesByName.get(roleName.toLowerCase());
    if (set === undefined) return undefined;
    for (const slot of set) if (slot.def !== undefined) return slot.def;
    return undefined;
  }

  roleDefinitions(): RoleDefinition[] {
    const out: RoleDefinition[] = [];
    for (const slot of this.roles.values()) if (slot.def !== undefined) out.push(slot.def);
    return out;
  }

  private slotFor(key: string): RoleSlot {
    let slot = this.roles.get(key);
    if (slot === undefined) {
      slot = { key, def: undefined, perms: undefined, refs: 0 };
      this.roles.set(key, slot);
    }
    return slot;
  }

  private unindexName(slot: RoleSlot): void {
    if (slot.def === undefined) return;
    const name = slot.def.roleName.toLowerCase();
    const set = this.rolesByName.get(name);
    set?.delete(slot);
    if (set?.size === 0) this.rolesByName.delete(name);
  }

  // ---- role assignments ----

  /** Adds or replaces (by id) a role assignment; throws ConditionError when its condition is refused. */
  upsertRoleAssignment(a: RoleAssignment): void {
    const condition = a.condition ? compileCondition(a.condition, a.conditionVersion) : null;
    const source: RoleAssignment = Object.freeze({ ...a });
    this.removeRoleAssignment(a.id);
    const scope = normalizeScope(a.scope);
    const slot = this.slotFor(roleKey(a.roleDefinitionId));
    slot.refs++;
    const record: AssignmentRecord = {
      source,
      principal: a.principalId.toLowerCase(),
      scope,
      viaTree: isManagementGroupScope(scope),
      slot,
      condition,
      allowed: undefined,
      allowedRole: undefined,
      conditionFailed: undefined,
      conditionFailedRole: undefined,
    };
    this.assignmentsById.set(a.id.toLowerCase(), record);
    pushTo(this.assignmentsByPrincipal, record.principal, record);
  }

  removeRoleAssignment(id: string): boolean {
    const key = id.toLowerCase();
    const record = this.assignmentsById.get(key);
    if (record === undefined) return false;
    this.assignmentsById.delete(key);
    removeFrom(this.assignmentsByPrincipal, record.principal, record);
    const slot = record.slot;
    slot.refs--;
    if (slot.refs === 0 && slot.def === undefined) this.roles.delete(slot.key);
    return true;
  }

  /** Assignments made directly to this principal (not through its groups). */
  assignmentsFor(principalId: string): RoleAssignment[] {
    return (this.assignmentsByPrincipal.get(principalId.toLowerCase()) ?? []).map((r) => r.source);
  }

  // ---- deny assignments ----

  /** Adds or replaces (by id) a deny assignment. */
  upsertDenyAssignment(d: DenyAssignment): void {
    const perms = new CompiledPermissions(d.permissions);
    const source: DenyAssignment = Object.freeze({
      ...d,
      permissions: frozenList(d.permissions.map(copyPermission)),
      principals: copyPrincipals(d.principals),
      excludePrincipals: copyPrincipals(d.excludePrincipals),
    });
    this.removeDenyAssignment(d.id);
    const scope = normalizeScope(d.scope);
    const record: DenyRecord = {
      source,
      scope,
      viaTree: isManagementGroupScope(scope),
      exactScopeOnly: d.doNotApplyToChildScopes === true,
      principalKeys: [...new Set(source.principals.map((p) => p.id.toLowerCase()))],
      excluded: new Set(source.excludePrincipals.map((p) => p.id.toLowerCase())),
      perms,
      decision: Object.freeze({
        allowed: false,
        reason: 'DeniedByDenyAssignment',
        denyAssignment: source,
        nearMisses: NO_NEAR_MISSES,
      }),
    };
    this.denyById.set(d.id.toLowerCase(), record);
    for (const p of record.principalKeys) pushTo(this.denyByPrincipal, p, record);
  }

  removeDenyAssignment(id: string): boolean {
    const key = id.toLowerCase();
    const record = this.denyById.get(key);
    if (record === undefined) return false;
    this.denyById.delete(key);
    for (const p of record.principalKeys) removeFrom(this.denyByPrincipal, p, record);
    return true;
  }

  // ---- management-group tree ----

  /** Places a management group under a parent group (undefined detaches it). */
  setManagementGroupParent(groupId: string, parentGroupId: string | undefined): void {
    this.tree.setGroupParent(groupId, parentGroupId);
  }

  /** Places a subscription under a management group (undefined detaches it). */
  setSubscriptionManagementGroup(subscriptionId: string, groupId: string | undefined): void {
    this.tree.setSubscriptionGroup(subscriptionId, groupId);
  }

  counts(): { roleDefinitions: number; roleAssignments: number; denyAssignments: number } {
    let roleDefinitions = 0;
    for (const slot of this.roles.values()) if (slot.def !== undefined) roleDefinitions++;
    return { roleDefinitions, roleAssignments: this.assignmentsById.size, denyAssignments: this.denyById.size };
  }

  // ---- decisions ----

  decide(req: AccessRequest): Decision {
    const scope = this.scopeOf(req.scope);
    if (this.denyById.size !== 0) {
      const deny = this.findDeny(req, scope);
      if (deny !== undefined) return deny.decision;
    }
    this.conditionFailure = undefined;
    let grant = this.scan(this.assignmentsOf(req.principalId), req, scope);
    const groups = req.groupIds;
    if (grant === undefined && groups !== undefined) {
      for (let i = 0; i < groups.length && grant === undefined; i++) {
        grant = this.scan(this.assignmentsOf(groups[i]!), req, scope);
      }
    }
    if (grant !== undefined) return this.allowedDecision(grant);
    const failed = this.conditionFailure;
    if (failed !== undefined) {
      this.conditionFailure = undefined;
      return this.conditionFailedDecision(failed);
    }
    return NO_MATCH;
  }

  /** The same decision as `decide`, plus the assignments that came close and why they did not grant. */
  explain(req: AccessRequest): Decision {
    const decision = this.decide(req);
    const scope = this.scopeOf(req.scope);
    const nearMisses: NearMiss[] = [];
    const seen = new Set<AssignmentRecord>();
    for (const id of [req.principalId, ...(req.groupIds ?? [])]) {
      for (const a of this.assignmentsOf(id) ?? []) {
        if (seen.has(a)) continue;
        seen.add(a);
        const why = this.whyNot(a, req, scope);
        if (why !== undefined) nearMisses.push({ assignment: a.source, role: a.slot.def, why });
      }
    }
    return { ...decision, nearMisses };
  }

  private scopeOf(raw: string): string {
    let scope = this.scopeMemo.get(raw);
    if (scope === undefined) {
      scope = normalizeScope(raw);
      if (this.scopeMemo.size >= SCOPE_MEMO_LIMIT) this.scopeMemo.clear();
      this.scopeMemo.set(raw, scope);
    }
    return scope;
  }

  private assignmentsOf(principalId: string): AssignmentRecord[] | undefined {
    return byPrincipal(this.assignmentsByPrincipal, principalId);
  }

  private covers(assigned: string, viaTree: boolean, target: string): boolean {
    if (scopeCovers(assigned, target)) return true;
    return viaTree && this.tree.groupScopesAbove(target).includes(assigned);
  }

  private scan(list: AssignmentRecord[] | undefined, req: AccessRequest, scope: string): AssignmentRecord | undefined {
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!;
      if (!this.covers(a.scope, a.viaTree, scope)) continue;
      const perms = a.slot.perms;
      if (perms === undefined) continue; // unknown role definition grants nothing
      const entry = perms.grants(req.action, req.isDataAction);
      if (entry === null) continue;
      if (entry.length === 0 && a.condition === null) return a;
      if (this.conditionsHold(entry, a.condition, req)) return a;
      if (this.conditionFailure === undefined) this.conditionFailure = a;
    }
    return undefined;
  }

  /** Role-block conditions (any granting block) and the assignment condition must hold. */
  private conditionsHold(entry: GrantEntry & object, condition: CompiledCondition | null, req: AccessRequest): boolean {
    const ctx = contextOf(req);
    if (entry.length !== 0 && !anyHolds(entry, ctx)) return false;
    return condition === null || condition.evaluate(ctx);
  }

  private findDeny(req: AccessRequest, scope: string): DenyRecord | undefined {
    let hit = this.scanDeny(byPrincipal(this.denyByPrincipal, req.principalId), req, scope);
    const groups = req.groupIds;
    if (hit === undefined && groups !== undefined) {
      for (let i = 0; i < groups.length && hit === undefined; i++) {
        hit = this.scanDeny(byPrincipal(this.denyByPrincipal, groups[i]!), req, scope);
      }
    }
    return hit ?? this.scanDeny(this.denyByPrincipal.get(ALL_PRINCIPALS_ID), req, scope);
  }

  private scanDeny(list: DenyRecord[] | undefined, req: AccessRequest, scope: string): DenyRecord | undefined {
    if (list === undefined) return undefined;
    for (const d of list) {
      const applies = d.exactScopeOnly ? scope === d.scope : this.covers(d.scope, d.viaTree, scope);
      if (!applies || this.isExcluded(d, req)) continue;
      const entry = d.perms.grants(req.action, req.isDataAction);
      if (entry === null) continue;
      if (entry.length === 0) return d;
      // A deny block whose condition cannot be evaluated still applies (fail closed).
      const ctx = contextOf(req);
      if (entry.some((c) => c.outcome(ctx) !== 'false')) return d;
    }
    return undefined;
  }

  private isExcluded(d: DenyRecord, req: AccessRequest): boolean {
    if (d.excluded.size === 0) return false;
    if (d.excluded.has(req.principalId.toLowerCase())) return true;
    return (req.groupIds ?? []).some((g) => d.excluded.has(g.toLowerCase()));
  }

  private allowedDecision(a: AssignmentRecord): Decision {
    const role = a.slot.def;
    if (a.allowed === undefined || a.allowedRole !== role) {
      a.allowed = Object.freeze({ allowed: true, reason: 'Allowed', assignment: a.source, role, nearMisses: NO_NEAR_MISSES });
      a.allowedRole = role;
    }
    return a.allowed;
  }

  private conditionFailedDecision(a: AssignmentRecord): Decision {
    const role = a.slot.def;
    if (a.conditionFailed === undefined || a.conditionFailedRole !== role) {
      a.conditionFailed = Object.freeze({
        allowed: false,
        reason: 'ConditionNotMet',
        assignment: a.source,
        role,
        nearMisses: NO_NEAR_MISSES,
      });
      a.conditionFailedRole = role;
    }
    return a.conditionFailed;
  }

  /** Why this assignment does not grant the request, or undefined when it does. */
  private whyNot(a: AssignmentRecord, req: AccessRequest, scope: string): string | undefined {
    const role = a.slot.def;
    const perms = a.slot.perms;
    const label = role ? role.roleName : `Role definition '${a.source.roleDefinitionId}'`;
    if (!this.covers(a.scope, a.viaTree, scope)) {
      return `${label} is assigned at '${a.source.scope}', which does not contain '${req.scope}'`;
    }
    if (role === undefined || perms === undefined) {
      return `the assignment at '${a.source.scope}' refers to role definition '${a.source.roleDefinitionId}', which does not exist, so it grants nothing`;
    }
    const entry = perms.grants(req.action, req.isDataAction);
    if (entry === null) return `${label} at '${a.source.scope}' ${perms.describeMiss(req.action, req.isDataAction)}`;
    const ctx = contextOf(req);
    if (entry.length !== 0 && !anyHolds(entry, ctx)) {
      return `${label} at '${a.source.scope}' grants '${req.action}' only under the role's own condition, which is not met${missing(entry, ctx)}`;
    }
    if (a.condition !== null && !a.condition.evaluate(ctx)) {
      return `${label} at '${a.source.scope}' grants '${req.action}', but the assignment's condition is not met${missing([a.condition], ctx)}`;
    }
    return undefined;
  }
}

function missing(conditions: readonly CompiledCondition[], ctx: ConditionContext): string {
  const keys = [...new Set(conditions.flatMap((c) => c.missingAttributes(ctx)))];
  return keys.length === 0 ? '' : ` (the request does not provide ${keys.join(', ')})`;
}
