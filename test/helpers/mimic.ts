// Starts a real Mimic for a test (fresh data dir, free port, either store engine) and runs
// client programs against it in child processes: NODE_EXTRA_CA_CERTS and msal-node's static
// managed-identity state are per process, so every client configuration gets its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startMimic, type Mimic } from '../../src/server/app.js';
import { adminEnvironment } from '../../src/cli/environment.js';
import { pgTestDatabase } from './pg.js';

/** Package root (this file runs as dist/test/helpers/mimic.js). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(ROOT, 'dist/src/cli/main.js');
export const FIXTURES = join(ROOT, 'test/fixtures');

export type Engine = 'sqlite' | 'postgres';
export const ENGINES: Engine[] = ['sqlite', 'postgres'];

export interface TestMimic extends Mimic {
  dataDir: string;
  storeUrl?: string;
  adminEnv: Record<string, string>;
  /** Stops the server and removes its data (and database). */
  dispose(): Promise<void>;
  /** Stops the server, keeping data, and starts it again on the same data dir and store. */
  restart(): Promise<TestMimic>;
}

export async function startTestMimic(engine: Engine = 'sqlite', opts: { dataDir?: string; storeUrl?: string; env?: NodeJS.ProcessEnv } = {}): Promise<TestMimic> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'mimic-test-')));
  let db: { url: string; drop(): Promise<void> } | undefined;
  let storeUrl = opts.storeUrl;
  if (engine === 'postgres' && !storeUrl) {
    db = await pgTestDatabase();
    storeUrl = db.url;
  }
  const mimic = await startMimic({ dataDir, port: 0, storeUrl, env: opts.env ?? {} });
  const adminEnv = await adminEnvironment(dataDir);
  const t: TestMimic = {
    ...mimic,
    dataDir,
    storeUrl,
    adminEnv,
    async dispose() {
      await mimic.close();
      await rm(dataDir, { recursive: true, force: true });
      await db?.drop();
    },
    async restart() {
      await mimic.close();
      const again = await startTestMimic(engine, { dataDir, storeUrl, env: opts.env });
      const dispose = again.dispose;
      again.dispose = async () => {
        await dispose();
        await db?.drop();
      };
      return again;
    },
  };
  return t;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args...` from the package root with exactly `env` (plus PATH/HOME), collecting output. */
export function runProgram(command: string, args: string[], env: Record<string, string>, opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs `node <script> args...` with exactly `env` (plus PATH/HOME), collecting output. */
export function runNode(script: string, args: string[], env: Record<string, string>, opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return runProgram(process.execPath, [script, ...args], env, opts);
}

/** Runs a fixture script that prints one JSON document on its last stdout line. */
export async function runFixture<T = unknown>(name: string, args: string[], env: Record<string, string>): Promise<T> {
  const r = await runNode(join(FIXTURES, name), args, env);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`fixture ${name} exited ${r.code} without JSON output:\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** Runs the mimic CLI. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runNode(CLI, args, env);
}
