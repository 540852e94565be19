// Translations of the same RBAC data into Cedar (cedar-wasm) and casbin, for the side-by-side
// benchmark. Neither engine knows Azure's pattern semantics, so every role is expanded to
// the concrete action set the requests use, with a plain regular-expression reading of
// Actions/NotActions per block written here independently of src/authz.

import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import type { AccessRequest, Permission, RoleDefinition } from '../src/authz/types.js';
import type { Workload } from './authzWorkload.js';

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

const POLICY_SET_ID = 'mimic-bench';

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

/**
 * One permit per role assignment: principal in the assignee (a principal or a group),
 * action in the role's action group, resource in the assignment scope (scopes form an
 * entity hierarchy, one entity per path prefix). Deny assignments become forbids; with
 * doNotApplyToChildScopes the resource must equal the scope.
 */
export class CedarPeer {
  readonly policyCount: number;

  constructor(
    private readonly w: Workload,
    private readonly actions: Map<string, ConcreteAction>,
  ) {
    const policies: string[] = [];
    for (const a of w.assignments) {
      policies.push(
        `permit(principal in Principal::${JSON.stringify(a.principalId.toLowerCase())}, action in Action::"role:${roleGuid(a.roleDefinitionId)}", resource in Scope::${JSON.stringify(peerScope(a.scope))});`,
      );
    }
    for (const d of w.denies) {
      for (const p of d.principals) {
        const resource = d.doNotApplyToChildScopes ? 'resource ==' : 'resource in';
        policies.push(
          `forbid(principal in Principal::${JSON.stringify(p.id.toLowerCase())}, action in Action::"deny:${d.name}", ${resource} Scope::${JSON.stringify(peerScope(d.scope))});`,
        );
      }
    }
    this.policyCount = policies.length;
    const answer = cedar.preparsePolicySet(POLICY_SET_ID, { staticPolicies: policies.join('\n') });
    if (answer.type !== 'success') throw new Error(`cedar: ${JSON.stringify(answer.errors.slice(0, 3))}`);
  }

  /** Builds the request and the entity slice it needs (principal, groups, scope chain, action). */
  prepare(req: AccessRequest): CedarCall {
    const principal = { type: 'Principal', id: req.principalId.toLowerCase() };
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
    return { principal, action, resource: { type: 'Scope', id: scope }, context: {}, preparsedPolicySetId: POLICY_SET_ID, entities };
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
m = g(r.sub, p.sub) && g2(r.act, p.act) && (r.obj == p.obj || keyMatch(r.obj, p.objunder))
`;

export interface CasbinCall {
  sub: string;
  obj: string;
  act: string;
}

/**
 * RBAC with two role hierarchies: g links principals to their groups, g2 links each
 * concrete action to the role (and deny) groups containing it. One allow policy per role
 * assignment and one deny policy per deny principal. `objunder` is `scope/*` (keyMatch)
 * for inherited scopes and empty for doNotApplyToChildScopes.
 */
export class CasbinPeer {
  private constructor(
    private readonly enforcer: Enforcer,
    readonly policyCount: number,
  ) {}

  static async create(w: Workload, actions: Map<string, ConcreteAction>): Promise<CasbinPeer> {
    const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL));
    const under = (scope: string) => (scope === '/' ? '/*' : `${scope}/*`);
    const rules: string[][] = [];
    for (const a of w.assignments) {
      const scope = peerScope(a.scope);
      rules.push([a.principalId.toLowerCase(), scope, under(scope), `role:${roleGuid(a.roleDefinitionId)}`, 'allow']);
    }
    for (const d of w.denies) {
      const scope = peerScope(d.scope);
      for (const p of d.principals) {
        rules.push([p.id.toLowerCase(), scope, d.doNotApplyToChildScopes ? '' : under(scope), `deny:${d.name}`, 'deny']);
      }
    }
    await enforcer.addPolicies(rules);
    const members: string[][] = [];
    for (const [principal, groups] of w.memberships) for (const g of groups) members.push([principal.toLowerCase(), g.toLowerCase()]);
    if (members.length > 0) await enforcer.addNamedGroupingPolicies('g', members);
    const links: string[][] = [];
    for (const a of actions.values()) for (const g of a.groups) links.push([a.key, g]);
    if (links.length > 0) await enforcer.addNamedGroupingPolicies('g2', links);
    return new CasbinPeer(enforcer, rules.length);
  }

  prepare(req: AccessRequest): CasbinCall {
    return { sub: req.principalId.toLowerCase(), obj: peerScope(req.scope), act: actionKey(req.action, req.isDataAction) };
  }

  decide(call: CasbinCall): boolean {
    return this.enforcer.enforceSync(call.sub, call.obj, call.act);
  }
}
