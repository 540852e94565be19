// Helpers over template values (JSON): type names, deep equality, case-insensitive property lookup.
import { ExpressionError } from './errors.js';

export type Obj = Record<string, unknown>;

export const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Lambda);

/** A lambda value, only valid as an argument of map/filter/reduce/sort/toObject. */
export class Lambda {
  constructor(readonly params: string[], readonly body: unknown, readonly apply: (args: unknown[]) => Promise<unknown>) {}
}

/** Azure's names for value types in messages. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'Null';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'number') return Number.isInteger(v) ? 'Integer' : 'Float';
  if (typeof v === 'boolean') return 'Boolean';
  if (Array.isArray(v)) return 'Array';
  if (v instanceof Lambda) return 'Lambda';
  return 'Object';
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => deepEqual(a[k], getProp(b, k)));
  }
  return false;
}

/** Property lookup as the template language does it: exact, then case-insensitive. */
export function getProp(o: Obj, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(o, name)) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

export function hasProp(o: Obj, name: string): boolean {
  if (Object.prototype.hasOwnProperty.call(o, name)) return true;
  const lower = name.toLowerCase();
  return Object.keys(o).some((k) => k.toLowerCase() === lower);
}

/** string() and string interpolation: .NET's rendering of booleans, compact JSON for objects/arrays. */
export function toStringValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}

export function expectString(fn: string, v: unknown, i: number): string {
  if (typeof v !== 'string') throw new ExpressionError(`The template language function '${fn}' expects its parameter${i >= 0 ? ` at position ${i}` : ''} to be of type 'String'. The provided value is of type '${typeName(v)}'.`);
  return v;
}

export function expectInt(fn: string, v: unknown, i: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ExpressionError(`The template language function '${fn}' expects its parameter${i >= 0 ? ` at position ${i}` : ''} to be of type 'Integer'. The provided value is of type '${typeName(v)}'.`);
  return v;
}

export function expectArray(fn: string, v: unknown, i: number): unknown[] {
  if (!Array.isArray(v)) throw new ExpressionError(`The template language function '${fn}' expects its parameter${i >= 0 ? ` at position ${i}` : ''} to be of type 'Array'. The provided value is of type '${typeName(v)}'.`);
  return v;
}

export function expectObject(fn: string, v: unknown, i: number): Obj {
  if (!isObject(v)) throw new ExpressionError(`The template language function '${fn}' expects its parameter${i >= 0 ? ` at position ${i}` : ''} to be of type 'Object'. The provided value is of type '${typeName(v)}'.`);
  return v;
}

export function expectBool(fn: string, v: unknown, i: number): boolean {
  if (typeof v !== 'boolean') throw new ExpressionError(`The template language function '${fn}' expects its parameter${i >= 0 ? ` at position ${i}` : ''} to be of type 'Boolean'. The provided value is of type '${typeName(v)}'.`);
  return v;
}
