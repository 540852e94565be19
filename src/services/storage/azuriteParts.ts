// Azurite's internal building blocks, loaded by path. Azurite's server classes build their
// persistence inside their constructors with no way to pass another store, so Mimic assembles
// each service from the same parts instead (metadata stores, request-listener factory,
// garbage collector) with its own sealed extent store and sealed LokiJS adapter.
//
// These are not Azurite's public API and ship without type declarations: the constructors'
// parameter lists and the methods Mimic calls are checked against this table when the parts
// load, so a new Azurite release that changes them stops Mimic with a message naming the
// difference instead of misbehaving. package.json pins the exact release this was written for.
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The Azurite release these shapes were read from (package.json pins it exactly). */
export const AZURITE_VERSION = '3.35.0';

export interface ExtentChunk {
  id: string;
  offset: number;
  count: number;
}

export interface ExtentRecord {
  id: string;
  locationId: string;
  path: string;
  size: number;
  lastModifiedInMS: number;
  /** The field Azurite's garbage collector filters on (see SealedExtentStore.appendExtent). */
  LastModifyInMS?: number;
}

interface Lifecycle {
  init(): Promise<void>;
  close(): Promise<void>;
  isInitialized(): boolean;
  isClosed(): boolean;
}

export interface ExtentMetadataStore extends Lifecycle {
  updateExtent(extent: ExtentRecord): Promise<void>;
  deleteExtent(id: string): Promise<void>;
  /** A page of extent records after `marker`, and the next page's marker (none: the last page). */
  listExtents(id?: string, maxResults?: number, marker?: number): Promise<[ExtentRecord[], number | undefined]>;
}

/** Azurite's IExtentStore. */
export interface ExtentStore extends Lifecycle {
  clean(): Promise<void>;
  appendExtent(data: Buffer | NodeJS.ReadableStream, contextId?: string): Promise<ExtentChunk>;
  readExtent(chunk?: ExtentChunk, contextId?: string): Promise<NodeJS.ReadableStream>;
  readExtents(chunks: ExtentChunk[], offset?: number, count?: number, contextId?: string): Promise<NodeJS.ReadableStream>;
  deleteExtents(ids: Iterable<string>): Promise<number>;
  getMetadataStore(): ExtentMetadataStore;
}

/** The LokiJS database inside each of Azurite's Loki stores. */
export interface LokiDatabase {
  filename: string;
  persistenceAdapter: unknown;
  persistenceMethod: string | null;
  /** LokiJS's save (serialised at once; a call during a save waits for the next one). */
  saveDatabase(callback: (err?: Error | null) => void): void;
  /** Whether a collection changed since the last save began. */
  autosaveDirty(): boolean;
  throttledSavePending: boolean;
}

export interface LokiStore extends Lifecycle {
  db: LokiDatabase;
}

export interface AccountStore {
  getAccount(name: string): unknown;
  init(): Promise<void>;
  close(): Promise<void>;
}

export interface RequestListenerFactory {
  createRequestListener(): (req: IncomingMessage, res: ServerResponse) => void;
}

export interface GcManager {
  start(): Promise<void>;
  close(): Promise<void>;
}

type Ctor<A extends unknown[], T> = new (...args: A) => T;

