// AuthzEngine.decide against a deliberately naive reference: one regular expression per
// pattern, scopes split into segments, linear scans over every document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AuthzEngine, ALL_PRINCIPALS_ID } from '../../src/authz/engine.js';
import type { AccessRequest, DenyAssignment, Permission, RoleAssignment, RoleDefinition } from '../../src/authz/types.js';

// ---- the reference ----

function refPatternMatches(pattern: string, action: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 'is').test(action);
}

function refSegments(scope: string): string[] {
  return scope.toLowerCase().split('/').filter((s) => s !== '');
}

function refCovers(assigned: string, target: string): boolean {
  const a = refSegments(assigned);
  const t = refSegments(target);
  return a.length <= t.length && a.every((s, i) => s === t[i]);
}

function refSameScope(a: string, b: string): boolean {
  return refSegments(a).join('/') === refSegments(b).join('/');
}

function refBlockGrants(p: Permission, action: string, isData: boolean): boolean {
  const allow = isData ? p.dataActions : p.actions;
  const deny = isData ? p.notDataActions : p.notActions;
  return allow.some((x) => refPatternMatches(x, action)) && !deny.some((x) => refPatternMatches(x, action));
}

const NAME_ATTR = '@Resource[Contoso.Things/things:name]';
const CONDITIONS: Record<string, (req: AccessRequest) => boolean> = {
  [`${NAME_ATTR} StringEquals 'alpha'`]: (req) => req.attributes?.[NAME_ATTR] === 'alpha',
  [`(!(ActionMatches{'Contoso.Things/*/read'})) OR (${NAME_ATTR} StringEquals 'alpha')`]: (req) =>
    !refPatternMatches('Contoso.Things/*/read', req.action) || req.attributes?.[NAME_ATTR] === 'alpha',
};

interface World {
  roles: RoleDefinition[];
  assignments: RoleAssignment[];
  denies: DenyAssignment[];
}

function refDecide(world: World, req: AccessRequest): string {
  const ids = [req.principalId, ...(req.groupIds ?? [])].map((x) => x.toLowerCase());
  for (const d of world.denies) {
    const inScope = d.doNotApplyToChildScopes ? refSameScope(d.scope, req.scope) : refCovers(d.scope, req.scope);
    const named = d.principals.some((p) => p.id === ALL_PRINCIPALS_ID || ids.includes(p.id.toLowerCase()));
    const excluded = d.excludePrincipals.some((p) => ids.includes(p.id.toLowerCase()));
    if (inScope && named && !excluded && d.permissions.some((p) => refBlockGrants(p, req.action, req.isDataAction))) {
      return 'DeniedByDenyAssignment';
    }
  }
  let conditionFailed = false;
  for (const a of world.assignments) {
    if (!ids.includes(a.principalId.toLowerCase()) || !refCovers(a.scope, req.scope)) continue;
    const guid = a.roleDefinitionId.split('/').pop()!.toLowerCase();
    const role = world.roles.find((r) => r.name.toLowerCase() === guid);
    if (role === undefined) continue;
    if (!role.permissions.some((p) => refBlockGrants(p, req.action, req.isDataAction))) continue;
    if (a.condition && !CONDITIONS[a.condition]!(req)) {
      conditionFailed = true;
      continue;
    }
    return 'Allowed';
  }
  return conditionFailed ? 'ConditionNotMet' : 'NoMatchingAssignment';
}

// ---- generators ----

function recase(text: string, mask: readonly boolean[]): string {
  return [...text].map((c, i) => (mask[i % mask.length] ? c.toUpperCase() : c.toLowerCase())).join('');
}

