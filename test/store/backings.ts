// Test fixtures: a place for a store to live (temp directory or fresh database)
// from which any number of store instances can be opened.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { pgTestDatabase } from '../helpers/pg.js';

export interface Backing {
  readonly engine: 'sqlite' | 'postgres';
  /** What openStore needs to reach this backing. */
  readonly location: { dataDir: string; url?: string };
  open(): Promise<Store>;
  dispose(): Promise<void>;
}

export async function sqliteBacking(): Promise<Backing> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mimic-store-'));
  return {
    engine: 'sqlite',
    location: { dataDir },
    open: () => openStore({ dataDir }),
    dispose: () => rm(dataDir, { recursive: true, force: true }),
  };
}

export async function postgresBacking(): Promise<Backing> {
  const db = await pgTestDatabase();
  const dataDir = join(tmpdir(), 'mimic-unused');
  return {
    engine: 'postgres',
    location: { dataDir, url: db.url },
    open: () => openStore({ dataDir, url: db.url }),
    dispose: () => db.drop(),
  };
}

export const backings: [string, () => Promise<Backing>][] = [
  ['sqlite', sqliteBacking],
  ['postgres', postgresBacking],
];

/** Polls until the predicate holds; rejects after timeoutMs. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 1000): Promise<number> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - start;
}
