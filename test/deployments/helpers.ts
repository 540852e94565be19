// Shared pieces of the deployment tests: the DeploymentsClient fixture run as the administrator
// (or as another app), and templates read from test/fixtures/deployments.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, runFixture, type TestMimic } from '../helpers/mimic.js';

export interface Result {
  ok: boolean;
  value?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  status?: number;
  code?: string;
  message?: string;
  details?: Array<{ code: string; message: string; target?: string }> | null;
}

export function template(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, 'deployments', name), 'utf8')) as Record<string, unknown>;
}

/** Runs DeploymentsClient steps in a child process, as the administrator unless `env` says otherwise. */
export async function deploy(m: TestMimic, steps: Record<string, unknown>[], env: Record<string, string> = m.adminEnv): Promise<Result[]> {
  const out = await runFixture<{ results: Result[] }>('deployments/deploy.mjs', [JSON.stringify({ steps })], env);
  return out.results;
}

export function ok(r: Result | undefined): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!r?.ok) throw new Error(`step failed: ${JSON.stringify(r)}`);
  return r.value;
}
