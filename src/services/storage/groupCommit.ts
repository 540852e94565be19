// Acknowledged storage writes are durable, as in Azure Storage: the answer to a request that
// changed the emulator's state is held until the service's LokiJS database is on disk.
//
// Azurite keeps its metadata (containers, blobs and block lists, queues and message records,
// tables and entities) in LokiJS databases that are written whole, and on its own only every 5
// seconds; a process killed in between forgot writes its clients were told had succeeded. Here a
// write's answer waits for a save that began after the write was applied. Saves are grouped:
// every request that finishes while a save is running waits for the one next save, so N
// concurrent writes cost one or two saves, not N. Blob contents and message texts are already on
// disk when Azurite records them (SealedExtentStore writes each extent through a synced file
// before its record exists); their directory entries are synced once per group, before the
// database that references them is saved.
//
// Reads never wait. Loki's own 5-second autosave stays on: it saves what changes outside a
// request (garbage collection, expired messages) and the extent maps (see assembleEmulator), and
// costs nothing while nothing is dirty.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { open } from 'node:fs/promises';
import type { LokiDatabase } from './azuriteParts.js';

/** Runs `flush` for callers in groups: each caller's promise settles after a flush that began after its call. */
export class GroupCommit {
  private running?: Promise<void>;
  private next?: Promise<void>;
  /** Flushes run (for the benchmark and tests). */
  flushes = 0;

  constructor(private readonly flush: () => Promise<void>) {}

  commit(): Promise<void> {
    if (!this.running) return this.start();
    // The running flush may have begun before the caller's change: wait for the next one, shared.
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<void> {
    this.flushes++;
    const p: Promise<void> = this.flush().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }
}

/** Saves a LokiJS database through its adapter if it changed or a save of it is under way (which may predate the change). */
export function saveDatabase(db: LokiDatabase): Promise<void> {
  if (!db.autosaveDirty() && !db.throttledSavePending) return Promise.resolve();
  // LokiJS serialises at the start of a save and queues callers that arrive during one for the next.
  return new Promise((resolve, reject) => db.saveDatabase((err) => (err ? reject(err) : resolve())));
}

/** fsync of a directory, so the renames into it survive a crash of the machine (a no-op where unsupported). */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  } finally {
    await fh.close();
  }
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request to the emulator may change its state: every write, and Get Messages (dequeue count, pop receipt). */
export function changesState(service: string, req: IncomingMessage): boolean {
  if (!READS.has(req.method ?? 'GET')) return true;
  if (service !== 'queue' || req.method !== 'GET') return false;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).toLowerCase();
  return path.endsWith('/messages') && !/(?:^|&)peekonly=true(?:&|$)/i.test(q < 0 ? '' : url.slice(q + 1));
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Wraps the emulator's request handler: a state-changing request's answer (its status line,
 * headers and body) is held from its first write until `commit` resolves; if the commit fails
 * the connection is dropped, so the client never sees the write acknowledged.
 */
export function durableListener(service: string, inner: Listener, commit: () => Promise<void>): Listener {
  return (req, res) => {
    if (changesState(service, req)) holdUntilCommitted(res, commit);
    inner(req, res);
  };
}

function holdUntilCommitted(res: ServerResponse, commit: () => Promise<void>): void {
  const write = res.write;
  const end = res.end;
  const held: [typeof write | typeof end, unknown[]][] = [];
  let holding = false;
  const release = () => {
    res.write = write;
    res.end = end;
    for (const [fn, args] of held) (fn as (...a: unknown[]) => unknown).apply(res, args);
  };
  const hold = () => {
    if (holding) return;
    holding = true;
    // A refused request changed nothing (Storage operations are all-or-nothing).
    if (res.statusCode >= 400) return release();
    commit().then(release, (err: unknown) => {
      console.error('mimic: the storage emulator could not save its databases; the write is not acknowledged:', err);
      res.destroy();
    });
  };
  res.write = function (this: ServerResponse, ...args: unknown[]) {
    held.push([write, args]);
    hold();
    return true;
  } as typeof write;
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    held.push([end, args]);
    hold();
    return this;
  } as typeof end;
}
