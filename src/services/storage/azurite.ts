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
//
// Each service is assembled from Azurite's parts (azuriteParts.ts) rather than its server
// classes, so that its persistence is Mimic's: blob contents and queue messages go to a sealed
// extent store, and every LokiJS database (table entities, blob and queue records) is written
// through a sealing adapter; all under keys derived from the master key (docs/STORAGE.md).
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import type { Sealer } from '../../crypto/masterKey.js';
import { loadAzuriteParts, type AccountStore, type GcManager, type LokiStore, type RequestListenerFactory } from './azuriteParts.js';
import { SealedExtentStore } from './sealedExtentStore.js';
import { SealedLokiAdapter } from './sealedLokiAdapter.js';
import { storageLayout } from './storageAtRest.js';
import { durableListener, GroupCommit, saveDatabase } from './groupCommit.js';

export type StorageService = 'blob' | 'queue' | 'table';
export const STORAGE_SERVICES: readonly StorageService[] = ['blob', 'queue', 'table'];

export interface AzuriteAccount {
  name: string;
  key1: Buffer;
  key2?: Buffer;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** One emulator service: Azurite's request handler over Mimic's stores, on a loopback listener. */
class EmulatorServer {
  readonly httpServer: Server = createServer();
  /** The stores whose init finished: only these are closed (closing one that never loaded could save it empty). */
  private readonly opened: { close(): Promise<void>; isClosed?(): boolean }[] = [];

  constructor(
    readonly accountDataStore: AccountStore,
    /** Opened in this order (as Azurite's servers do), closed in reverse. */
    private readonly stores: { init(): Promise<void>; close(): Promise<void>; isClosed?(): boolean }[],
    factory: RequestListenerFactory,
    private readonly gc?: GcManager,
    /** Makes the service's changes durable before they are acknowledged (groupCommit.ts); absent: Loki's 5 s autosave only. */
    readonly commit?: GroupCommit,
    service = 'blob',
  ) {
    this.httpServer.keepAliveTimeout = 30_000;
    const listener = factory.createRequestListener();
    this.httpServer.on('request', commit ? durableListener(service, listener, () => commit.commit()) : listener);
  }

