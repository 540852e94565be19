// The least-privilege recommender: from what one principal really did (its usage record) and
// what it holds today (its role assignments), the smallest set of built-in roles at the
// narrowest scopes that still allows every use, the grants it never used, and for each refused
// call the role that would have allowed it. Pure: no I/O; the engine's `explain` is handed in.
//
// Role choice, per scope the uses were asked at (so a write in one vault does not widen reads
// in another):
//  1. the actions used there (allowed at least once) are to be covered by roles that grant
//     them without a condition;
//  2. a single role covering all of them is preferred: the one with the smallest breadth
//     (see catalog.ts), ties broken by role name;
//  3. otherwise a greedy weighted set cover: repeatedly the role with the least breadth per
//     newly covered action (ties: more actions covered, then smaller breadth, then name);
//     a single covering role still wins when it is at most twice as broad as that set;
//  4. when some action no built-in role grants, or the cover needs more than `maxRoles`
//     roles, those actions go to one generated custom role instead.
// Each chosen role's scopes are then collapsed: more than `threshold` scopes under one parent
// (e.g. secrets of one vault) become the parent; scopes under another kept one are dropped.
import { createHash } from 'node:crypto';
import type { AccessRequest, Decision, RoleAssignment } from '../authz/index.js';
import { actionMatches } from '../authz/index.js';
import { actionKey, type CatalogRole, type RoleCatalog } from './catalog.js';
import { canonicalScope, collapseScopes, within } from './scopes.js';
import type { UsageEntry } from './usage.js';

export const DEFAULT_SCOPE_THRESHOLD = 3;
export const DEFAULT_MAX_ROLES = 3;
export const ROLE_ASSIGNMENT_API = '2022-04-01';

export interface RecommendOptions {
  /** More than this many scopes under one parent (secrets of a vault, ...) collapse to the parent. */
  scopeThreshold?: number;
  /** More built-in roles than this at one scope: a custom role instead. */
  maxRoles?: number;
  /** Where a generated custom role may be assigned (its assignableScopes), e.g. the subscription. */
  subscriptionScope: string;
  /** The engine's explain(), for the near misses of refused calls. */
  explain?: (req: AccessRequest) => Decision;
}

export interface RecommendInput {
  principalId: string;
  displayName?: string;
  usage: readonly UsageEntry[];
  /** The principal's own role assignments today. */
  assignments: readonly RoleAssignment[];
}

export interface RecommendedAssignment {
  roleName: string;
  roleDefinitionId: string;
  scope: string;
  /** The used actions this assignment is there for. */
  covers: string[];
  custom?: boolean;
}

export interface CustomRoleProposal {
  /** PUT this body to `url` (api-version 2022-04-01) to create the role. */
  url: string;
  body: {
    properties: {
      roleName: string;
      description: string;
      type: 'CustomRole';
      permissions: { actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] }[];
      assignableScopes: string[];
    };
  };
}

export interface UnusedGrant {
  assignmentId: string;
  roleName: string;
  scope: string;
  /** True when nothing at all was granted through it in the window. */
  unused: boolean;
  /** The role's Actions/DataActions patterns no recorded use matched. */
  unusedPermissions: string[];
}

export interface RefusedCall {
  action: string;
  isDataAction: boolean;
  scope: string;
  count: number;
  lastSeen: string;
  /** The narrowest built-in role that would have allowed it, assigned at the call's scope. */
  nearestRole?: { roleName: string; roleDefinitionId: string; command: string };
  /** Why each of the principal's assignments did not allow it (from explain()). */
  nearMisses: string[];
}

export interface Recommendation {
  principalId: string;
  displayName?: string;
  window: { from: string; to: string } | null;
  used: { action: string; isDataAction: boolean; scope: string; count: number; lastSeen: string }[];
  roleSet: RecommendedAssignment[];
  customRole?: CustomRoleProposal;
  diff: { add: RecommendedAssignment[]; remove: { id: string; roleName: string; scope: string }[]; keep: { id: string; roleName: string; scope: string }[] };
  apply: { cli: string[]; arm: { method: 'PUT' | 'DELETE'; path: string; body?: unknown }[]; bicep: string };
  unused: UnusedGrant[];
  refused: RefusedCall[];
}

