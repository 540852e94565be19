// The instance master key seals every secret Mimic keeps at rest (signing keys, CA key,
// Key Vault secret values, ...). Instances sharing one PostgreSQL database must be
// given the same key, so it comes from MIMIC_MASTER_KEY when set.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync, timingSafeEqual, createHash, hkdfSync } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

const KEY_FILE = 'master.key';
// Fixed salt: a passphrase must derive the same key on every instance that shares a database.
const PASSPHRASE_SALT = 'mimic-master-key-v1';

export class Sealer {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): Sealer {
    if (key.length !== 32) throw new Error('master key must be 32 bytes');
    return new Sealer(Buffer.from(key));
  }

  /** A 32-byte base64 value is used as the key itself; anything else is a passphrase. */
  static fromSetting(value: string): Sealer {
    const trimmed = value.trim();
    if (/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) return Sealer.fromKey(Buffer.from(trimmed, 'base64'));
    if (trimmed.length < 12) throw new Error('MIMIC_MASTER_KEY: a passphrase needs at least 12 characters (or give a base64 32-byte key)');
    return Sealer.fromKey(scryptSync(trimmed, PASSPHRASE_SALT, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }));
  }

  /** MIMIC_MASTER_KEY if set, otherwise an owner-only key file in the data dir (created on first use). */
  static async open(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Sealer> {
    const setting = env.MIMIC_MASTER_KEY;
    if (setting) return Sealer.fromSetting(setting);
    const file = join(dataDir, KEY_FILE);
    try {
      return Sealer.fromKey(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    try {
      await writeFile(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return Sealer.open(dataDir, env);
      throw err;
    }
    return Sealer.fromKey(key);
  }

  /** A short fingerprint so instances can detect that they were given different keys. */
  fingerprint(): string {
    return createHash('sha256').update('mimic-fingerprint').update(this.key).digest('base64url').slice(0, 16);
  }

  /**
   * AES-256-GCM. `context` is bound as associated data so a sealed value cannot be
   * moved to another record (e.g. swapping two secrets' ciphertexts fails to open).
   */
  seal(plaintext: Buffer | string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
    return `v1.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
  }

  open(sealed: string, context: string): Buffer {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(parts[1]!, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(parts[2]!, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64url')), decipher.final()]);
  }

  openText(sealed: string, context: string): string {
    return this.open(sealed, context).toString('utf8');
  }

  /**
   * A 32-byte key derived from the master key (HKDF-SHA256) for one purpose, for callers that
   * need their own cipher layout (e.g. seekable framed storage); the master key never leaves.
   * `info` names the purpose and the object, `salt` makes each file's key its own.
   */
  subkey(info: string, salt: Buffer = Buffer.alloc(0)): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, salt, Buffer.from(info, 'utf8'), 32));
  }

}

/** Hash of a high-entropy random secret (client secrets, endpoint secrets): not a password, so no slow KDF. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