const caseMask = fc.array(fc.boolean(), { minLength: 1, maxLength: 7 });
const ACTIONS = [
  'Contoso.Things/things/read',
  'Contoso.Things/things/write',
  'Contoso.Things/things/parts/read',
  'Contoso.Things/things/parts/delete',
  'Contoso.Things/register/action',
  'Contoso.Other/widgets/read',
  'Contoso.Other/widgets/run/action',
];
const PATTERNS = [
  '*',
  '*/read',
  'Contoso.Things/*',
  'Contoso.Things/*/read',
  'Contoso.Things/things/*',
  'Contoso.*/widgets/*',
  'Contoso.Things/things/p*s/*',
  'Contoso.Other/*/action',
  '*/things/*/delete',
  ...ACTIONS,
];
const SCOPES = [
  '/',
  '/subscriptions/s1',
  '/subscriptions/s1/resourceGroups/rg',
  '/subscriptions/s1/resourceGroups/rg2',
  '/subscriptions/s1/resourceGroups/rg-x',
  '/subscriptions/s1/resourceGroups/rg/providers/Contoso.Things/things/t1',
  '/subscriptions/s1/resourceGroups/rg/providers/Contoso.Things/things/t1/parts/p1',
  '/subscriptions/s2',
  '/subscriptions/s2/resourceGroups/rg',
];
const REQUEST_SCOPES = [...SCOPES, '/subscriptions/s1/resourceGroups/rg/providers/Contoso.Things/things/t2', '/subscriptions/s1/resourceGroups/rg/'];
const PRINCIPALS = ['p1', 'p2', 'g1', 'g2'];
const GROUPS = ['g1', 'g2'];

const casedFrom = (list: readonly string[]) => fc.tuple(fc.constantFrom(...list), caseMask).map(([s, m]) => recase(s, m));
const patternList = (max: number) => fc.array(casedFrom(PATTERNS), { maxLength: max });
const permission = fc.record({
  actions: patternList(3),
  notActions: patternList(2),
  dataActions: patternList(3),
  notDataActions: patternList(2),
});

const ROLE_GUIDS = ['11111111-0000-0000-0000-000000000001', '11111111-0000-0000-0000-000000000002', '11111111-0000-0000-0000-000000000003'];
const UNKNOWN_ROLE = '11111111-0000-0000-0000-0000000000ff';

const roles = fc.tuple(...ROLE_GUIDS.map(() => fc.array(permission, { minLength: 1, maxLength: 3 }))).map((perms) =>
  perms.map(
    (permissions, i): RoleDefinition => ({
      id: `/providers/Microsoft.Authorization/roleDefinitions/${ROLE_GUIDS[i]}`,
      name: ROLE_GUIDS[i]!,
      roleName: `role ${i}`,
      description: '',
      roleType: 'CustomRole',
      permissions,
      assignableScopes: ['/subscriptions/s1'],
    }),
  ),
);

const assignmentArb = fc.record({
  principal: casedFrom(PRINCIPALS),
  role: fc.constantFrom(...ROLE_GUIDS, UNKNOWN_ROLE),
  scope: casedFrom(SCOPES),
  condition: fc.option(fc.constantFrom(...Object.keys(CONDITIONS)), { nil: undefined }),
  removed: fc.boolean(),
});

const denyArb = fc.record({
  principals: fc.subarray([...PRINCIPALS, ALL_PRINCIPALS_ID], { minLength: 1 }),
  excluded: fc.subarray(PRINCIPALS),
  scope: casedFrom(SCOPES),
  doNotApplyToChildScopes: fc.boolean(),
  permission,
});

const requestArb = fc.record({
  principalId: casedFrom(['p1', 'p2', 'p3']),
  groupIds: fc.option(fc.subarray(GROUPS), { nil: undefined }),
  action: casedFrom(ACTIONS),
  isDataAction: fc.boolean(),
  scope: casedFrom(REQUEST_SCOPES),
  name: fc.constantFrom<string | undefined>(undefined, 'alpha', 'beta'),
});

const worldArb = fc.record({
  roles,
  assignments: fc.array(assignmentArb, { maxLength: 8 }),
  denies: fc.array(denyArb, { maxLength: 2 }),
  requests: fc.array(requestArb, { minLength: 1, maxLength: 12 }),
  // Second phase: changes applied after the first decisions (exercises cache invalidation).
  newRoles: roles,
  replaceRole: fc.array(fc.boolean(), { minLength: ROLE_GUIDS.length, maxLength: ROLE_GUIDS.length }),
  flip: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  dropDeny: fc.boolean(),
});

