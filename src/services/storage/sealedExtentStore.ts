// Blob contents and queue messages sealed at rest: an extent store with the interface of
// Azurite's FSExtentStore (the emulator's handlers and garbage collector call nothing else),
// writing every append as its own file under AES-256-GCM in fixed-size frames.
//
// Why one file per append: Azurite keeps, per blob block / page range / message, the extent id
// with an offset and a length, and does arithmetic on the offset (range reads, page ranges
// split into parts). With one append per extent the offset is simply the plaintext position
// in that extent, so every offset Azurite computes maps to a frame without any index. It also
// means an extent is written once and never again, so garbage collection of unreferenced
// extents frees space at once, and a frame's nonce is never reused under its key.
//
// File layout (the "sealed extent" format, version 1):
//   header: "MSX1" | frame size (u32 BE) | salt (16 random bytes)          = 24 bytes
//   frames: ciphertext (frame size bytes, the last one shorter) | GCM tag (16 bytes)
// The key is HKDF(master key, salt, "mimic-storage-extent-v1|<service>|<extent id>"), so a file
// moved to another extent id fails to open; the nonce is the frame index with a "last frame"
// flag, so truncating a file at a frame boundary fails too; the header is associated data.
// Range reads decrypt only the frames they touch; writes stream frame by frame.
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Sealer } from '../../crypto/masterKey.js';
import type { ExtentChunk, ExtentMetadataStore, ExtentStore } from './azuriteParts.js';
import { syncDirectory } from './groupCommit.js';

const MAGIC = Buffer.from('MSX1', 'latin1');
export const FRAME_SIZE = 64 * 1024;
const TAG = 16;
const HEADER = MAGIC.length + 4 + 16;
/** Frames read per disk read (512 KiB of plaintext), each decrypted on its own. */
const FRAMES_PER_READ = 8;
/** Sealed frames gathered before one write to disk. */
const WRITE_BATCH = 4 * (FRAME_SIZE + TAG);
const PARTIAL = '.partial';
/** The only location: one directory per service. */
export const LOCATION_ID = 'Default';
/** Azurite's id for "zeros, no extent" (unwritten page ranges). */
const ZERO_EXTENT_ID = '*ZERO*';

export type ExtentService = 'blob' | 'queue';

/** What reading an extent needs besides its frames; extents never change once written, so it is cached. */
export interface SealedExtent {
  key: Buffer;
  header: Buffer;
  /** Plaintext length. */
  length: number;
}

/** Extents remembered per store (the most recently written or read): saves a header read, a stat and a key derivation per read. */
const REMEMBERED = 4096;

function nonce(frame: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n[3] = last ? 1 : 0;
  n.writeBigUInt64BE(BigInt(frame), 4);
  return n;
}

function keyInfo(service: ExtentService, id: string): string {
  return `mimic-storage-extent-v1|${service}|${id}`;
}

/** Plaintext length of a sealed extent from its file size, or undefined if no length fits. */
export function plaintextLength(fileSize: number): number | undefined {
  const body = fileSize - HEADER;
  if (body < 0) return undefined;
  const frames = Math.ceil(body / (FRAME_SIZE + TAG));
  const length = body - frames * TAG;
  return length >= 0 && Math.ceil(length / FRAME_SIZE) === frames ? length : undefined;
}

async function* chunksOf(source: Buffer | NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(source)) {
    yield source;
    return;
  }
  // Old-style streams (no async iterator) are wrapped into a Readable.
  const iterable = Symbol.asyncIterator in source ? (source as AsyncIterable<unknown>) : new Readable().wrap(source);
  for await (const c of iterable) yield Buffer.isBuffer(c) ? c : Buffer.from(c as string);
}

/**
 * Writes `source` as a sealed extent at `path` (through a `.partial` file renamed once synced, so a
 * file under its final name is always whole).
 */
