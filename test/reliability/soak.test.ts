// A short soak: one `mimic start` child process under the soak benchmark's mixed load (IMDS
// and token-service mints, Resource Manager reads and writes with role assignments created and
// deleted, Key Vault getSecret/setSecret, blob reads and writes) for 20 s. No request may fail,
// and once the load stops and its connections close, the server's open file descriptors and
// sockets come back to what they were after a warm-up: a leaked socket or file handle per
// request shows here. Memory is the benchmark's business (bench/soak.bench.ts): too noisy for a test.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers/mimic.js';
import { readEndpoints } from '../../src/server/config.js';
import { MixedLoad, sampleProcess, type ProcessSample } from '../../bench/lib/mixedLoad.js';

const LOAD_SECONDS = Number(process.env.MIMIC_SOAK_TEST_SECONDS ?? 20);
const RPS = 40;

async function startChild(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mimic start exited ${child.exitCode}: ${stderr}`);
    if ((await readEndpoints(dataDir).catch(() => undefined))?.pid === child.pid) return child;
    if (Date.now() > deadline) throw new Error(`mimic start not ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits (up to 20 s: idle keep-alive connections close after 5 s) until the handles are back to `baseline`. */
async function backTo(pid: number, baseline: ProcessSample): Promise<ProcessSample> {
  const deadline = Date.now() + 20_000;
  let s = sampleProcess(pid);
  while ((s.fds > baseline.fds || s.sockets > baseline.sockets) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    s = sampleProcess(pid);
  }
  return s;
}

/** The handles once they stop moving (closing connections take a moment on the server's side). */
async function settledHandles(pid: number): Promise<ProcessSample> {
  let last = sampleProcess(pid);
  let stableSince = Date.now();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const s = sampleProcess(pid);
    if (s.fds !== last.fds || s.sockets !== last.sockets) stableSince = Date.now();
    else if (Date.now() - stableSince >= 1500) return s;
    last = s;
  }
  return last;
}

describe('soak (short): mixed load on one mimic start process', () => {
  test(`${LOAD_SECONDS} s of mixed load: no errors, and open handles come back to the warmed-up baseline`, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mimic-soak-'));
    let child: ChildProcess | undefined;
    try {
      child = await startChild(dataDir);
      const pid = child.pid!;
      const e = await readEndpoints(dataDir);
      const admin = JSON.parse(await readFile(join(dataDir, 'admin.json'), 'utf8'));
      const load = await MixedLoad.prepare({ origin: e.origin, subscriptionId: e.subscriptionId, tenantId: admin.tenantId, ca: await readFile(e.caCertFile, 'utf8'), admin });
      // Warm-up: every kind of request has run, pools and files are open.
      await load.run(RPS, 4000);
      load.close();
      const baseline = await settledHandles(pid);
      const during: ProcessSample[] = [];
      const sampler = setInterval(() => during.push(sampleProcess(pid)), 1000);
      await load.run(RPS, LOAD_SECONDS * 1000);
      clearInterval(sampler);
      load.close();
      const after = await backTo(pid, baseline);
      t.diagnostic(`${load.totalRequests()} requests, ${load.totalErrors()} errors; fds ${baseline.fds} (sockets ${baseline.sockets}) after warm-up, at most ${Math.max(...during.map((s) => s.fds))} under load, ${after.fds} (sockets ${after.sockets}) after`);
      assert.deepEqual(load.stats.errorSamples, [], 'no request failed');
      assert.equal(load.totalErrors(), 0);
      assert.ok(load.totalRequests() >= LOAD_SECONDS * RPS * 0.5, `the load ran (${load.totalRequests()} requests)`);
      for (const kind of ['imds.token (cached)', 'sts.token (client secret)', 'arm.read', 'arm.roleAssignment create+delete', 'keyvault.getSecret', 'keyvault.setSecret', 'blob.read', 'blob.write']) {
        assert.ok((load.stats.requests[kind] ?? 0) > 0, `${kind} was exercised`);
      }
      assert.ok(after.fds <= baseline.fds, `file descriptors back to the baseline: ${after.fds} after, ${baseline.fds} before`);
      assert.ok(after.sockets <= baseline.sockets, `sockets back to the baseline: ${after.sockets} after, ${baseline.sockets} before`);
    } finally {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
