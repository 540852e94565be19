// Durability: `mimic start` in a child process is SIGKILLed in the middle of a stream of
// writes (user-assigned identities, each with its service principal in the same batch, and
// role assignments for them), then started again on the same data dir and store. Every write
// that was acknowledged (201) must be there after the restart, and the invariants must hold:
// no identity without its principal, no role assignment without its principal's identity.
// 20 kills on the embedded engine. PostgreSQL (MIMIC_DURABILITY_ENGINES=postgres) is not in the
// default run yet: see docs/RELIABILITY.md.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CLI, type ENGINES } from '../helpers/mimic.js';
import { pgTestDatabase } from '../helpers/pg.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';
import { readEndpoints } from '../../src/server/config.js';

const KILLS_PER_ENGINE = 20;
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

async function startChild(dataDir: string, storeUrl?: string): Promise<{ child: ChildProcess; a: ArmCaller }> {
  const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--port', '0', ...(storeUrl ? ['--store', storeUrl] : [])], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mimic start exited ${child.exitCode}: ${stderr}`);
    try {
      const e = await readEndpoints(dataDir);
      if (e.pid === child.pid) return { child, a: await armCaller(dataDir, '2023-01-31') };
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`mimic start not ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every page of an ARM list. */
async function listAll<T>(a: ArmCaller, path: string, apiVersion: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = path;
  while (next) {
    const r = await a.call('GET', next, undefined, apiVersion);
    assert.equal(r.status, 200, r.text);
    out.push(...(r.body.value as T[]));
    next = r.body.nextLink ? new URL(r.body.nextLink as string).pathname + new URL(r.body.nextLink as string).search : undefined;
  }
  return out;
}

for (const engine of (process.env.MIMIC_DURABILITY_ENGINES?.split(',') as typeof ENGINES | undefined) ?? (['sqlite'] as typeof ENGINES)) {
  describe(`SIGKILL during writes (${engine})`, () => {
    test(`${KILLS_PER_ENGINE} kills: no acknowledged write lost, invariants hold`, async (t) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'mimic-kill-'));
      const db = engine === 'postgres' ? await pgTestDatabase() : undefined;
      const acked = { identities: new Map<string, string>(), assignments: new Set<string>() };
      let attempted = 0;
      let child: ChildProcess | undefined;
      try {
        let a: ArmCaller;
        ({ child, a } = await startChild(dataDir, db?.url));
        const rg = `${a.sub}/resourceGroups/durable`;
        assert.equal((await a.call('PUT', rg, { location: 'eastus' }, '2025-04-01')).status, 201);
        for (let kill = 0; kill < KILLS_PER_ENGINE; kill++) {
          let stop = false;
          const writer = async (w: number) => {
            for (let i = 0; !stop; i++) {
              const name = `id-${kill}-${w}-${i}`;
              attempted++;
              try {
                const r = await a.call('PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`, { location: 'eastus' });
                if (r.status !== 201) continue;
                acked.identities.set(r.body.id, r.body.properties.principalId);
                const ra = `${rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
                const p = await a.call('PUT', ra, { properties: { roleDefinitionId: `${a.sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`, principalId: r.body.properties.principalId, principalType: 'ServicePrincipal' } }, '2022-04-01');
                if (p.status === 201) acked.assignments.add(ra.toLowerCase());
              } catch {
                return; // the connection died with the process
              }
            }
          };
          const writers = [0, 1, 2].map(writer);
          await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 500)));
          const dying = child!;
          const exited = new Promise((r) => dying.once('exit', r));
          dying.kill('SIGKILL');
          stop = true;
          await Promise.all(writers);
          await exited;
          ({ child, a } = await startChild(dataDir, db?.url));
        }
        // Everything acknowledged is there, and consistent.
        const identities = await listAll<{ id: string; properties: { principalId: string } }>(a, `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, '2023-01-31');
        const present = new Map(identities.map((i) => [i.id.toLowerCase(), i.properties.principalId]));
        const principals = new Set((await listAll<{ objectId: string }>(a, '/providers/Mimic.Directory/servicePrincipals', '2025-01-01')).map((p) => p.objectId.toLowerCase()));
        const assignments = await listAll<{ id: string; properties: { principalId: string } }>(a, `${rg}/providers/Microsoft.Authorization/roleAssignments`, '2022-04-01');
        const lost = [...acked.identities.keys()].filter((id) => !present.has(id.toLowerCase())).length + [...acked.assignments].filter((id) => !assignments.some((x) => x.id.toLowerCase() === id)).length;
        t.diagnostic(`${engine}: ${KILLS_PER_ENGINE} kills, ${attempted} writes attempted, ${acked.identities.size} identities and ${acked.assignments.size} role assignments acknowledged, ${lost} lost`);
        assert.ok(acked.identities.size > KILLS_PER_ENGINE, 'writes were acknowledged between kills');
        assert.equal(lost, 0);
        for (const [id, pid] of present) assert.ok(principals.has(pid.toLowerCase()), `identity ${id} has its principal`);
        const identityPrincipals = new Set([...present.values()].map((p) => p.toLowerCase()));
        for (const x of assignments.filter((x) => x.id.toLowerCase().startsWith(rg.toLowerCase() + '/'))) assert.ok(identityPrincipals.has(x.properties.principalId.toLowerCase()), `assignment ${x.id} names an identity that exists`);
      } finally {
        if (child && child.exitCode === null) {
          const exited = new Promise((r) => child!.once('exit', r));
          child.kill('SIGKILL');
          await exited;
        }
        await rm(dataDir, { recursive: true, force: true });
        await db?.drop();
      }
    });
  });
}