  async start(): Promise<void> {
    await this.accountDataStore.init();
    for (const s of this.stores) {
      await s.init();
      this.opened.push(s);
    }
    await this.gc?.start();
    await new Promise<void>((resolve, reject) => {
      this.httpServer.once('error', reject);
      this.httpServer.listen(0, HOST, () => {
        this.httpServer.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.httpServer.closeAllConnections();
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    await this.gc?.close().catch(() => undefined);
    for (const s of this.opened.reverse()) if (!s.isClosed?.()) await s.close();
    this.opened.length = 0;
    await this.accountDataStore.close();
  }
}

interface Running {
  servers: Record<StorageService, EmulatorServer>;
  listeners: Record<StorageService, RequestListener>;
  origins: Record<StorageService, string>;
}

const HOST = '127.0.0.1';

export class AzuriteBackend {
  private running?: Running;
  private starting?: Promise<Running>;
  private closed = false;

  constructor(
    /** Directory for Azurite's databases and blob/queue extents (prepared by `sealStorageAtRest`). */
    private readonly location: string,
    private readonly accountOf: (name: string) => AzuriteAccount | undefined,
    /** Seals everything the emulator writes. */
    private readonly sealer: Sealer,
    /** Acknowledge writes only once on disk (off only for the benchmark's comparison). */
    private readonly durableWrites = true,
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
    for (const s of Object.values(r.servers)) await s.close().catch(() => undefined);
  }

  private async boot(): Promise<Running> {
    for (const files of Object.values(storageLayout(this.location))) await mkdir(files.dir, { recursive: true, mode: 0o700 });
    const servers = assembleEmulator(this.location, this.sealer, { durableWrites: this.durableWrites });
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

/** Swaps LokiJS's file adapter for the sealing one, before the store loads its database. */
function sealed<T extends LokiStore>(store: T, adapter: SealedLokiAdapter): T {
  if (typeof store.db !== 'object' || store.db === null || !('persistenceAdapter' in store.db)) {
    throw new Error('the storage emulator cannot be assembled: an Azurite metadata store no longer keeps its LokiJS database in `db`');
  }
  if (typeof store.db.saveDatabase !== 'function' || typeof store.db.autosaveDirty !== 'function') {
    throw new Error('the storage emulator cannot be assembled: an Azurite metadata store\'s LokiJS database has no saveDatabase/autosaveDirty');
  }
  store.db.persistenceAdapter = adapter;
  store.db.persistenceMethod = 'adapter';
  return store;
}

/** The three services built from Azurite's parts over sealed persistence in `location`. */
export function assembleEmulator(location: string, sealer: Sealer, opts: { durableWrites?: boolean } = {}): Record<StorageService, EmulatorServer> {
  const p = loadAzuriteParts();
  const layout = storageLayout(location);
  const adapter = new SealedLokiAdapter(sealer);
  const db = (service: StorageService, i: number) => layout[service].databases[i]!;
  // Loose mode and no api-version check: the SDKs send versions newer than Azurite knows.
  const loose = true;
  const skipApiVersionCheck = true;
  const durable = opts.durableWrites ?? true;
  // Extent files first (their directory entries), then the databases that reference them. The
  // extent map is left to Loki's autosave: a blob or message record is what makes a write
  // durable, reads find an extent by its id, and an extent a kill leaves unrecorded is recorded
  // at the next start (SealedExtentStore.init) for the garbage collector. Saving the map too
  // would serialise a second, ever-growing database per group.
  const groupCommit = (databases: LokiStore[], extents?: SealedExtentStore) => {
    if (!durable) return undefined;
    const commit = new GroupCommit(async () => {
      await extents?.syncNewExtents();
      await Promise.all(databases.map((d) => saveDatabase(d.db)));
    });
    // The collector finds an extent unreferenced in the database in memory; the file goes only
    // once that state is saved, or a kill could bring back a record naming a deleted file.
    if (extents) extents.beforeDeleting = () => commit.commit();
    return commit;
  };
  const onGcError = (service: string) => () => console.error(`mimic: the storage emulator's ${service} garbage collection stopped on an error`);
  const extentService = (service: 'blob' | 'queue') => {
    const extentMetadata = sealed(new p.LokiExtentMetadataStore(db(service, 1), false), adapter);
    const extents = new SealedExtentStore(sealer, service, layout[service].sealedExtents!, extentMetadata);
    return { extentMetadata, extents };
  };

  const blobAccounts = new p.AccountDataStore(p.logger);
  const blobMetadata = sealed(new p.LokiBlobMetadataStore(db('blob', 0), false), adapter);
  const blob = extentService('blob');
  const blobServer = new EmulatorServer(
    blobAccounts,
    [blobMetadata, blob.extentMetadata, blob.extents],
    new p.BlobRequestListenerFactory(blobMetadata, blob.extents, blobAccounts, false, undefined, loose, skipApiVersionCheck, p.oauthBasic, false),
    new p.BlobGCManager(blobMetadata, blob.extentMetadata, blob.extents, onGcError('blob'), p.logger),
    groupCommit([blobMetadata], blob.extents),
    'blob',
  );

  const queueAccounts = new p.AccountDataStore(p.logger);
  const queueMetadata = sealed(new p.LokiQueueMetadataStore(db('queue', 0), false), adapter);
  const queue = extentService('queue');
  const queueServer = new EmulatorServer(
    queueAccounts,
    [queueMetadata, queue.extentMetadata, queue.extents],
    new p.QueueRequestListenerFactory(queueMetadata, queue.extents, queueAccounts, false, undefined, skipApiVersionCheck, p.oauthBasic, false),
    new p.QueueGCManager(queueMetadata, queue.extentMetadata, queue.extents, onGcError('queue'), p.logger),
    groupCommit([queueMetadata], queue.extents),
    'queue',
  );

  const tableAccounts = new p.AccountDataStore(p.logger);
  const tableMetadata = sealed(new p.LokiTableMetadataStore(db('table', 0), false), adapter);
  const tableServer = new EmulatorServer(
    tableAccounts,
    [tableMetadata],
    new p.TableRequestListenerFactory(tableMetadata, tableAccounts, false, undefined, skipApiVersionCheck, p.oauthBasic, false),
    undefined,
    groupCommit([tableMetadata]),
    'table',
  );

  return { blob: blobServer, queue: queueServer, table: tableServer };
}
