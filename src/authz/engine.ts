// The Azure RBAC decision engine over in-memory indexes. No I/O: callers feed it role
// definitions, role assignments and deny assignments, and ask for decisions.
//
// Hot path (`decide`), built to touch few cache lines: the requested scope is looked up
// in a memo of analysed scopes (ScopeProbe); one Map lookup finds the principal's
// assignments and deny assignments; the assignments are first filtered on a compact
// array of integers (scope length, fingerprint, interned scope id, role ordinal); the
// action's verdict row (VerdictMemo) answers each role with one byte; the returned
// Decision objects are prebuilt per assignment. Once the memos are warm a decision
// allocates nothing. `explain` repeats the decision and adds the near misses.

import { compileCondition, type CompiledCondition, type ConditionContext } from './conditions.js';
import { ManagementGroupTree } from './managementGroups.js';
import { CompiledPermissions, type GrantEntry } from './permissions.js';
import { isManagementGroupScope, normalizeScope } from './scope.js';
import {
  ScopeProbe,
  boundaryOf,
  confirmPrefix,
  confirmedAs,
  isExactly,
  isUnder,
  normalizedOf,
  scopeFingerprint,
  type ScopeInfo,
} from './scopeProbe.js';
import { CONDITIONAL, GRANTED, NOT_GRANTED, UNKNOWN, VerdictMemo } from './verdicts.js';
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

interface RoleSlot {
  readonly key: string;
  /** Index into verdict rows. */
  readonly ordinal: number;
  def: RoleDefinition | undefined;
  perms: CompiledPermissions | undefined;
  /** Assignments pointing at this slot; a slot without a definition or references is dropped. */
  refs: number;
  /** Principal key -> how many of its assignments use this role (entries to rebuild on change). */
  readonly users: Map<string, number>;
}

interface ScopedRecord {
  /** Normalized scope, its length and fingerprint (see ScopeProbe). */
  readonly scope: string;
  readonly scopeLength: number;
  readonly fingerprint: number;
  /** Assigned at a management group, whose reach also follows the group tree. */
  readonly viaTree: boolean;
}

interface AssignmentRecord extends ScopedRecord {
  readonly source: RoleAssignment;
  /** Interned id of `scope`. */
  readonly scopeId: number;
  readonly principal: string;
  readonly slot: RoleSlot;
  readonly condition: CompiledCondition | null;
  // Built on first use, rebuilt when the role definition object changes.
  conditionFailed: Decision | undefined;
  conditionFailedRole: RoleDefinition | undefined;
}

interface DenyRecord extends ScopedRecord {
  readonly source: DenyAssignment;
  readonly exactScopeOnly: boolean;
  readonly principalKeys: readonly string[];
  readonly excluded: ReadonlySet<string>;
  readonly perms: CompiledPermissions;
  readonly decision: Decision;
}

/**
 * What the engine holds for one principal (user, service principal or group), as ONE
 * flat array so a decision touches a single object:
 *   [denies, assignments, n, decision_0 .. decision_n-1, keys (KEY_STRIDE per assignment)]
 * decision_i is the prebuilt Allowed decision of assignment i (undefined while its role
 * is unknown); the keys are scope length (VIA_TREE for management groups), scope
 * fingerprint, interned scope id, role ordinal, and 1 when the assignment has a
 * condition. Entries are immutable and rebuilt on every change, including a change of a
 * role they use.
 */
type PrincipalEntry = readonly unknown[];

const DENIES = 0;
const ASSIGNMENTS = 1;
const COUNT = 2;
const DECISIONS = 3;
const VIA_TREE = -1;
const KEY_STRIDE = 5;

function entryDenies(e: PrincipalEntry): readonly DenyRecord[] {
  return e[DENIES] as readonly DenyRecord[];
}

function entryAssignments(e: PrincipalEntry): readonly AssignmentRecord[] {
  return e[ASSIGNMENTS] as readonly AssignmentRecord[];
}

