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

interface PolicySlice {
  id: string;
  policies: string[];
  /** Scopes and action groups the policies mention: the only entities a request needs. */
  scopes: Set<string>;
  groups: Set<string>;
  parsed: boolean;
}

/**
 * Role assignments become permits: principal in the assignee (a principal or a group),
 * action in the role's action group, resource in the assignment scope. Deny assignments
 * become forbids; with doNotApplyToChildScopes the resource must equal the scope.
 *
 * `sliced` (the default) keeps one policy set per principal holding only the policies
 * that can apply to it (its own and its groups' assignments and denies, plus denies for
 * everyone), the usual way to run Cedar over many per-principal grants; sets are
 * preparsed on first use (preparse time is reported separately). Otherwise every policy
 * goes into one set, which the stateful cedar-wasm API handles with a cost per decision
 * proportional to the whole set.
 *
 * Each request carries an entity slice: the principal with its groups as parents, the
 * resource with direct parents for exactly those ancestor scopes the policy set
 * mentions, and the action with parents for the action groups the set uses. Building the
 * slice (`prepare`) is not timed.
 */
export class CedarPeer {
  readonly policyCount: number;
  preparseMs = 0;
  private readonly slices = new Map<string, PolicySlice>();
  private readonly fallback: PolicySlice;
  private readonly groupsOf: Map<string, string[]>;

  constructor(
    w: Workload,
    private readonly actions: Map<string, ConcreteAction>,
    private readonly sliced = true,
  ) {
    const prefix = `mimic-${sliced ? 'sliced' : 'all'}-${w.assignments.length}`;
    this.groupsOf = new Map([...w.memberships].map(([p, gs]) => [p.toLowerCase(), gs.map((g) => g.toLowerCase())]));
    const newSlice = (id: string): PolicySlice => ({ id, policies: [], scopes: new Set(), groups: new Set(), parsed: false });
    const own = new Map<string, PolicySlice>();
    const everyone = newSlice(`${prefix}:*`);
    const sliceOf = (principal: string) => {
      if (!sliced) return everyone;
      const key = principal.toLowerCase();
      let slice = own.get(key);
      if (slice === undefined) own.set(key, (slice = newSlice('')));
      return slice;
    };
    let count = 0;
    for (const a of w.assignments) {
      const slice = sliceOf(a.principalId);
      slice.policies.push(permitText(a.principalId, a.roleDefinitionId, a.scope));
      slice.scopes.add(peerScope(a.scope));
      slice.groups.add(`role:${roleGuid(a.roleDefinitionId)}`);
      count++;
    }
    for (const d of w.denies) {
      forbidTexts(d).forEach((text, i) => {
        const slice = d.principals[i]!.id === ALL_PRINCIPALS ? everyone : sliceOf(d.principals[i]!.id);
        slice.policies.push(text);
        slice.scopes.add(peerScope(d.scope));
        slice.groups.add(`deny:${d.name}`);
        count++;
      });
    }
    this.fallback = everyone;
    if (sliced) {
      // A principal's set: its own policies, its groups' policies and denies for everyone.
      for (const p of new Set([...own.keys(), ...this.groupsOf.keys()])) {
        const parts = [own.get(p), ...(this.groupsOf.get(p) ?? []).map((g) => own.get(g)), everyone].filter(
          (x): x is PolicySlice => x !== undefined,
        );
        this.slices.set(p, {
          id: `${prefix}:${p}`,
          policies: parts.flatMap((x) => x.policies),
          scopes: new Set(parts.flatMap((x) => [...x.scopes])),
          groups: new Set(parts.flatMap((x) => [...x.groups])),
          parsed: false,
        });
      }
    }
    this.policyCount = count;
  }

  private sliceFor(principal: string): PolicySlice {
    const slice = (this.sliced ? this.slices.get(principal) : undefined) ?? this.fallback;
    if (!slice.parsed) {
      const t = performance.now();
      const policies = slice.policies.length > 0 ? slice.policies : ['forbid(principal, action, resource) when { false };'];
      const answer = cedar.preparsePolicySet(slice.id, { staticPolicies: policies.join('\n') });
      if (answer.type !== 'success') throw new Error(`cedar: ${JSON.stringify(answer.errors.slice(0, 3))}`);
      slice.parsed = true;
      this.preparseMs += performance.now() - t;
    }
    return slice;
  }

  /** Builds the request and the entity slice it needs. */
  prepare(req: AccessRequest): CedarCall {
    const principalId = req.principalId.toLowerCase();
    const slice = this.sliceFor(principalId);
    const principal = { type: 'Principal', id: principalId };
    const groups: { type: string; id: string }[] = [];
    for (const g of req.groupIds ?? []) groups.push({ type: 'Principal', id: g.toLowerCase() });
    const entities: CedarEntity[] = [{ uid: principal, attrs: {}, parents: groups }];
    for (const g of groups) entities.push({ uid: g, attrs: {}, parents: [] });
    const scope = peerScope(req.scope);
    const ancestors: { type: string; id: string }[] = [];
    if (scope !== '/' && slice.scopes.has('/')) ancestors.push({ type: 'Scope', id: '/' });
    for (let i = scope.indexOf('/', 1); i !== -1; i = scope.indexOf('/', i + 1)) {
      const prefix = scope.slice(0, i);
      if (slice.scopes.has(prefix)) ancestors.push({ type: 'Scope', id: prefix });
    }
    const resource = { type: 'Scope', id: scope };
    entities.push({ uid: resource, attrs: {}, parents: ancestors });
    const key = actionKey(req.action, req.isDataAction);
    const action = { type: 'Action', id: key };
    const parents: { type: string; id: string }[] = [];
    for (const g of this.actions.get(key)?.groups ?? []) if (slice.groups.has(g)) parents.push({ type: 'Action', id: g });
    entities.push({ uid: action, attrs: {}, parents });
    return { principal, action, resource, context: {}, preparsedPolicySetId: slice.id, entities };
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
