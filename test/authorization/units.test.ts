// The pieces behind the API, on a real store: the engine feed (initial load, live changes,
// fail-closed on bad documents), the bounded audit log, $filter parsing and scope parsing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { AuthzEngine } from '../../src/authz/index.js';
import { loadBuiltinRoles } from '../../src/authz/builtinRoles.js';
import { AuthzFeed } from '../../src/arm/authorization/engineFeed.js';
import { AuditLog, AUDIT_LOG } from '../../src/arm/authorization/audit.js';
import { parseFilter } from '../../src/arm/authorization/filters.js';
import { parseScope } from '../../src/arm/authorization/scopes.js';
import { CUSTOM_ROLES, DENY_ASSIGNMENTS, ROLE_ASSIGNMENTS, type StoredRoleAssignment, type StoredRoleDefinition } from '../../src/arm/authorization/model.js';
import { deterministicGuid } from '../../src/arm/authorization/bootstrap.js';
import { ArmError } from '../../src/arm/errors.js';
import { keyOf } from '../../src/arm/ids.js';

const SUB = '/subscriptions/11111111-1111-4111-8111-111111111111';
const RG = `${SUB}/resourceGroups/rg`;
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const P1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const NOW = '2024-01-01T00:00:00.000Z';

function assignment(name: string, scope: string, principalId: string, role = READER, extra: Partial<StoredRoleAssignment> = {}): StoredRoleAssignment {
  return {
    id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    scope,
    roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${role}`,
    principalId,
    principalType: 'ServicePrincipal',
    createdOn: NOW,
    updatedOn: NOW,
    createdBy: P1,
    updatedBy: P1,
    ...extra,
  };
}

const read = (principalId: string, scope = RG, action = 'Microsoft.Resources/subscriptions/resourceGroups/read') => ({ principalId, action, isDataAction: false, scope });

describe('engine feed', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mimic-feed-'));
    store = await openStore({ dataDir: dir });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('loads what is stored, then follows puts and deletes', async () => {
    const a1 = assignment('00000000-0000-4000-8000-00000000000a', RG, P1);
    await store.put(ROLE_ASSIGNMENTS, keyOf(a1.id), a1);
    const engine = new AuthzEngine();
    for (const r of loadBuiltinRoles()) engine.upsertRoleDefinition(r);
    const feed = await AuthzFeed.start(store, engine, () => {});
    try {
      assert.equal(engine.decide(read(P1)).allowed, true);
      assert.equal(feed.assignments.size, 1);
      await store.delete(ROLE_ASSIGNMENTS, keyOf(a1.id));
      assert.equal(engine.decide(read(P1)).allowed, false);

      const role: StoredRoleDefinition = {
        id: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/bbbbbbbb-0000-4000-8000-000000000001`,
        name: 'bbbbbbbb-0000-4000-8000-000000000001',
        roleName: 'Group Writer',
        description: '',
        roleType: 'CustomRole',
        permissions: [{ actions: ['Microsoft.Resources/subscriptions/resourceGroups/write'], notActions: [], dataActions: [], notDataActions: [] }],
        assignableScopes: [SUB],
        createdOn: NOW,
        updatedOn: NOW,
        createdBy: P1,
        updatedBy: P1,
      };
      await store.put(CUSTOM_ROLES, role.name, role);
      const a2 = assignment('00000000-0000-4000-8000-00000000000b', RG, P1, role.name);
      await store.put(ROLE_ASSIGNMENTS, keyOf(a2.id), a2);
      assert.equal(engine.decide(read(P1, RG, 'Microsoft.Resources/subscriptions/resourceGroups/write')).allowed, true);
      assert.equal(engine.roleByName('group writer')?.name, role.name);
      await store.delete(CUSTOM_ROLES, role.name);
      assert.equal(engine.decide(read(P1, RG, 'Microsoft.Resources/subscriptions/resourceGroups/write')).allowed, false, 'a deleted role grants nothing');

      await store.put(DENY_ASSIGNMENTS, 'deny1', {
        id: `${RG}/providers/Microsoft.Authorization/denyAssignments/deny1`,
        name: 'deny1',
        scope: RG,
        permissions: [{ actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] }],
        principals: [{ id: P1, type: 'ServicePrincipal' }],
        excludePrincipals: [],
        doNotApplyToChildScopes: false,
      });
      await store.put(ROLE_ASSIGNMENTS, keyOf(a1.id), a1);
      assert.equal(engine.decide(read(P1)).reason, 'DeniedByDenyAssignment');
      await store.delete(DENY_ASSIGNMENTS, 'deny1');
      assert.equal(engine.decide(read(P1)).allowed, true);
    } finally {
      feed.close();
    }
  });

  test('an assignment whose condition the engine refuses grants nothing, and the feed goes on', async () => {
    const engine = new AuthzEngine();
    for (const r of loadBuiltinRoles()) engine.upsertRoleDefinition(r);
    const warnings: string[] = [];
    const feed = await AuthzFeed.start(store, engine, (m) => warnings.push(m));
    try {
      const good = assignment('00000000-0000-4000-8000-00000000000c', SUB, 'cccccccc-0000-4000-8000-000000000001');
      await store.put(ROLE_ASSIGNMENTS, keyOf(good.id), good);
      assert.equal(engine.decide(read(good.principalId)).allowed, true);
      await store.put(ROLE_ASSIGNMENTS, keyOf(good.id), { ...good, condition: '@Resource[x] StringEquals', conditionVersion: '2.0' });
      assert.equal(engine.decide(read(good.principalId)).allowed, false);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /cannot apply roleAssignments/);
      assert.ok(feed.assignments.has(keyOf(good.id)), 'still listed');
      const other = assignment('00000000-0000-4000-8000-00000000000d', SUB, 'cccccccc-0000-4000-8000-000000000002');
      await store.put(ROLE_ASSIGNMENTS, keyOf(other.id), other);
      assert.equal(engine.decide(read(other.principalId)).allowed, true);
    } finally {
      feed.close();
    }
  });
});