function makeEntry(assignments: readonly AssignmentRecord[], denies: readonly DenyRecord[]): PrincipalEntry {
  const n = assignments.length;
  const e = new Array<unknown>(DECISIONS + n * (1 + KEY_STRIDE));
  e[DENIES] = denies;
  e[ASSIGNMENTS] = assignments;
  e[COUNT] = n;
  assignments.forEach((a, i) => {
    const role = a.slot.def;
    e[DECISIONS + i] = role && Object.freeze({ allowed: true, reason: 'Allowed', assignment: a.source, role, nearMisses: NO_NEAR_MISSES });
    const k = DECISIONS + n + i * KEY_STRIDE;
    e[k] = a.viaTree ? VIA_TREE : a.scopeLength;
    e[k + 1] = a.fingerprint;
    e[k + 2] = a.scopeId;
    e[k + 3] = a.slot.ordinal;
    e[k + 4] = a.condition === null ? 0 : 1;
  });
  return e;
}

const EMPTY_ENTRY: PrincipalEntry = makeEntry([], []);

function verdictOf(entry: GrantEntry): number {
  return entry === null ? NOT_GRANTED : entry.length === 0 ? GRANTED : CONDITIONAL;
}

function scoped(rawScope: string): ScopedRecord {
  const scope = normalizeScope(rawScope);
  return { scope, scopeLength: scope.length, fingerprint: scopeFingerprint(scope), viaTree: isManagementGroupScope(scope) };
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

function without<T>(list: readonly T[], item: T): T[] {
  return list.filter((x) => x !== item);
}

function removeItem<T>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at !== -1) list.splice(at, 1);
}

