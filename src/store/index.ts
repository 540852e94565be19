// Entry point of the storage layer: pick an engine from configuration.

import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export * from './types.js';
export { SqliteStore, StoreInUseError } from './sqlite.js';
export { PostgresStore } from './postgres.js';

export interface OpenStoreOptions {
  /** Directory for the SQLite file (mimic.db); unused with PostgreSQL. */
  dataDir: string;
  /** postgres:// or postgresql:// URL; when absent the embedded SQLite engine is used. */
  url?: string;
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.url === undefined) return new SqliteStore(opts.dataDir);
  if (/^postgres(ql)?:\/\//i.test(opts.url)) return PostgresStore.open({ url: opts.url });
  // Show only the scheme: the rest of a URL may carry a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(opts.url)?.[1];
  throw new Error(
    `unsupported store URL${scheme ? ` scheme "${scheme}:"` : ''}: expected postgres:// or postgresql://, ` +
      'or no URL for the embedded SQLite store',
  );
}

export { armKey } from './keys.js';
export { DerivedCache } from './derived.js';