export interface AzuriteParts {
  logger: unknown;
  /** Azurite's OAuthLevel.BASIC: accept bearer tokens (checking their shape only). */
  oauthBasic: number;
  AccountDataStore: Ctor<[logger: unknown], AccountStore>;
  LokiExtentMetadataStore: Ctor<[path: string, inMemory: boolean], ExtentMetadataStore & LokiStore>;
  LokiBlobMetadataStore: Ctor<[path: string, inMemory: boolean], LokiStore>;
  LokiQueueMetadataStore: Ctor<[path: string, inMemory: boolean], LokiStore>;
  LokiTableMetadataStore: Ctor<[path: string, inMemory: boolean], LokiStore>;
  /** Azurite's own clear-text extent store (the benchmark's baseline). */
  FSExtentStore: Ctor<[metadata: ExtentMetadataStore, locations: { locationId: string; locationPath: string; maxConcurrency: number }[], logger: unknown], ExtentStore>;
  BlobRequestListenerFactory: Ctor<[metadata: LokiStore, extents: ExtentStore, accounts: AccountStore, enableAccessLog: boolean, accessLog: undefined, loose: boolean, skipApiVersionCheck: boolean, oauth: number, disableProductStyleUrl: boolean], RequestListenerFactory>;
  QueueRequestListenerFactory: Ctor<[metadata: LokiStore, extents: ExtentStore, accounts: AccountStore, enableAccessLog: boolean, accessLog: undefined, skipApiVersionCheck: boolean, oauth: number, disableProductStyleUrl: boolean], RequestListenerFactory>;
  TableRequestListenerFactory: Ctor<[metadata: LokiStore, accounts: AccountStore, enableAccessLog: boolean, accessLog: undefined, skipApiVersionCheck: boolean, oauth: number, disableProductStyleUrl: boolean], RequestListenerFactory>;
  BlobGCManager: Ctor<[referred: LokiStore, all: ExtentMetadataStore, extents: ExtentStore, onError: () => void, logger: unknown], GcManager>;
  QueueGCManager: Ctor<[referred: LokiStore, all: ExtentMetadataStore, extents: ExtentStore, onError: () => void, logger: unknown], GcManager>;
}

const LIFECYCLE = ['init', 'close', 'isInitialized', 'isClosed'];
const EXTENT_STORE = [...LIFECYCLE, 'clean', 'appendExtent', 'readExtent', 'readExtents', 'deleteExtents', 'getMetadataStore'];

/** What Mimic relies on in each class: constructor parameters (by name, in order) and methods. */
export const AZURITE_SHAPES: Record<Exclude<keyof AzuriteParts, 'logger' | 'oauthBasic'>, { path: string; params: string[]; methods: string[] }> = {
  AccountDataStore: { path: 'common/AccountDataStore', params: ['logger'], methods: ['getAccount', 'init', 'close'] },
  LokiExtentMetadataStore: { path: 'common/persistence/LokiExtentMetadataStore', params: ['lokiDBPath', 'inMemory'], methods: [...LIFECYCLE, 'updateExtent', 'deleteExtent', 'listExtents', 'iteratorExtents', 'getExtentLocationId'] },
  LokiBlobMetadataStore: { path: 'blob/persistence/LokiBlobMetadataStore', params: ['lokiDBPath', 'inMemory'], methods: [...LIFECYCLE, 'iteratorExtents'] },
  LokiQueueMetadataStore: { path: 'queue/persistence/LokiQueueMetadataStore', params: ['lokiDBPath', 'inMemory'], methods: [...LIFECYCLE, 'iteratorExtents'] },
  LokiTableMetadataStore: { path: 'table/persistence/LokiTableMetadataStore', params: ['lokiDBPath', 'inMemory'], methods: LIFECYCLE },
  FSExtentStore: { path: 'common/persistence/FSExtentStore', params: ['metadata', 'persistencyConfiguration', 'logger'], methods: EXTENT_STORE },
  BlobRequestListenerFactory: {
    path: 'blob/BlobRequestListenerFactory',
    params: ['metadataStore', 'extentStore', 'accountDataStore', 'enableAccessLog', 'accessLogWriteStream', 'loose', 'skipApiVersionCheck', 'oauth', 'disableProductStyleUrl'],
    methods: ['createRequestListener'],
  },
  QueueRequestListenerFactory: {
    path: 'queue/QueueRequestListenerFactory',
    params: ['metadataStore', 'extentStore', 'accountDataStore', 'enableAccessLog', 'accessLogWriteStream', 'skipApiVersionCheck', 'oauth', 'disableProductStyleUrl'],
    methods: ['createRequestListener'],
  },
  TableRequestListenerFactory: {
    path: 'table/TableRequestListenerFactory',
    params: ['metadataStore', 'accountDataStore', 'enableAccessLog', 'accessLogWriteStream', 'skipApiVersionCheck', 'oauth', 'disableProductStyleUrl'],
    methods: ['createRequestListener'],
  },
  BlobGCManager: { path: 'blob/gc/BlobGCManager', params: ['referredExtentsProvider', 'allExtentsProvider', 'extentStore', 'errorHandler', 'logger', 'gcIntervalInMS'], methods: ['start', 'close'] },
  QueueGCManager: { path: 'queue/gc/QueueGCManager', params: ['referredExtentsProvider', 'allExtentsProvider', 'extentStore', 'errorHandler', 'logger', 'gcIntervalInMS'], methods: ['start', 'close'] },
};

