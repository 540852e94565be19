// Azure's documented request limits, applied on request (`mimic start --throttle azure`; off by
// default so functional tests stay fast). A limiter counts requests per key (a VM, a vault...)
// in a sliding one-second window and the requests in flight, and says how long to wait.
export type ThrottleMode = 'off' | 'azure';

export function throttleModeOf(value: string | undefined): ThrottleMode {
  if (value === undefined || value === '' || value === 'off') return 'off';
  if (value === 'azure') return 'azure';
  throw new Error(`throttle mode '${value}' is not 'azure' or 'off'`);
}

/**
 * IMDS, managed identity category: 20 requests per second and 5 concurrent requests per VM
 * (learn.microsoft.com/azure/virtual-machines/instance-metadata-service, "Rate limiting").
 */
export const IMDS_IDENTITY_LIMITS = { perSecond: 20, inFlight: 5 } as const;

export type Admission = { ok: true; done(): void } | { ok: false; retryAfter: number };

export class RateLimiter {
  private readonly recent = new Map<string, number[]>();
  private readonly active = new Map<string, number>();

  constructor(private readonly limits: { perSecond: number; inFlight: number }) {}

  enter(key: string, now = Date.now()): Admission {
    const times = (this.recent.get(key) ?? []).filter((t) => t > now - 1000);
    const inFlight = this.active.get(key) ?? 0;
    if (times.length >= this.limits.perSecond || inFlight >= this.limits.inFlight) {
      this.recent.set(key, times);
      return { ok: false, retryAfter: 1 };
    }
    times.push(now);
    this.recent.set(key, times);
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
