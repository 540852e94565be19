// Translations of the same RBAC data into Cedar (cedar-wasm) and casbin, for the side-by-side
// benchmark. Neither engine knows Azure's pattern semantics, so every role is expanded to
// the concrete action set the requests use, with a plain regular-expression reading of
// Actions/NotActions per block written here independently of src/authz.

import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import type { AccessRequest, Permission, RoleDefinition } from '../src/authz/types.js';
import type { Workload } from './authzWorkload.js';

const ALL_PRINCIPALS = '00000000-0000-0000-0000-000000000000';

/** Peers see lower-cased, slash-trimmed scopes and `data:`/`ctl:` action keys. */
export function peerScope(scope: string): string {
  const s = scope.toLowerCase().replace(/\/+$/, '');
  return s === '' ? '/' : s;
}

export function actionKey(action: string, isDataAction: boolean): string {
  return `${isDataAction ? 'data' : 'ctl'}:${action.toLowerCase()}`;
}

function patternRegExp(pattern: string): RegExp {
  const source = pattern
    .split('*')
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 'i');
}

function blocksGrant(perms: readonly Permission[], action: string, isData: boolean): boolean {
  return perms.some((p) => {
    const allow = isData ? p.dataActions : p.actions;
    const deny = isData ? p.notDataActions : p.notActions;
    return allow.some((x) => patternRegExp(x).test(action)) && !deny.some((x) => patternRegExp(x).test(action));
  });
}

interface ConcreteAction {
  key: string;
  /** Action groups (`role:<guid>`, `deny:<name>`) that contain this action. */
  groups: string[];
}

/** Expands roles and deny assignments over the distinct actions of the requests. */
export function expandActions(w: Workload): Map<string, ConcreteAction> {
  const distinct = new Map<string, { action: string; isData: boolean }>();
  for (const r of w.requests) distinct.set(actionKey(r.action, r.isDataAction), { action: r.action, isData: r.isDataAction });
  const out = new Map<string, ConcreteAction>();
  for (const [key, { action, isData }] of distinct) {
    const groups: string[] = [];
    for (const role of w.roles) if (blocksGrant(role.permissions, action, isData)) groups.push(roleGroup(role));
    for (const d of w.denies) if (blocksGrant(d.permissions, action, isData)) groups.push(`deny:${d.name}`);
    out.set(key, { key, groups });
  }
  return out;
}

function roleGroup(role: RoleDefinition): string {
  return `role:${role.name.toLowerCase()}`;
}

function roleGuid(roleDefinitionId: string): string {
  return roleDefinitionId.slice(roleDefinitionId.lastIndexOf('/') + 1).toLowerCase();
}

// ---------------- Cedar ----------------

interface CedarEntity {
  uid: { type: string; id: string };
  attrs: Record<string, never>;
  parents: { type: string; id: string }[];
}

export interface CedarCall {
  principal: { type: string; id: string };
  action: { type: string; id: string };
  resource: { type: string; id: string };
  context: Record<string, never>;
  preparsedPolicySetId: string;
  entities: CedarEntity[];
}

function permitText(principal: string, roleDefinitionId: string, scope: string): string {
  return `permit(principal in Principal::${JSON.stringify(principal.toLowerCase())}, action in Action::"role:${roleGuid(roleDefinitionId)}", resource in Scope::${JSON.stringify(peerScope(scope))});`;
}

function forbidTexts(d: Workload['denies'][number]): string[] {
  const resource = d.doNotApplyToChildScopes ? 'resource ==' : 'resource in';
  return d.principals.map((p) => {
    const who = p.id === ALL_PRINCIPALS ? 'principal' : `principal in Principal::${JSON.stringify(p.id.toLowerCase())}`;
    return `forbid(${who}, action in Action::"deny:${d.name}", ${resource} Scope::${JSON.stringify(peerScope(d.scope))});`;
  });
}

