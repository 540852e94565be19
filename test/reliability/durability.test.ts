// Durability: `mimic start` in a child process is SIGKILLed at a random moment in the middle of a
// stream of writes of every kind (identities with their service principals in one batch, role
// assignments, resources with a system-assigned identity, custom roles, Key Vault secret and key
// versions, template deployments: see workload.ts), then started again on the same data dir and
// store, 20 times per engine. After every restart the writes acknowledged in that round must all be
// there (secret versions with their values), and the invariants must hold over everything stored:
// no role assignment without its definition or principal, no managed-identity principal without
// its resource and no resource without its principal (no half-applied batch), no deployment left
// running by a dead process. At the end every write acknowledged in any round is checked again.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../helpers/mimic.js';
import { pgTestDatabase } from '../helpers/pg.js';
import type { ArmCaller } from '../helpers/arm.js';
import { Acked, killChild, mergeAcked, prepare, startChild, vaultToken, WRITE_KINDS } from './workload.js';

const KILLS_PER_ENGINE = 20;
const WRITERS = 3;

for (const engine of ENGINES) {
  describe(`SIGKILL during writes (${engine})`, () => {
    test(`${KILLS_PER_ENGINE} kills: no acknowledged write lost, invariants hold after every restart`, async (t) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'mimic-kill-'));
      const db = engine === 'postgres' ? await pgTestDatabase() : undefined;
      const acked = new Acked();
      const restarts: number[] = [];
      let child: ChildProcess | undefined;
      try {
        let a: ArmCaller;
        ({ child, a } = await startChild(dataDir, db?.url));
        const work = await prepare(a, 'durable', `kill${engine}`);
        const kvToken = await vaultToken(dataDir);
        for (let kill = 0; kill < KILLS_PER_ENGINE; kill++) {
          const round = new Acked();
          let stop = false;
          const writer = async (w: number) => {
            for (let i = 0; !stop; i++) {
              try {
                await work.write(a, kvToken, WRITE_KINDS[(w + i) % WRITE_KINDS.length]!, `${kill}-${w}-${i}`, round);
              } catch {
                return; // the connection died with the process
              }
            }
          };
          const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
          await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 500)));
          await killChild(child!);
          stop = true;
          await Promise.all(writers);
          let ms: number;
          ({ child, a, ms } = await startChild(dataDir, db?.url));
          restarts.push(ms);
          // What this round acknowledged is all there, and everything stored is consistent.
          const { lost, broken } = await work.check(a, kvToken, acked, { recent: round, settledDeployments: true });
          assert.deepEqual(lost, [], `after kill ${kill + 1}: acknowledged writes lost`);
          assert.deepEqual(broken, [], `after kill ${kill + 1}: invariants broken`);
          mergeAcked(acked, round);
        }
        const { lost, broken } = await work.check(a, kvToken, acked, { settledDeployments: true });
        const per = WRITE_KINDS.map((k) => `${k} ${acked.acknowledged[k]}/${acked.attempted[k]}`).join(', ');
        restarts.sort((x, y) => x - y);
        t.diagnostic(`${engine}: ${KILLS_PER_ENGINE} kills, ${acked.total('attempted')} writes attempted, ${acked.total('acknowledged')} acknowledged (${per}), ${lost.length} lost, ${broken.length} invariants broken; restart to ready: median ${restarts[restarts.length >> 1]!.toFixed(0)} ms, max ${restarts[restarts.length - 1]!.toFixed(0)} ms`);
        assert.deepEqual(lost, []);
        assert.deepEqual(broken, []);
        for (const k of WRITE_KINDS) assert.ok(acked.acknowledged[k] > 0, `some ${k} writes were acknowledged between kills`);
      } finally {
        if (child) await killChild(child);
        await rm(dataDir, { recursive: true, force: true });
        await db?.drop();
      }
    });
  });
}
