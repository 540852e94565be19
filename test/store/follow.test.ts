// follow(): a mirror kept from the change feed is repaired after the PostgreSQL listener lost its
// connection. Changes another instance made while B's listener was gone (a put, an update, a
// delete) reach B's mirror through the resync, and live changes keep flowing afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Store } from '../../src/store/index.js';
import { follow } from '../../src/store/follow.js';
import { randomUUID } from 'node:crypto';
import { Directory } from '../../src/directory/directory.js';
import { PRINCIPALS, type ServicePrincipal } from '../../src/directory/types.js';
import { postgresBacking, sqliteBacking, waitFor, type Backing } from './backings.js';

describe('follow: mirrors survive a lost change feed', () => {
  let backing: Backing;
  let a: Store;
  let b: Store;

  before(async () => {
    backing = await postgresBacking();
    [a, b] = await Promise.all([backing.open(), backing.open()]);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await backing?.dispose();
  });

  test('writes made while B was not listening reach its mirror after the resync', async () => {
    const mirror = new Map<string, unknown>();
    const follower = follow(b, ['things'], (c) => (c.deleted ? mirror.delete(c.key) : mirror.set(c.key, c.value)), () => mirror.keys());
    try {
      await a.put('things', 'kept', 1);
      await a.put('things', 'removed', 1);
      await a.put('other', 'ignored', 1);
      await waitFor('B to mirror both', () => mirror.size === 2);

      const admin = new pg.Client({ connectionString: backing.location.url });
      await admin.connect();
      try {
        const r = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`mimic-listener-${b.instanceId}`]);
        assert.equal(r.rowCount, 1);
        // B's listener waits at least 100 ms before it reconnects: these notifications are lost.
        await a.apply([
          { op: 'put', kind: 'things', key: 'kept', value: 2 },
          { op: 'delete', kind: 'things', key: 'removed' },
          { op: 'put', kind: 'things', key: 'added', value: 3 },
        ]);
        const stillListening = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [`mimic-listener-${b.instanceId}`]);
        assert.equal(stillListening.rows[0].n, 0, 'the writes landed while B was not listening');
      } finally {
        await admin.end();
      }
      await waitFor('the resync to repair B', () => mirror.get('kept') === 2 && !mirror.has('removed') && mirror.get('added') === 3, 5000);
      assert.deepEqual([...mirror.entries()].sort(), [['added', 3], ['kept', 2]]);
      await a.put('things', 'later', 4);
      await waitFor('live changes again', () => mirror.get('later') === 4);
    } finally {
      follower.close();
    }
  });
});

// A mirror's read is a snapshot: a principal created after the snapshot was taken, whose change
// reached the mirror before the snapshot was applied, must not be dropped by it. (The directory
// used to apply its reads as the whole truth; after a PostgreSQL restart under load an instance
// lost a new identity's principal from memory this way.)
describe('follow: a read older than a change it races does not undo the change', () => {
  let backing: Backing;
  let store: Store;

  before(async () => {
    backing = await sqliteBacking();
    store = await backing.open();
  });
  after(async () => {
    await store?.close();
    await backing?.dispose();
  });

  test('the directory keeps a principal created while its first read was in flight', async () => {
    const principal = (objectId: string): ServicePrincipal => ({
      objectId,
      appId: randomUUID(),
      displayName: objectId,
      servicePrincipalType: 'ManagedIdentity',
      accountEnabled: true,
      createdDateTime: new Date().toISOString(),
    });
    const before = randomUUID();
    const during = randomUUID();
    await store.put(PRINCIPALS, before, principal(before));
    let raced = false;
    // The store as the directory sees it: its first read of principals is taken, then a principal
    // is created and its change delivered, and only then is the (now older) read handed back.
    const racing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop !== 'list') {
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
        return async (kind: string, opts?: unknown) => {
          const snapshot = await target.list(kind, opts as never);
          if (kind === PRINCIPALS && !raced) {
            raced = true;
            await target.put(PRINCIPALS, during, principal(during));
            await new Promise((r) => setTimeout(r, 50)); // the change feed delivers it meanwhile
          }
          return snapshot;
        };
      },
    });
    const dir = await Directory.load(racing);
    try {
      assert.equal(raced, true);
      assert.ok(dir.byObject(before), 'the principal in the snapshot');
      assert.ok(dir.byObject(during), 'the principal created after the snapshot was taken');
    } finally {
      dir.close();
    }
  });
});
