// Mimic inside test suites: `import { startMimic } from 'mimic'` starts a whole Mimic in this
// process on free ports (every listener takes port 0) with a temporary or given data dir, and
// hands back the environments `mimic env --admin` and `mimic env --as R` print, so a suite can
// run its code (or child processes) against it, then `stop()`. Public types are declared here
// on purpose (no imports in the signatures), so the emitted api.d.ts stands alone.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startMimic as startServer } from './server/app.js';
import { adminEnvironment } from './cli/environment.js';
import { asEnvironment } from './cli/commands/identityRuntime.js';

export interface MimicOptions {
  /** Data directory to use (kept on stop). Default: a new temporary directory, removed on stop. */
  dataDir?: string;
  /** Port of the HTTPS origin. Default 0: this and every other listener take a free port. */
  port?: number;
  /** `postgres://...` to share state with other instances (default: the embedded SQLite store). */
  storeUrl?: string;
  /** Environment Mimic reads its settings from (MIMIC_MASTER_KEY, ...). Default: process.env. */
  env?: Record<string, string | undefined>;
}

export interface AsOptions {
  /** Token endpoint flavour to serve (imds, appService, cloudShell, machineLearning, serviceFabric); default: the host type's own. */
  flavour?: string;
  /** Sets AZURE_CLIENT_ID (DefaultAzureCredential's choice of user-assigned identity). */
  clientId?: string;
}

export interface MimicEndpoints {
  origin: string;
  armEndpoint: string;
  authorityHost: string;
  tenantId: string;
  subscriptionId: string;
  caCertFile: string;
  /** Other listeners by name (managed identity endpoint, storage, proxy...). */
  listeners: Record<string, string>;
  /** Azure host names and the local `host:port` serving each. */
  routes: Record<string, string>;
}

export interface RunningMimic {
  dataDir: string;
  endpoints: MimicEndpoints;
  /** What `mimic env --admin` prints: the administrator's client credentials, CA trust, proxy, preload. */
  admin: Record<string, string>;
  /** What `mimic env --as R` prints: R (a resource id or a unique resource name) is the caller of its token endpoint. */
  as(resource: string, options?: AsOptions): Promise<Record<string, string>>;
  /** Stops every listener; removes the data dir if it was a temporary one. */
  stop(): Promise<void>;
}

export async function startMimic(options: MimicOptions = {}): Promise<RunningMimic> {
  const temporary = options.dataDir === undefined;
  const dataDir = temporary ? await mkdtemp(join(tmpdir(), 'mimic-')) : resolve(options.dataDir!);
  let server;
  try {
    server = await startServer({ dataDir, port: options.port ?? 0, storeUrl: options.storeUrl, env: options.env ?? process.env });
  } catch (err) {
    if (temporary) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const e = server.endpoints;
  let stopped: Promise<void> | undefined;
  return {
    dataDir,
    endpoints: { origin: e.origin, armEndpoint: e.armEndpoint, authorityHost: e.authorityHost, tenantId: e.tenantId, subscriptionId: e.subscriptionId, caCertFile: e.caCertFile, listeners: { ...e.listeners }, routes: { ...e.routes } },
    admin: await adminEnvironment(dataDir),
    async as(resource, opts = {}) {
      return (await asEnvironment({ as: resource, flavour: opts.flavour, clientId: opts.clientId, dataDir })).env;
    },
    stop() {
      stopped ??= (async () => {
        await server.close();
        if (temporary) await rm(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
