// Where an instance keeps its files, and how `mimic env`/`mimic run` find a running instance.
import { chmod, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const DEFAULT_PORT = 8443;

export function resolveDataDir(dir?: string): string {
  return resolve(dir ?? process.env.MIMIC_DATA_DIR ?? '.mimic');
}

/** Written by `mimic start` once listening; read by the other commands. */
export interface Endpoints {
  pid: number;
  /** The HTTPS origin: Resource Manager, token service, health. */
  origin: string;
  armEndpoint: string;
  authorityHost: string;
  tenantId: string;
  subscriptionId: string;
  caCertFile: string;
  /** Listeners of other services, by name (e.g. imds). */
  listeners: Record<string, string>;
  /**
   * Azure host names (exact, or `*.suffix`) and the local `host:port` that serves them;
   * read by the preload module that `mimic env` puts into NODE_OPTIONS.
   */
  routes: Record<string, string>;
}

export const ENDPOINTS_FILE = 'endpoints.json';

export async function writeEndpoints(dataDir: string, e: Endpoints): Promise<void> {
  await writeFile(join(dataDir, ENDPOINTS_FILE), JSON.stringify(e, null, 2) + '\n', { mode: 0o644 });
}

export async function readEndpoints(dataDir: string): Promise<Endpoints> {
  try {
    return JSON.parse(await readFile(join(dataDir, ENDPOINTS_FILE), 'utf8')) as Endpoints;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`Mimic has not been started with data dir ${dataDir}: run \`mimic start --data-dir ${dataDir}\` first`);
    }
    throw err;
  }
}

/**
 * Makes the data dir owner-only whatever its prior mode: the process umask keeps group and
 * others off every file and folder created from now on (Mimic's and the embedded Azurite's,
 * which creates its files with default modes), and what an earlier run or the user left
 * open is closed.
 */
export async function tightenDataDir(dir: string): Promise<void> {
  process.umask(0o077);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isSymbolicLink()) return;
    if (st.mode & 0o077) await chmod(path, st.mode & 0o700);
    if (st.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(dir);
}
