// Engine-independent pieces: op validation, value encoding, key ranges, the local
// subscriber list. Both engines share these so their behaviour cannot drift.

import type { Change, ListOptions, Op } from './types.js';

/** JSON text of a value; rejects values JSON cannot represent at top level. */
export function encodeValue(kind: string, key: string, value: unknown): string {
  const text = JSON.stringify(value);
  if (typeof text !== 'string') {
    throw new TypeError(`store value for ${kind}/${key} is not JSON-serialisable`);
  }
  return text;
}

/** A put whose value is already JSON text; what engines actually write. */
export interface EncodedPut {
  op: 'put';
  kind: string;
  key: string;
  text: string;
  ifAbsent: boolean;
  /** undefined when the op has no version precondition. */
  ifVersion: number | undefined;
}

export interface CheckedDelete {
  op: 'delete';
  kind: string;
  key: string;
  mustExist: boolean;
  /** undefined when the op has no version precondition. */
  ifVersion: number | undefined;
}

/** A version precondition on a key the batch does not write. */
export interface CheckedCheck {
  op: 'check';
  kind: string;
  key: string;
  ifVersion: number;
}

export type EncodedOp = EncodedPut | CheckedDelete | CheckedCheck;

/** Validates a batch and serialises its values before any engine work starts. */
export function encodeOps(ops: Op[]): EncodedOp[] {
  if (!Array.isArray(ops)) throw new TypeError('apply() expects an array of ops');
  return ops.map((op) => {
    if (typeof op?.kind !== 'string' || typeof op.key !== 'string') {
      throw new TypeError('store op needs string kind and key');
    }
    if (op.op === 'put' || op.op === 'delete' || op.op === 'check') {
      const v = op.ifVersion;
      if ((v !== undefined || op.op === 'check') && !(Number.isSafeInteger(v) && (v as number) >= 0)) {
        throw new TypeError(`ifVersion must be a non-negative integer, got ${String(v)}`);
      }
    }
    if (op.op === 'put') {
      const v = op.ifVersion;
      return {
        op: 'put',
        kind: op.kind,
        key: op.key,
        text: encodeValue(op.kind, op.key, op.value),
        ifAbsent: op.ifAbsent === true,
        ifVersion: v,
      };
    }
    if (op.op === 'delete') {
      return { op: 'delete', kind: op.kind, key: op.key, mustExist: op.mustExist === true, ifVersion: op.ifVersion };
    }
    if (op.op === 'check') return { op: 'check', kind: op.kind, key: op.key, ifVersion: op.ifVersion };
    throw new TypeError(`unknown store op ${String((op as { op?: unknown }).op)}`);
  });
}

const MAX_CODE_POINT = 0x10ffff;

/**
 * The smallest string greater than every string that starts with `prefix`, in
 * code-point (= UTF-8 byte) order; undefined when no such bound exists. Lets a
 * prefix query be an index range `key >= prefix AND key < end`, with no pattern
 * matching on caller text.
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (cps.length > 0) {
    const last = cps.pop()!;
    if (last < MAX_CODE_POINT) {
      // Skip the surrogate block: those code points never occur in well-formed text.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return String.fromCodePoint(...cps, next);
    }
  }
  return undefined;
}

/** The shape of a list query: which optional bounds it uses. */
/**
 * The parameters of a list query, shared by both engines: `shape` picks one of four prepared
 * statements (bit 1: an upper bound from the prefix, bit 2: an `after` cursor) and `params` are
 * its bind values in order, ending with the limit (`noLimit` when none is asked for).
 */
export function planList(kind: string, options: ListOptions | undefined, noLimit: number | null): { shape: number; params: unknown[] } {
  const prefix = options?.prefix ?? '';
  const limit = options?.limit;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new TypeError(`list limit must be a non-negative integer, got ${String(limit)}`);
  }
  const params: unknown[] = [kind, prefix];
  let shape = 0;
  if (prefix !== '') {
    shape |= 1;
    params.push(prefixEnd(prefix));
  }
  if (options?.after !== undefined) {
    shape |= 2;
    params.push(options.after);
  }
  params.push(limit ?? noLimit);
  return { shape, params };
}

/** Local subscribers; a throwing listener is reported but never stops the others. */
export class Listeners<T = Change> {
  private readonly set = new Set<(event: T) => void>();

  get size(): number {
    return this.set.size;
  }

  add(listener: (event: T) => void): () => void {
    // Wrap so the same function subscribed twice gets two independent subscriptions.
    const entry = (event: T) => listener(event);
    this.set.add(entry);
    return () => {
      this.set.delete(entry);
    };
  }

  emit(event: T): void {
    for (const listener of this.set) {
      try {
        listener(event);
      } catch (err) {
        process.emitWarning(`store change listener threw: ${String(err)}`, 'MimicStoreWarning');
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}
