// The counting behind `--throttle azure`: three shapes of limit Azure documents.
//  - RateLimiter: N per second plus a cap on requests in flight (IMDS).
//  - WindowLimiter: N units per window (Key Vault's "per 10 seconds", Storage's "per second"),
//    kept in a ring of sub-windows so the window slides without remembering every request.
//  - TokenBuckets: a bucket refilled at a steady rate (Resource Manager since 2024).
// Refused requests are not charged (Key Vault says its 429s do not count toward the limit).

export type Admission = { ok: true; done(): void } | { ok: false; retryAfter: number };

/** Keys remembered per limiter; past this the oldest state is dropped (a new key starts with a full budget). */
const MAX_KEYS = 10_000;

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_KEYS) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

export class RateLimiter {
  private readonly recent = new Map<string, number[]>();
  private readonly active = new Map<string, number>();

  constructor(private readonly limits: { perSecond: number; inFlight: number }) {}

  enter(key: string, now = Date.now()): Admission {
    const times = (this.recent.get(key) ?? []).filter((t) => t > now - 1000);
    const inFlight = this.active.get(key) ?? 0;
    if (times.length >= this.limits.perSecond || inFlight >= this.limits.inFlight) {
      remember(this.recent, key, times);
      return { ok: false, retryAfter: 1 };
    }
    times.push(now);
    remember(this.recent, key, times);
    this.active.set(key, inFlight + 1);
    let left = false;
    return {
      ok: true,
      done: () => {
        if (left) return;
        left = true;
        const n = (this.active.get(key) ?? 1) - 1;
        if (n <= 0) this.active.delete(key);
        else this.active.set(key, n);
      },
    };
  }
}

interface Ring {
  /** Units charged in each sub-window. */
  counts: number[];
  /** Which sub-window (time / slot length) each ring position currently holds. */
  epochs: number[];
  total: number;
}

export class WindowLimiter {
  private readonly rings = new Map<string, Ring>();
  private readonly slotMs: number;

  /** `limit` units per `windowMs`, per key, counted in `slots` sub-windows. */
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly slots = 10,
  ) {
    this.slotMs = windowMs / slots;
  }

  /** Charges `cost` units to `key`: 0 when admitted, else the whole seconds to wait. */
  take(key: string, cost = 1, now = Date.now()): number {
    const epoch = Math.floor(now / this.slotMs);
    let ring = this.rings.get(key);
    if (ring === undefined) {
      ring = { counts: new Array<number>(this.slots).fill(0), epochs: new Array<number>(this.slots).fill(-Infinity), total: 0 };
      remember(this.rings, key, ring);
    }
    for (let i = 0; i < this.slots; i++) {
      if (ring.epochs[i]! <= epoch - this.slots && ring.counts[i]! > 0) {
        ring.total -= ring.counts[i]!;
        ring.counts[i] = 0;
      }
    }
    if (ring.total + cost <= this.limit) {
      const p = epoch % this.slots;
      if (ring.epochs[p] !== epoch) {
        ring.total -= ring.counts[p]!;
        ring.counts[p] = 0;
        ring.epochs[p] = epoch;
      }
      ring.counts[p]! += cost;
      ring.total += cost;
      return 0;
    }
    // Wait until enough of the oldest sub-windows have left the window.
    let freed = 0;
    for (let e = epoch - this.slots + 1; e <= epoch; e++) {
      const p = ((e % this.slots) + this.slots) % this.slots;
      if (ring.epochs[p] === e) freed += ring.counts[p]!;
      if (ring.total - freed + cost <= this.limit) return Math.max(1, Math.ceil(((e + this.slots) * this.slotMs - now) / 1000));
    }
    return Math.ceil(this.windowMs / 1000);
  }
}

export interface BucketAnswer {
  ok: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until a token is back (when refused). */
  retryAfter: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
  ) {}

  take(key: string, now = Date.now()): BucketAnswer {
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.capacity, at: now };
      remember(this.buckets, key, b);
    } else {
      b.tokens = Math.min(this.capacity, b.tokens + ((now - b.at) / 1000) * this.refillPerSecond);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, remaining: Math.floor(b.tokens), retryAfter: 0 };
    }
    return { ok: false, remaining: 0, retryAfter: Math.max(1, Math.ceil((1 - b.tokens) / this.refillPerSecond)) };
  }
}
