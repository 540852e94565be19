// Azurite's databases sealed at rest: table entities, blob and container properties and
// metadata, queue message records and the extent maps are LokiJS databases that LokiJS
// serialises whole to one JSON text. This LokiJS persistence adapter seals that text with
// AES-256-GCM before it reaches the disk and opens it on load; it replaces LokiJS's file
// adapter on each of Azurite's stores before the store loads.
//
// File layout ("sealed database", version 1):
//   "MSD1" | salt (16) | iv (12) | GCM tag (16) | ciphertext
// key = HKDF(master key, salt, "mimic-storage-db-v1|<file name>"), header as associated data,
// so one database's file put in another's place fails to open. Writes go to a `.partial` file
// that is synced and then renamed over the old one: a crash leaves the old or the new database,
// never half of one; the directory is synced after the rename.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Sealer } from '../../crypto/masterKey.js';
import { syncDirectory } from './groupCommit.js';

const MAGIC = Buffer.from('MSD1', 'latin1');
const HEADER = MAGIC.length + 16 + 12;
const TAG = 16;

const keyInfo = (path: string) => `mimic-storage-db-v1|${basename(path)}`;

export const DATABASE_MAGIC_LENGTH = MAGIC.length;

/** Whether `content` is a sealed database (`headOnly`: only its first bytes were read). */
export function isSealedDatabase(content: Buffer, opts: { headOnly?: boolean } = {}): boolean {
  return (opts.headOnly || content.length >= HEADER + TAG) && content.subarray(0, MAGIC.length).equals(MAGIC);
}

export function sealDatabase(sealer: Sealer, path: string, text: string): Buffer {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const header = Buffer.concat([MAGIC, salt, iv]);
  const cipher = createCipheriv('aes-256-gcm', sealer.subkey(keyInfo(path), salt), iv);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([header, cipher.getAuthTag(), body]);
}

export function openDatabase(sealer: Sealer, path: string, content: Buffer): string {
  if (!isSealedDatabase(content)) throw new Error(`${path} is not a sealed storage database`);
  const header = content.subarray(0, HEADER);
  const salt = header.subarray(MAGIC.length, MAGIC.length + 16);
  const decipher = createDecipheriv('aes-256-gcm', sealer.subkey(keyInfo(path), salt), header.subarray(MAGIC.length + 16));
  decipher.setAAD(header);
  decipher.setAuthTag(content.subarray(HEADER, HEADER + TAG));
  try {
    return Buffer.concat([decipher.update(content.subarray(HEADER + TAG)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`${path} could not be opened: it was sealed under another master key (give Mimic the key it ran with: MIMIC_MASTER_KEY or the data dir's master.key) or the file was altered`);
  }
}

/** Writes `content` to `path` through a synced `.partial` file and a rename. */
export async function writeAtomically(path: string, content: Buffer): Promise<void> {
  const partial = `${path}.partial`;
  const fh = await open(partial, 'w', 0o600);
  try {
    await fh.writeFile(content);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(partial, path).catch(async (err: unknown) => {
    await unlink(partial).catch(() => undefined);
    throw err;
  });
}

type LoadCallback = (result: string | null | Error) => void;

/** LokiJS's adapter interface (`loadDatabase` / `saveDatabase` / `deleteDatabase`) over sealed files. */
export class SealedLokiAdapter {
  constructor(private readonly sealer: Sealer) {}

  loadDatabase(path: string, callback: LoadCallback): void {
    readFile(path).then(
      (content) => {
        try {
          callback(openDatabase(this.sealer, path, content));
        } catch (err) {
          callback(err as Error);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err.code === 'ENOENT' ? null : err),
    );
  }

  saveDatabase(path: string, text: string, callback: (err?: Error | null) => void): void {
    // The directory is synced too, so the rename itself survives a crash of the machine.
    writeAtomically(path, sealDatabase(this.sealer, path, text))
      .then(() => syncDirectory(dirname(path)))
      .then(
      () => callback(null),
      (err: Error) => callback(err),
    );
  }

  deleteDatabase(path: string, callback: (err?: Error | null) => void): void {
    unlink(path).then(
      () => callback(null),
      (err: NodeJS.ErrnoException) => callback(err.code === 'ENOENT' ? null : err),
    );
  }
}
