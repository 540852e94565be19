// Starting the processes a benchmark compares: Mimic itself (`mimic start`) and the bare baseline server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoints } from '../../src/server/config.js';
import { serverCommand } from './pinning.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');
const BARE = join(ROOT, 'dist/bench/lib/bareServer.js');

export interface RunningMimic {
  child: ChildProcess;
  dataDir: string;
  endpoints: Endpoints;
  ca: string;
  admin: { tenantId: string; clientId: string; clientSecret: string; subscriptionId: string };
  stop(): void;
}

function waitFor(child: ChildProcess, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) resolve(seen);
    });
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before printing '${text}': ${seen}`)));
  });
}

/** `nodeArgs` go to Node before the CLI (e.g. a preloaded probe); `env` is added to this process's. */
export async function startMimicProcess(dataDir?: string, extraArgs: string[] = [], nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<RunningMimic> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'mimic-bench-')));
  const child = spawn(...serverCommand(process.execPath, [...nodeArgs, CLI, 'start', '--data-dir', dir, '--port', '0', ...extraArgs]), { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  await waitFor(child, 'Mimic is ready');
  const endpoints = JSON.parse(await readFile(join(dir, 'endpoints.json'), 'utf8')) as Endpoints;
  return {
    child,
    dataDir: dir,
    endpoints,
    ca: await readFile(endpoints.caCertFile, 'utf8'),
    admin: JSON.parse(await readFile(join(dir, 'admin.json'), 'utf8')),
    stop: () => child.kill('SIGKILL'),
  };
}

/** Starts the bare baseline server returning `body`; over HTTPS with Mimic's certificate when given. */
export async function startBareServer(body: string | Buffer, contentType: string, tls?: { certFile: string; keyFile: string }): Promise<{ url: string; pid: number; stop(): void }> {
  const dir = await mkdtemp(join(tmpdir(), 'mimic-bare-'));
  const bodyFile = join(dir, 'body');
  await writeFile(bodyFile, body);
  const args = tls ? ['https', bodyFile, contentType, tls.certFile, tls.keyFile] : ['http', bodyFile, contentType];
  const child = spawn(...serverCommand(process.execPath, [BARE, ...args]), { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = (await waitFor(child, '\n')).trim();
  return { url: `${tls ? 'https' : 'http'}://localhost:${port}`, pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

/** Client-credentials token for the administrator. */
export async function adminTokenFor(m: RunningMimic, resource = 'https://management.azure.com'): Promise<string> {
  const { request } = await import('node:https');
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: m.admin.clientId, client_secret: m.admin.clientSecret, scope: `${resource}/.default` }).toString();
  return new Promise((resolve, reject) => {
    const req = request(`${m.endpoints.origin}/${m.admin.tenantId}/oauth2/v2.0/token`, { method: 'POST', ca: m.ca, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text).access_token) : reject(new Error(text))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