export async function writeSealedExtent(sealer: Sealer, service: ExtentService, dir: string, id: string, source: Buffer | NodeJS.ReadableStream): Promise<SealedExtent> {
  const salt = randomBytes(16);
  const header = Buffer.concat([MAGIC, Buffer.alloc(4), salt]);
  header.writeUInt32BE(FRAME_SIZE, MAGIC.length);
  const key = sealer.subkey(keyInfo(service, id), salt);
  const partial = join(dir, id + PARTIAL);
  const fh = await open(partial, 'w', 0o600);
  let length = 0;
  let frame = 0;
  const out: Buffer[] = [header];
  let outLength = header.length;
  const flush = async () => {
    if (outLength === 0) return;
    const buf = out.length === 1 ? out[0]! : Buffer.concat(out, outLength);
    out.length = 0;
    outLength = 0;
    for (let written = 0; written < buf.length; ) written += (await fh.write(buf, written, buf.length - written)).bytesWritten;
  };
  const seal = async (plain: Buffer, last: boolean) => {
    const cipher = createCipheriv('aes-256-gcm', key, nonce(frame++, last));
    cipher.setAAD(header);
    const body = cipher.update(plain);
    cipher.final();
    out.push(body, cipher.getAuthTag());
    outLength += body.length + TAG;
    if (outLength >= WRITE_BATCH) await flush();
  };
  try {
    // A frame is sealed only once more data follows it, so the last one is known to be last.
    let pending: Buffer[] = [];
    let pendingLength = 0;
    for await (const chunk of chunksOf(source)) {
      length += chunk.length;
      pending.push(chunk);
      pendingLength += chunk.length;
      if (pendingLength <= FRAME_SIZE) continue;
      let all = Buffer.concat(pending, pendingLength);
      let at = 0;
      while (all.length - at > FRAME_SIZE) {
        await seal(all.subarray(at, at + FRAME_SIZE), false);
        at += FRAME_SIZE;
      }
      all = all.subarray(at);
      pending = [all];
      pendingLength = all.length;
    }
    if (pendingLength > 0) await seal(Buffer.concat(pending, pendingLength), true);
    await flush();
    await fh.datasync();
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(partial).catch(() => undefined);
    throw err;
  }
  await rename(partial, join(dir, id));
  return { key, header, length };
}

/** The plaintext bytes [offset, offset + count) of a sealed extent, decrypted frame by frame. */
export async function* readSealedExtent(sealer: Sealer, service: ExtentService, dir: string, id: string, offset: number, count: number, remembered?: Map<string, SealedExtent>): AsyncGenerator<Buffer> {
  const fh = await open(join(dir, id), 'r');
  try {
    let extent = remembered?.get(id);
    if (!extent) {
      extent = { ...(await readKey(sealer, service, id, fh)), length: plaintextLength((await fh.stat()).size) ?? -1 };
      if (remembered && extent.length >= 0) remember(remembered, id, extent);
    }
    const { key, header, length } = extent;
    if (length < 0 || offset + count > length) {
      throw new Error(`sealed extent ${service}/${id} is shorter than its records say (the file was truncated or altered)`);
    }
    const frames = Math.ceil(length / FRAME_SIZE);
    const end = offset + count;
    for (let first = Math.floor(offset / FRAME_SIZE); first * FRAME_SIZE < end; first += FRAMES_PER_READ) {
      const upto = Math.min(first + FRAMES_PER_READ, Math.ceil(end / FRAME_SIZE));
      const plainEnd = Math.min(upto * FRAME_SIZE, length);
      const physical = Buffer.allocUnsafe(plainEnd - first * FRAME_SIZE + (upto - first) * TAG);
      await readFully(fh, physical, HEADER + first * (FRAME_SIZE + TAG)).catch(() => {
        throw new Error(`sealed extent ${service}/${id} is shorter than its records say (the file was truncated or altered)`);
      });
      for (let f = first, at = 0; f < upto; f++) {
        const size = Math.min(FRAME_SIZE, length - f * FRAME_SIZE);
        const decipher = createDecipheriv('aes-256-gcm', key, nonce(f, f === frames - 1));
        decipher.setAAD(header);
        decipher.setAuthTag(physical.subarray(at + size, at + size + TAG));
        const plain = decipher.update(physical.subarray(at, at + size));
        try {
          decipher.final(); // verifies the tag: nothing is yielded before it passes
        } catch {
          throw new Error(`sealed extent ${service}/${id} failed authentication at frame ${f}: it was sealed under another master key or altered`);
        }
        at += size + TAG;
        const from = Math.max(offset - f * FRAME_SIZE, 0);
        const to = Math.min(end - f * FRAME_SIZE, size);
        yield from === 0 && to === size ? plain : plain.subarray(from, to);
      }
    }
  } finally {
    await fh.close();
  }
}