function hasUpperCase(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c >= 128) return true;
  }
  return false;
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
  private readonly denyById = new Map<string, DenyRecord>();
  /** Lower-cased principal id -> its assignments and the deny assignments naming it. */
  private readonly principals = new Map<string, PrincipalEntry>();
  /** Deny assignments for all principals (the zero GUID). */
  private readonly everyoneDenies: DenyRecord[] = [];
  private readonly tree = new ManagementGroupTree();
  private readonly probe = new ScopeProbe();
  private readonly verdicts = new VerdictMemo();
  private nextOrdinal = 0;
  /** Interned assignment scopes; ids are never reused for another string. */
  private readonly scopeIds = new Map<string, { id: number; refs: number }>();
  private nextScopeId = 0;
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
    // Re-syncing an unchanged definition (e.g. the built-in roles) changes nothing.
    if (slot.def !== undefined && JSON.stringify(slot.def) === JSON.stringify(copy)) return;
    this.unindexName(slot);
    slot.def = copy;
    slot.perms = perms;
    this.roleChanged(slot);
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
    this.roleChanged(slot);
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
      slot = { key, ordinal: this.nextOrdinal++, def: undefined, perms: undefined, refs: 0, users: new Map() };
      this.roles.set(key, slot);
      this.verdicts.reset(this.nextOrdinal);
    }
    return slot;
  }

  /** Drops cached verdicts and rebuilds the entries whose prebuilt decisions name this role. */
  private roleChanged(slot: RoleSlot): void {
    this.verdicts.reset(this.nextOrdinal);
    for (const principal of slot.users.keys()) {
      const entry = this.principals.get(principal);
      if (entry !== undefined) this.setEntry(principal, entryAssignments(entry), entryDenies(entry));
    }
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
    const slot = this.slotFor(roleKey(a.roleDefinitionId));
    slot.refs++;
    const principalKey = a.principalId.toLowerCase();
    slot.users.set(principalKey, (slot.users.get(principalKey) ?? 0) + 1);
    const where = scoped(a.scope);
    const record: AssignmentRecord = {
      ...where,
      scopeId: this.internScope(where.scope),
      source,
      principal: principalKey,
      slot,
      condition,
      conditionFailed: undefined,
      conditionFailedRole: undefined,
    };
    this.assignmentsById.set(a.id.toLowerCase(), record);
    const entry = this.principals.get(record.principal) ?? EMPTY_ENTRY;
    this.setEntry(record.principal, [...entryAssignments(entry), record], entryDenies(entry));
  }

  removeRoleAssignment(id: string): boolean {
    const key = id.toLowerCase();
    const record = this.assignmentsById.get(key);
    if (record === undefined) return false;
    this.assignmentsById.delete(key);
    const entry = this.principals.get(record.principal);
    if (entry !== undefined) {
      this.setEntry(record.principal, without(entryAssignments(entry), record), entryDenies(entry));
    }
    this.releaseScope(record.scope);
    const slot = record.slot;
    slot.refs--;
    const uses = (slot.users.get(record.principal) ?? 1) - 1;
    if (uses === 0) slot.users.delete(record.principal);
    else slot.users.set(record.principal, uses);
    if (slot.refs === 0 && slot.def === undefined) this.roles.delete(slot.key);
    return true;
  }

  private internScope(scope: string): number {
    let entry = this.scopeIds.get(scope);
    if (entry === undefined) this.scopeIds.set(scope, (entry = { id: this.nextScopeId++, refs: 0 }));
    entry.refs++;
    return entry.id;
  }

  private releaseScope(scope: string): void {
    const entry = this.scopeIds.get(scope);
    if (entry !== undefined && --entry.refs === 0) this.scopeIds.delete(scope);
  }

  /** Assignments made directly to this principal (not through its groups). */
  assignmentsFor(principalId: string): RoleAssignment[] {
    const entry = this.principals.get(principalId.toLowerCase());
    return entry === undefined ? [] : entryAssignments(entry).map((r) => r.source);
  }

  private setEntry(principal: string, assignments: readonly AssignmentRecord[], denies: readonly DenyRecord[]): void {
    if (assignments.length === 0 && denies.length === 0) this.principals.delete(principal);
    else this.principals.set(principal, makeEntry(assignments, denies));
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
    const record: DenyRecord = {
      ...scoped(d.scope),
      source,
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
    for (const p of record.principalKeys) {
      if (p === ALL_PRINCIPALS_ID) this.everyoneDenies.push(record);
      else {
        const entry = this.principals.get(p) ?? EMPTY_ENTRY;
        this.setEntry(p, entryAssignments(entry), [...entryDenies(entry), record]);
      }
    }
  }

  removeDenyAssignment(id: string): boolean {
    const key = id.toLowerCase();
    const record = this.denyById.get(key);
    if (record === undefined) return false;
    this.denyById.delete(key);
    for (const p of record.principalKeys) {
      if (p === ALL_PRINCIPALS_ID) {
        removeItem(this.everyoneDenies, record);
        continue;
      }
      const entry = this.principals.get(p);
      if (entry !== undefined) this.setEntry(p, entryAssignments(entry), without(entryDenies(entry), record));
    }
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
    const target = this.probe.info(req.scope);
    const entry = this.entryOf(req.principalId);
    const groups = req.groupIds;
    if (this.denyById.size !== 0) {
      const deny = this.findDeny(entry, groups, req, target);
      if (deny !== undefined) return deny.decision;
    }
    this.conditionFailure = undefined;
    let grant = entry === undefined ? undefined : this.scan(entry, req, target);
    if (grant === undefined && groups !== undefined) {
      for (let i = 0; i < groups.length && grant === undefined; i++) {
        const g = this.entryOf(groups[i]!);
        if (g !== undefined) grant = this.scan(g, req, target);
      }
    }
    if (grant !== undefined) return grant;
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
    const target = this.probe.info(req.scope);
    const nearMisses: NearMiss[] = [];
    const seen = new Set<AssignmentRecord>();
    for (const id of [req.principalId, ...(req.groupIds ?? [])]) {
      const entry = this.entryOf(id);
      for (const a of entry === undefined ? [] : entryAssignments(entry)) {
        if (seen.has(a)) continue;
        seen.add(a);
        const why = this.whyNot(a, req, target);
        if (why !== undefined) nearMisses.push({ assignment: a.source, role: a.slot.def, why });
      }
    }
    return { ...decision, nearMisses };
  }

  /** Ids are stored lower-cased and usually arrive that way, so the raw id is tried first. */
  private entryOf(principalId: string): PrincipalEntry | undefined {
    const entry = this.principals.get(principalId);
    if (entry !== undefined || !hasUpperCase(principalId)) return entry;
    return this.principals.get(principalId.toLowerCase());
  }

  /** Whether the requested scope lies at or below the record's scope. */
  private covers(r: ScopedRecord, target: ScopeInfo): boolean {
    if (isUnder(target, r.scope, r.scopeLength, r.fingerprint)) return true;
    return r.viaTree && this.tree.groupScopesAbove(normalizedOf(target)).includes(r.scope);
  }

  /** The Allowed decision of the first assignment in `entry` that grants the request. */
  private scan(entry: PrincipalEntry, req: AccessRequest, target: ScopeInfo): Decision | undefined {
    const n = entry[COUNT] as number;
    let row: Uint8Array | undefined;
    for (let i = 0, k = DECISIONS + n; i < n; i++, k += KEY_STRIDE) {
      const length = entry[k] as number;
      if (length === VIA_TREE) {
        if (!this.covers(entryAssignments(entry)[i]!, target)) continue;
      } else if (length !== 1) {
        // length 1 is the tenant root, which covers everything
        const at = boundaryOf(target, length, entry[k + 1] as number);
        if (at === -1) continue;
        const id = entry[k + 2] as number;
        if (!confirmedAs(target, at, id) && !confirmPrefix(target, at, entryAssignments(entry)[i]!.scope, id)) continue;
      }
      row ??= this.verdicts.row(req.action, req.isDataAction);
      const ordinal = entry[k + 3] as number;
      let verdict = ordinal < row.length ? row[ordinal]! : UNKNOWN;
      if (verdict === NOT_GRANTED) continue;
      if (verdict === UNKNOWN) {
        // an unknown role definition (no perms) grants nothing
        const perms = entryAssignments(entry)[i]!.slot.perms;
        verdict = perms === undefined ? NOT_GRANTED : verdictOf(perms.grants(req.action, req.isDataAction));
        if (ordinal < row.length) row[ordinal] = verdict;
        if (verdict === NOT_GRANTED) continue;
      }
      if (verdict === GRANTED && entry[k + 4] === 0) return entry[DECISIONS + i] as Decision;
      const a = entryAssignments(entry)[i]!;
      if (this.conditionsHold(a.slot.perms!.grants(req.action, req.isDataAction)!, a.condition, req)) {
        return entry[DECISIONS + i] as Decision;
      }
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

  private findDeny(
    entry: PrincipalEntry | undefined,
    groups: readonly string[] | undefined,
    req: AccessRequest,
    target: ScopeInfo,
  ): DenyRecord | undefined {
    let hit = entry === undefined ? undefined : this.scanDeny(entryDenies(entry), req, target);
    if (hit === undefined && groups !== undefined) {
      for (let i = 0; i < groups.length && hit === undefined; i++) {
        const g = this.entryOf(groups[i]!);
        if (g !== undefined) hit = this.scanDeny(entryDenies(g), req, target);
      }
    }
    return hit ?? this.scanDeny(this.everyoneDenies, req, target);
  }

  private scanDeny(list: readonly DenyRecord[], req: AccessRequest, target: ScopeInfo): DenyRecord | undefined {
    for (let i = 0; i < list.length; i++) {
      const d = list[i]!;
      const applies = d.exactScopeOnly ? isExactly(target, d.scope) : this.covers(d, target);
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
  private whyNot(a: AssignmentRecord, req: AccessRequest, target: ScopeInfo): string | undefined {
    const role = a.slot.def;
    const perms = a.slot.perms;
    const label = role ? role.roleName : `Role definition '${a.source.roleDefinitionId}'`;
    if (!this.covers(a, target)) {
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
