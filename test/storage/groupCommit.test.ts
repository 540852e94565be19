// The group commit under the storage emulator: concurrent writes share saves, a write that lands
// during a save waits for the next one, a state-changing request's answer is held until its save
// finished (and dropped if the save fails), and reads are never held.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { changesState, durableListener, GroupCommit } from '../../src/services/storage/groupCommit.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

test('concurrent commits share flushes: one running, all later callers wait for the same next one', async () => {
  const flushes: ReturnType<typeof deferred>[] = [];
  const gc = new GroupCommit(() => {
    const d = deferred();
    flushes.push(d);
    return d.promise;
  });
  const first = gc.commit();
  let laterDone = 0;
  const later = Array.from({ length: 50 }, () => gc.commit().then(() => laterDone++));
  assert.equal(flushes.length, 1);
  flushes[0]!.resolve();
  await first;
  await new Promise((r) => setImmediate(r));
  // The 50 arrived while the first flush ran (it may predate their changes): they wait for a second.
  assert.equal(laterDone, 0);
  assert.equal(flushes.length, 2);
  flushes[1]!.resolve();
  await Promise.all(later);
  assert.equal(gc.flushes, 2);
  // Idle again: a new caller starts a flush of its own at once.
  const again = gc.commit();
  assert.equal(flushes.length, 3);
  flushes[2]!.reject(new Error('disk full'));
  await assert.rejects(again, /disk full/);
});

test('which requests change state: writes and Get Messages, not reads or peeks', () => {
  const req = (method: string, url: string) => ({ method, url }) as IncomingMessage;
  assert.equal(changesState('blob', req('PUT', '/acct/c/b')), true);
  assert.equal(changesState('table', req('POST', '/acct/t')), true);
  assert.equal(changesState('table', req('MERGE', "/acct/t(PartitionKey='p',RowKey='r')")), true);
  assert.equal(changesState('blob', req('GET', '/acct/c/b')), false);
  assert.equal(changesState('blob', req('HEAD', '/acct/c/b')), false);
  assert.equal(changesState('queue', req('GET', '/acct/q/messages?numofmessages=5')), true);
  assert.equal(changesState('queue', req('GET', '/acct/q/messages?peekonly=true')), false);
  assert.equal(changesState('queue', req('GET', '/acct/q?comp=metadata')), false);
});

test('a write is answered only once its commit finished; a failed commit drops the connection; reads pass', async () => {
  let commit = deferred();
  const inner = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(req.method === 'GET' ? 200 : 201, { 'content-type': 'text/plain' });
    res.write('part ');
    res.end('done');
  };
  const server = createServer(durableListener('blob', inner, () => commit.promise));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const call = (method: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path: '/acct/c/b', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    let answered = false;
    const put = call('PUT').then((r) => ((answered = true), r));
    // A read during the pending commit is answered at once.
    assert.deepEqual(await call('GET'), { status: 200, body: 'part done' });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(answered, false, 'the write was answered before its commit');
    commit.resolve();
    assert.deepEqual(await put, { status: 201, body: 'part done' });
    commit = deferred();
    commit.promise.catch(() => undefined); // rejected before the request reaches the listener
    const failed = call('PUT');
    commit.reject(new Error('EIO'));
    await assert.rejects(failed, /socket hang up|ECONNRESET/);
  } finally {
    server.close();
  }
});
