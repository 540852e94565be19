// Values derived from stored entries (a resource's JSON view, say), kept until the entry's text
// changes. Exact on every engine: each call reads the entry's current text and version and
// compares them with those the value was derived from, so only the parse and derivation are saved (and on the
// embedded engine the read itself costs a map lookup).
import type { Entry, Store } from './types.js';
import { BoundedCache } from './boundedCache.js';

/** Bounds: entries, and characters held (stored text plus, about as long, the derived value). */
const MAX_ENTRIES = 10_000;
const MAX_CHARS = 16 * 1024 * 1024;

export class DerivedCache<V> {
  private readonly cache = new BoundedCache<{ text: string; version: number; value: V }>(MAX_ENTRIES, MAX_CHARS, (e) => 2 * e.text.length);

  constructor(
    private readonly store: Store,
    private readonly kind: string,
    private readonly derive: (entry: Entry) => V,
  ) {}

  /** The derived value of the entry under `key`, or undefined when there is no such entry. */
  async get(key: string): Promise<V | undefined> {
    const e = await this.store.getText(this.kind, key);
    if (e === undefined) {
      this.cache.delete(key);
      return undefined;
    }
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.version === e.version && hit.text === e.text) return hit.value;
    const value = this.derive({ key, value: JSON.parse(e.text), version: e.version });
    this.cache.set(key, { text: e.text, version: e.version, value });
    return value;
  }
}
