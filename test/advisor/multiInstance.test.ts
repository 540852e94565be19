// Two Mimic instances on one PostgreSQL database add to one usage record: an app registration's
// calls on A and on B (some at the same time, so both flush into the same rows) appear in one
// recommendation with their counts summed exactly; a reset on one clears both.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMimic, type Mimic } from '../../src/server/app.js';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { ROLE, assignmentPath, rest, roleId, type Rest } from '../authorization/helpers.js';
import type { AdvisorReport } from '../../src/advisor/api.js';

const ADVISOR = 'api-version=2026-01-01';

describe('the usage record shared by two instances on PostgreSQL', () => {
  let a: TestMimic;
  let b: Mimic;
  let bDir: string;
  let restA: Rest;
  let restB: Rest;
  let app: { appId: string; objectId: string; password: string };
  let tokenA: string;
  let tokenB: string;
  let rgScope: string;

  before(async () => {
    const env = { MIMIC_MASTER_KEY: randomBytes(32).toString('base64'), MIMIC_ADVISOR_FLUSH_MS: '50' };
    a = await startTestMimic('postgres', { env });
    bDir = await mkdtemp(join(tmpdir(), 'mimic-test-b-'));
    b = await startMimic({ dataDir: bDir, port: 0, storeUrl: a.storeUrl!, env });
    restA = await rest(a.dataDir);
    restB = await rest(bDir);
    rgScope = `/subscriptions/${restA.subscriptionId}/resourceGroups/rg-shared`;
    assert.equal((await restA.call('PUT', `${rgScope}?api-version=2025-04-01`, { location: 'eastus' })).status, 201);
    app = await restA.createApp('app-shared');
    const put = await restA.call('PUT', assignmentPath(rgScope, randomUUID()), { properties: { roleDefinitionId: roleId(restA.subscriptionId, ROLE.contributor), principalId: app.objectId } });
    assert.equal(put.status, 201, put.text);
    tokenA = await restA.appToken(app.appId, app.password);
    for (let i = 0; ; i++) {
      try {
        tokenB = await restB.appToken(app.appId, app.password);
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  after(async () => {
    await b?.close();
    await rm(bDir, { recursive: true, force: true });
    await a?.dispose();
  });

  const recommendation = async (r: Rest) => {
    const res = await r.call('GET', `/subscriptions/${r.subscriptionId}/providers/Mimic.Advisor/recommendations?principalId=${app.objectId}&${ADVISOR}`);
    assert.equal(res.status, 200, res.text);
    return (res.body as AdvisorReport).value[0]!;
  };

  test('uses on both instances appear in one recommendation, counts merged exactly', async () => {
    const readGroup = (r: Rest, token: string) => r.call('GET', `${rgScope}?api-version=2025-04-01`, undefined, token);
    const writeGroup = (r: Rest, token: string) => r.call('PATCH', `${rgScope}?api-version=2025-04-01`, { tags: { x: '1' } }, token);
    // Reads on both at once (the same row flushed by both instances), a write only on B (a
    // PATCH reads the group first, so it notes one read too: 31 reads in all).
    const calls = [];
    for (let i = 0; i < 15; i++) calls.push(readGroup(restA, tokenA), readGroup(restB, tokenB));
    calls.push(writeGroup(restB, tokenB));
    for (const r of await Promise.all(calls)) assert.equal(r.status, 200, r.text);

    let rec = await recommendation(restA);
    for (let i = 0; i < 100 && !rec.used.some((u) => u.action.toLowerCase().endsWith('resourcegroups/write')); i++) {
      await new Promise((r) => setTimeout(r, 50));
      rec = await recommendation(restA);
    }
    // B flushes on its timer; once both rows are complete the counts are exact.
    let read = rec.used.find((u) => u.action.toLowerCase() === 'microsoft.resources/subscriptions/resourcegroups/read');
    for (let i = 0; i < 100 && read?.count !== 31; i++) {
      await new Promise((r) => setTimeout(r, 50));
      rec = await recommendation(restA);
      read = rec.used.find((u) => u.action.toLowerCase() === 'microsoft.resources/subscriptions/resourcegroups/read');
    }
    assert.equal(read?.count, 31, JSON.stringify(rec.used));
    assert.equal(read!.scope.toLowerCase(), rgScope.toLowerCase());
    const write = rec.used.find((u) => u.action.toLowerCase() === 'microsoft.resources/subscriptions/resourcegroups/write');
    assert.equal(write?.count, 1);
    // One recommendation covers both instances' uses, and B answers the same.
    assert.ok(rec.roleSet.length > 0 && rec.roleSet.every((x) => x.scope.toLowerCase() === rgScope.toLowerCase()), JSON.stringify(rec.roleSet));
    const onB = await recommendation(restB);
    assert.deepEqual(onB.roleSet, rec.roleSet);
    assert.equal(onB.used.find((u) => u.action.toLowerCase().endsWith('resourcegroups/read'))?.count, 31);
  });

  test('a reset on B clears the record A reads', async () => {
    const res = await restB.call('DELETE', `/subscriptions/${restB.subscriptionId}/providers/Mimic.Advisor/usage?${ADVISOR}`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.removed >= 2);
    const rec = await recommendation(restA);
    assert.deepEqual(rec.used, []);
  });

  test('the app registration may not read recommendations without Microsoft.Authorization read at the subscription', async () => {
    const res = await restA.call('GET', `/subscriptions/${restA.subscriptionId}/providers/Mimic.Advisor/recommendations?${ADVISOR}`, undefined, tokenA);
    assert.equal(res.status, 403, res.text);
    assert.equal(res.body.error.code, 'AuthorizationFailed');
    const bad = await restA.call('GET', `/subscriptions/${restA.subscriptionId}/providers/Mimic.Advisor/recommendations?api-version=2020-01-01`);
    assert.equal(bad.status, 400);
    const badPattern = await restA.call('GET', `/subscriptions/${restA.subscriptionId}/providers/Mimic.Advisor/recommendations?namingPattern=${encodeURIComponent('(')}&${ADVISOR}`);
    assert.equal(badPattern.status, 400);
    assert.equal(badPattern.body.error.code, 'InvalidParameter');
  });
});