describe('audit log', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mimic-audit-'));
    store = await openStore({ dataDir: dir });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('keeps at most the newest N entries, trimming in batches', async () => {
    const log = await AuditLog.open(store, { maxEntries: 20, trimBatch: 5, flushDelayMs: 5 });
    const caller = { objectId: P1, appId: P1 };
    for (let i = 0; i < 60; i++) {
      log.record({ category: 'AccessDenied', operation: `op-${i}`, result: 'Denied', caller, scope: i % 2 ? RG : `${SUB}/resourceGroups/other` });
      if (i % 7 === 0) await log.flush();
    }
    await log.flush();
    await log.flush();
    const stored = await store.list(AUDIT_LOG);
    assert.ok(stored.length <= 25 && stored.length >= 20, `stored ${stored.length}`);
    assert.equal(log.size(), stored.length);
    const newest = await log.query({ top: 3 });
    assert.deepEqual(
      newest.map((e) => e.operation),
      ['op-57', 'op-58', 'op-59'],
    );
    const inRg = await log.query({ scope: RG, top: 1000 });
    assert.ok(inRg.length > 0 && inRg.every((e) => e.scope === RG));
    assert.equal((await log.query({ since: new Date(Date.now() + 60_000) })).length, 0);
    assert.equal((await log.query({ category: 'RoleAssignment' })).length, 0);
    await log.close();
  });
});

describe('filters and scopes', () => {
  test('parses the filters Azure documents, refusing the rest', () => {
    assert.deepEqual(parseFilter("atScope() and principalId eq 'AbC'", ['atScope', 'principalId']), { atScope: true, atScopeAndBelow: false, principalId: 'AbC' });
    assert.equal(parseFilter("assignedTo('x')", ['assignedTo']).assignedTo, 'x');
    assert.equal(parseFilter("roleName eq 'Bob''s role'", ['roleName']).roleName, "Bob's role");
    assert.equal(parseFilter(null, []).atScope, false);
    assert.throws(() => parseFilter("roleName eq 'x'", ['atScope']), (e: unknown) => e instanceof ArmError && e.code === 'UnsupportedQuery');
    assert.throws(() => parseFilter('principalId eq x', ['principalId']), ArmError);
  });

  test('tells scope levels apart', () => {
    assert.equal(parseScope('/').level, 'root');
    assert.equal(parseScope('/providers/Microsoft.Management/managementGroups/mg1').managementGroupId, 'mg1');
    assert.equal(parseScope(SUB).level, 'subscription');
    assert.equal(parseScope(RG).resourceGroup, 'rg');
    assert.equal(parseScope(`${RG}/providers/Microsoft.KeyVault/vaults/v/secrets/s`).level, 'resource');
    for (const bad of [`${RG}/providers/Microsoft.KeyVault/vaults`, `${SUB}/resourceGroups`, '/foo/bar', `${SUB}/providers/x`]) {
      assert.throws(() => parseScope(bad), (e: unknown) => e instanceof ArmError && e.code === 'InvalidScope', bad);
    }
  });

  test('deterministic names are stable GUIDs', () => {
    const g = deterministicGuid('a', 'b');
    assert.match(g, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(g, deterministicGuid('a', 'b'));
    assert.notEqual(g, deterministicGuid('a', 'c'));
  });
});
