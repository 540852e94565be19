// The environment variables that let a program talk to a running Mimic: as the administrator
// (`mimic env --admin`) or, later, as a resource's managed identity (`mimic env --as`).
import { fileURLToPath } from 'node:url';
import { readAdminCredentials } from '../directory/bootstrap.js';
import { readEndpoints } from '../server/config.js';
import { existsSync } from 'node:fs';
import { caBundlePath } from '../crypto/trustStore.js';

/** The preload module that routes Azure's host names to Mimic inside Node programs. */
export const PRELOAD_MODULE = fileURLToPath(new URL('../preload/route-azure-hosts.cjs', import.meta.url));

export function nodeOptionsWithPreload(existing?: string): string {
  const ours = `--require "${PRELOAD_MODULE}"`;
  return existing && !existing.includes(PRELOAD_MODULE) ? `${existing} ${ours}` : existing?.includes(PRELOAD_MODULE) ? existing : ours;
}

/** Loopback traffic that stays direct (Azure's names are not among them: they go to the proxy). */
export const NO_PROXY_HOSTS = 'localhost,127.0.0.1,::1';

/**
 * Proxy variables in both spellings (curl reads only lower-case http_proxy; Python and Go read
 * either). `credential` (an IMDS endpoint secret, from `mimic env --as`) goes in the userinfo, so
 * the proxy's http://169.254.169.254 answers as that resource.
 */
export function proxyEnvironment(proxyUrl: string, credential?: string): Record<string, string> {
  const url = credential ? proxyUrl.replace('://', `://imds:${credential}@`) : proxyUrl;
  return { HTTPS_PROXY: url, HTTP_PROXY: url, https_proxy: url, http_proxy: url, NO_PROXY: NO_PROXY_HOSTS, no_proxy: NO_PROXY_HOSTS };
}

/** Variables every Mimic environment shares: CA trust, endpoints, host routing. */
export async function baseEnvironment(dataDir: string): Promise<Record<string, string>> {
  const endpoints = await readEndpoints(dataDir);
  const bundle = caBundlePath(dataDir);
  return {
    AZURE_AUTHORITY_HOST: endpoints.authorityHost,
    NODE_EXTRA_CA_CERTS: endpoints.caCertFile,
    // Other stacks replace their roots with these files: the bundle keeps the system roots.
    ...(existsSync(bundle) ? { REQUESTS_CA_BUNDLE: bundle, SSL_CERT_FILE: bundle, CURL_CA_BUNDLE: bundle } : {}),
    ...(endpoints.listeners.proxy ? proxyEnvironment(endpoints.listeners.proxy) : {}),
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
