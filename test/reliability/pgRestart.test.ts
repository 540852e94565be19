// PostgreSQL restarted under load: two instances share a database on a cluster of the test's own
// (scripts/pg-restart-cluster.sh, never the shared one), both stream writes of every kind
// (workload.ts), and the cluster is stopped (fast shutdown: every connection is cut), left down for
// a moment and started again. Both instances must come back by themselves (their pools reconnect,
// their change-feed listeners reconnect and resync), lose no acknowledged write, keep every
// invariant, and end up reporting the same state. Writes refused while the database is down must
// be refused in Azure's shape (503 with Retry-After), never as a crash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startMimic, type Mimic } from '../../src/server/app.js';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { pgTestDatabase, restartableCluster } from '../helpers/pg.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';
import { Acked, mergeAcked, prepare, vaultToken, WRITE_KINDS, type Workload } from './workload.js';

const DOWN_MS = 1500;
const WRITERS_PER_INSTANCE = 2;

async function eventually(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return performance.now() - start;
}

describe('PostgreSQL restarted under load (two instances)', () => {
  let cluster: Awaited<ReturnType<typeof restartableCluster>>;
  let db: Awaited<ReturnType<typeof pgTestDatabase>>;
  let a: TestMimic;
  let b: Mimic;
  let bDir: string;

  before(async () => {
    cluster = await restartableCluster();
    db = await pgTestDatabase(cluster.adminUrl);
    const env = { MIMIC_MASTER_KEY: randomBytes(32).toString('base64') };
    a = await startTestMimic('postgres', { storeUrl: db.url, env });
    bDir = await mkdtemp(join(tmpdir(), 'mimic-test-b-'));
    b = await startMimic({ dataDir: bDir, port: 0, storeUrl: db.url, env });
  });
  after(async () => {
    // Whatever happened, leave the cluster running for the next run.
    await cluster?.start().catch(() => undefined);
    await b?.close();
    await rm(bDir, { recursive: true, force: true });
    await a?.dispose();
    await db?.drop();
  });

  test('both instances reconnect, resync and lose nothing acknowledged', async (t) => {
    const armA = await armCaller(a.dataDir, '2023-01-31');
    const armB = await armCaller(bDir, '2023-01-31');
    const work: Workload = await prepare(armA, 'restart', `restart${randomBytes(3).toString('hex')}`);
    const instances = [
      { name: 'A', arm: armA, kv: await vaultToken(a.dataDir), acked: new Acked(), lastAck: 0, store: a.store },
      { name: 'B', arm: armB, kv: await vaultToken(bDir), acked: new Acked(), lastAck: 0, store: b.store },
    ];
    const refusals = new Map<string, number>();
    const note = (what: string) => refusals.set(what, (refusals.get(what) ?? 0) + 1);
    let stop = false;
    const writer = async (x: (typeof instances)[number], w: number) => {
      for (let i = 0; !stop; i++) {
        const before = x.acked.total('acknowledged');
        try {
          await work.write(x.arm, x.kv, WRITE_KINDS[(w + i) % WRITE_KINDS.length]!, `${x.name}${w}-${i}`, x.acked, (r) => note(`${r.status} ${r.body?.error?.code ?? ''}${r.headers['retry-after'] ? ' Retry-After' : ''}`.trim()));
        } catch (err) {
          note(`no answer: ${(err as Error).message.slice(0, 60)}`);
        }
        if (x.acked.total('acknowledged') > before) x.lastAck = performance.now();
        else await new Promise((r) => setTimeout(r, 20));
      }
    };
    const writers = instances.flatMap((x) => Array.from({ length: WRITERS_PER_INSTANCE }, (_, w) => writer(x, w)));

    await new Promise((r) => setTimeout(r, 1000));
    const ackedBefore = instances.map((x) => x.acked.total('acknowledged'));
    const down = performance.now();
    await cluster.stop();
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await cluster.start();
    const up = performance.now();
    // Each instance acknowledges writes again, and both listeners are back.
    const recovery = await Promise.all(instances.map((x) => eventually(30_000, `${x.name} acknowledges writes again`, async () => x.lastAck > up)));
    const admin = new pg.Client({ connectionString: cluster.adminUrl });
    await admin.connect();
    let listenersBack: number;
    try {
      listenersBack = await eventually(30_000, 'both change-feed listeners reconnect', async () => {
        const r = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ANY($1)', [instances.map((x) => `mimic-listener-${x.store.instanceId}`)]);
        return r.rows[0].n === 2;
      });
    } finally {
      await admin.end();
    }
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(writers);

    const acked = new Acked();
    for (const x of instances) mergeAcked(acked, x.acked);
    // Deployments started around the outage end (Succeeded, or Failed where the database refused a step).
    await eventually(60_000, 'deployments settle', async () => {
      const r = await armA.call('GET', `${work.rg}/providers/Microsoft.Resources/deployments`, undefined, '2021-04-01');
      return r.status === 200 && r.body.value.every((d: any) => !['Accepted', 'Running'].includes(d.properties.provisioningState));
    });
    for (const x of instances) {
      const { lost, broken } = await work.check(x.arm, x.kv, acked);
      assert.deepEqual(lost, [], `${x.name}: acknowledged writes lost`);
      assert.deepEqual(broken, [], `${x.name}: invariants broken`);
    }
    // Both instances report the same state, from their own in-memory mirrors as well.
    const views: [string, string, (body: any) => unknown][] = [
      ['/providers/Mimic.Directory/servicePrincipals', '2025-01-01', (r) => r.value.map((p: any) => p.objectId).sort()],
      [`${work.rg}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()`, '2022-04-01', (r) => r.value.map((v: any) => v.id.toLowerCase()).sort()],
      [`${work.rg}/providers/Microsoft.Authorization/roleDefinitions?$filter=type eq 'CustomRole'`, '2022-04-01', (r) => r.value.map((v: any) => v.id.toLowerCase()).sort()],
      [`${work.rg}/resources`, '2021-04-01', (r) => r.value.map((v: any) => v.id.toLowerCase()).sort()],
    ];
    for (const [path, apiVersion, pick] of views) {
      let last = '';
      await eventually(5000, `both instances agree on ${path}`, async () => {
        const [x, y] = await Promise.all([armA.call('GET', path, undefined, apiVersion), armB.call('GET', path, undefined, apiVersion)]);
        last = `${x.status} ${JSON.stringify(pick(x.body)).length} / ${y.status} ${JSON.stringify(pick(y.body)).length}`;
        return x.status === 200 && JSON.stringify(pick(x.body)) === JSON.stringify(pick(y.body));
      }).catch((err) => assert.fail(`${(err as Error).message}: ${last}`));
    }
    const refusedShapes = [...refusals.entries()].map(([k, n]) => `${k} ×${n}`).join(', ');
    t.diagnostic(
      `PostgreSQL down ${(up - down).toFixed(0)} ms (stop, ${DOWN_MS} ms, start); writes acknowledged before the stop ${ackedBefore.join('+')}, in all ${acked.total('acknowledged')} of ${acked.total('attempted')} attempted, 0 lost; ` +
        `writing again ${recovery.map((ms, i) => `${instances[i]!.name} ${ms.toFixed(0)} ms`).join(', ')} after the start; both listeners back ${listenersBack.toFixed(0)} ms after it; refused meanwhile: ${refusedShapes || 'none'}`,
    );
    for (const k of refusals.keys()) assert.ok(!k.startsWith('500'), `no 500 while the database is down: ${refusedShapes}`);
  });
});