function remember(remembered: Map<string, SealedExtent>, id: string, extent: SealedExtent): void {
  remembered.delete(id);
  remembered.set(id, extent);
  if (remembered.size > REMEMBERED) remembered.delete(remembered.keys().next().value as string);
}

async function readKey(sealer: Sealer, service: ExtentService, id: string, fh: FileHandle): Promise<{ key: Buffer; header: Buffer }> {
  const header = Buffer.alloc(HEADER);
  await readFully(fh, header, 0).catch(() => {
    throw new Error(`sealed extent ${service}/${id} has no header`);
  });
  if (!header.subarray(0, MAGIC.length).equals(MAGIC) || header.readUInt32BE(MAGIC.length) !== FRAME_SIZE) {
    throw new Error(`${service}/${id} is not a sealed extent`);
  }
  return { key: sealer.subkey(keyInfo(service, id), header.subarray(MAGIC.length + 4)), header };
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let got = 0; got < buf.length; ) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) throw new Error('unexpected end of file');
    got += bytesRead;
  }
}

async function* zeros(count: number): AsyncGenerator<Buffer> {
  const block = Buffer.alloc(Math.min(count, FRAME_SIZE));
  for (let left = count; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
}

const asStream = (gen: AsyncGenerator<Buffer>) => Readable.from(gen, { objectMode: false });

/** Azurite's IExtentStore over sealed extent files in one directory. */
export class SealedExtentStore implements ExtentStore {
  private initialized = false;
  private closed = true;
  private readonly remembered = new Map<string, SealedExtent>();
  /** Run before garbage collection deletes files: saves the state that made them unreferenced (groupCommit.ts). */
  beforeDeleting?: () => Promise<void>;
  /** Extents renamed into `dir` since its last sync (see syncNewExtents). */
  private unsynced = false;

  constructor(
    private readonly sealer: Sealer,
    private readonly service: ExtentService,
    /** The directory of this service's sealed extents. */
    readonly dir: string,
    private readonly metadata: ExtentMetadataStore,
  ) {}

  isInitialized(): boolean {
    return this.initialized;
  }

  isClosed(): boolean {
    return this.closed;
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Left by a write that never finished (crash): never referenced, never readable.
    const names = await readdir(this.dir);
    for (const name of names) if (name.endsWith(PARTIAL)) await rm(join(this.dir, name), { force: true });
    if (!this.metadata.isInitialized()) await this.metadata.init();
    await this.adoptUnrecorded(names.filter((n) => !n.endsWith(PARTIAL)));
    this.initialized = true;
    this.closed = false;
  }

  /**
   * Records the extent files the extent map does not list. The group commit saves the extent map
   * only with Loki's autosave (a blob or message record is what makes a write durable; reads go
   * by extent id to the file), so a kill can leave a file unrecorded: recorded now, Azurite's
   * garbage collector frees it unless a blob or message refers to it.
   */
  private async adoptUnrecorded(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const known = new Set<string>();
    let marker: number | undefined = 0;
    do {
      const [page, next]: [{ id: string }[], number | undefined] = await this.metadata.listExtents(undefined, 5000, marker);
      for (const e of page) known.add(e.id);
      marker = next;
    } while (marker !== undefined);
    const now = Date.now();
    for (const id of names) {
      if (known.has(id)) continue;
      const size = plaintextLength((await stat(join(this.dir, id))).size);
      if (size === undefined) continue; // not a sealed extent: left alone (a read of it fails its tag)
      await this.metadata.updateExtent({ id, locationId: LOCATION_ID, path: id, size, lastModifiedInMS: now, LastModifyInMS: now });
    }
  }

  async close(): Promise<void> {
    if (!this.metadata.isClosed()) await this.metadata.close();
    this.closed = true;
  }

  async clean(): Promise<void> {
    if (!this.closed) throw new Error('cannot clean the sealed extent store while it is open');
    await rm(this.dir, { recursive: true, force: true });
  }

  async appendExtent(data: Buffer | NodeJS.ReadableStream): Promise<ExtentChunk> {
    const id = randomUUID();
    const extent = await writeSealedExtent(this.sealer, this.service, this.dir, id, data);
    this.unsynced = true;
    const count = extent.length;
    remember(this.remembered, id, extent);
    // LastModifyInMS too: Azurite's extent store copies a new record as given and its garbage
    // collector spares extents by that field, so without it a blob's extent written a moment
    // before its blob record could be collected in between.
    const now = Date.now();
    await this.metadata.updateExtent({ id, locationId: LOCATION_ID, path: id, size: count, lastModifiedInMS: now, LastModifyInMS: now });
    return { id, offset: 0, count };
  }

  async readExtent(chunk?: ExtentChunk): Promise<NodeJS.ReadableStream> {
    if (!chunk || chunk.count === 0) return asStream(zeros(0));
    if (chunk.id === ZERO_EXTENT_ID) return asStream(zeros(chunk.count));
    return asStream(readSealedExtent(this.sealer, this.service, this.dir, chunk.id, chunk.offset, chunk.count, this.remembered));
  }

  /** The bytes [offset, offset + count) of the concatenation of `chunks`, read lazily chunk by chunk. */
  async readExtents(chunks: ExtentChunk[], offset = 0, count = Infinity): Promise<NodeJS.ReadableStream> {
    if (count === 0) return asStream(zeros(0));
    const end = offset + count;
    const parts: ExtentChunk[] = [];
    let at = 0;
    for (const chunk of chunks) {
      const next = at + chunk.count;
      if (next > offset && at < end) {
        const from = chunk.offset + Math.max(offset - at, 0);
        const to = chunk.offset + chunk.count - Math.max(next - end, 0);
        parts.push({ id: chunk.id, offset: from, count: to - from });
      }
      at = next;
      if (at >= end) break;
    }
    if (end !== Infinity && at < end) {
      throw new RangeError(`Not enough payload data error. Total length of payloads is ${at}, while required data offset is ${offset}, count is ${count}.`);
    }
    const self = this;
    return asStream(
      (async function* () {
        for (const p of parts) {
          if (p.count === 0) continue;
          if (p.id === ZERO_EXTENT_ID) yield* zeros(p.count);
          else yield* readSealedExtent(self.sealer, self.service, self.dir, p.id, p.offset, p.count, self.remembered);
        }
      })(),
    );
  }

  /** Garbage collection of unreferenced extents: each is its own file, so each is freed at once. */
  async deleteExtents(ids: Iterable<string>): Promise<number> {
    await this.beforeDeleting?.();
    let n = 0;
    for (const id of ids) {
      this.remembered.delete(id);
      await unlink(join(this.dir, id)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await this.metadata.deleteExtent(id);
      n++;
    }
    return n;
  }

  /**
   * Syncs the directory entries of the extents written since the last call (their contents are
   * synced as each is written). Run by the group commit before saving the databases that
   * reference them, so a saved record never names an extent a crash of the machine could lose.
   */
  async syncNewExtents(): Promise<void> {
    if (!this.unsynced) return;
    this.unsynced = false;
    try {
      await syncDirectory(this.dir);
    } catch (err) {
      this.unsynced = true;
      throw err;
    }
  }

  getMetadataStore(): ExtentMetadataStore {
    return this.metadata;
  }
}