/**
 * Role assignments become permits: principal in the assignee (a principal or a group),
 * action in the role's action group, resource in the assignment scope (scopes form an
 * entity hierarchy, one entity per path prefix). Deny assignments become forbids; with
 * doNotApplyToChildScopes the resource must equal the scope.
 *
 * `sliced` (the default) preparses one policy set per principal holding only the
 * policies that can apply to it (its own and its groups' assignments and denies), the
 * usual way to run Cedar over many per-principal grants. Otherwise every policy goes
 * into one set, which the stateful cedar-wasm API handles with a cost per decision
 * proportional to the whole set.
 */
export class CedarPeer {
  readonly policyCount: number;
  readonly policySets: number;
  private readonly setOf = new Map<string, string>();
  private readonly fallbackSet: string;

  constructor(
    w: Workload,
    private readonly actions: Map<string, ConcreteAction>,
    sliced = true,
  ) {
    const prefix = `mimic-${sliced ? 'sliced' : 'all'}-${w.assignments.length}`;
    const preparse = (id: string, policies: string[]) => {
      const answer = cedar.preparsePolicySet(id, { staticPolicies: policies.join('\n') });
      if (answer.type !== 'success') throw new Error(`cedar: ${JSON.stringify(answer.errors.slice(0, 3))}`);
    };
    if (!sliced) {
      const all = [...w.assignments.map((a) => permitText(a.principalId, a.roleDefinitionId, a.scope)), ...w.denies.flatMap(forbidTexts)];
      preparse(prefix, all);
      this.fallbackSet = prefix;
      this.policyCount = all.length;
      this.policySets = 1;
      return;
    }
    const own = new Map<string, string[]>();
    const add = (principal: string, text: string) => {
      const key = principal.toLowerCase();
      const list = own.get(key);
      if (list === undefined) own.set(key, [text]);
      else list.push(text);
    };
    for (const a of w.assignments) add(a.principalId, permitText(a.principalId, a.roleDefinitionId, a.scope));
    const everyone: string[] = [];
    for (const d of w.denies) {
      forbidTexts(d).forEach((text, i) => {
        const id = d.principals[i]!.id;
        if (id === ALL_PRINCIPALS) everyone.push(text);
        else add(id, text);
      });
    }
    const groupsOf = new Map([...w.memberships].map(([p, gs]) => [p.toLowerCase(), gs.map((g) => g.toLowerCase())]));
    const principals = new Set([...own.keys(), ...groupsOf.keys()]);
    let policies = 0;
    for (const p of principals) {
      const set = [...(own.get(p) ?? []), ...(groupsOf.get(p) ?? []).flatMap((g) => own.get(g) ?? []), ...everyone];
      const id = `${prefix}:${p}`;
      preparse(id, set.length > 0 ? set : ['forbid(principal, action, resource) when { false };']);
      this.setOf.set(p, id);
      policies += set.length;
    }
    this.fallbackSet = `${prefix}:*`;
    preparse(this.fallbackSet, everyone.length > 0 ? everyone : ['forbid(principal, action, resource) when { false };']);
    this.policyCount = policies;
    this.policySets = principals.size + 1;
  }

  /** Builds the request and the entity slice it needs (principal, groups, scope chain, action). */
  prepare(req: AccessRequest): CedarCall {
    const principalId = req.principalId.toLowerCase();
    const principal = { type: 'Principal', id: principalId };
    const groups = (req.groupIds ?? []).map((g) => ({ type: 'Principal', id: g.toLowerCase() }));
    const entities: CedarEntity[] = [{ uid: principal, attrs: {}, parents: groups }];
    for (const g of groups) entities.push({ uid: g, attrs: {}, parents: [] });
    const scope = peerScope(req.scope);
    let parent: { type: string; id: string } | undefined;
    const prefixes = ['/'];
    for (let i = scope.indexOf('/', 1); i !== -1; i = scope.indexOf('/', i + 1)) prefixes.push(scope.slice(0, i));
    if (scope !== '/') prefixes.push(scope);
    for (const id of prefixes) {
      const uid = { type: 'Scope', id };
      entities.push({ uid, attrs: {}, parents: parent ? [parent] : [] });
      parent = uid;
    }
    const key = actionKey(req.action, req.isDataAction);
    const action = { type: 'Action', id: key };
    entities.push({ uid: action, attrs: {}, parents: (this.actions.get(key)?.groups ?? []).map((id) => ({ type: 'Action', id })) });
    const preparsedPolicySetId = this.setOf.get(principalId) ?? this.fallbackSet;
    return { principal, action, resource: { type: 'Scope', id: scope }, context: {}, preparsedPolicySetId, entities };
  }

