// Gives a test its own throw-away PostgreSQL database.
// The admin URL comes from MIMIC_TEST_PG, or from scripts/pg-setup.sh (run once per process).

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

// This file runs as dist/test/helpers/pg.js; the package root is three levels up.
const setupScript = fileURLToPath(new URL('../../../scripts/pg-setup.sh', import.meta.url));
const restartClusterScript = fileURLToPath(new URL('../../../scripts/pg-restart-cluster.sh', import.meta.url));

let adminUrl: Promise<string> | undefined;

function getAdminUrl(): Promise<string> {
  const fromEnv = process.env.MIMIC_TEST_PG;
  if (fromEnv) return Promise.resolve(fromEnv);
  adminUrl ??= run('bash', [setupScript], { timeout: 60_000 }).then(({ stdout }) => {
    const url = stdout.trim().split('\n').pop() ?? '';
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`pg-setup.sh printed no URL: ${stdout}`);
    return url;
  });
  return adminUrl;
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database on the shared cluster, or on the cluster of the given admin URL. */
export async function pgTestDatabase(adminUrlOf?: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = adminUrlOf ?? (await getAdminUrl());
  const name = `mimic_test_${randomBytes(6).toString('hex')}`;
  const ident = pg.escapeIdentifier(name);
  await withAdmin(admin, (c) => c.query(`CREATE DATABASE ${ident} ENCODING 'UTF8' TEMPLATE template0`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin(admin, async (c) => {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
      });
    },
  };
}

/**
 * The cluster a test may stop and start (scripts/pg-restart-cluster.sh: 15/mimicrestart on port
 * 5441), never the shared one other tests use at the same time.
 */
export async function restartableCluster(): Promise<{ adminUrl: string; stop(): Promise<void>; start(): Promise<void> }> {
  const script = (arg: string) => run('bash', [restartClusterScript, arg], { timeout: 120_000 });
  const { stdout } = await script('setup');
  const adminUrl = stdout.trim().split('\n').pop() ?? '';
  if (!/^postgres(ql)?:\/\//.test(adminUrl)) throw new Error(`pg-restart-cluster.sh printed no URL: ${stdout}`);
  return {
    adminUrl,
    stop: async () => void (await script('stop')),
    start: async () => void (await script('start')),
  };
}
