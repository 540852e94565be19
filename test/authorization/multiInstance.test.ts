// Two Mimic instances on one PostgreSQL database: role assignments, deny assignments and custom
// roles made through one are enforced by the other within a second (change feed over NOTIFY).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMimic, type Mimic } from '../../src/server/app.js';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { ROLE, assignmentPath, rest, roleId, type Rest } from './helpers.js';

const PROPAGATION_LIMIT_MS = 1000;

/** Polls until `check` holds; returns the elapsed milliseconds (fails past the limit). */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    const elapsed = performance.now() - start;
    if (elapsed > limitMs) assert.fail(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('two instances sharing PostgreSQL', () => {
  let a: TestMimic;
  let b: Mimic;
  let bDir: string;
  let restA: Rest;
  let restB: Rest;
  let app: { appId: string; objectId: string; password: string };
  let spToken: string;
  let rgScope: string;
  const measured: number[] = [];

  before(async () => {
    const env = { MIMIC_MASTER_KEY: randomBytes(32).toString('base64') };
    a = await startTestMimic('postgres', { env });
    bDir = await mkdtemp(join(tmpdir(), 'mimic-test-b-'));
    b = await startMimic({ dataDir: bDir, port: 0, storeUrl: a.storeUrl!, env });
    restA = await rest(a.dataDir);
    restB = await rest(bDir);
    rgScope = `/subscriptions/${restA.subscriptionId}/resourceGroups/shared-rg`;
    assert.equal((await restA.call('PUT', `${rgScope}?api-version=2025-04-01`, { location: 'eastus' })).status, 201);
    app = await restA.createApp('shared-app');
    // The new principal reaches instance B through the change feed too.
    await within(2000, async () => {
      try {
        spToken = await restB.appToken(app.appId, app.password);
        return true;
      } catch {
        return false;
      }
    });
  });
  after(async () => {
    await b?.close();
    await rm(bDir, { recursive: true, force: true });
    await a?.dispose();
    if (measured.length) console.log(`# propagation between instances (ms): ${measured.map((m) => m.toFixed(0)).join(', ')}`);
  });

  const readGroupOnB = async () => (await restB.call('GET', `${rgScope}?api-version=2025-04-01`, undefined, spToken)).status;
  const readGroupOnA = async () => (await restA.call('GET', `${rgScope}?api-version=2025-04-01`, undefined, spToken)).status;

  test('both instances agree on one bootstrap Owner assignment for the administrator', async () => {
    const adminId = a.context.tenant.adminObjectId;
    const list = (await restB.call('GET', `/subscriptions/${restA.subscriptionId}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${adminId}'`)}`)).body.value;
    assert.equal(list.length, 1);
    assert.ok(list[0].properties.roleDefinitionId.endsWith(ROLE.owner));
    assert.equal(list[0].properties.scope, `/subscriptions/${restA.subscriptionId}`);
  });

  test('an assignment made on A is enforced on B within a second, and so is its removal', async () => {
    assert.equal(await readGroupOnB(), 403);
    const name = randomUUID();
    const put = await restA.call('PUT', assignmentPath(rgScope, name), { properties: { roleDefinitionId: roleId(restA.subscriptionId, ROLE.reader), principalId: app.objectId } });
    assert.equal(put.status, 201, put.text);
    measured.push(await within(PROPAGATION_LIMIT_MS, async () => (await readGroupOnB()) === 200));
    assert.equal((await restA.call('DELETE', assignmentPath(rgScope, name))).status, 200);
    measured.push(await within(PROPAGATION_LIMIT_MS, async () => (await readGroupOnB()) === 403));
  });

  test('a deny assignment made on B is honoured on A within a second', async () => {
    const grant = randomUUID();
    assert.equal((await restB.call('PUT', assignmentPath(rgScope, grant), { properties: { roleDefinitionId: roleId(restA.subscriptionId, ROLE.reader), principalId: app.objectId } })).status, 201);
    await within(PROPAGATION_LIMIT_MS, async () => (await readGroupOnA()) === 200);
    const denyName = randomUUID();
    const deny = await restB.call('PUT', `${rgScope}/providers/Microsoft.Authorization/denyAssignments/${denyName}`, {
      properties: { denyAssignmentName: 'no reads', permissions: [{ actions: ['*/read'] }], principals: [{ id: app.objectId, type: 'ServicePrincipal' }] },
    });
    assert.equal(deny.status, 201, deny.text);
    measured.push(await within(PROPAGATION_LIMIT_MS, async () => (await readGroupOnA()) === 403));
    const refused = await restA.call('GET', `${rgScope}?api-version=2025-04-01`, undefined, spToken);
    assert.equal(refused.body.error.code, 'AuthorizationFailed');
    assert.match(refused.body.error.message, /deny assignment with name 'no reads'/);
    assert.equal((await restB.call('DELETE', `${rgScope}/providers/Microsoft.Authorization/denyAssignments/${denyName}`)).status, 200);
    await within(PROPAGATION_LIMIT_MS, async () => (await readGroupOnA()) === 200);
    assert.equal((await restA.call('DELETE', assignmentPath(rgScope, grant))).status, 200);
  });

  test('a custom role created on A can be assigned and is enforced on B', async () => {
    const guid = randomUUID();
    const sub = `/subscriptions/${restA.subscriptionId}`;
    const role = await restA.call('PUT', `${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`, {
      properties: { roleName: 'Group Reader Only', permissions: [{ actions: ['Microsoft.Resources/subscriptions/resourceGroups/read'] }], assignableScopes: [rgScope] },
    });
    assert.equal(role.status, 201, role.text);
    let put: Awaited<ReturnType<Rest['call']>> | undefined;
    await within(PROPAGATION_LIMIT_MS, async () => {
      put = await restB.call('PUT', assignmentPath(rgScope, randomUUID()), { properties: { roleDefinitionId: role.body.id, principalId: app.objectId } });
      return put.status === 201;
    });
    assert.equal(await readGroupOnB(), 200);
    measured.push(await within(PROPAGATION_LIMIT_MS, async () => (await readGroupOnA()) === 200));
  });

  test('refusals on B land in the shared audit log, readable on A', async () => {
    const otherScope = `/subscriptions/${restA.subscriptionId}/resourceGroups/not-granted`;
    assert.equal((await restB.call('GET', `${otherScope}?api-version=2025-04-01`, undefined, spToken)).status, 403);
    await within(2000, async () => {
      const log = await restA.call('GET', `/subscriptions/${restA.subscriptionId}/providers/Microsoft.Authorization/auditEvents?result=Denied&principalId=${app.objectId}`);
      return log.body.value.some((e: { scope: string; instance: string }) => e.scope === otherScope && e.instance === b.store.instanceId);
    });
  });
});