interface Use {
  action: string;
  isDataAction: boolean;
}

interface Cover {
  roles: { role: CatalogRole; covers: Use[] }[];
  leftover: Use[];
}

/** A GUID derived from its inputs (as Bicep's guid() does), so applying twice is idempotent. */
export function stableGuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\n').toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function guidOf(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1).toLowerCase();
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export class Recommender {
  private readonly covers = new Map<string, Cover>();
  private readonly threshold: number;
  private readonly maxRoles: number;

  constructor(
    private readonly catalog: RoleCatalog,
    private readonly opts: RecommendOptions,
  ) {
    this.threshold = Math.max(0, opts.scopeThreshold ?? DEFAULT_SCOPE_THRESHOLD);
    this.maxRoles = Math.max(1, opts.maxRoles ?? DEFAULT_MAX_ROLES);
  }

  recommend(input: RecommendInput): Recommendation {
    const allowed = input.usage.filter((u) => u.allowed > 0);
    // 1-4: a cover per scope, then each role's scopes together.
    const byScope = new Map<string, { scope: string; uses: Map<string, Use> }>();
    /** The canonical form of each scope as first seen (computed once). */
    const canonOf = new Map<string, string>();
    for (const u of allowed) {
      const k = canonicalScope(u.scope);
      let g = byScope.get(k);
      if (!g) {
        byScope.set(k, (g = { scope: u.scope, uses: new Map() }));
        canonOf.set(u.scope, k);
      }
      g.uses.set(actionKey(u.action, u.isDataAction), { action: u.action, isDataAction: u.isDataAction });
    }
    const roleScopes = new Map<string, { role: CatalogRole; scopes: Map<string, Set<string>> }>();
    const customScopes = new Map<string, Set<string>>();
    const customActions = new Map<string, Use>();
    for (const g of byScope.values()) {
      const cover = this.cover([...g.uses.values()]);
      for (const { role, covers } of cover.roles) {
        let r = roleScopes.get(role.guid);
        if (!r) roleScopes.set(role.guid, (r = { role, scopes: new Map() }));
        const set = r.scopes.get(g.scope) ?? new Set<string>();
        for (const c of covers) set.add(c.action);
        r.scopes.set(g.scope, set);
      }
      if (cover.leftover.length > 0) {
        const set = customScopes.get(g.scope) ?? new Set<string>();
        for (const c of cover.leftover) {
          set.add(c.action);
          customActions.set(actionKey(c.action, c.isDataAction), c);
        }
        customScopes.set(g.scope, set);
      }
    }
    const roleSet: RecommendedAssignment[] = [];
    for (const { role, scopes } of [...roleScopes.values()].sort((a, b) => byText(a.role.def.roleName, b.role.def.roleName))) {
      for (const scope of collapseScopes(scopes.keys(), this.threshold)) {
        roleSet.push({ roleName: role.def.roleName, roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${role.guid}`, scope, covers: coveredUnder(scopes, scope, canonOf) });
      }
    }
    let customRole: CustomRoleProposal | undefined;
    if (customActions.size > 0) {
      const guid = stableGuid('mimic-advisor', input.principalId);
      const name = `Advisor: least privilege for ${input.displayName ?? input.principalId}`;
      const uses = [...customActions.values()];
      customRole = {
        url: `${this.opts.subscriptionScope}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
        body: {
          properties: {
            roleName: name,
            description: `Generated by the Mimic access advisor from the actions ${input.displayName ?? input.principalId} used.`,
            type: 'CustomRole',
            permissions: [
              {
                actions: uses.filter((u) => !u.isDataAction).map((u) => u.action).sort(),
                notActions: [],
                dataActions: uses.filter((u) => u.isDataAction).map((u) => u.action).sort(),
                notDataActions: [],
              },
            ],
            assignableScopes: [this.opts.subscriptionScope],
          },
        },
      };
      for (const scope of collapseScopes(customScopes.keys(), this.threshold)) {
        roleSet.push({ roleName: name, roleDefinitionId: `${this.opts.subscriptionScope}/providers/Microsoft.Authorization/roleDefinitions/${guid}`, scope, covers: coveredUnder(customScopes, scope, canonOf), custom: true });
      }
    }

    const diff = diffAssignments(this.catalog, roleSet, input.assignments);
    return {
      principalId: input.principalId,
      ...(input.displayName ? { displayName: input.displayName } : {}),
      window: windowOf(input.usage),
      used: allowed
        .map((u) => ({ action: u.action, isDataAction: u.isDataAction, scope: u.scope, count: u.allowed, lastSeen: u.lastSeen }))
        .sort((a, b) => byText(a.scope, b.scope) || byText(a.action, b.action)),
      roleSet,
      ...(customRole ? { customRole } : {}),
      diff,
      apply: applySnippets(input.principalId, diff, customRole),
      unused: this.unusedGrants(input),
      refused: this.refused(input),
    };
  }

  /** Steps 2-4 for one scope's uses; memoised by the set of actions. */
  cover(uses: Use[]): Cover {
    const key = uses.map((u) => actionKey(u.action, u.isDataAction)).sort().join(' ');
    const hit = this.covers.get(key);
    if (hit) return hit;
    const result = this.computeCover(uses);
    if (this.covers.size > 10_000) this.covers.clear();
    this.covers.set(key, result);
    return result;
  }

  private computeCover(uses: Use[]): Cover {
    const leftover: Use[] = [];
    const coverable: Use[] = [];
    const candidates = new Map<CatalogRole, Set<number>>();
    for (const u of uses) {
      const roles = this.catalog.grantingRoles(u.action, u.isDataAction);
      if (roles.length === 0) {
        leftover.push(u);
        continue;
      }
      const i = coverable.push(u) - 1;
      for (const r of roles) {
        let s = candidates.get(r);
        if (!s) candidates.set(r, (s = new Set()));
        s.add(i);
      }
    }
    if (coverable.length === 0) return { roles: [], leftover };
    let single: CatalogRole | undefined;
    // The catalog is sorted narrowest first, so the first full cover is the answer to step 2.
    for (const [r, s] of candidates) if (s.size === coverable.length && (single === undefined || compare(r, single) < 0)) single = r;
    const uncovered = new Set(coverable.map((_, i) => i));
    const picked: { role: CatalogRole; covers: Use[] }[] = [];
    let total = 0;
    while (uncovered.size > 0) {
      let best: CatalogRole | undefined;
      let bestNew = 0;
      for (const [r, s] of candidates) {
        let n = 0;
        for (const i of s) if (uncovered.has(i)) n++;
        if (n === 0) continue;
        if (best === undefined) {
          best = r;
          bestNew = n;
          continue;
        }
        const a = r.breadth / n;
        const b = best.breadth / bestNew;
        if (a < b || (a === b && (n > bestNew || (n === bestNew && compare(r, best) < 0)))) {
          best = r;
          bestNew = n;
        }
      }
      const covers: Use[] = [];
      for (const i of candidates.get(best!)!) if (uncovered.delete(i)) covers.push(coverable[i]!);
      picked.push({ role: best!, covers });
      total += best!.breadth;
    }
    if (single !== undefined && (picked.length === 1 || single.breadth <= 2 * total)) return { roles: [{ role: single, covers: coverable }], leftover };
    if (picked.length > this.maxRoles) return { roles: [], leftover: uses };
    return { roles: picked, leftover };
  }

  private unusedGrants(input: RecommendInput): UnusedGrant[] {
    const out: UnusedGrant[] = [];
    for (const a of input.assignments) {
      const id = a.id.toLowerCase();
      const via = input.usage.filter((u) => u.allowed > 0 && u.grants.some((g) => g.toLowerCase() === id));
      const role = this.catalog.role(a.roleDefinitionId);
      const patterns = role?.patterns ?? [];
      const unusedPermissions = patterns.filter((p) => !via.some((u) => u.isDataAction === p.isDataAction && actionMatches(p.text, u.action))).map((p) => p.text);
      if (via.length > 0 && unusedPermissions.length === 0) continue;
      out.push({ assignmentId: a.id, roleName: role?.def.roleName ?? a.roleDefinitionId, scope: a.scope, unused: via.length === 0, unusedPermissions });
    }
    return out;
  }

  private refused(input: RecommendInput): RefusedCall[] {
    const out: RefusedCall[] = [];
    for (const u of input.usage) {
      if (u.denied === 0 || u.allowed > 0) continue;
      const role = this.catalog.grantingRoles(u.action, u.isDataAction)[0];
      const nearMisses = this.opts.explain
        ? this.opts.explain({ principalId: input.principalId, action: u.action, isDataAction: u.isDataAction, scope: u.scope }).nearMisses.map((m) => m.why)
        : [];
      out.push({
        action: u.action,
        isDataAction: u.isDataAction,
        scope: u.scope,
        count: u.denied,
        lastSeen: u.lastSeen,
        ...(role
          ? {
              nearestRole: {
                roleName: role.def.roleName,
                roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${role.guid}`,
                command: createCommand(input.principalId, role.def.roleName, u.scope),
              },
            }
          : {}),
        nearMisses,
      });
    }
    return out.sort((a, b) => byText(b.lastSeen, a.lastSeen));
  }
}

function compare(a: CatalogRole, b: CatalogRole): number {
  return a.breadth - b.breadth || byText(a.def.roleName, b.def.roleName);
}

/** Plain code-unit order (stable across locales, and far cheaper than localeCompare). */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function coveredUnder(scopes: Map<string, Set<string>>, scope: string, canonOf: Map<string, string>): string[] {
  const out = new Set<string>();
  const at = canonicalScope(scope);
  for (const [s, actions] of scopes) if (within(canonOf.get(s)!, at)) for (const a of actions) out.add(a);
  return [...out].sort();
}

function windowOf(usage: readonly UsageEntry[]): { from: string; to: string } | null {
  if (usage.length === 0) return null;
  let from = usage[0]!.firstSeen;
  let to = usage[0]!.lastSeen;
  for (const u of usage) {
    if (u.firstSeen < from) from = u.firstSeen;
    if (u.lastSeen > to) to = u.lastSeen;
  }
  return { from, to };
}

function diffAssignments(catalog: RoleCatalog, roleSet: RecommendedAssignment[], current: readonly RoleAssignment[]): Recommendation['diff'] {
  const keyOf = (roleId: string, scope: string) => `${guidOf(roleId)}|${canonicalScope(scope)}`;
  const wanted = new Set(roleSet.map((r) => keyOf(r.roleDefinitionId, r.scope)));
  const have = new Set(current.map((a) => keyOf(a.roleDefinitionId, a.scope)));
  const summary = (a: RoleAssignment) => ({ id: a.id, roleName: catalog.role(a.roleDefinitionId)?.def.roleName ?? a.roleDefinitionId, scope: a.scope });
  return {
    add: roleSet.filter((r) => !have.has(keyOf(r.roleDefinitionId, r.scope))),
    remove: current.filter((a) => !wanted.has(keyOf(a.roleDefinitionId, a.scope))).map(summary),
    keep: current.filter((a) => wanted.has(keyOf(a.roleDefinitionId, a.scope))).map(summary),
  };
}

function createCommand(principalId: string, roleName: string, scope: string, name?: string): string {
  return ['mimic role assignment create', '--assignee', principalId, '--assignee-principal-type', 'ServicePrincipal', '--role', shellQuote(roleName), '--scope', shellQuote(scope), ...(name ? ['--name', name] : [])].join(' ');
}

/** The type and name of an ARM id for a Bicep `existing` declaration (undefined for groups and subscriptions). */
function bicepTarget(scope: string): { type: string; name: string } | undefined {
  const parts = scope.split('/');
  const p = parts.map((x) => x.toLowerCase()).lastIndexOf('providers');
  if (p < 0 || parts.length < p + 4) return undefined;
  const rest = parts.slice(p + 1);
  const types = [rest[0]!, rest[1]!];
  const names = [rest[2]!];
  for (let i = 3; i + 1 < rest.length; i += 2) {
    types.push(rest[i]!);
    names.push(rest[i + 1]!);
  }
  return { type: `${types[0]}/${types.slice(1).join('/')}`, name: names.join('/') };
}

function applySnippets(principalId: string, diff: Recommendation['diff'], customRole: CustomRoleProposal | undefined): Recommendation['apply'] {
  const cli: string[] = [];
  const arm: Recommendation['apply']['arm'] = [];
  const bicep: string[] = [];
  if (customRole) {
    cli.push(`mimic role definition create --scope ${shellQuote(customRole.body.properties.assignableScopes[0]!)} --role-definition ${shellQuote(JSON.stringify(azRoleShape(customRole)))}`);
    arm.push({ method: 'PUT', path: `${customRole.url}?api-version=${ROLE_ASSIGNMENT_API}`, body: customRole.body });
  }
  diff.add.forEach((r, i) => {
    const name = stableGuid(r.scope, principalId, guidOf(r.roleDefinitionId));
    cli.push(createCommand(principalId, r.roleName, r.scope, name));
    arm.push({
      method: 'PUT',
      path: `${r.scope}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=${ROLE_ASSIGNMENT_API}`,
      body: { properties: { roleDefinitionId: r.roleDefinitionId, principalId, principalType: 'ServicePrincipal' } },
    });
    const target = bicepTarget(r.scope);
    bicep.push(`// ${r.roleName} at ${r.scope}`);
    if (target) bicep.push(`resource target${i} '${target.type}@${BICEP_API}' existing = {`, `  name: '${target.name}'`, '}');
    bicep.push(
      `resource assignment${i} 'Microsoft.Authorization/roleAssignments@${ROLE_ASSIGNMENT_API}' = {`,
      `  name: guid('${r.scope}', '${principalId}', '${guidOf(r.roleDefinitionId)}')`,
      ...(target ? [`  scope: target${i}`] : [`  // deploy at the scope '${r.scope}'`]),
      '  properties: {',
      `    roleDefinitionId: '${r.roleDefinitionId}'`,
      `    principalId: '${principalId}'`,
      `    principalType: 'ServicePrincipal'`,
      '  }',
      '}',
    );
  });
  for (const r of diff.remove) {
    cli.push(`mimic role assignment delete --ids ${shellQuote(r.id)}`);
    arm.push({ method: 'DELETE', path: `${r.id}?api-version=${ROLE_ASSIGNMENT_API}` });
  }
  return { cli, arm, bicep: bicep.join('\n') };
}

/** The api-version written in Bicep `existing` declarations (any published one resolves the id). */
const BICEP_API = '2023-01-01';

/** The custom role in `az role definition create`'s shape, which `mimic role definition create` takes. */
function azRoleShape(c: CustomRoleProposal): Record<string, unknown> {
  const p = c.body.properties;
  return {
    Name: p.roleName,
    Description: p.description,
    Actions: p.permissions[0]!.actions,
    NotActions: [],
    DataActions: p.permissions[0]!.dataActions,
    NotDataActions: [],
    AssignableScopes: p.assignableScopes,
  };
}