test('decide() agrees with a naive reference on random roles, scopes, assignments and requests', () => {
  const seen = new Map<string, number>();
  fc.assert(
    fc.property(worldArb, (input) => {
      const engine = new AuthzEngine();
      for (const r of input.roles) engine.upsertRoleDefinition(r);
      const kept: RoleAssignment[] = [];
      input.assignments.forEach((x, i) => {
        const a: RoleAssignment = {
          id: `${x.scope}/providers/Microsoft.Authorization/roleAssignments/a${i}`,
          name: `a${i}`,
          scope: x.scope,
          roleDefinitionId: `/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/${x.role}`,
          principalId: x.principal,
          principalType: 'ServicePrincipal',
          ...(x.condition ? { condition: x.condition, conditionVersion: '2.0' } : {}),
        };
        engine.upsertRoleAssignment(a);
        if (x.removed) assert.equal(engine.removeRoleAssignment(a.id.toUpperCase()), true);
        else kept.push(a);
      });
      const denies = input.denies.map(
        (x, i): DenyAssignment => ({
          id: `/deny/${i}`,
          name: `d${i}`,
          scope: x.scope,
          permissions: [x.permission],
          principals: x.principals.map((id) => ({ id, type: id === ALL_PRINCIPALS_ID ? 'SystemDefined' : 'ServicePrincipal' })),
          excludePrincipals: x.excluded.map((id) => ({ id, type: 'ServicePrincipal' })),
          doNotApplyToChildScopes: x.doNotApplyToChildScopes,
        }),
      );
      for (const d of denies) engine.upsertDenyAssignment(d);
      const world: World = { roles: input.roles, assignments: kept, denies };
      const requests = input.requests.map((r): AccessRequest => ({
        principalId: r.principalId,
        action: r.action,
        isDataAction: r.isDataAction,
        scope: r.scope,
        ...(r.groupIds ? { groupIds: r.groupIds } : {}),
        ...(r.name ? { attributes: { [NAME_ATTR]: r.name } } : {}),
      }));
      check(engine, world, requests, seen);

      // Replace some role definitions, remove or re-add assignments, maybe drop a deny.
      const roles2 = input.roles.map((r, i) => (input.replaceRole[i] ? input.newRoles[i]! : r));
      roles2.forEach((r, i) => input.replaceRole[i] && engine.upsertRoleDefinition(r));
      const all = input.assignments.map((x, i) => ({ x, id: `${x.scope}/providers/Microsoft.Authorization/roleAssignments/a${i}` }));
      const kept2: RoleAssignment[] = [];
      all.forEach(({ x, id }, i) => {
        const present = !x.removed !== (input.flip[i] ?? false);
        const a = kept.find((k) => k.id === id) ?? {
          id,
          name: `a${i}`,
          scope: x.scope,
          roleDefinitionId: `/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/${x.role}`,
          principalId: x.principal,
          principalType: 'ServicePrincipal',
          ...(x.condition ? { condition: x.condition, conditionVersion: '2.0' } : {}),
        };
        if (present) {
          engine.upsertRoleAssignment(a);
          kept2.push(a);
        } else engine.removeRoleAssignment(id);
      });
      const denies2 = input.dropDeny && denies.length > 0 ? denies.slice(1) : denies;
      if (denies2 !== denies) engine.removeDenyAssignment(denies[0]!.id);
      // Upsert moves a re-added assignment to the end of its principal's list; order does not
      // matter for the outcome, which is all the reference computes.
      check(engine, { roles: roles2, assignments: kept2, denies: denies2 }, requests, seen);
    }),
    { numRuns: 600 },
  );
  // The generators must reach every outcome, or the comparison proves little.
  for (const reason of ['Allowed', 'DeniedByDenyAssignment', 'NoMatchingAssignment', 'ConditionNotMet']) {
    assert.ok((seen.get(reason) ?? 0) >= 20, `${reason} seen ${seen.get(reason) ?? 0} times`);
  }
});

function check(engine: AuthzEngine, world: World, requests: readonly AccessRequest[], seen: Map<string, number>): void {
  for (const req of requests) {
    const expected = refDecide(world, req);
    seen.set(expected, (seen.get(expected) ?? 0) + 1);
    const fast = engine.decide(req);
    assert.equal(fast.reason, expected, JSON.stringify(req));
    assert.equal(fast.allowed, expected === 'Allowed');
    const slow = engine.explain(req);
    assert.equal(slow.reason, fast.reason);
    if (expected === 'NoMatchingAssignment') {
      // With nothing granting, every assignment of the principal and its groups is a near miss.
      const ids = [req.principalId, ...(req.groupIds ?? [])].map((x) => x.toLowerCase());
      assert.equal(slow.nearMisses.length, world.assignments.filter((a) => ids.includes(a.principalId.toLowerCase())).length);
    }
  }
}
