// Keeping an in-memory mirror of some kinds current, including across a lost change feed: when
// the PostgreSQL listener has reconnected (notifications sent in the gap are gone), the kinds
// are read again and handed to the mirror as changes: a put for every entry, a delete for every
// key the mirror holds that is no longer stored. Live changes that arrive while the kinds are
// read are held back and replayed after, in order, so the mirror ends on the newest word.
import type { Change, Store } from './types.js';

const RETRY_MS = 1000;

export interface Follower {
  /** Reads the kinds now, as a resync does (for the mirror's first load: changes meanwhile are held back). */
  load(): Promise<void>;
  /** Stops following (both the change feed and resyncs). */
  close(): void;
}

/**
 * Feeds `apply` every change of `kinds` (as `store.subscribe` would) and, after each resync, the
 * stored state of those kinds. `known(kind)` lists the keys the mirror holds, to find deletions.
 */
export function follow(store: Store, kinds: readonly string[], apply: (c: Change) => void, known: (kind: string) => Iterable<string>): Follower {
  const wanted = new Set(kinds);
  let held: Change[] | undefined;
  let again = false;
  const unsubscribe = store.subscribe((c) => {
    if (!wanted.has(c.kind)) return;
    if (held) held.push(c);
    else apply(c);
  });
  const reload = async (): Promise<void> => {
    if (held) {
      again = true; // a resync while one runs: run once more after it
      return;
    }
    held = [];
    try {
      for (const kind of kinds) {
        const entries = await store.list(kind);
        const present = new Set(entries.map((e) => e.key));
        for (const key of [...known(kind)]) if (!present.has(key)) apply({ kind, key, value: undefined, deleted: true, origin: 'resync' });
        for (const e of entries) apply({ kind, key: e.key, value: e.value, deleted: false, origin: 'resync', version: e.version });
      }
    } finally {
      const replay = held;
      held = undefined;
      for (const c of replay) apply(c);
    }
    if (again) {
      again = false;
      await reload();
    }
  };
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const resync = () => {
    reload().catch((err: unknown) => {
      // The database may have gone again: try until it answers (or the next resync does it).
      process.emitWarning(`store resync of ${kinds.join(', ')}: ${String(err)}`, 'MimicStoreWarning');
      if (!closed) retry = setTimeout(resync, RETRY_MS).unref();
    });
  };
  const unresync = store.onResync?.(resync);
  return {
    load: reload,
    close() {
      closed = true;
      clearTimeout(retry);
      unsubscribe();
      unresync?.();
    },
  };
}
