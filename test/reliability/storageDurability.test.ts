// Durability of storage writes: `mimic start` in a child process is SIGKILLed at a random moment
// while concurrent writers put blobs (with content), queue messages and table entities through the
// gate with bearer tokens, then started again on the same data dir, 10 times. After every restart
// each blob acknowledged in that round reads back byte for byte, each entity is there with its
// value, and the queue holds at least as many messages as were ever acknowledged; at the end every
// acknowledged blob and entity is read again and the queue is drained: every acknowledged message
// is in it. Azure acknowledges a storage write only once it is durable, so 0 may be lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MimicClient } from '../../src/cli/client.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';
import { assignRole, createAccount, createChild, ROLE, STORAGE_API, type Account } from '../storage/helpers.js';
import { killChild, startChild, withTimeout } from './workload.js';

const KILLS = 10;
const WRITERS = 4;
const QUEUE_DATA_CONTRIBUTOR = '974c5e8b-45b9-4653-ba55-5f855dd0fb88';
const KINDS = ['blob', 'message', 'entity'] as const;
type Kind = (typeof KINDS)[number];

interface Acked {
  blobs: Map<string, string>;
  messages: Set<string>;
  entities: Map<string, string>;
  attempted: Record<Kind, number>;
  acknowledged: Record<Kind, number>;
}

const newAcked = (): Acked => ({ blobs: new Map(), messages: new Set(), entities: new Map(), attempted: { blob: 0, message: 0, entity: 0 }, acknowledged: { blob: 0, message: 0, entity: 0 } });

/** Data-plane calls as the administrator against the running child (endpoints re-read after each restart). */
class Storage {
  private constructor(
    private readonly a: ArmCaller,
    private readonly token: string,
    readonly ep: Account['endpoints'],
  ) {}

  static async open(dataDir: string, accountId: string): Promise<Storage> {
    const a = await armCaller(dataDir, STORAGE_API);
    const account = await a.call('GET', accountId);
    assert.equal(account.status, 200, account.text);
    // Its own client: a client caches one token, here the ARM one.
    const token = await (await MimicClient.open(dataDir)).adminToken('https://storage.azure.com');
    return new Storage(a, token, account.body.properties.primaryEndpoints);
  }

  send(method: string, url: string, body?: string, headers: Record<string, string> = {}) {
    return withTimeout(this.a.client.send(method, url, body, { authorization: `Bearer ${this.token}`, 'x-ms-version': '2025-11-05', ...headers }), `${method} ${url}`);
  }

  async write(kind: Kind, tag: string, into: Acked): Promise<void> {
    into.attempted[kind]++;
    const value = randomBytes(64 + Math.floor(Math.random() * 4096)).toString('base64');
    if (kind === 'blob') {
      const r = await this.send('PUT', `${this.ep.blob}box/b-${tag}`, value, { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'text/plain' });
      if (r.status !== 201) throw new Error(`Put Blob: ${r.status} ${r.text}`);
      into.blobs.set(`b-${tag}`, value);
    } else if (kind === 'message') {
      const r = await this.send('POST', `${this.ep.queue}inbox/messages?messagettl=-1`, `<QueueMessage><MessageText>m-${tag}</MessageText></QueueMessage>`, { 'content-type': 'application/xml' });
      if (r.status !== 201) throw new Error(`Put Message: ${r.status} ${r.text}`);
      into.messages.add(`m-${tag}`);
    } else {
      const r = await this.send('POST', `${this.ep.table}ledger`, JSON.stringify({ PartitionKey: 'p', RowKey: `e-${tag}`, value }), { 'content-type': 'application/json', accept: 'application/json;odata=nometadata', prefer: 'return-no-content' });
      if (r.status !== 204 && r.status !== 201) throw new Error(`Insert Entity: ${r.status} ${r.text}`);
      into.entities.set(`e-${tag}`, value);
    }
    into.acknowledged[kind]++;
  }

