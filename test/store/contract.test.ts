// The Store contract, run unchanged against every engine.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, DerivedCache, type Change, type Store } from '../../src/store/index.js';
import { backings, type Backing } from './backings.js';

function storeContract(name: string, makeBacking: () => Promise<Backing>): void {
  describe(`store contract: ${name}`, () => {
    let backing: Backing;
    let store: Store;
    let n = 0;
    /** A kind no other test touches, so tests share one database without interfering. */
    const freshKind = () => `kind${++n}`;

    before(async () => {
      backing = await makeBacking();
      store = await backing.open();
    });
    after(async () => {
      await store?.close();
      await backing?.dispose();
    });

    test('reports its engine and a unique instance id', async () => {
      assert.equal(store.engine, name);
      assert.match(store.instanceId, /\S{8,}/);
      const before = store.instanceId;
      // The embedded engine admits one open store per data directory: compare across a reopen.
      if (backing.engine === 'sqlite') {
        await store.close();
        store = await backing.open();
        assert.notEqual(store.instanceId, before);
        return;
      }
      const other = await backing.open();
      try {
        assert.notEqual(other.instanceId, before);
      } finally {
        await other.close();
      }
    });

    test('get of a missing key is undefined', async () => {
      assert.equal(await store.get(freshKind(), 'nope'), undefined);
    });

    test('put then get returns an equal value with version 1, keeping key order and text exactly', async () => {
      const kind = freshKind();
      const value = { z: 1, a: [true, null, 'é ☃ 😀'], m: { y: 0.1, b: -2e-7 }, s: 'quote " and \\ and \n' };
      await store.put(kind, 'k', value);
      const got = await store.get<typeof value>(kind, 'k');
      assert.deepEqual(got, { key: 'k', value, version: 1 });
      assert.equal(JSON.stringify(got!.value), JSON.stringify(value));
      for (const scalar of [null, 0, 'text', false, [1, 2]]) {
        await store.put(kind, 'scalar', scalar);
        assert.deepEqual((await store.get(kind, 'scalar'))?.value, scalar);
      }
    });

    test('getText gives the stored JSON text and version, unparsed', async () => {
      const kind = freshKind();
      assert.equal(await store.getText(kind, 'k'), undefined);
      await store.put(kind, 'k', { b: 1, a: 'x' });
      assert.deepEqual(await store.getText(kind, 'k'), { text: '{"b":1,"a":"x"}', version: 1 });
      await store.put(kind, 'k', [1]);
      assert.deepEqual(await store.getText(kind, 'k'), { text: '[1]', version: 2 });
      await store.delete(kind, 'k');
      assert.equal(await store.getText(kind, 'k'), undefined);
    });

    test('a derived value follows every change of its entry', async () => {
      const kind = freshKind();
      let derivations = 0;
      const views = new DerivedCache<string>(store, kind, (e) => {
        derivations++;
        return `${JSON.stringify(e.value)}@${e.version}`;
      });
      assert.equal(await views.get('k'), undefined);
      await store.put(kind, 'k', { n: 1 });
      assert.equal(await views.get('k'), '{"n":1}@1');
      assert.equal(await views.get('k'), '{"n":1}@1');
      assert.equal(derivations, 1, 'an unchanged entry is not derived again');
      await store.put(kind, 'k', { n: 1 });
      assert.equal(await views.get('k'), '{"n":1}@2', 'same text, new version');
      // Deleted and created again: the version starts over at 1, the text differs.
      await store.delete(kind, 'k');
      assert.equal(await views.get('k'), undefined);
      await store.put(kind, 'k', { n: 2 });
      assert.equal(await views.get('k'), '{"n":2}@1');
    });

    test('get returns a fresh copy, not the object that was stored', async () => {
      const kind = freshKind();
      const value = { n: 1 };
      await store.put(kind, 'k', value);
      value.n = 2;
      const first = await store.get<{ n: number }>(kind, 'k');
      assert.equal(first!.value.n, 1);
      first!.value.n = 3;
      assert.equal((await store.get<{ n: number }>(kind, 'k'))!.value.n, 1);
    });

    test('every put bumps the version; a key re-created after delete starts again at 1', async () => {
      const kind = freshKind();
      await store.put(kind, 'k', 'a');
      await store.put(kind, 'k', 'b');
      await store.put(kind, 'k', 'c');
      assert.deepEqual(await store.get(kind, 'k'), { key: 'k', value: 'c', version: 3 });
      await store.delete(kind, 'k');
      assert.equal(await store.get(kind, 'k'), undefined);
      await store.put(kind, 'k', 'd');
      assert.deepEqual(await store.get(kind, 'k'), { key: 'k', value: 'd', version: 1 });
    });

    test('delete of a missing key succeeds and changes nothing', async () => {
      const kind = freshKind();
      await store.put(kind, 'a', 1);
      await store.delete(kind, 'b');
      assert.deepEqual((await store.list(kind)).map((e) => e.key), ['a']);
    });

    test('kinds are separate namespaces', async () => {
      const k1 = freshKind();
      const k2 = freshKind();
      await store.put(k1, 'same', 1);
      await store.put(k2, 'same', 2);
      assert.equal((await store.get(k1, 'same'))?.value, 1);
      assert.equal((await store.get(k2, 'same'))?.value, 2);
      assert.deepEqual((await store.list(k1)).map((e) => e.value), [1]);
      await store.delete(k1, 'same');
      assert.equal((await store.get(k2, 'same'))?.value, 2);
    });

    test('values that are not JSON are rejected and nothing is written', async () => {
      const kind = freshKind();
      await assert.rejects(store.put(kind, 'u', undefined), TypeError);
      await assert.rejects(
        store.apply([
          { op: 'put', kind, key: 'ok', value: 1 },
          { op: 'put', kind, key: 'fn', value: () => 1 },
        ]),
        TypeError,
      );
      assert.deepEqual(await store.list(kind), []);
    });

    // Keys chosen so code-point order, SQL pattern characters and separators all matter.
    const listKeys = [
      'a', 'a%', 'a%b', 'a_', 'a_b', 'a/', 'a/b', 'a/b/c', 'ab', 'abc', 'a\\b', 'B', 'b', 'é', 'éa', '😀', '😀x', '',
    ];
    const byCodePoint = (x: string, y: string) => {
      const a = Array.from(x, (c) => c.codePointAt(0)!);
      const b = Array.from(y, (c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
      return a.length - b.length;
    };

    async function seedListKind(): Promise<string> {
      const kind = freshKind();
      // Insert in a scrambled order so ordering must come from the engine.
      const scrambled = [...listKeys].sort((x, y) => (x.length * 7 + (x.codePointAt(0) ?? 0)) % 5 - (y.length * 7 + (y.codePointAt(0) ?? 0)) % 5);
      await store.apply(scrambled.map((key) => ({ op: 'put' as const, kind, key, value: { key } })));
      return kind;
    }

    test('list returns every entry ordered by key (code-point order)', async () => {
      const kind = await seedListKind();
      const all = await store.list<{ key: string }>(kind);
      assert.deepEqual(all.map((e) => e.key), [...listKeys].sort(byCodePoint));
      for (const e of all) {
        assert.equal(e.value.key, e.key);
        assert.equal(e.version, 1);
      }
    });

    test('list by prefix treats % _ / \\ literally', async () => {
      const kind = await seedListKind();
      const keysWith = async (prefix: string) => (await store.list(kind, { prefix })).map((e) => e.key);
      assert.deepEqual(await keysWith('a%'), ['a%', 'a%b']);
      assert.deepEqual(await keysWith('a_'), ['a_', 'a_b']);
      assert.deepEqual(await keysWith('a/'), ['a/', 'a/b', 'a/b/c']);
      assert.deepEqual(await keysWith('a/b'), ['a/b', 'a/b/c']);
      assert.deepEqual(await keysWith('a\\'), ['a\\b']);
      assert.deepEqual(await keysWith('ab'), ['ab', 'abc']);
      assert.deepEqual(await keysWith('é'), ['é', 'éa']);
      assert.deepEqual(await keysWith('😀'), ['😀', '😀x']);
      assert.deepEqual(await keysWith('B'), ['B']);
      assert.deepEqual(await keysWith('zz'), []);
      assert.equal((await keysWith('')).length, listKeys.length);
    });

    test('list pages with after and limit', async () => {
      const kind = await seedListKind();
      const expected = [...listKeys].sort(byCodePoint);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 50; page++) {
        const entries = await store.list(kind, { limit: 4, ...(cursor === undefined ? {} : { after: cursor }) });
        assert.ok(entries.length <= 4);
        if (entries.length === 0) break;
        seen.push(...entries.map((e) => e.key));
        cursor = entries.at(-1)!.key;
      }
      assert.deepEqual(seen, expected);
      assert.deepEqual(await store.list(kind, { limit: 0 }), []);
      assert.deepEqual((await store.list(kind, { after: 'a/b' })).map((e) => e.key), expected.filter((k) => byCodePoint(k, 'a/b') > 0));
    });

    test('list combines prefix, after and limit', async () => {
      const kind = await seedListKind();
      const keys = async (o: { prefix?: string; after?: string; limit?: number }) =>
        (await store.list(kind, o)).map((e) => e.key);
      assert.deepEqual(await keys({ prefix: 'a/', after: 'a/' }), ['a/b', 'a/b/c']);
      assert.deepEqual(await keys({ prefix: 'a/', after: 'a/', limit: 1 }), ['a/b']);
      assert.deepEqual(await keys({ prefix: 'a/', after: 'a' }), ['a/', 'a/b', 'a/b/c']);
      assert.deepEqual(await keys({ prefix: 'a', after: 'a_b', limit: 3 }), ['ab', 'abc']);
      assert.deepEqual(await keys({ prefix: 'a/', after: 'b' }), []);
      assert.deepEqual(await keys({ prefix: 'é', limit: 1 }), ['é']);
    });

    test('list rejects a bad limit', async () => {
      await assert.rejects(store.list(freshKind(), { limit: -1 }), TypeError);
      await assert.rejects(store.list(freshKind(), { limit: 1.5 }), TypeError);
    });

    test('ifAbsent: creates a new key, conflicts on an existing one', async () => {
      const kind = freshKind();
      await store.apply([{ op: 'put', kind, key: 'k', value: 1, ifAbsent: true }]);
      assert.deepEqual(await store.get(kind, 'k'), { key: 'k', value: 1, version: 1 });
      const err = await store.apply([{ op: 'put', kind, key: 'k', value: 2, ifAbsent: true }]).catch((e: unknown) => e);
      assert.ok(err instanceof ConflictError);
      assert.equal(err.reason, 'exists');
      assert.equal(err.kind, kind);
      assert.equal(err.key, 'k');
      assert.deepEqual(await store.get(kind, 'k'), { key: 'k', value: 1, version: 1 });
    });

    test('ifVersion: matches succeed, mismatches and missing keys conflict; 0 means absent', async () => {
      const kind = freshKind();
      await store.put(kind, 'k', 'v1');
      await store.apply([{ op: 'put', kind, key: 'k', value: 'v2', ifVersion: 1 }]);
      assert.deepEqual(await store.get(kind, 'k'), { key: 'k', value: 'v2', version: 2 });
      await assert.rejects(store.apply([{ op: 'put', kind, key: 'k', value: 'stale', ifVersion: 1 }]), {
        name: 'ConflictError',
        reason: 'version',
      });
      await assert.rejects(store.apply([{ op: 'put', kind, key: 'k', value: 'x', ifVersion: 0 }]), { reason: 'version' });
      await assert.rejects(store.apply([{ op: 'put', kind, key: 'missing', value: 'x', ifVersion: 1 }]), {
        reason: 'version',
      });
      assert.deepEqual(await store.get(kind, 'k'), { key: 'k', value: 'v2', version: 2 });
      assert.equal(await store.get(kind, 'missing'), undefined);
      await store.apply([{ op: 'put', kind, key: 'new', value: 'n', ifVersion: 0 }]);
      assert.deepEqual(await store.get(kind, 'new'), { key: 'new', value: 'n', version: 1 });
      await assert.rejects(store.apply([{ op: 'put', kind, key: 'k', value: 1, ifVersion: -1 }]), TypeError);
    });

    test('contradictory ifAbsent + ifVersion never writes', async () => {
      const kind = freshKind();
      await assert.rejects(
        store.apply([
          { op: 'put', kind, key: 'first', value: 1 },
          { op: 'put', kind, key: 'k', value: 1, ifAbsent: true, ifVersion: 3 },
        ]),
        { reason: 'version' },
      );
      await assert.rejects(store.apply([{ op: 'put', kind, key: 'k', value: 1, ifAbsent: true, ifVersion: 3 }]), {
        reason: 'version',
      });
      assert.deepEqual(await store.list(kind), []);
      await store.put(kind, 'k', 1);
      await assert.rejects(store.apply([{ op: 'put', kind, key: 'k', value: 2, ifAbsent: true, ifVersion: 1 }]), {
        reason: 'exists',
      });
      assert.deepEqual(await store.get(kind, 'k'), { key: 'k', value: 1, version: 1 });
    });

    test('mustExist: deletes an existing key, conflicts on a missing one', async () => {
      const kind = freshKind();
      await store.put(kind, 'k', 1);
      await store.apply([{ op: 'delete', kind, key: 'k', mustExist: true }]);
      assert.equal(await store.get(kind, 'k'), undefined);
      await assert.rejects(store.apply([{ op: 'delete', kind, key: 'k', mustExist: true }]), {
        name: 'ConflictError',
        reason: 'missing',
      });
    });

    test('delete ifVersion: deletes the version read, conflicts on a newer one or a missing key', async () => {
      const kind = freshKind();
      await store.put(kind, 'k', 1);
      await store.put(kind, 'k', 2);
      await assert.rejects(store.apply([{ op: 'delete', kind, key: 'k', ifVersion: 1 }]), { name: 'ConflictError', reason: 'version' });
      assert.deepEqual(await store.get(kind, 'k'), { key: 'k', value: 2, version: 2 }, 'a newer write is not deleted');
      await assert.rejects(store.apply([{ op: 'delete', kind, key: 'k', ifVersion: 0 }]), { reason: 'version' });
      await store.apply([{ op: 'delete', kind, key: 'k', ifVersion: 2 }]);
      assert.equal(await store.get(kind, 'k'), undefined);
      await assert.rejects(store.apply([{ op: 'delete', kind, key: 'k', ifVersion: 2 }]), { reason: 'version' });
      await assert.rejects(store.apply([{ op: 'delete', kind, key: 'k', ifVersion: 2, mustExist: true }]), { reason: 'missing' });
      await store.apply([{ op: 'delete', kind, key: 'k', ifVersion: 0 }]); // absent, as required: nothing to do
      await assert.rejects(store.apply([{ op: 'delete', kind, key: 'k', ifVersion: -1 }]), TypeError);
    });

    test('check: a precondition on a key the batch does not write; the key is left as it was', async () => {
      const kind = freshKind();
      await store.put(kind, 'group', 'g');
      await store.put(kind, 'group', 'g2');
      const seen: Change[] = [];
      const stop = store.subscribe((c) => {
        if (c.kind === kind) seen.push(c);
      });
      try {
        await store.apply([{ op: 'check', kind, key: 'group', ifVersion: 2 }, { op: 'put', kind, key: 'member', value: 'm' }]);
        assert.deepEqual(await store.get(kind, 'member'), { key: 'member', value: 'm', version: 1 });
        assert.deepEqual(await store.get(kind, 'group'), { key: 'group', value: 'g2', version: 2 }, 'the checked key is not written');
        assert.deepEqual(seen.map((c) => c.key), ['member'], 'a check announces no change');
        await assert.rejects(store.apply([{ op: 'put', kind, key: 'member', value: 'stale' }, { op: 'check', kind, key: 'group', ifVersion: 1 }]), { name: 'ConflictError', kind, key: 'group', reason: 'version' });
        assert.equal((await store.get(kind, 'member'))?.value, 'm', 'a failed check rolls back the batch');
        await store.apply([{ op: 'check', kind, key: 'absent', ifVersion: 0 }, { op: 'put', kind, key: 'member', value: 'm2' }]);
        await assert.rejects(store.apply([{ op: 'check', kind, key: 'group', ifVersion: 0 }]), { reason: 'version' });
        await store.delete(kind, 'group');
        await assert.rejects(store.apply([{ op: 'check', kind, key: 'group', ifVersion: 2 }, { op: 'put', kind, key: 'member', value: 'orphan' }]), { reason: 'version' });
        assert.equal((await store.get(kind, 'member'))?.value, 'm2');
        await assert.rejects(store.apply([{ op: 'check', kind, key: 'group' } as never]), TypeError);
        await assert.rejects(store.apply([{ op: 'check', kind, key: 'group', ifVersion: 1.5 }]), TypeError);
      } finally {
        stop();
      }
    });

    test('a failed precondition anywhere in a batch leaves nothing written', async () => {
      const kind = freshKind();
      await store.put(kind, 'existing', 'orig');
      await store.put(kind, 'doomed', 'orig');
      const cases: { failing: Parameters<Store['apply']>[0][number]; reason: string }[] = [
        { failing: { op: 'put', kind, key: 'existing', value: 'x', ifAbsent: true }, reason: 'exists' },
        { failing: { op: 'put', kind, key: 'existing', value: 'x', ifVersion: 7 }, reason: 'version' },
        { failing: { op: 'delete', kind, key: 'ghost', mustExist: true }, reason: 'missing' },
        { failing: { op: 'delete', kind, key: 'existing', ifVersion: 9 }, reason: 'version' },
      ];
      for (const { failing, reason } of cases) {
        await assert.rejects(
          store.apply([
            { op: 'put', kind, key: 'new1', value: 1 },
            { op: 'put', kind, key: 'existing', value: 'changed' },
            { op: 'delete', kind, key: 'doomed' },
            failing,
            { op: 'put', kind, key: 'new2', value: 2 },
          ]),
          { name: 'ConflictError', reason },
        );
        assert.deepEqual(
          (await store.list(kind)).map((e) => [e.key, e.value, e.version]),
          [
            ['doomed', 'orig', 1],
            ['existing', 'orig', 1],
          ],
        );
      }
    });

    test('ops in a batch apply in order and see earlier ops of the same batch', async () => {
      const kind = freshKind();
      await store.apply([
        { op: 'put', kind, key: 'k', value: 1, ifAbsent: true },
        { op: 'put', kind, key: 'k', value: 2, ifVersion: 1 },
        { op: 'delete', kind, key: 'k', mustExist: true },
        { op: 'put', kind, key: 'k', value: 3, ifVersion: 0 },
        { op: 'put', kind, key: 'other', value: 'o' },
        { op: 'put', kind, key: 'k', value: 4 },
      ]);
      assert.deepEqual(await store.list(kind), [
        { key: 'k', value: 4, version: 2 },
        { key: 'other', value: 'o', version: 1 },
      ]);
      await store.apply([]);
    });

    test('check with one conditional put (a resource write on its group; one statement on PostgreSQL): the same outcomes, and other instances hear of it', async () => {
      const kind = freshKind();
      await store.put(kind, 'group', 'g');
      const other = backing.engine === 'sqlite' ? store : await backing.open();
      const heard: Change[] = [];
      const stop = other.subscribe((c) => {
        if (c.kind === kind && c.key === 'member') heard.push(c);
      });
      try {
        await store.apply([{ op: 'check', kind, key: 'group', ifVersion: 1 }, { op: 'put', kind, key: 'member', value: 'm1', ifVersion: 0 }]);
        await store.apply([{ op: 'check', kind, key: 'group', ifVersion: 1 }, { op: 'put', kind, key: 'member', value: 'm2', ifVersion: 1 }]);
        assert.deepEqual(await store.get(kind, 'member'), { key: 'member', value: 'm2', version: 2 });
        // A failed check, a failed write: each names its own key, and nothing is written.
        await assert.rejects(store.apply([{ op: 'check', kind, key: 'group', ifVersion: 2 }, { op: 'put', kind, key: 'member', value: 'no', ifVersion: 2 }]), { name: 'ConflictError', key: 'group', reason: 'version' });
        await assert.rejects(store.apply([{ op: 'check', kind, key: 'group', ifVersion: 1 }, { op: 'put', kind, key: 'member', value: 'no', ifVersion: 1 }]), { name: 'ConflictError', key: 'member', reason: 'version' });
        await assert.rejects(store.apply([{ op: 'check', kind, key: 'group', ifVersion: 1 }, { op: 'put', kind, key: 'member', value: 'no', ifAbsent: true }]), { key: 'member', reason: 'exists' });
        await assert.rejects(store.apply([{ op: 'check', kind, key: 'nothing', ifVersion: 1 }, { op: 'put', kind, key: 'other', value: 'no', ifVersion: 0 }]), { key: 'nothing', reason: 'version' });
        await store.apply([{ op: 'check', kind, key: 'nothing', ifVersion: 0 }, { op: 'put', kind, key: 'other', value: 'yes', ifVersion: 0 }]);
        assert.deepEqual(await store.get(kind, 'member'), { key: 'member', value: 'm2', version: 2 });
        assert.equal((await store.get(kind, 'group'))?.version, 1, 'the checked key is not written');
        for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(heard.map((c) => [c.value, c.version]), [['m1', 1], ['m2', 2]]);
      } finally {
        stop();
        if (other !== store) await other.close();
      }
    });

    test('compare-and-swap between concurrent writers (two instances where the engine allows): exactly one wins', async () => {
      const kind = freshKind();
      await store.put(kind, 'counter', 0);
      // SQLite admits one store per data directory (sqlite.test.ts checks the refusal), so its
      // concurrent writers share the one instance.
      const other = backing.engine === 'sqlite' ? store : await backing.open();
      try {
        const results = await Promise.allSettled(
          [store, other, store, other].map((s, i) =>
            s.apply([{ op: 'put', kind, key: 'counter', value: i + 1, ifVersion: 1 }]),
          ),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof ConflictError);
        assert.equal((await other.get(kind, 'counter'))?.version, 2);
      } finally {
        if (other !== store) await other.close();
      }
    });

    test('change feed: one change per effective op, in order, with origin, value and version', async () => {
      const kind = freshKind();
      await store.put(kind, 'b', 'old');
      const seen: Change[] = [];
      const unsubscribe = store.subscribe((c) => {
        if (c.kind === kind) seen.push(c);
      });
      const value = { deep: { list: [1, 2] } };
      await store.apply([
        { op: 'put', kind, key: 'a', value },
        { op: 'put', kind, key: 'b', value: 'new' },
        { op: 'delete', kind, key: 'a' },
        { op: 'delete', kind, key: 'never-existed' },
      ]);
      // Local changes are delivered before apply() resolves.
      assert.deepEqual(seen, [
        { kind, key: 'a', value, deleted: false, origin: store.instanceId, version: 1 },
        { kind, key: 'b', value: 'new', deleted: false, origin: store.instanceId, version: 2 },
        { kind, key: 'a', value: undefined, deleted: true, origin: store.instanceId },
      ]);
      assert.notEqual(seen[0]!.value, value, 'listeners get their own copy of the value');
      await assert.rejects(store.apply([{ op: 'put', kind, key: 'b', value: 'x', ifAbsent: true }]));
      await store.delete(kind, 'nothing');
      assert.equal(seen.length, 3, 'failed batches and no-op deletes emit nothing');
      unsubscribe();
      await store.put(kind, 'c', 1);
      assert.equal(seen.length, 3, 'no changes after unsubscribe');
    });

    test('a throwing listener does not stop other listeners or the write', async () => {
      const kind = freshKind();
      const seen: string[] = [];
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      const offBad = store.subscribe(() => {
        throw new Error('listener bug');
      });
      const offGood = store.subscribe((c) => {
        if (c.kind === kind) seen.push(c.key);
      });
      try {
        await store.put(kind, 'k', 1);
        assert.deepEqual(seen, ['k']);
        assert.equal((await store.get(kind, 'k'))?.value, 1);
        await new Promise((r) => setImmediate(r));
        assert.ok(warnings.some((m) => m.includes('listener bug')));
      } finally {
        offBad();
        offGood();
        process.off('warning', onWarning);
      }
    });

    test('data persists across close and reopen', async () => {
      const kind = freshKind();
      await store.apply([
        { op: 'put', kind, key: 'x', value: { n: 1 } },
        { op: 'put', kind, key: 'y', value: [1, 'two'] },
      ]);
      await store.put(kind, 'x', { n: 2 });
      await store.close();
      store = await backing.open();
      assert.deepEqual(await store.list(kind), [
        { key: 'x', value: { n: 2 }, version: 2 },
        { key: 'y', value: [1, 'two'], version: 1 },
      ]);
    });

    test('a closed store rejects calls', async () => {
      await store.close();
      const s = await backing.open();
      await s.close();
      store = await backing.open();
      await s.close(); // idempotent
      await assert.rejects(s.get('k', 'k'), /closed/);
      await assert.rejects(s.put('k', 'k', 1), /closed/);
    });
  });
}

for (const [name, make] of backings) storeContract(name, make);