/** A class's constructor parameter names, read from its source (defaults dropped). */
export function constructorParams(cls: Function): string[] | undefined {
  const m = /\bconstructor\s*\(([^)]*)\)/.exec(Function.prototype.toString.call(cls));
  if (!m) return undefined;
  return m[1]!
    .split(',')
    .map((p) => p.replace(/=.*$/s, '').trim())
    .filter((p) => p.length > 0);
}

type Shapes = Record<string, { path: string; params: string[]; methods: string[] }>;

/** Loads each class of `shapes` and lists every difference from it (empty: all as expected). */
export function checkAzuriteShapes(shapes: Shapes = AZURITE_SHAPES): { classes: Record<string, unknown>; problems: string[] } {
  const require = createRequire(import.meta.url);
  const problems: string[] = [];
  const classes: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    let cls: unknown;
    try {
      cls = (require(`azurite/dist/src/${shape.path}`) as { default?: unknown }).default;
    } catch (err) {
      problems.push(`${shape.path}: cannot be loaded (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    if (typeof cls !== 'function') {
      problems.push(`${shape.path}: has no default class`);
      continue;
    }
    const params = constructorParams(cls);
    if (params?.join(',') !== shape.params.join(',')) problems.push(`${name}'s constructor takes (${params?.join(', ') ?? '?'}), expected (${shape.params.join(', ')})`);
    const missing = shape.methods.filter((m) => typeof (cls as { prototype: Record<string, unknown> }).prototype[m] !== 'function');
    if (missing.length) problems.push(`${name} lacks ${missing.join(', ')}`);
    classes[name] = cls;
  }
  return { classes, problems };
}

/** The installed Azurite release. */
export function installedAzuriteVersion(): string {
  try {
    return (createRequire(import.meta.url)('azurite/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
}

let loaded: AzuriteParts | undefined;

/** Azurite's parts, checked against AZURITE_SHAPES; throws naming every difference found. */
export function loadAzuriteParts(): AzuriteParts {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const { classes, problems } = checkAzuriteShapes();
  let logger: unknown;
  let oauthBasic: unknown;
  try {
    logger = (require('azurite/dist/src/common/Logger') as { default?: unknown }).default;
    oauthBasic = (require('azurite/dist/src/common/models') as { OAuthLevel?: Record<string, unknown> }).OAuthLevel?.BASIC;
  } catch (err) {
    problems.push(`common/Logger or common/models: cannot be loaded (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof logger !== 'object' || logger === null) problems.push('common/Logger has no default logger');
  if (typeof oauthBasic !== 'number') problems.push('common/models has no OAuthLevel.BASIC');
  if (problems.length) {
    throw new Error(`the storage emulator cannot be assembled: Azurite ${installedAzuriteVersion()}'s internals differ from ${AZURITE_VERSION}'s, which Mimic was written for:\n  - ${problems.join('\n  - ')}\nInstall azurite@${AZURITE_VERSION} or update src/services/storage/azuriteParts.ts.`);
  }
  loaded = { ...(classes as unknown as AzuriteParts), logger, oauthBasic: oauthBasic as number };
  return loaded;
}
