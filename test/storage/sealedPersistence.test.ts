// The sealed persistence under the storage emulator, driven directly: the framed extent store
// (ranges across frames and chunks, streaming input, tampering, truncation, a moved file, a
// wrong key, Azurite's own garbage collector deleting unreferenced extents), the sealing
// LokiJS adapter, and the check that Azurite's internals still have the shape Mimic assembles.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rename, rm, truncate, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Sealer } from '../../src/crypto/masterKey.js';
import { AZURITE_SHAPES, AZURITE_VERSION, checkAzuriteShapes, constructorParams, installedAzuriteVersion, loadAzuriteParts, type ExtentChunk } from '../../src/services/storage/azuriteParts.js';
import { FRAME_SIZE, SealedExtentStore, plaintextLength } from '../../src/services/storage/sealedExtentStore.js';
import { SealedLokiAdapter, openDatabase } from '../../src/services/storage/sealedLokiAdapter.js';
import { ROOT } from '../helpers/mimic.js';

async function bytesOf(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** `data` as a stream of uneven pieces, as an HTTP body arrives. */
function trickle(data: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = [1, 7000, 65536, 100_003, 3][i % 5]!;
    pieces.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(pieces);
}

describe('sealed extent store', () => {
  const parts = loadAzuriteParts();
  const sealer = Sealer.fromKey(randomBytes(32));
  let dir: string;
  let store: SealedExtentStore;
  let metadata: InstanceType<typeof parts.LokiExtentMetadataStore>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mimic-extents-'));
    metadata = new parts.LokiExtentMetadataStore(join(dir, 'extents.json'), false);
    metadata.db.persistenceAdapter = new SealedLokiAdapter(sealer);
    store = new SealedExtentStore(sealer, 'blob', join(dir, 'sealed'), metadata);
    await store.init();
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('every size reads back whole and in ranges that cross frames, from buffers and from streams', async () => {
    for (const size of [0, 1, FRAME_SIZE - 1, FRAME_SIZE, FRAME_SIZE + 1, 3 * FRAME_SIZE + 5, 9 * FRAME_SIZE + 77]) {
      const data = randomBytes(size);
      for (const source of [data, trickle(data)]) {
        const chunk = await store.appendExtent(source);
        assert.deepEqual({ offset: chunk.offset, count: chunk.count }, { offset: 0, count: size });
        assert.ok((await bytesOf(await store.readExtent(chunk))).equals(data), `whole, size ${size}`);
        const file = await stat(join(store.dir, chunk.id));
        assert.equal(plaintextLength(file.size), size);
        assert.equal(file.mode & 0o077, 0);
        if (size < 2) continue;
        for (const [offset, count] of [[0, 1], [size - 1, 1], [FRAME_SIZE - 3, 7], [1, size - 2], [Math.floor(size / 3), Math.floor(size / 2)]] as const) {
          if (offset + count > size || count <= 0) continue;
          const got = await bytesOf(await store.readExtent({ id: chunk.id, offset, count }));
          assert.ok(got.equals(data.subarray(offset, offset + count)), `size ${size} range ${offset}+${count}`);
        }
      }
    }
    assert.equal((await readdir(store.dir)).filter((n) => n.endsWith('.partial')).length, 0);
  });

  test('readExtents joins chunks the way Azurite lays out blocks and page ranges, zeros included', async () => {
    const a = randomBytes(100_000);
    const b = randomBytes(70_000);
    const ca = await store.appendExtent(a);
    const cb = await store.appendExtent(b);
    // A block list: part of a, a zero range, all of b.
    const chunks: ExtentChunk[] = [{ id: ca.id, offset: 10, count: 90_000 }, { id: '*ZERO*', offset: 0, count: 512 }, cb];
    const whole = Buffer.concat([a.subarray(10, 90_010), Buffer.alloc(512), b]);
    assert.ok((await bytesOf(await store.readExtents(chunks))).equals(whole));
    for (const [offset, count] of [[0, 10], [89_990, 600], [90_500, 70_012], [1, whole.length - 1]] as const) {
      assert.ok((await bytesOf(await store.readExtents(chunks, offset, count))).equals(whole.subarray(offset, offset + count)), `${offset}+${count}`);
    }
    await assert.rejects(store.readExtents(chunks, 0, whole.length + 1), RangeError);
  });

  test('nothing of the plaintext is on disk', async () => {
    const secret = Buffer.from(`MARKER-${randomBytes(16).toString('hex')}`.repeat(50));
    await store.appendExtent(secret);
    for (const name of await readdir(store.dir)) assert.equal((await readFile(join(store.dir, name))).includes(secret.subarray(0, 40)), false);
  });

  test('an altered, truncated or moved extent, or another master key, fails to read instead of returning wrong bytes', async () => {
    const data = randomBytes(3 * FRAME_SIZE + 10);
    const read = (s: SealedExtentStore, id: string) => s.readExtent({ id, offset: 0, count: data.length }).then(bytesOf);
    const flipped = await store.appendExtent(data);
    const path = join(store.dir, flipped.id);
    const bytes = await readFile(path);
    bytes[bytes.length - 5]! ^= 1;
    await writeFile(path, bytes);
    await assert.rejects(read(store, flipped.id), /failed authentication at frame 3/);

    const cut = await store.appendExtent(data);
    await truncate(join(store.dir, cut.id), 24 + 3 * (FRAME_SIZE + 16)); // at a frame boundary
    await assert.rejects(read(store, cut.id), /shorter than its records say/);
    // After a restart (nothing remembered), what is left looks whole, but its new last frame was
    // not sealed as the last one.
    const restarted = new SealedExtentStore(sealer, 'blob', store.dir, metadata);
    await assert.rejects(read(restarted, cut.id), /shorter than its records say/);
    await assert.rejects(restarted.readExtent({ id: cut.id, offset: 2 * FRAME_SIZE, count: 10 }).then(bytesOf), /failed authentication at frame 2/);

    const original = await store.appendExtent(data);
    const moved = await store.appendExtent(data);
    await rename(join(store.dir, original.id), join(store.dir, moved.id));
    await assert.rejects(read(store, moved.id), /failed authentication/);
    await assert.rejects(read(new SealedExtentStore(sealer, 'blob', store.dir, metadata), moved.id), /failed authentication/);

    const kept = await store.appendExtent(data);
    const stranger = new SealedExtentStore(Sealer.fromKey(randomBytes(32)), 'blob', store.dir, metadata);
    await assert.rejects(read(stranger, kept.id), /sealed under another master key/);
    assert.ok((await read(store, kept.id)).equals(data));
  });

  test("Azurite's garbage collector deletes unreferenced extents through the sealed store", async () => {
    const blobs = new parts.LokiBlobMetadataStore(join(dir, 'blobs.json'), false);
    blobs.db.persistenceAdapter = new SealedLokiAdapter(sealer);
    await blobs.init();
    const unreferenced = await store.appendExtent(randomBytes(1000));
    const recent = await store.appendExtent(randomBytes(1000));
    // Azurite protects extents younger than 10 minutes; age this one.
    await metadata.updateExtent({ id: unreferenced.id, locationId: 'Default', path: unreferenced.id, size: 1000, lastModifiedInMS: Date.now() - 3_600_000 });
    const gc = new parts.BlobGCManager(blobs, metadata, store, () => assert.fail('GC error'), parts.logger);
    const withInterval = gc as unknown as { gcIntervalInMS: number };
    withInterval.gcIntervalInMS = 50;
    await gc.start();
    try {
      const deadline = Date.now() + 10_000;
      while ((await readdir(store.dir)).includes(unreferenced.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await gc.close();
      await blobs.close();
    }
    const left = await readdir(store.dir);
    assert.equal(left.includes(unreferenced.id), false, 'the unreferenced extent is still on disk');
    assert.equal(left.includes(recent.id), true, 'an extent younger than 10 minutes was collected');
    await assert.rejects(store.readExtent({ id: unreferenced.id, offset: 0, count: 10 }).then(bytesOf), { code: 'ENOENT' });
  });

  test('garbage collection deletes a file only after the state that unreferenced it is saved (beforeDeleting)', async () => {
    const e = await store.appendExtent(randomBytes(100));
    let release!: () => void;
    store.beforeDeleting = () => new Promise<void>((r) => (release = r));
    try {
      const deleting = store.deleteExtents([e.id]);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await readdir(store.dir)).includes(e.id), true, 'deleted before the save');
      release();
      assert.equal(await deleting, 1);
      assert.equal((await readdir(store.dir)).includes(e.id), false);
    } finally {
      store.beforeDeleting = undefined;
    }
  });

  test('an extent file its map does not list (the map lost by a kill) is recorded again at start, so the collector sees it', async () => {
    const content = randomBytes(70_000);
    const written = await store.appendExtent(content);
    // The extent map as a kill before its autosave leaves it: without this record.
    const lostMap = new parts.LokiExtentMetadataStore(join(dir, 'extents-lost.json'), false);
    lostMap.db.persistenceAdapter = new SealedLokiAdapter(sealer);
    const restarted = new SealedExtentStore(sealer, 'blob', store.dir, lostMap);
    await restarted.init();
    try {
      const [records] = await lostMap.listExtents(written.id);
      assert.equal(records.length, 1, 'the unrecorded extent was not adopted');
      assert.equal(records[0]!.size, content.length);
      assert.ok(Date.now() - (records[0]!.LastModifyInMS ?? 0) < 60_000, 'adopted as young, so a write in progress is not collected');
      assert.deepEqual(await bytesOf(await restarted.readExtent({ id: written.id, offset: 0, count: content.length })), content);
    } finally {
      await restarted.close();
    }
  });
});

describe('sealed LokiJS adapter', () => {
  const sealer = Sealer.fromKey(randomBytes(32));
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mimic-loki-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const load = (adapter: SealedLokiAdapter, path: string) => new Promise<unknown>((resolve) => adapter.loadDatabase(path, resolve));
  const save = (adapter: SealedLokiAdapter, path: string, text: string) => new Promise<unknown>((resolve) => adapter.saveDatabase(path, text, resolve));

  test('saves sealed and atomically, loads back, and refuses clear, foreign or misplaced files', async () => {
    const adapter = new SealedLokiAdapter(sealer);
    const path = join(dir, 'a.json');
    assert.equal(await load(adapter, path), null, 'a missing database is a new one');
    const text = JSON.stringify({ entity: `MARKER-${randomBytes(8).toString('hex')}` });
    assert.equal(await save(adapter, path, text), null);
    assert.deepEqual(await readdir(dir), ['a.json']);
    const onDisk = await readFile(path);
    assert.equal(onDisk.includes(Buffer.from('MARKER')), false);
    assert.equal((await stat(path)).mode & 0o077, 0);
    assert.equal(await load(adapter, path), text);

    assert.match(String(await load(new SealedLokiAdapter(Sealer.fromKey(randomBytes(32))), path)), /sealed under another master key/);
    await writeFile(join(dir, 'b.json'), onDisk);
    assert.match(String(await load(adapter, join(dir, 'b.json'))), /could not be opened/);
    await writeFile(join(dir, 'c.json'), text);
    assert.match(String(await load(adapter, join(dir, 'c.json'))), /not a sealed storage database/);
    assert.throws(() => openDatabase(sealer, path, Buffer.concat([onDisk.subarray(0, -1), Buffer.from([onDisk.at(-1)! ^ 1])])), /could not be opened/);
  });
});

describe("Azurite's internals, as Mimic assembles them", () => {
  test(`the installed and pinned Azurite is ${AZURITE_VERSION}`, async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    const pinned = pkg.dependencies?.azurite ?? pkg.devDependencies?.azurite;
    assert.equal(pinned, AZURITE_VERSION, `package.json must pin azurite to exactly ${AZURITE_VERSION} (src/services/storage/azuriteParts.ts was checked against it)`);
    assert.equal(installedAzuriteVersion(), AZURITE_VERSION, `azurite ${installedAzuriteVersion()} is installed: check AZURITE_SHAPES in src/services/storage/azuriteParts.ts against it, then update AZURITE_VERSION`);
  });

  test('every class, constructor and method Mimic uses is there, with the parameters in the order Mimic passes them', () => {
    const { problems } = checkAzuriteShapes();
    assert.deepEqual(problems, [], `Azurite's internals changed:\n${problems.join('\n')}`);
    assert.doesNotThrow(() => loadAzuriteParts());
  });

  test('a change of shape is reported by name', () => {
    const shape = AZURITE_SHAPES.BlobRequestListenerFactory;
    const { problems } = checkAzuriteShapes({
      BlobRequestListenerFactory: { ...shape, params: [...shape.params].reverse(), methods: [...shape.methods, 'createSealedListener'] },
      Gone: { path: 'blob/NoSuchFactory', params: [], methods: [] },
    });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0]!, /BlobRequestListenerFactory's constructor takes \(metadataStore, extentStore, .*\), expected \(disableProductStyleUrl, oauth, /);
    assert.match(problems[1]!, /BlobRequestListenerFactory lacks createSealedListener/);
    assert.match(problems[2]!, /blob\/NoSuchFactory: cannot be loaded/);
    assert.deepEqual(constructorParams(class {
      constructor(a: number, b = 2) {
        void [a, b];
      }
    }), ['a', 'b']);
  });
});
