// openStore's engine choice and the armKey helper.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armKey, openStore, PostgresStore, SqliteStore } from '../../src/store/index.js';
import { pgTestDatabase } from '../helpers/pg.js';

describe('openStore', () => {
  test('without a url opens SQLite in the data directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mimic-open-'));
    try {
      const store = await openStore({ dataDir: join(dir, 'nested', 'data') });
      assert.ok(store instanceof SqliteStore);
      assert.equal(store.engine, 'sqlite');
      assert.equal((store as SqliteStore).path, join(dir, 'nested', 'data', 'mimic.db'));
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('postgres:// and postgresql:// URLs open PostgreSQL', async () => {
    const db = await pgTestDatabase();
    try {
      for (const url of [db.url, db.url.replace(/^postgres:/, 'postgresql:'), db.url.replace(/^postgres:/, 'POSTGRES:')]) {
        const store = await openStore({ dataDir: '/nonexistent', url });
        assert.ok(store instanceof PostgresStore);
        assert.equal(store.engine, 'postgres');
        await store.put('k', url, 1);
        await store.close();
      }
    } finally {
      await db.drop();
    }
  });

  test('other URLs are refused without echoing credentials', async () => {
    for (const url of ['mysql://root:hunter2@localhost/db', 'sqlite:///tmp/x', 'hunter2', '']) {
      await assert.rejects(openStore({ dataDir: '/nonexistent', url }), (err: Error) => {
        assert.match(err.message, /unsupported store URL/);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      });
    }
  });
});

describe('armKey', () => {
  test('lower-cases, collapses repeated slashes, strips a trailing slash', () => {
    assert.equal(
      armKey('/subscriptions/0000-AB/resourceGroups//RG1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Id1/'),
      '/subscriptions/0000-ab/resourcegroups/rg1/providers/microsoft.managedidentity/userassignedidentities/id1',
    );
    assert.equal(armKey('//Subscriptions///S1///'), '/subscriptions/s1');
    assert.equal(armKey('/subscriptions/s1'), '/subscriptions/s1');
  });

  test('keeps the root scope and is idempotent', () => {
    assert.equal(armKey('/'), '/');
    assert.equal(armKey('///'), '/');
    assert.equal(armKey(''), '');
    const once = armKey('/A//B/');
    assert.equal(armKey(once), once);
  });
});
