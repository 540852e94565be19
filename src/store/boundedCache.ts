// A map for in-memory read caches, bounded both in entries and in weight (characters held):
// when either bound would be passed it starts over, which is cheap and enough for caches
// whose entries are re-read in a moment. A value heavier than the whole budget is not kept.
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  private weight = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number,
    private readonly weigh: (value: V) => number,
  ) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    this.delete(key);
    const w = this.weigh(value);
    if (w > this.maxWeight) return;
    if (this.entries.size >= this.maxEntries || this.weight + w > this.maxWeight) this.clear();
    this.entries.set(key, value);
    this.weight += w;
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    this.weight -= this.weigh(old);
  }

  clear(): void {
    this.entries.clear();
    this.weight = 0;
  }
}
