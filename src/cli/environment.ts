// The environment variables that let a program talk to a running Mimic: as the administrator
// (`mimic env --admin`) or, later, as a resource's managed identity (`mimic env --as`).
import { fileURLToPath } from 'node:url';
import { readAdminCredentials } from '../directory/bootstrap.js';
import { readEndpoints } from '../server/config.js';

/** The preload module that routes Azure's host names to Mimic inside Node programs. */
export const PRELOAD_MODULE = fileURLToPath(new URL('../preload/route-azure-hosts.cjs', import.meta.url));

export function nodeOptionsWithPreload(existing?: string): string {
  const ours = `--require "${PRELOAD_MODULE}"`;
  return existing && !existing.includes(PRELOAD_MODULE) ? `${existing} ${ours}` : existing?.includes(PRELOAD_MODULE) ? existing : ours;
}

/** Variables every Mimic environment shares: CA trust, endpoints, host routing. */
export async function baseEnvironment(dataDir: string): Promise<Record<string, string>> {
  const endpoints = await readEndpoints(dataDir);
  return {
    AZURE_AUTHORITY_HOST: endpoints.authorityHost,
    NODE_EXTRA_CA_CERTS: endpoints.caCertFile,
    MIMIC_ARM_ENDPOINT: endpoints.armEndpoint,
    MIMIC_DATA_DIR: dataDir,
    NODE_OPTIONS: nodeOptionsWithPreload(),
  };
}

export async function adminEnvironment(dataDir: string): Promise<Record<string, string>> {
  const creds = await readAdminCredentials(dataDir);
  return {
    AZURE_TENANT_ID: creds.tenantId,
    AZURE_CLIENT_ID: creds.clientId,
    AZURE_CLIENT_SECRET: creds.clientSecret,
    AZURE_SUBSCRIPTION_ID: creds.subscriptionId,
    ...(await baseEnvironment(dataDir)),
  };
}

/** `export K='V'` lines for POSIX shells. */
export function shellExports(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n');
}
