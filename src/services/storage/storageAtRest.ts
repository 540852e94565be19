// The storage emulator's files on disk, and what Mimic does with them at start before Azurite
// ever opens them: refuse a master key other than the one they were sealed under, and seal the
// clear files an older Mimic (or plain Azurite) left in the data dir.
//
//   <location>/sealed.json                    which master key sealed this directory (fingerprint)
//   <location>/<service>/__azurite_db_*.json  Azurite's LokiJS databases, sealed (sealedLokiAdapter)
//   <location>/<blob|queue>/sealed-extents/   blob contents and queue messages (sealedExtentStore)
//   <location>/<blob|queue>/extents/          clear extents of an older Mimic: migrated, then removed
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sealer } from '../../crypto/masterKey.js';
import { DATABASE_MAGIC_LENGTH, isSealedDatabase, openDatabase, sealDatabase, writeAtomically } from './sealedLokiAdapter.js';
import { writeSealedExtent, type ExtentService } from './sealedExtentStore.js';

export type EmulatorService = 'blob' | 'queue' | 'table';

export interface ServiceFiles {
  dir: string;
  /** The service's LokiJS databases (the metadata store's first). */
  databases: string[];
  sealedExtents?: string;
  clearExtents?: string;
}

export function storageLayout(location: string): Record<EmulatorService, ServiceFiles> {
  const files = (service: EmulatorService, databases: string[], extents: boolean): ServiceFiles => {
    const dir = join(location, service);
    return { dir, databases: databases.map((d) => join(dir, d)), ...(extents ? { sealedExtents: join(dir, 'sealed-extents'), clearExtents: join(dir, 'extents') } : {}) };
  };
  return {
    blob: files('blob', ['__azurite_db_blob__.json', '__azurite_db_blob_extent__.json'], true),
    queue: files('queue', ['__azurite_db_queue__.json', '__azurite_db_queue_extent__.json'], true),
    table: files('table', ['__azurite_db_table__.json'], false),
  };
}

const MARKER = 'sealed.json';
const FORMAT = 'mimic-sealed-storage-v1';

export interface MigrationReport {
  databases: number;
  extents: number;
}

/**
 * Run at start: checks the directory's master key, then seals every clear database and extent
 * in place (each one atomically, so an interrupted migration resumes on the next start).
 */
export async function sealStorageAtRest(location: string, sealer: Sealer): Promise<MigrationReport> {
  await mkdir(location, { recursive: true, mode: 0o700 });
  const marked = await checkMarker(location, sealer);
  const report: MigrationReport = { databases: 0, extents: 0 };
  const layout = storageLayout(location);
  for (const [service, files] of Object.entries(layout) as [EmulatorService, ServiceFiles][]) {
    if (!(await exists(files.dir))) continue;
    for (const db of files.databases) {
      // LokiJS's file adapter writes `<db>~` and renames it: one left behind holds clear data.
      // A `.partial` is a sealed save cut short; the database itself is whole either way.
      await rm(`${db}~`, { force: true });
      await rm(`${db}.partial`, { force: true });
      const head = await readHead(db, DATABASE_MAGIC_LENGTH);
      if (head === undefined) continue;
      // Sealed and the marker names this key: nothing to check (spares reading every database).
      if (marked && isSealedDatabase(head, { headOnly: true })) continue;
      const content = await readFile(db);
      if (isSealedDatabase(content)) {
        // Without the marker (lost), a wrong key is still refused now rather than at first use.
        openDatabase(sealer, db, content);
        continue;
      }
      JSON.parse(content.toString('utf8')); // only a database LokiJS could have read is migrated
      await writeAtomically(db, sealDatabase(sealer, db, content.toString('utf8')));
      report.databases++;
    }
    if (files.clearExtents && files.sealedExtents && (await exists(files.clearExtents))) {
      report.extents += await migrateExtents(sealer, service as ExtentService, files.clearExtents, files.sealedExtents);
    }
  }
  // Written last: a marker always names a key that opened everything in the directory.
  if (!marked) await writeAtomically(join(location, MARKER), Buffer.from(JSON.stringify({ format: FORMAT, fingerprint: sealer.fingerprint() }) + '\n'));
  return report;
}

/** True if the directory's marker names this key; throws if it names another. */
async function checkMarker(location: string, sealer: Sealer): Promise<boolean> {
  const path = join(location, MARKER);
  const fingerprint = sealer.fingerprint();
  let marker: { format?: string; fingerprint?: string } | undefined;
  try {
    marker = JSON.parse(await readFile(path, 'utf8')) as typeof marker;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${path} is unreadable: ${(err as Error).message}`);
  }
  if (marker) {
    if (marker.format !== FORMAT) throw new Error(`${path}: unknown storage format ${String(marker.format)}`);
    if (marker.fingerprint !== fingerprint) {
      throw new Error(`the storage emulator's data in ${location} was sealed under a different master key: start Mimic with the key it was sealed with (MIMIC_MASTER_KEY or the data dir's master.key); nothing was changed`);
    }
    return true;
  }
  return false;
}

/** Each clear extent becomes one sealed extent of the same id, so every offset Azurite recorded still holds. */
async function migrateExtents(sealer: Sealer, service: ExtentService, clearDir: string, sealedDir: string): Promise<number> {
  await mkdir(sealedDir, { recursive: true, mode: 0o700 });
  let n = 0;
  for (const id of await readdir(clearDir)) {
    const clear = join(clearDir, id);
    if (!(await stat(clear)).isFile()) continue;
    await writeSealedExtent(sealer, service, sealedDir, id, createReadStream(clear));
    await unlink(clear);
    n++;
  }
  await rmdir(clearDir);
  return n;
}

/** The first `n` bytes of a file, or undefined if it does not exist. */
async function readHead(path: string, n: number): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
