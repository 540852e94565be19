// Cheap scope matching for the decision hot path.
//
// A requested scope is analysed into one flat array: its normalized form, then for every
// segment boundary the prefix length, a fingerprint of the prefix, and the id of the
// assignment scope that prefix was last confirmed equal to. Analyses of scopes seen more
// than once are memoised.
// An assignment scope can only cover the request if its length is one of those
// boundaries and the fingerprints agree; the strings are compared once, after which the
// cached id turns the check into an integer comparison. Ids come from the engine's
// scope interning and are never reused for another string, so a cached id stays valid.

import { normalizeScope } from './scope.js';

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
// The high 30 bits (the better mixed ones in a multiplicative hash) keep fingerprints
// small integers: no heap numbers in arrays or records.
const fingerprintOf = (h: number) => h >>> 2;
const MEMO_LIMIT = 65_536;
const UNCONFIRMED = -1;

/** [normalized, (length, fingerprint, confirmed scope id)*] with boundaries shortest first. */
export type ScopeInfo = (string | number)[];
const FIRST = 1;
const STRIDE = 3;

/** Fingerprint of a normalized scope; equals the fingerprint recorded for that prefix. */
export function scopeFingerprint(normalized: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < normalized.length; i++) h = Math.imul(h ^ normalized.charCodeAt(i), FNV_PRIME);
  return fingerprintOf(h);
}

function analyse(normalized: string): ScopeInfo {
  const info: ScopeInfo = [normalized];
  if (normalized.length > 1) {
    let h = FNV_OFFSET;
    for (let i = 0; i < normalized.length; i++) {
      const c = normalized.charCodeAt(i);
      if (c === 47 && i > 0) info.push(i, fingerprintOf(h), UNCONFIRMED);
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    info.push(normalized.length, fingerprintOf(h), UNCONFIRMED);
  }
  return info;
}

export function normalizedOf(target: ScopeInfo): string {
  return target[0] as string;
}

/**
 * Raw requested scope -> ScopeInfo, memoised and bounded. A scope enters the memo on its
 * second sighting (tracked by fingerprint, so nothing is retained for one-off scopes such
 * as unique blob paths): memoising every scope would promote short-lived analyses into
 * the old generation and turn them into garbage collection work.
 */
export class ScopeProbe {
  private readonly memo = new Map<string, ScopeInfo>();
  private readonly seen = new Set<number>();

  info(raw: string): ScopeInfo {
    let info = this.memo.get(raw);
    if (info === undefined) {
      info = analyse(normalizeScope(raw));
      const fp = info.length > 1 ? (info[info.length - 2] as number) : 0;
      if (this.seen.has(fp)) {
        if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
        this.memo.set(raw, info);
      } else {
        if (this.seen.size >= MEMO_LIMIT) this.seen.clear();
        this.seen.add(fp);
      }
    }
    return info;
  }
}

/** Position of the target boundary with this length and fingerprint, or -1 (integers only). */
export function boundaryOf(target: ScopeInfo, length: number, fingerprint: number): number {
  for (let i = FIRST; i < target.length; i += STRIDE) {
    const l = target[i] as number;
    if (l === length) return target[i + 1] === fingerprint ? i : -1;
    if (l > length) return -1;
  }
  return -1;
}

/** Whether the prefix at boundary `at` was already confirmed to be the scope with this id. */
export function confirmedAs(target: ScopeInfo, at: number, scopeId: number): boolean {
  return target[at + 2] === scopeId;
}

/** Compares the prefix at boundary `at` with `scope`; remembers the id on success. */
export function confirmPrefix(target: ScopeInfo, at: number, scope: string, scopeId: number): boolean {
  const equal = normalizedOf(target).slice(0, target[at] as number) === scope;
  if (equal) target[at + 2] = scopeId;
  return equal;
}

/** Whether `scope` (normalized, with its length and fingerprint) is the target or an ancestor by path. */
export function isUnder(target: ScopeInfo, scope: string, length: number, fingerprint: number): boolean {
  if (length === 1) return true; // tenant root
  const at = boundaryOf(target, length, fingerprint);
  return at !== -1 && normalizedOf(target).slice(0, length) === scope;
}

/** Whether `scope` (normalized) is exactly the target. */
export function isExactly(target: ScopeInfo, scope: string): boolean {
  return normalizedOf(target) === scope;
}
