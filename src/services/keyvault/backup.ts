// Backup blobs: an item with all its versions, sealed with the instance master key so only a
// vault of this Mimic (or one sharing its master key and database) can restore it — the local
// counterpart of Azure's "same subscription and geography" rule. Values inside are re-sealed
// for the target vault on restore.
import type { Sealer } from '../../crypto/masterKey.js';
import { badParameter } from './errors.js';
import type { Collection, ObjectRecord, VersionRecord } from './records.js';

const PREFIX = 'mimic-kv-backup-v1.';

export interface BackupVersion {
  record: VersionRecord;
  /** Secret value or PKCS#8 private key, in the clear inside the sealed blob. */
  material?: string;
}

export interface BackupPayload {
  coll: Collection;
  object: ObjectRecord;
  versions: BackupVersion[];
  /** Certificates carry their key and secret. */
  linked?: { keys: BackupVersion[]; secrets: BackupVersion[] };
}

const context = (coll: Collection) => `kvbackup/${coll}`;

export function sealBackup(sealer: Sealer, payload: BackupPayload): string {
  return Buffer.from(PREFIX + sealer.seal(JSON.stringify(payload), context(payload.coll)), 'utf8').toString('base64url');
}

export function openBackup(sealer: Sealer, coll: Collection, blob: unknown): BackupPayload {
  const invalid = () => badParameter('The backup blob is invalid or was not made by this Mimic instance.');
  if (typeof blob !== 'string' || blob.length === 0) throw badParameter("The property 'value' (the backup blob) is required.");
  const text = Buffer.from(blob, 'base64url').toString('utf8');
  if (!text.startsWith(PREFIX)) throw invalid();
  try {
    const payload = JSON.parse(sealer.openText(text.slice(PREFIX.length), context(coll))) as BackupPayload;
    if (payload.coll !== coll) throw invalid();
    return payload;
  } catch {
    throw invalid();
  }
}
