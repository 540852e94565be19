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

export async function pgTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = await getAdminUrl();
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