  /** The acknowledged blobs and entities that do not read back as written. */
  async lost(acked: Acked): Promise<string[]> {
    const lost: string[] = [];
    const checks = [
      ...[...acked.blobs].map(([name, value]) => async () => {
        const r = await this.send('GET', `${this.ep.blob}box/${name}`);
        if (r.status !== 200 || r.text !== value) lost.push(`blob ${name}: ${r.status}`);
      }),
      ...[...acked.entities].map(([key, value]) => async () => {
        const r = await this.send('GET', `${this.ep.table}ledger(PartitionKey='p',RowKey='${key}')`, undefined, { accept: 'application/json;odata=nometadata' });
        if (r.status !== 200 || r.json<{ value: string }>().value !== value) lost.push(`entity ${key}: ${r.status}`);
      }),
    ];
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let c = checks.shift(); c; c = checks.shift()) await c();
    }));
    return lost;
  }

  async approximateMessages(): Promise<number> {
    const r = await this.send('GET', `${this.ep.queue}inbox?comp=metadata`);
    // A lost queue holds nothing.
    if (r.status === 404) return 0;
    assert.equal(r.status, 200, r.text);
    return Number(r.headers['x-ms-approximate-messages-count']);
  }

  /** Every message text in the queue (received with a long visibility timeout). */
  async drain(): Promise<Set<string>> {
    const seen = new Set<string>();
    for (;;) {
      const r = await this.send('GET', `${this.ep.queue}inbox/messages?numofmessages=32&visibilitytimeout=600`);
      if (r.status === 404) return seen;
      assert.equal(r.status, 200, r.text);
      const texts = [...r.text.matchAll(/<MessageText>([^<]*)<\/MessageText>/g)].map((m) => m[1]!);
      if (texts.length === 0) return seen;
      for (const t of texts) seen.add(t);
    }
  }
}

test(`storage: ${KILLS} SIGKILLs during blob, message and entity writes lose no acknowledged write`, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mimic-stkill-'));
  let child: ChildProcess | undefined;
  const all = newAcked();
  const losses: string[] = [];
  const unexpected: string[] = [];
  try {
    ({ child } = await startChild(dataDir));
    const a = await armCaller(dataDir, STORAGE_API);
    const rg = `${a.sub}/resourceGroups/stdur`;
    assert.equal((await a.call('PUT', rg, { location: 'eastus' }, '2025-04-01')).status, 201);
    const account = await createAccount(a, 'stdur', 'mimicstdur');
    await createChild(a, account, 'container', 'box');
    await createChild(a, account, 'queue', 'inbox');
    await createChild(a, account, 'table', 'ledger');
    const admin = JSON.parse(Buffer.from((await a.client.adminToken()).split('.')[1]!, 'base64url').toString('utf8')).oid as string;
    for (const role of [ROLE.blobContributor, QUEUE_DATA_CONTRIBUTOR, ROLE.tableContributor]) assert.equal((await assignRole(a, account.id, role, admin)).status, 201);
    let s = await Storage.open(dataDir, account.id);
    for (let kill = 0; kill < KILLS; kill++) {
      const round = newAcked();
      let stop = false;
      let killing = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          try {
            await s.write(KINDS[(w + i) % KINDS.length]!, `${kill}-${w}-${i}`, round);
          } catch (err) {
            // After the kill the connection dies with the process; before it nothing may fail.
            if (!killing) unexpected.push(`round ${kill + 1}: ${(err as Error).message.slice(0, 300)}`);
            return;
          }
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 900)));
      killing = true;
      await killChild(child!);
      stop = true;
      await Promise.all(writers);
      ({ child } = await startChild(dataDir));
      s = await Storage.open(dataDir, account.id);
      const lost = await s.lost(round);
      for (const [k, v] of round.blobs) all.blobs.set(k, v);
      for (const [k, v] of round.entities) all.entities.set(k, v);
      for (const m of round.messages) all.messages.add(m);
      for (const k of KINDS) {
        all.attempted[k] += round.attempted[k];
        all.acknowledged[k] += round.acknowledged[k];
      }
      const messages = await s.approximateMessages();
      // Noted rather than asserted at once, so a failing run reports how much every round lost.
      if (lost.length) losses.push(`after kill ${kill + 1}: ${lost.length} acknowledged blobs or entities lost (${lost.slice(0, 3).join(', ')})`);
      if (messages < all.messages.size) losses.push(`after kill ${kill + 1}: ${all.messages.size} messages acknowledged, ${messages} in the queue`);
    }
    const lost = await s.lost(all);
    const inQueue = await s.drain();
    const lostMessages = [...all.messages].filter((m) => !inQueue.has(m));
    const per = KINDS.map((k) => `${k} ${all.acknowledged[k]}/${all.attempted[k]}`).join(', ');
    t.diagnostic(`${KILLS} kills: acknowledged/attempted ${per}; lost: ${lost.length} blobs or entities, ${lostMessages.length} messages`);
    assert.deepEqual(unexpected, []);
    assert.deepEqual(losses, []);
    assert.deepEqual(lost, []);
    assert.deepEqual(lostMessages, []);
    for (const k of KINDS) assert.ok(all.acknowledged[k] > 0, `some ${k} writes were acknowledged between kills`);
  } finally {
    if (child) await killChild(child);
    await rm(dataDir, { recursive: true, force: true });
  }
});
