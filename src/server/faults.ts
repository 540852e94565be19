// Transient faults injected on request (`mimic fault add`), so an application's retry policy
// can be tested against Mimic: a rule names a service and an operation, a rate, and what the
// failing requests get (503, 429 or 500 with Retry-After, each in the service's own error shape,
// or a connection dropped unanswered). Off unless a rule exists; rules live in memory and end
// with the process or at their deadline.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export type FaultStatus = 503 | 429 | 500 | 'timeout';

export interface FaultRule {
  id: string;
  /** One of FAULT_SERVICES. */
  service: string;
  /** An operation name as the service knows it (e.g. `getSecret`), or `*`. */
  operation: string;
  /** Share of matching requests that fail, in (0, 1]. */
  rate: number;
  status: FaultStatus;
  /** Seconds the client is told to wait. */
  retryAfter: number;
  /** Epoch ms after which the rule no longer applies. */
  until?: number;
  /** How many requests this rule failed. */
  injected: number;
  /** Matching requests seen; the rule fails one each time seen × rate crosses a whole number. */
  seen: number;
}

export type FaultInput = Pick<FaultRule, 'service' | 'operation' | 'rate' | 'status'> & { retryAfter?: number; forSeconds?: number };

/**
 * The services that take faults, and how they name operations: Key Vault by action (`getSecret`)
 * or id (`secret.get`); the Resource Manager by operation (`Microsoft.ManagedIdentity/
 * userAssignedIdentities/read`) or method and type (`GET Microsoft.ManagedIdentity/
 * userAssignedIdentities`); storage by REST operation (`GetBlob`, `PutMessage`, `QueryEntities`);
 * the token service (`sts`) and the managed-identity endpoints (`imds`) by `token`.
 */
export const FAULT_SERVICES = ['keyvault', 'arm', 'sts', 'imds', 'blob', 'queue', 'table'] as const;
export type FaultService = (typeof FAULT_SERVICES)[number];
export const FAULT_STATUSES: readonly FaultStatus[] = [503, 429, 500, 'timeout'];

export class FaultError extends Error {}

/**
 * Failures are spread evenly rather than drawn at random (rate 0.2 fails every fifth matching
 * request): the share is exact and a run is reproducible, and a client's retries are never
 * all failed by chance, so a test of a retry policy does not flake.
 */
export class FaultInjector {
  private rules: FaultRule[] = [];

  add(input: FaultInput, now = Date.now()): FaultRule {
    if (!(FAULT_SERVICES as readonly string[]).includes(input.service)) throw new FaultError(`service '${input.service}' takes no faults; one of: ${FAULT_SERVICES.join(', ')}`);
    if (typeof input.operation !== 'string' || !/^[\w.*/ -]{1,200}$/.test(input.operation) || input.operation.trim() !== input.operation) throw new FaultError('operation must be an operation name (e.g. getSecret, GetBlob, Microsoft.ManagedIdentity/userAssignedIdentities/read) or *');
    if (typeof input.rate !== 'number' || !(input.rate > 0 && input.rate <= 1)) throw new FaultError('rate must be a number in (0, 1]');
    if (!FAULT_STATUSES.includes(input.status)) throw new FaultError("status must be 503, 429, 500 or 'timeout'");
    const retryAfter = input.retryAfter ?? 1;
    if (!Number.isInteger(retryAfter) || retryAfter < 0 || retryAfter > 3600) throw new FaultError('retryAfter must be whole seconds in [0, 3600]');
    if (input.forSeconds !== undefined && !(typeof input.forSeconds === 'number' && input.forSeconds > 0)) throw new FaultError('forSeconds must be a positive number');
    const rule: FaultRule = { id: randomUUID(), service: input.service, operation: input.operation, rate: input.rate, status: input.status, retryAfter, injected: 0, seen: 0, ...(input.forSeconds !== undefined ? { until: now + input.forSeconds * 1000 } : {}) };
    this.rules.push(rule);
    return rule;
  }

  list(now = Date.now()): FaultRule[] {
    this.rules = this.rules.filter((r) => r.until === undefined || r.until > now);
    return this.rules.map((r) => ({ ...r }));
  }

  clear(): number {
    const n = this.rules.length;
    this.rules = [];
    return n;
  }

  /** Whether any rule exists: callers skip naming the operation when none does (the usual case). */
  get active(): boolean {
    return this.rules.length > 0;
  }

  /** The fault to inject for one request, if any; `names` are the operation's names (any matches). */
  pick(service: FaultService, names: readonly string[], now = Date.now()): FaultRule | undefined {
    for (const r of this.rules) {
      if (r.service !== service || (r.until !== undefined && r.until <= now)) continue;
      if (r.operation !== '*' && !names.some((n) => n.toLowerCase() === r.operation.toLowerCase())) continue;
      r.seen++;
      if (Math.floor(r.seen * r.rate + 1e-9) > r.injected) {
        r.injected++;
        return r;
      }
    }
    return undefined;
  }

  /**
   * Fails this request if a rule picks it: a `timeout` drops the connection here, a status is
   * answered by `answer` in the service's own shape with the rule's `Retry-After` header.
   * True when the request was failed (or `answer` throws the service's error).
   */
  strike(service: FaultService, names: readonly string[], res: ServerResponse, answer: (status: 503 | 429 | 500, retryAfter: Record<string, string>) => void): boolean {
    const fault = this.pick(service, names);
    if (!fault) return false;
    if (fault.status === 'timeout') dropConnection(res);
    else answer(fault.status, retryAfterHeader(fault));
    return true;
  }
}

/** A `timeout` fault: the request is dropped unanswered, as after a gateway timeout. */
export function dropConnection(res: ServerResponse): void {
  res.socket?.destroy();
}

/** What an injected fault tells the client: `Retry-After` in seconds. */
export function retryAfterHeader(rule: FaultRule): Record<string, string> {
  return { 'retry-after': String(rule.retryAfter) };
}
