// Azure's request limits, applied on request (`mimic start --throttle azure`; off by default so
// functional tests stay fast). Services hold an `AzureThrottle` only when the switch is on, so
// with it off a request pays one `undefined` check.
import { ARM_LIMITS, IMDS_IDENTITY_LIMITS, KEY_VAULT_LIMITS, STORAGE_LIMITS, type ArmRequestKind, type KeyVaultClass } from './azureLimits.js';
import { RateLimiter, TokenBuckets, WindowLimiter, type BucketAnswer } from './limiters.js';

export * from './azureLimits.js';
export * from './limiters.js';

export type ThrottleMode = 'off' | 'azure';

export function throttleModeOf(value: string | undefined): ThrottleMode {
  if (value === undefined || value === '' || value === 'off') return 'off';
  if (value === 'azure') return 'azure';
  throw new Error(`throttle mode '${value}' is not 'azure' or 'off'`);
}

export type StorageService = keyof typeof STORAGE_LIMITS.partitionPerSecond;

/** What the Resource Manager tells the caller about one request's bucket. */
export interface ArmAdmission extends BucketAnswer {
  /** `x-ms-ratelimit-remaining-{subscription|tenant}-{reads|writes|deletes}`. */
  header: string;
}

export class AzureThrottle {
  /** IMDS, per host resource (the VM). */
  readonly imds = new RateLimiter(IMDS_IDENTITY_LIMITS);
  private readonly vaults = new Map<KeyVaultClass, WindowLimiter>();
  private readonly vaultSubscriptions = new Map<KeyVaultClass, WindowLimiter>();
  private readonly arm = new Map<ArmRequestKind, TokenBuckets>();
  private readonly storageAccounts: WindowLimiter;
  private readonly storagePartitions = new Map<StorageService, WindowLimiter>();

  /**
   * `storageScale` multiplies Storage's per-second targets: for tests only, because a 2-core
   * machine serves fewer requests per second on one blob than Azure's 500 target (see
   * docs/RELIABILITY.md section 5).
   */
  constructor(opts: { storageScale?: number } = {}) {
    const scale = opts.storageScale ?? 1;
    this.storageAccounts = new WindowLimiter(Math.max(1, Math.round(STORAGE_LIMITS.accountPerSecond * scale)), 1000);
    for (const [cls, limit] of Object.entries(KEY_VAULT_LIMITS.perVault) as [KeyVaultClass, number][]) {
      this.vaults.set(cls, new WindowLimiter(limit, KEY_VAULT_LIMITS.windowMs));
      this.vaultSubscriptions.set(cls, new WindowLimiter(limit * KEY_VAULT_LIMITS.subscriptionFactor, KEY_VAULT_LIMITS.windowMs));
    }
    for (const [kind, b] of Object.entries(ARM_LIMITS) as [ArmRequestKind, { capacity: number; refillPerSecond: number }][]) {
      this.arm.set(kind, new TokenBuckets(b.capacity, b.refillPerSecond));
    }
    for (const [service, limit] of Object.entries(STORAGE_LIMITS.partitionPerSecond) as [StorageService, number][]) {
      this.storagePartitions.set(service, new WindowLimiter(Math.max(1, Math.round(limit * scale)), 1000));
    }
  }

  /** A Key Vault transaction: 0 when admitted, else the seconds to wait. */
  keyVault(vault: string, subscriptionId: string, cls: KeyVaultClass, now = Date.now()): number {
    const wait = this.vaults.get(cls)!.take(vault, 1, now);
    if (wait > 0) return wait;
    return this.vaultSubscriptions.get(cls)!.take(subscriptionId, 1, now);
  }

  /** A Resource Manager request of `principal` at a subscription (or, without one, the tenant). */
  armRequest(subscriptionId: string | undefined, tenantId: string, principal: string, kind: ArmRequestKind, now = Date.now()): ArmAdmission {
    const scope = subscriptionId === undefined ? 'tenant' : 'subscription';
    const answer = this.arm.get(kind)!.take(`${scope}/${subscriptionId ?? tenantId}/${principal}`, now);
    return { ...answer, header: `x-ms-ratelimit-remaining-${scope}-${kind}` };
  }

  /** A Storage request on one blob, queue or table partition: which target it went over, if any. */
  storage(account: string, service: StorageService, partition: string | undefined, now = Date.now()): 'account' | 'partition' | undefined {
    if (partition !== undefined && this.storagePartitions.get(service)!.take(`${account}/${partition}`, 1, now) > 0) return 'partition';
    if (this.storageAccounts.take(account, 1, now) > 0) return 'account';
    return undefined;
  }
}

/** The throttle for a mode: none when off. `MIMIC_THROTTLE_STORAGE_SCALE` (tests only) scales Storage's targets. */
export function azureThrottleFor(mode: ThrottleMode, env: NodeJS.ProcessEnv = {}): AzureThrottle | undefined {
  if (mode !== 'azure') return undefined;
  const scale = Number(env.MIMIC_THROTTLE_STORAGE_SCALE ?? 1);
  return new AzureThrottle({ storageScale: Number.isFinite(scale) && scale > 0 && scale <= 1 ? scale : 1 });
}
