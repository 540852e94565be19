// Two instances on one PostgreSQL database, writing the same names at the same moment. Each
// conflict must end in one state that both instances report identically once their change feeds
// have delivered, with Azure's answers:
// - a role assignment name PUT with two different principals: one 201, the other 409
//   RoleAssignmentUpdateNotPermitted (an assignment's principal cannot change), and the winner's
//   body is the assignment everywhere;
// - a user-assigned identity (and a site with a system-assigned identity) PUT by both: a PUT is
//   create-or-update, so one 201 and one 200, one service principal, the same principalId in
//   both answers, and the later body's tags;
// - the same secret name set by both: every set is a new version (none lost), and the latest is
//   the same on both.
// And an assignment deleted on A while B's change feed was cut stops granting on B once B resyncs;
// an instance starting leaves another's running deployment alone, and the deployment of an instance
// that was SIGKILLed is failed by the instances that stay up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMimic, type Mimic } from '../../src/server/app.js';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';
import { rest } from '../authorization/helpers.js';
import pg from 'pg';
import { Acked, killChild, prepare, READER, startChild, vaultToken, type Workload } from './workload.js';

const ROUNDS = 12;
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';

/** Polls until `check` holds (fails after `ms`). */
async function eventually(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() > start + ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - start;
}

describe('two instances on one PostgreSQL: conflicting writes converge', () => {
  let a: TestMimic;
  let b: Mimic;
  let bDir: string;
  let armA: ArmCaller;
  let armB: ArmCaller;
  let work: Workload;
  let kvA: string;
  let kvB: string;
  const outcomes: string[] = [];

  before(async () => {
    const env = { MIMIC_MASTER_KEY: randomBytes(32).toString('base64') };
    a = await startTestMimic('postgres', { env });
    bDir = await mkdtemp(join(tmpdir(), 'mimic-test-b-'));
    // B looks for deployments of instances that went away every 300 ms (10 s by default).
    b = await startMimic({ dataDir: bDir, port: 0, storeUrl: a.storeUrl!, env: { ...env, MIMIC_DEPLOYMENT_SWEEP_MS: '300' } });
    armA = await armCaller(a.dataDir, '2023-01-31');
    armB = await armCaller(bDir, '2023-01-31');
    work = await prepare(armA, 'conflicts', `conflict${randomBytes(3).toString('hex')}`);
    kvA = await vaultToken(a.dataDir);
    kvB = await vaultToken(bDir);
  });
  after(async () => {
    if (outcomes.length) console.log(`# conflict outcomes: ${outcomes.join('; ')}`);
    await b?.close();
    await rm(bDir, { recursive: true, force: true });
    await a?.dispose();
  });

  /** Both instances answer the same GET identically (after their feeds settle). */
  async function agree(path: string, apiVersion?: string, token?: string, pick = (body: any) => body): Promise<any> {
    let last = '';
    await eventually(2000, `both instances agree on ${path}`, async () => {
      const [x, y] = await Promise.all([armA.call('GET', path, undefined, apiVersion, token), armB.call('GET', path, undefined, apiVersion, token)]);
      last = `${x.status} ${JSON.stringify(pick(x.body))} / ${y.status} ${JSON.stringify(pick(y.body))}`;
      return x.status === y.status && JSON.stringify(pick(x.body)) === JSON.stringify(pick(y.body));
    }).catch((err) => assert.fail(`${err.message}: ${last}`));
    return pick((await armA.call('GET', path, undefined, apiVersion, token)).body);
  }

  test('the same role assignment name with two principals: one 201, one 409 RoleAssignmentUpdateNotPermitted', async () => {
    const roleDefinitionId = `${armA.sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`;
    const tally = new Map<string, number>();
    for (let i = 0; i < ROUNDS; i++) {
      // Fresh principals each round: a (scope, principal, role) triple can be assigned only once.
      const [pa, pb] = await Promise.all(['a', 'b'].map(async (n) => (await armA.call('PUT', `${work.rg}/providers/${UAI}/ra-${i}-${n}`, { location: 'eastus' })).body.properties.principalId as string));
      await eventually(2000, 'B knows both principals', async () => Boolean(b.directory.byObject(pa!) && b.directory.byObject(pb!)));
      const id = `${work.rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
      const [x, y] = await Promise.all([
        armA.call('PUT', id, { properties: { roleDefinitionId, principalId: pa!, principalType: 'ServicePrincipal' } }, '2022-04-01'),
        armB.call('PUT', id, { properties: { roleDefinitionId, principalId: pb!, principalType: 'ServicePrincipal' } }, '2022-04-01'),
      ]);
      const answers = [x, y].map((r) => `${r.status}${r.status >= 400 ? ` ${r.body.error.code}` : ''}`).sort();
      assert.deepEqual(answers, ['201', '409 RoleAssignmentUpdateNotPermitted'], `round ${i}: ${x.text} / ${y.text}`);
      tally.set(x.status === 201 ? 'A' : 'B', (tally.get(x.status === 201 ? 'A' : 'B') ?? 0) + 1);
      const winner = x.status === 201 ? pa : pb;
      assert.equal(await agree(id, '2022-04-01', undefined, (body) => body.properties?.principalId), winner);
    }
    // Both instances' authorization feeds hold the same assignments.
    await agree(`${work.rg}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()`, '2022-04-01', undefined, (body) => body.value.map((v: any) => `${v.name}:${v.properties.principalId}`).sort());
    outcomes.push(`${ROUNDS} role assignment races: one 201 and one 409 RoleAssignmentUpdateNotPermitted each (A won ${tally.get('A') ?? 0}, B ${tally.get('B') ?? 0})`);
  });

  for (const kind of ['user-assigned identity', 'site with a system-assigned identity'] as const) {
    test(`the same ${kind} PUT by both: one 201 and one 200, one principal, the later body wins`, async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const [path, apiVersion, body, principalOf] =
          kind === 'user-assigned identity'
            ? [`${work.rg}/providers/${UAI}/race-${i}`, '2023-01-31', {}, (r: any) => r.properties?.principalId]
            : [`${work.rg}/providers/Microsoft.Web/sites/race-${i}`, '2023-12-01', { kind: 'app', identity: { type: 'SystemAssigned' }, properties: {} }, (r: any) => r.identity?.principalId];
        const [x, y] = await Promise.all([
          armA.call('PUT', path, { location: 'eastus', tags: { by: 'A' }, ...body }, apiVersion),
          armB.call('PUT', path, { location: 'eastus', tags: { by: 'B' }, ...body }, apiVersion),
        ]);
        assert.deepEqual([x.status, y.status].sort(), [200, 201], `round ${i}: ${x.text} / ${y.text}`);
        assert.equal(principalOf(x.body), principalOf(y.body), `round ${i}: both answers carry the same principal`);
        const later = x.status === 200 ? 'A' : 'B';
        const seen = await agree(path, apiVersion, undefined, (r) => ({ principalId: principalOf(r), tags: r.tags }));
        assert.deepEqual(seen, { principalId: principalOf(x.body), tags: { by: later } });
        // Exactly one principal belongs to the resource, on both instances.
        const owners = await agree('/providers/Mimic.Directory/servicePrincipals', '2025-01-01', undefined, (r) => r.value.filter((p: any) => p.managedIdentityResourceId?.toLowerCase() === x.body.id.toLowerCase()).map((p: any) => p.objectId));
        assert.deepEqual(owners, [principalOf(x.body)], `round ${i}: one principal for ${path}`);
      }
      outcomes.push(`${ROUNDS} ${kind} races: one 201 and one 200 each, one principal, the later body's tags`);
    });
  }

  test('the same secret set by both: every set is a version, the latest is the same on both', async () => {
    const sets: { id: string; value: string }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const results = await Promise.all(
        [armA, armB, armA, armB].map(async (arm, j) => {
          const value = `v-${i}-${j}-${randomBytes(4).toString('hex')}`;
          const r = await arm.call('PUT', `/_vault/${work.vault}/secrets/shared`, { value }, '2025-07-01', j % 2 ? kvB : kvA);
          assert.equal(r.status, 200, r.text);
          return { id: r.body.id as string, value };
        }),
      );
      sets.push(...results);
    }
    assert.equal(new Set(sets.map((s) => s.id)).size, sets.length, 'every set got its own version');
    const versions = await agree(`/_vault/${work.vault}/secrets/shared/versions?maxresults=25`, '2025-07-01', kvA, (r) => r.value.map((v: any) => v.id).sort());
    // Pages of 25: collect every page from A.
    const all = new Set<string>(versions);
    let next = (await armA.call('GET', `/_vault/${work.vault}/secrets/shared/versions?maxresults=25`, undefined, '2025-07-01', kvA)).body.nextLink as string | null;
    while (next) {
      const u = new URL(next);
      const page = (await armA.call('GET', `/_vault/${work.vault}${u.pathname}${u.search}`, undefined, '2025-07-01', kvA)).body;
      for (const v of page.value) all.add(v.id);
      next = page.nextLink;
    }
    for (const s of sets) {
      assert.ok(all.has(s.id), `version ${s.id} is listed`);
      const [x, y] = await Promise.all([armA.call('GET', `/_vault/${work.vault}${new URL(s.id).pathname}`, undefined, '2025-07-01', kvA), armB.call('GET', `/_vault/${work.vault}${new URL(s.id).pathname}`, undefined, '2025-07-01', kvB)]);
      assert.equal(x.body.value, s.value);
      assert.equal(y.body.value, s.value);
    }
    const latest = await agree(`/_vault/${work.vault}/secrets/shared`, '2025-07-01', kvA, (r) => r.id);
    assert.ok(sets.some((s) => s.id === latest));
    outcomes.push(`${sets.length} concurrent sets of one secret from both instances: ${sets.length} versions, all readable on both, one latest`);
  });

  test("an instance starting while another runs a deployment leaves that deployment running", async () => {
    const env = { MIMIC_MASTER_KEY: (a.context.env as Record<string, string>).MIMIC_MASTER_KEY! };
    // The deployment must still be running when the new instance has started: if it was quicker
    // (a loaded machine starts instances slowly), try again with a longer one (800 copies at most, Azure's limit).
    let conclusive = false;
    for (let attempt = 0, count = 300; attempt < 3 && !conclusive; attempt++, count = Math.min(800, count * 2)) {
      const id = `${work.rg}/providers/Microsoft.Resources/deployments/long-${attempt}`;
      const template = {
        $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
        contentVersion: '1.0.0.0',
        resources: [{ type: UAI, apiVersion: '2023-01-31', name: `[format('serial-${attempt}-{0}', copyIndex())]`, location: 'eastus', copy: { name: 'ids', count, mode: 'serial', batchSize: 1 } }],
      };
      assert.equal((await armA.call('PUT', id, { properties: { mode: 'Incremental', template } }, '2021-04-01')).status, 201);
      const cDir = await mkdtemp(join(tmpdir(), 'mimic-test-c-'));
      const c = await startMimic({ dataDir: cDir, port: 0, storeUrl: a.storeUrl!, env });
      try {
        const during = (await armA.call('GET', id, undefined, '2021-04-01')).body.properties.provisioningState;
        assert.notEqual(during, 'Failed', 'another instance starting failed the running deployment');
        conclusive = ['Accepted', 'Running'].includes(during);
        await eventually(120_000, 'the deployment ends', async () => !['Accepted', 'Running'].includes((await armA.call('GET', id, undefined, '2021-04-01')).body.properties.provisioningState));
        assert.equal((await armB.call('GET', id, undefined, '2021-04-01')).body.properties.provisioningState, 'Succeeded');
      } finally {
        await c.close();
        await rm(cDir, { recursive: true, force: true });
      }
    }
    assert.ok(conclusive, 'an instance started while a deployment was running');
  });

  test('a deployment whose instance was SIGKILLed is failed by the instances that stay up', async () => {
    const cDir = await mkdtemp(join(tmpdir(), 'mimic-test-c-'));
    const { child, a: armC } = await startChild(cDir, a.storeUrl!, { MIMIC_MASTER_KEY: (a.context.env as Record<string, string>).MIMIC_MASTER_KEY! });
    try {
      const id = `${work.rg}/providers/Microsoft.Resources/deployments/orphan`;
      const template = {
        $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
        contentVersion: '1.0.0.0',
        resources: [{ type: UAI, apiVersion: '2023-01-31', name: "[format('orphan-{0}', copyIndex())]", location: 'eastus', copy: { name: 'ids', count: 800, mode: 'serial', batchSize: 1 } }],
      };
      assert.equal((await armC.call('PUT', id, { properties: { mode: 'Incremental', template } }, '2021-04-01')).status, 201);
      await eventually(10_000, 'the deployment runs on C', async () => (await armB.call('GET', id, undefined, '2021-04-01')).body.properties.provisioningState === 'Running');
      await killChild(child);
      const ms = await eventually(10_000, 'B fails the orphaned deployment', async () => (await armB.call('GET', id, undefined, '2021-04-01')).body.properties.provisioningState === 'Failed');
      assert.equal((await armA.call('GET', id, undefined, '2021-04-01')).body.properties.error.code, 'DeploymentInterrupted');
      outcomes.push(`a deployment of a SIGKILLed instance was failed by B ${ms.toFixed(0)} ms after the kill (sweep every 300 ms)`);
    } finally {
      await killChild(child);
      await rm(cDir, { recursive: true, force: true });
    }
  });

  test("an assignment removed while B's change feed was cut stops granting on B after the resync", async () => {
    const restA = await rest(a.dataDir);
    const app = await restA.createApp('resync-app');
    const token = await restA.appToken(app.appId, app.password);
    const name = randomUUID();
    const put = await armA.call('PUT', `${work.rg}/providers/Microsoft.Authorization/roleAssignments/${name}`, { properties: { roleDefinitionId: `${armA.sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`, principalId: app.objectId, principalType: 'ServicePrincipal' } }, '2022-04-01');
    assert.equal(put.status, 201, put.text);
    const readOnB = async () => (await armB.call('GET', work.rg, undefined, '2025-04-01', token)).status;
    await eventually(2000, 'B grants the read', async () => (await readOnB()) === 200);
    // Cut B's listener, and remove the assignment on A before B listens again (it waits at least 100 ms).
    const admin = new pg.Client({ connectionString: a.storeUrl });
    await admin.connect();
    try {
      const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`mimic-listener-${b.store.instanceId}`]);
      assert.equal(cut.rowCount, 1);
      assert.equal((await armA.call('DELETE', `${work.rg}/providers/Microsoft.Authorization/roleAssignments/${name}`, undefined, '2022-04-01')).status, 200);
      const listening = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [`mimic-listener-${b.store.instanceId}`]);
      assert.equal(listening.rows[0].n, 0, 'the delete landed while B was not listening');
    } finally {
      await admin.end();
    }
    const ms = await eventually(5000, 'B refuses once it has resynced', async () => (await readOnB()) === 403);
    outcomes.push(`an assignment deleted while B's listener was cut stopped granting on B ${ms.toFixed(0)} ms later`);
  });

  test('after the races, the invariants hold as seen from either instance', async () => {
    for (const [arm, kv] of [[armA, kvA], [armB, kvB]] as const) {
      const { broken } = await work.check(arm, kv, new Acked());
      assert.deepEqual(broken, []);
    }
  });
});
