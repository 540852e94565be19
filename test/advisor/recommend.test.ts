// The pure recommender over the real built-in roles: role choice and scope narrowing for known
// workloads, unused grants, refused calls, findings; and a property test that replays random
// used-action sets through the RBAC engine against the recommended assignments (every use
// must still be allowed: the recommendation is never weaker than what was used).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AuthzEngine } from '../../src/authz/engine.js';
import { loadBuiltinRoles } from '../../src/authz/builtinRoles.js';
import type { RoleAssignment, RoleDefinition } from '../../src/authz/types.js';
import { RoleCatalog } from '../../src/advisor/catalog.js';
import { Recommender, type Recommendation } from '../../src/advisor/recommend.js';
import { collapseScopes, parentScope } from '../../src/advisor/scopes.js';
import { DEFAULT_NAMING_PATTERN, findings } from '../../src/advisor/findings.js';
import type { UsageEntry } from '../../src/advisor/usage.js';

const BUILTINS = loadBuiltinRoles();
const catalog = new RoleCatalog(BUILTINS);
const SUB = '/subscriptions/00000000-0000-0000-0000-00000000aaaa';
const RG = `${SUB}/resourceGroups/rg-app`;
const VAULT = `${RG}/providers/Microsoft.KeyVault/vaults/kv-app`;
const ACCOUNT = `${RG}/providers/Microsoft.Storage/storageAccounts/stapp`;
const CONTAINER = `${ACCOUNT}/blobServices/default/containers/reports`;
const PRINCIPAL = '11111111-2222-3333-4444-555555555555';
const GET_SECRET = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';
const SET_SECRET = 'Microsoft.KeyVault/vaults/secrets/setSecret/action';
const BLOB_READ = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read';
const ROLE = {
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  secretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  secretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  blobReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
};

