// Azurite (Microsoft's storage emulator) run inside Mimic: one Blob, Queue and Table server,
// loaded on first use so instances without storage accounts never pay for it.
//
// Two ways in:
//  - `listener(service)`: Azurite's request handler, to which the gate hands a request it has
//    authenticated and authorized (on the gate's own TLS socket, so Azurite sees HTTPS and
//    accepts the internal bearer token the gate substitutes; Azurite itself checks no
//    signature, which is why nothing but the gate may present one);
//  - `origin(service)`: Azurite's own loopback HTTP listener, which only honours account keys
//    (Azurite refuses bearer tokens over plain HTTP). Mimic's internal calls (ARM-created
//    containers, tag look-ups) and the benchmark's direct baseline use it.
//
// Azurite learns accounts from AZURITE_ACCOUNTS at start; Mimic instead answers its
// per-server account look-up from the live account registry, so accounts come and go
// without a restart.
import { createRequire } from 'node:module';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type StorageService = 'blob' | 'queue' | 'table';
export const STORAGE_SERVICES: readonly StorageService[] = ['blob', 'queue', 'table'];

export interface AzuriteAccount {
  name: string;
  key1: Buffer;
  key2?: Buffer;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The parts of Azurite's server classes Mimic relies on (Azurite ships no type declarations). */
interface AzuriteServer {
  httpServer: Server;
  accountDataStore: { getAccount(name: string): AzuriteAccount | undefined };
  start(): Promise<void>;
  close(): Promise<void>;
}
type ServerClass = new (config: unknown) => AzuriteServer;
type ConfigClass = new (...args: unknown[]) => unknown;

interface Running {
  servers: Record<StorageService, AzuriteServer>;
  listeners: Record<StorageService, RequestListener>;
  origins: Record<StorageService, string>;
}

const HOST = '127.0.0.1';

export class AzuriteBackend {
  private running?: Running;
  private starting?: Promise<Running>;
  private closed = false;

  constructor(
    /** Directory for Azurite's databases and blob/queue extents. */
    private readonly location: string,
    private readonly accountOf: (name: string) => AzuriteAccount | undefined,
  ) {}

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Starts the three servers once; later calls wait for the same start. */
  start(): Promise<Running> {
    if (this.running) return Promise.resolve(this.running);
    if (this.closed) return Promise.reject(new Error('the storage emulator is closed'));
    this.starting ??= this.boot().then(
      (r) => (this.running = r),
      (err: unknown) => {
        this.starting = undefined;
        throw err;
      },
    );
    return this.starting;
  }

  /** Azurite's handler for a service, or undefined before `start()` finished. */
  listener(service: StorageService): RequestListener | undefined {
    return this.running?.listeners[service];
  }

  /** `http://127.0.0.1:PORT` of Azurite's own listener (key-authenticated requests only). */
  async origin(service: StorageService): Promise<string> {
    return (await this.start()).origins[service];
  }

  async close(): Promise<void> {
    this.closed = true;
    const r = this.running ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    this.running = undefined;
    if (!r) return;
    for (const s of Object.values(r.servers)) {
      s.httpServer.closeAllConnections?.();
      await s.close().catch(() => undefined);
    }
  }

  private async boot(): Promise<Running> {
    const require = createRequire(import.meta.url);
    const load = (path: string) => (require(`azurite/dist/src/${path}`) as { default: unknown }).default;
    const dirs = { blob: join(this.location, 'blob'), queue: join(this.location, 'queue'), table: join(this.location, 'table') };
    for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
    // Loose mode and no api-version check: the SDKs send versions newer than Azurite knows.
    const loose = true;
    const skipApiVersionCheck = true;
    const oauth = 'basic';
    const blobConfig = new (load('blob/BlobConfiguration') as ConfigClass)(
      HOST, 0, 30,
      join(dirs.blob, '__azurite_db_blob__.json'), join(dirs.blob, '__azurite_db_blob_extent__.json'),
      [{ locationId: 'Default', locationPath: join(dirs.blob, 'extents'), maxConcurrency: 10 }],
      false, undefined, false, undefined, loose, skipApiVersionCheck, '', '', '', oauth, false, false,
    );
    const queueConfig = new (load('queue/QueueConfiguration') as ConfigClass)(
      HOST, 0, 30,
      join(dirs.queue, '__azurite_db_queue__.json'), join(dirs.queue, '__azurite_db_queue_extent__.json'),
      [{ locationId: 'Default', locationPath: join(dirs.queue, 'extents'), maxConcurrency: 1 }],
      false, undefined, false, undefined, loose, skipApiVersionCheck, '', '', '', oauth, false, false,
    );
    const tableConfig = new (load('table/TableConfiguration') as ConfigClass)(
      HOST, 0, 30, join(dirs.table, '__azurite_db_table__.json'),
      false, false, undefined, undefined, loose, skipApiVersionCheck, '', '', '', oauth, false, false,
    );
    const servers: Record<StorageService, AzuriteServer> = {
      blob: new (load('blob/BlobServer') as ServerClass)(blobConfig),
      queue: new (load('queue/QueueServer') as ServerClass)(queueConfig),
      table: new (load('table/TableServer') as ServerClass)(tableConfig),
    };
    const listeners = {} as Record<StorageService, RequestListener>;
    const origins = {} as Record<StorageService, string>;
    try {
      for (const service of STORAGE_SERVICES) {
        const server = servers[service];
        // Every authenticator asks this one method; answer it from Mimic's registry.
        server.accountDataStore.getAccount = (name: string) => this.accountOf(name);
        const handler = server.httpServer.listeners('request')[0] as RequestListener | undefined;
        if (!handler) throw new Error(`Azurite ${service} server has no request handler`);
        listeners[service] = handler;
        await server.start();
        origins[service] = `http://${HOST}:${(server.httpServer.address() as AddressInfo).port}`;
      }
    } catch (err) {
      for (const s of Object.values(servers)) await s.close().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      for (const s of Object.values(servers)) await s.close().catch(() => undefined);
      throw new Error('the storage emulator was closed while starting');
    }
    return { servers, listeners, origins };
  }
}