  decide(call: CedarCall): boolean {
    const answer = cedar.statefulIsAuthorized(call);
    if (answer.type !== 'success') throw new Error(`cedar: ${JSON.stringify(answer.errors.slice(0, 3))}`);
    return answer.response.decision === 'allow';
  }
}

// ---------------- casbin ----------------

const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, objunder, act, eft

[role_definition]
g = _, _
g2 = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.sub == p.sub && g2(r.act, p.act) && (r.obj == p.obj || keyMatch(r.obj, p.objunder))
`;

export interface CasbinCall {
  sub: string;
  obj: string;
  act: string;
}

/**
 * One allow policy per role assignment and one deny policy per deny principal, with
 * group assignments and group denies expanded to the group's members (membership is
 * static here, and an equality test on the subject is ~1.6x faster in casbin than
 * g() per policy). g2 links each concrete action to the role (and deny) groups
 * containing it. `objunder` is `scope/*` (keyMatch) for inherited scopes and empty for
 * doNotApplyToChildScopes. casbin requires a g section even though only g2 is used.
 * (A deny for all principals would need one rule per known
 * principal; the benchmark's deny assignments name their principals.)
 */
export class CasbinPeer {
  private constructor(
    private readonly enforcer: Enforcer,
    readonly policyCount: number,
  ) {}

  static async create(w: Workload, actions: Map<string, ConcreteAction>): Promise<CasbinPeer> {
    const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL));
    const under = (scope: string) => (scope === '/' ? '/*' : `${scope}/*`);
    const members = new Map<string, string[]>();
    for (const [principal, groups] of w.memberships) {
      for (const g of groups) {
        const list = members.get(g.toLowerCase());
        if (list === undefined) members.set(g.toLowerCase(), [principal.toLowerCase()]);
        else list.push(principal.toLowerCase());
      }
    }
    const subjects = (id: string) => [id.toLowerCase(), ...(members.get(id.toLowerCase()) ?? [])];
    const rules = new Map<string, string[]>();
    const addRule = (rule: string[]) => rules.set(rule.join('\u0000'), rule);
    for (const a of w.assignments) {
      const scope = peerScope(a.scope);
      for (const sub of subjects(a.principalId)) addRule([sub, scope, under(scope), `role:${roleGuid(a.roleDefinitionId)}`, 'allow']);
    }
    for (const d of w.denies) {
      const scope = peerScope(d.scope);
      for (const p of d.principals) {
        for (const sub of subjects(p.id)) addRule([sub, scope, d.doNotApplyToChildScopes ? '' : under(scope), `deny:${d.name}`, 'deny']);
      }
    }
    await enforcer.addPolicies([...rules.values()]);
    const links: string[][] = [];
    for (const a of actions.values()) for (const g of a.groups) links.push([a.key, g]);
    if (links.length > 0) await enforcer.addNamedGroupingPolicies('g2', links);
    return new CasbinPeer(enforcer, rules.size);
  }

  prepare(req: AccessRequest): CasbinCall {
    return { sub: req.principalId.toLowerCase(), obj: peerScope(req.scope), act: actionKey(req.action, req.isDataAction) };
  }

  decide(call: CasbinCall): boolean {
    return this.enforcer.enforceSync(call.sub, call.obj, call.act);
  }
}
