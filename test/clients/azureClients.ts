// Shared setup of the az and Python client tests: Mimic's environment as those clients get it
// with Azure's default cloud (no AZURE_AUTHORITY_HOST, no Node preload: only the proxy and the
// CA bundle route and trust Azure's names), role assignments made as the administrator, and
// `mimic run --as R -- program` with nothing inherited.
import { randomUUID } from 'node:crypto';
import { CLI, type RunResult, type TestMimic } from '../helpers/mimic.js';
import { armCaller } from '../helpers/arm.js';
import { cliEnv, runWith } from './helpers.js';

export const PYTHON = '/usr/bin/python3';

/** Role definition ids of the built-in roles the tests hand out. */
export const ROLES = {
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
} as const;

/** `mimic env --admin` as a client outside Node sees it: Azure's default authority, no preload. */
export async function defaultCloudAdminEnv(m: TestMimic): Promise<Record<string, string>> {
  const env = await cliEnv(m, '--admin');
  delete env.AZURE_AUTHORITY_HOST;
  delete env.NODE_OPTIONS;
  return env;
}

/** az with an isolated config dir, no telemetry or survey prompts. */
export function azSettings(configDir: string): Record<string, string> {
  return { AZURE_CONFIG_DIR: configDir, AZURE_CORE_COLLECT_TELEMETRY: 'no', AZURE_CORE_SURVEY_MESSAGE: 'no', AZURE_CORE_ONLY_SHOW_ERRORS: 'true', AZURE_CORE_NO_COLOR: 'true' };
}

/** Assigns a built-in role to a principal at a scope, as the administrator. */
export async function assignRole(m: TestMimic, scope: string, roleGuid: string, principalId: string): Promise<void> {
  const arm = await armCaller(m.dataDir, '2022-04-01');
  const r = await arm.call('PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`, {
    properties: { roleDefinitionId: `/subscriptions/${m.endpoints.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`, principalId, principalType: 'ServicePrincipal' },
  });
  if (r.status !== 201 && r.status !== 200) throw new Error(`role assignment failed: ${r.status} ${r.text}`);
}

/** `mimic run --as R [--flavour F] -- command args` with only PATH, HOME and `extra` around it. */
export function runAs(m: TestMimic, resource: string, command: string[], extra: Record<string, string> = {}, flavour?: string): Promise<RunResult> {
  return runWith(process.execPath, [CLI, 'run', '--as', resource, ...(flavour ? ['--flavour', flavour] : []), '--data-dir', m.dataDir, '--', ...command], extra, { timeoutMs: 120_000 });
}

/** The JSON a fixture printed last, or a helpful failure. */
export function lastJson<T = Record<string, unknown>>(r: RunResult): T {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`no JSON (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
