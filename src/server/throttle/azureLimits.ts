// Azure's documented request limits, one table per service; docs/RELIABILITY.md section 5 cites
// each page. Only this file holds figures: the services ask `AzureThrottle` (index.ts).

/**
 * IMDS, managed identity category: 20 requests per second and 5 in flight, per VM (the managed
 * identities FAQ, "limits"; the IMDS page's rate-limiting section).
 */
export const IMDS_IDENTITY_LIMITS = { perSecond: 20, inFlight: 5 } as const;

/**
 * Key Vault, per vault and region, per 10 seconds (Key Vault "service limits"): creating a secret
 * 300 (Mimic counts key and certificate imports with it); every other secret, certificate and vault transaction
 * 4000; software RSA-2048/EC key creation 20 and every other key transaction 4000. Across a
 * subscription each class may reach five times its vault figure.
 */
export const KEY_VAULT_LIMITS = {
  windowMs: 10_000,
  perVault: { secretCreate: 300, vault: 4000, keyCreate: 20, key: 4000 },
  subscriptionFactor: 5,
} as const;

export type KeyVaultClass = keyof typeof KEY_VAULT_LIMITS.perVault;

/**
 * Resource Manager's token buckets since 2024 ("Understand how Azure Resource Manager throttles
 * requests"), per subscription (or tenant), per principal and per kind of request: reads 250
 * refilled at 25 per second; writes and deletes 200 refilled at 10 per second.
 */
export const ARM_LIMITS = {
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
} as const;

export type ArmRequestKind = keyof typeof ARM_LIMITS;

/**
 * Storage scalability targets for a standard (GPv2) account: 20,000 requests per second per
 * account; 500 requests per second on one blob; 2,000 messages per second on one queue; 2,000
 * entities per second on one table partition.
 */
export const STORAGE_LIMITS = {
  accountPerSecond: 20_000,
  partitionPerSecond: { blob: 500, queue: 2000, table: 2000 },
} as const;