function use(action: string, scope: string, isDataAction = true, extra: Partial<UsageEntry> = {}): UsageEntry {
  return { principalId: PRINCIPAL, action, isDataAction, scope, allowed: 1, denied: 0, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:01.000Z', grants: [], ...extra };
}

function assignment(role: string, scope: string, principalId = PRINCIPAL, n = 1): RoleAssignment {
  return { id: `${scope}/providers/Microsoft.Authorization/roleAssignments/0000000${n}-0000-0000-0000-000000000000`, name: `0000000${n}-0000-0000-0000-000000000000`, scope, roleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId, principalType: 'ServicePrincipal' };
}

const recommender = new Recommender(catalog, { subscriptionScope: SUB });

test('two secrets read and blobs listed: Key Vault Secrets User on each secret, Storage Blob Data Reader on the container', () => {
  const contributor = assignment(ROLE.contributor, SUB, PRINCIPAL, 1);
  const officer = assignment(ROLE.secretsOfficer, VAULT, PRINCIPAL, 2);
  const r = recommender.recommend({
    principalId: PRINCIPAL,
    usage: [use(GET_SECRET, `${VAULT}/secrets/db`, true, { grants: [officer.id] }), use(GET_SECRET, `${VAULT}/secrets/api`, true, { grants: [officer.id] }), use(BLOB_READ, CONTAINER)],
    assignments: [contributor, officer],
  });
  assert.deepEqual(
    r.roleSet.map((a) => [a.roleName, a.scope]),
    [
      ['Key Vault Secrets User', `${VAULT}/secrets/api`],
      ['Key Vault Secrets User', `${VAULT}/secrets/db`],
      ['Storage Blob Data Reader', CONTAINER],
    ],
  );
  assert.equal(r.customRole, undefined);
  assert.deepEqual(r.diff.remove.map((x) => x.roleName).sort(), ['Contributor', 'Key Vault Secrets Officer']);
  assert.equal(r.diff.add.length, 3);
  const contributorUnused = r.unused.find((u) => u.assignmentId === contributor.id);
  assert.equal(contributorUnused?.unused, true);
  const officerPartly = r.unused.find((u) => u.assignmentId === officer.id);
  assert.equal(officerPartly?.unused, false);
  assert.ok(r.apply.cli.some((c) => c.includes("--role 'Key Vault Secrets User'") && c.includes(`${VAULT}/secrets/db`)), r.apply.cli.join('\n'));
  assert.ok(r.apply.cli.some((c) => c.startsWith('mimic role assignment delete --ids') && c.includes(contributor.id)));
  assert.ok(r.apply.bicep.includes("'Microsoft.KeyVault/vaults/secrets@"), r.apply.bicep);
  assert.equal(r.apply.arm.filter((x) => x.method === 'PUT').length, 3);

  const f = findings({
    catalog,
    principals: new Map([[PRINCIPAL, { objectId: PRINCIPAL, displayName: 'app-web', servicePrincipalType: 'ManagedIdentity', isSystemAssigned: true, managedIdentityResourceId: `${RG}/providers/Microsoft.Web/sites/app-web` }]]),
    assignments: [contributor, officer],
    vaults: [],
    recommendations: [r],
    usage: [],
    identities: [],
    namingPattern: new RegExp(DEFAULT_NAMING_PATTERN),
  });
  assert.ok(f.some((x) => x.rule === 'privileged-broad' && x.severity === 'high' && x.target === contributor.id));
  assert.ok(f.some((x) => x.rule === 'unused-grant' && x.severity === 'high' && x.target === contributor.id));
});

test('more secrets of one vault than the threshold: the vault; a write there picks the officer role at that scope only', () => {
  const reads = ['a', 'b', 'c', 'd'].map((s) => use(GET_SECRET, `${VAULT}/secrets/${s}`));
  const r = recommender.recommend({ principalId: PRINCIPAL, usage: reads, assignments: [] });
  assert.deepEqual(r.roleSet.map((a) => [a.roleName, a.scope]), [['Key Vault Secrets User', VAULT]]);
  const narrow = new Recommender(catalog, { subscriptionScope: SUB, scopeThreshold: 10 }).recommend({ principalId: PRINCIPAL, usage: reads, assignments: [] });
  assert.equal(narrow.roleSet.length, 4);
  const w = recommender.recommend({ principalId: PRINCIPAL, usage: [use(GET_SECRET, `${VAULT}/secrets/a`), use(SET_SECRET, `${VAULT}/secrets/b`)], assignments: [] });
  assert.deepEqual(w.roleSet.map((a) => [a.roleName, a.scope]), [['Key Vault Secrets Officer', `${VAULT}/secrets/b`], ['Key Vault Secrets User', `${VAULT}/secrets/a`]]);
});

test('an action no built-in role grants: a custom role, ready to PUT', () => {
  const r = recommender.recommend({ principalId: PRINCIPAL, displayName: 'app', usage: [use('Contoso.Widgets/widgets/frob/action', `${RG}/providers/Contoso.Widgets/widgets/w1`, false)], assignments: [] });
  assert.ok(r.customRole);
  assert.deepEqual(r.customRole.body.properties.permissions[0]!.actions, ['Contoso.Widgets/widgets/frob/action']);
  assert.equal(r.customRole.body.properties.type, 'CustomRole');
  assert.deepEqual(r.roleSet.map((a) => [a.custom, a.scope]), [[true, `${RG}/providers/Contoso.Widgets/widgets/w1`]]);
  assert.ok(r.apply.arm[0]!.path.startsWith(`${SUB}/providers/Microsoft.Authorization/roleDefinitions/`));
});

test('a refused call names the narrowest role that would allow it', () => {
  const r = recommender.recommend({ principalId: PRINCIPAL, usage: [use(SET_SECRET, `${VAULT}/secrets/x`, true, { allowed: 0, denied: 2 })], assignments: [] });
  assert.equal(r.refused.length, 1);
  assert.equal(r.refused[0]!.nearestRole?.roleName, 'Key Vault Secrets Officer');
  assert.ok(r.refused[0]!.nearestRole!.command.includes(`${VAULT}/secrets/x`));
  assert.equal(r.roleSet.length, 0);
});

test('scope parents and collapsing', () => {
  assert.equal(parentScope(`${VAULT}/secrets/a`), VAULT);
  assert.equal(parentScope(CONTAINER), ACCOUNT);
  assert.equal(parentScope(VAULT), RG);
  assert.equal(parentScope(RG), SUB);
  assert.equal(parentScope(SUB), undefined);
  assert.deepEqual(collapseScopes([`${VAULT}/secrets/a`, VAULT], 3), [VAULT]);
  // never widened to the subscription
  const groups = ['a', 'b', 'c', 'd', 'e'].map((g) => `${SUB}/resourceGroups/${g}`);
  assert.deepEqual(collapseScopes(groups, 2), groups);
});

// ---- property: never weaker than what was used ----

/** Exact actions found in the built-in roles (real action names), sampled for the property. */
const POOL: { action: string; isDataAction: boolean }[] = (() => {
  const seen = new Map<string, { action: string; isDataAction: boolean }>();
  for (const r of BUILTINS) {
    for (const p of r.permissions) {
      for (const a of p.actions) if (!a.includes('*')) seen.set(`c:${a.toLowerCase()}`, { action: a, isDataAction: false });
      for (const a of p.dataActions) if (!a.includes('*')) seen.set(`d:${a.toLowerCase()}`, { action: a, isDataAction: true });
    }
  }
  return [...seen.values()].sort((a, b) => a.action.localeCompare(b.action)).slice(0, 4000);
})();
const SCOPES = [SUB, RG, `${SUB}/resourceGroups/rg-other`, VAULT, `${VAULT}/secrets/a`, `${VAULT}/secrets/b`, `${VAULT}/secrets/c`, `${VAULT}/secrets/d`, ACCOUNT, CONTAINER, `${ACCOUNT}/blobServices/default/containers/logs`, `${RG}/providers/Microsoft.Web/sites/web1`];

function engineFor(r: Recommendation): AuthzEngine {
  const engine = new AuthzEngine();
  for (const role of BUILTINS) engine.upsertRoleDefinition(role);
  if (r.customRole) {
    const id = r.customRole.url;
    const def: RoleDefinition = { id, name: id.slice(id.lastIndexOf('/') + 1), roleName: r.customRole.body.properties.roleName, description: '', roleType: 'CustomRole', permissions: r.customRole.body.properties.permissions, assignableScopes: r.customRole.body.properties.assignableScopes };
    engine.upsertRoleDefinition(def);
  }
  r.roleSet.forEach((a, i) => engine.upsertRoleAssignment({ id: `${a.scope}/providers/Microsoft.Authorization/roleAssignments/x${i}`, name: `x${i}`, scope: a.scope, roleDefinitionId: a.roleDefinitionId, principalId: PRINCIPAL, principalType: 'ServicePrincipal' }));
  return engine;
}

test('property: every used action is allowed by the recommended assignments', () => {
  const used = fc.array(fc.record({ a: fc.nat(POOL.length - 1), s: fc.nat(SCOPES.length - 1) }), { minLength: 1, maxLength: 12 });
  fc.assert(
    fc.property(used, fc.integer({ min: 0, max: 4 }), (picks, threshold) => {
      const usage = picks.map(({ a, s }) => use(POOL[a]!.action, SCOPES[s]!, POOL[a]!.isDataAction));
      const r = new Recommender(catalog, { subscriptionScope: SUB, scopeThreshold: threshold }).recommend({ principalId: PRINCIPAL, usage, assignments: [] });
      const engine = engineFor(r);
      for (const u of usage) {
        const d = engine.decide({ principalId: PRINCIPAL, action: u.action, isDataAction: u.isDataAction, scope: u.scope });
        assert.ok(d.allowed, `${u.action} at ${u.scope} not allowed by ${JSON.stringify(r.roleSet.map((x) => [x.roleName, x.scope]))}`);
      }
    }),
    { numRuns: 150 },
  );
});

test('findings: shared system-assigned identities, vaults on access policies, a secrets role at the vault for one secret', () => {
  const other = '99999999-2222-3333-4444-555555555555';
  const facts = (id: string, site: string) => ({ objectId: id, displayName: site, servicePrincipalType: 'ManagedIdentity', isSystemAssigned: true, managedIdentityResourceId: `${RG}/providers/Microsoft.Web/sites/${site}` });
  const atVault = assignment(ROLE.secretsUser, VAULT, PRINCIPAL, 3);
  const uses = (p: string) => [use(GET_SECRET, `${VAULT}/secrets/db`, true, { principalId: p, grants: p === PRINCIPAL ? [atVault.id] : [] }), use(BLOB_READ, CONTAINER, true, { principalId: p })];
  const recs = [PRINCIPAL, other].map((p) => recommender.recommend({ principalId: p, usage: uses(p), assignments: p === PRINCIPAL ? [atVault] : [] }));
  const f = findings({
    catalog,
    principals: new Map([
      [PRINCIPAL, facts(PRINCIPAL, 'web-a')],
      [other, facts(other, 'web-b')],
    ]),
    assignments: [atVault],
    vaults: [
      { id: VAULT, name: 'kv-app', rbac: true },
      { id: `${RG}/providers/Microsoft.KeyVault/vaults/kv-old`, name: 'kv-old', rbac: false },
    ],
    recommendations: recs,
    usage: [...uses(PRINCIPAL), ...uses(other)],
    identities: [],
    namingPattern: new RegExp(DEFAULT_NAMING_PATTERN),
  });
  const shared = f.filter((x) => x.rule === 'shared-system-assigned');
  assert.equal(shared.length, 1, JSON.stringify(f));
  assert.ok(shared[0]!.message.includes('web-a') && shared[0]!.message.includes('web-b'));
  assert.deepEqual(f.filter((x) => x.rule === 'vault-access-policies').map((x) => x.target), [`${RG}/providers/Microsoft.KeyVault/vaults/kv-old`]);
  const single = f.filter((x) => x.rule === 'secret-read-at-vault');
  assert.deepEqual(single.map((x) => [x.target, x.severity]), [[atVault.id, 'medium']]);
  assert.ok(single[0]!.message.includes('/secrets/db'));
});
