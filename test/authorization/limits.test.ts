// At Azure's limit of role assignments per subscription, creation is refused; long lists page
// through nextLink.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { MAX_ASSIGNMENTS_PER_SUBSCRIPTION } from '../../src/arm/authorization/roleAssignments.js';
import { DEFAULT_PAGE_SIZE } from '../../src/arm/authorization/context.js';
import { ROLE_ASSIGNMENTS, type StoredRoleAssignment } from '../../src/arm/authorization/model.js';
import { keyOf } from '../../src/arm/ids.js';
import { ROLE, assignmentPath, rest, roleId, type Rest } from './helpers.js';

describe('role assignment limit and paging', () => {
  let mimic: TestMimic;
  let r: Rest;
  let sub: string;
  before(async () => {
    mimic = await startTestMimic('sqlite');
    r = await rest(mimic.dataDir);
    sub = `/subscriptions/${r.subscriptionId}`;
    const now = new Date().toISOString();
    // The bootstrap Owner assignment plus these make the limit.
    const ops = Array.from({ length: MAX_ASSIGNMENTS_PER_SUBSCRIPTION - 1 }, (_, i) => {
      const name = randomUUID();
      const a: StoredRoleAssignment = {
        id: assignmentPath(sub, name),
        name,
        scope: sub,
        roleDefinitionId: roleId(r.subscriptionId, ROLE.reader),
        principalId: randomUUID(),
        principalType: 'ServicePrincipal',
        createdOn: new Date(Date.parse(now) + i).toISOString(),
        updatedOn: now,
        createdBy: 'test',
        updatedBy: 'test',
      };
      return { op: 'put' as const, kind: ROLE_ASSIGNMENTS, key: keyOf(a.id), value: a };
    });
    await mimic.store.apply(ops);
  });
  after(() => mimic.dispose());

  test(`refuses the assignment past ${MAX_ASSIGNMENTS_PER_SUBSCRIPTION} with RoleAssignmentLimitExceeded`, async () => {
    const put = await r.call('PUT', assignmentPath(sub, randomUUID()), { properties: { roleDefinitionId: roleId(r.subscriptionId, ROLE.reader), principalId: mimic.context.tenant.adminObjectId } });
    assert.equal(put.status, 400);
    assert.equal(put.body.error.code, 'RoleAssignmentLimitExceeded');
  });

  test('lists page by page through nextLink, without repeats', async () => {
    const seen = new Set<string>();
    const sizes: number[] = [];
    let path: string | undefined = `${sub}/providers/Microsoft.Authorization/roleAssignments`;
    while (path) {
      const page = await r.call('GET', path);
      assert.equal(page.status, 200, page.text);
      sizes.push(page.body.value.length);
      for (const a of page.body.value) seen.add(a.name);
      path = page.body.nextLink ? new URL(page.body.nextLink).pathname + new URL(page.body.nextLink).search : undefined;
    }
    assert.deepEqual(sizes, [DEFAULT_PAGE_SIZE, DEFAULT_PAGE_SIZE, DEFAULT_PAGE_SIZE, DEFAULT_PAGE_SIZE]);
    assert.equal(seen.size, MAX_ASSIGNMENTS_PER_SUBSCRIPTION);
  });
});
