import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { actionMatches, compileActionPattern } from '../../src/authz/actionPattern.js';
import { normalizeScope, scopeCovers, isManagementGroupScope } from '../../src/authz/scope.js';
import { loadBuiltinRoles } from '../../src/authz/builtinRoles.js';
import { scopeFingerprint } from '../../src/authz/scopeProbe.js';
import { AuthzEngine } from '../../src/authz/engine.js';
import { assignment, block, controlRequest, customRole } from './fixtures.js';

describe('action patterns', () => {
  test("'*' alone, as a whole segment, and with several stars", () => {
    assert.equal(actionMatches('*', 'Microsoft.Anything/at/all/read'), true);
    assert.equal(actionMatches('*/read', 'Microsoft.Network/virtualNetworks/subnets/read'), true);
    assert.equal(actionMatches('*/read', 'Microsoft.Network/virtualNetworks/write'), false);
    assert.equal(actionMatches('Microsoft.Storage/*/read', 'microsoft.storage/storageaccounts/read'), true);
    assert.equal(actionMatches('Microsoft.Storage/*/read', 'Microsoft.Storage/read'), false);
    assert.equal(actionMatches('a*b*c', 'aXXbYYc'), true);
    assert.equal(actionMatches('a*b*c', 'aXXcYYb'), false);
    assert.equal(actionMatches('Microsoft.Storage/storageAccounts/read', 'Microsoft.Storage/storageAccounts/read/extra'), false);
    assert.equal(actionMatches('a*b*b*c', 'abbc'), true);
    assert.equal(actionMatches('a*bc*cd', 'abcd'), false); // the parts may not overlap
    assert.equal(actionMatches('*a**a*', 'xax'), false);
    assert.equal(actionMatches('**', ''), true);
  });

  test('many stars match without backtracking (found while writing the fuzz target)', () => {
    const action = `microsoft.storage/storageaccounts/blobservices/containers/blobs/read${'a'.repeat(40)}`;
    const t0 = performance.now();
    assert.equal(actionMatches(`*${'a*'.repeat(30)}b`, action), false);
    assert.equal(actionMatches(`*${'a*'.repeat(30)}`, action), true);
    assert.ok(performance.now() - t0 < 100, 'a regular expression took seconds here');
  });

  test('regular-expression characters in patterns are literal', () => {
    const m = compileActionPattern('Microsoft.Web/sites/(x)/read');
    assert.equal(m('microsoft.web/sites/(x)/read'), true);
    assert.equal(m('microsoftxweb/sites/(x)/read'), false);
  });
});

describe('scopes', () => {
  test('normalization lower-cases and trims slashes', () => {
    assert.equal(normalizeScope('/Subscriptions/ABC/'), '/subscriptions/abc');
    assert.equal(normalizeScope(''), '/');
    assert.equal(normalizeScope('///'), '/');
    assert.equal(normalizeScope('subscriptions/x'), '/subscriptions/x');
  });

  test('coverage is segment-wise', () => {
    assert.equal(scopeCovers('/subscriptions/a/resourcegroups/rg', '/subscriptions/a/resourcegroups/rg/providers/x'), true);
    assert.equal(scopeCovers('/subscriptions/a/resourcegroups/rg', '/subscriptions/a/resourcegroups/rg'), true);
    assert.equal(scopeCovers('/subscriptions/a/resourcegroups/rg', '/subscriptions/a/resourcegroups/rg2'), false);
    assert.equal(scopeCovers('/subscriptions/a/resourcegroups/rg', '/subscriptions/a'), false);
    assert.equal(scopeCovers('/', '/anything'), true);
  });

  test('management group scopes are recognised', () => {
    assert.equal(isManagementGroupScope(normalizeScope('/providers/Microsoft.Management/managementGroups/Corp')), true);
    assert.equal(isManagementGroupScope('/providers/microsoft.management/managementgroups/corp/providers/x'), false);
    assert.equal(isManagementGroupScope('/subscriptions/a'), false);
  });
});

describe('built-in role data', () => {
  test('loads 928 built-in roles with ids built from their GUIDs', () => {
    const roles = loadBuiltinRoles();
    assert.equal(roles.length, 928);
    const owner = roles.find((r) => r.roleName === 'Owner')!;
    assert.equal(owner.id, '/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635');
    assert.equal(owner.roleType, 'BuiltInRole');
    assert.deepEqual(owner.permissions[0]!.actions, ['*']);
    assert.equal(owner.permissions[0]!.condition, undefined);
    assert.ok(roles.every((r) => r.id.endsWith(r.name) && r.permissions.length >= 1));
    assert.equal(roles.filter((r) => r.permissions.some((p) => p.condition)).length > 20, true);
    assert.equal(Object.isFrozen(owner), true);
  });
});

describe('scope fingerprints', () => {
  test('two different scopes with the same length and fingerprint do not cover each other', () => {
    // 30-bit fingerprints collide after ~2^15 tries (birthday bound); find such a pair.
    const byFingerprint = new Map<number, string>();
    let pair: [string, string] | undefined;
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 400_000 && pair === undefined; i++) {
      const name = Array.from({ length: 10 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[next() % 36]).join('');
      const scope = `/subscriptions/s1/resourcegroups/rg-${name}`;
      const fp = scopeFingerprint(scope);
      const other = byFingerprint.get(fp);
      if (other !== undefined && other !== scope) pair = [other, scope];
      else byFingerprint.set(fp, scope);
    }
    assert.ok(pair, 'no fingerprint collision found');
    const [assigned, requested] = pair;
    assert.equal(assigned.length, requested.length);
    assert.notEqual(assigned, requested);
    const engine = new AuthzEngine();
    const role = customRole('collision', [block({ actions: ['*'] })]);
    engine.upsertRoleDefinition(role);
    engine.upsertRoleAssignment(assignment('p1', role.name, assigned));
    assert.equal(engine.decide(controlRequest('p1', 'Microsoft.Compute/virtualMachines/read', `${requested}/providers/x/y/z`)).allowed, false);
    assert.equal(engine.decide(controlRequest('p1', 'Microsoft.Compute/virtualMachines/read', `${assigned}/providers/x/y/z`)).allowed, true);
    // And again after the target analyses are cached.
    assert.equal(engine.decide(controlRequest('p1', 'Microsoft.Compute/virtualMachines/read', `${requested}/providers/x/y/z`)).allowed, false);
  });
});
