// Typed values and comparison operators of the ABAC condition language (version 2.0):
// which operator names exist, how literals and request attributes become typed values,
// and how two typed values compare.

import type { AttributeScalar } from './types.js';

export type Family = 'string' | 'numeric' | 'bool' | 'guid' | 'datetime';
/** DateTime values are 100-nanosecond ticks since the Unix epoch (the documented precision). */
export type Value = string | number | boolean | bigint;
export type Quantifier = 'ForAnyOfAnyValues' | 'ForAllOfAnyValues' | 'ForAnyOfAllValues' | 'ForAllOfAllValues';
type Base = 'Equals' | 'StartsWith' | 'Like' | 'GreaterThan' | 'GreaterThanEquals' | 'LessThan' | 'LessThanEquals';

export interface OperatorSpec {
  /** Canonical spelling, e.g. `ForAnyOfAnyValues:GuidEquals`. */
  name: string;
  family: Family;
  base: Base;
  negated: boolean;
  ignoreCase: boolean;
  quantifier: Quantifier | undefined;
}

const QUANTIFIERS: readonly Quantifier[] = ['ForAnyOfAnyValues', 'ForAllOfAnyValues', 'ForAnyOfAllValues', 'ForAllOfAllValues'];
// Families the documentation lists with cross-product prefixes.
const QUANTIFIABLE: ReadonlySet<Family> = new Set<Family>(['string', 'numeric', 'guid']);

function buildOperatorTable(): Map<string, Omit<OperatorSpec, 'quantifier'>> {
  const table = new Map<string, Omit<OperatorSpec, 'quantifier'>>();
  const add = (name: string, family: Family, base: Base, negated: boolean, ignoreCase: boolean) =>
    table.set(name.toLowerCase(), { name, family, base, negated, ignoreCase });
  for (const base of ['Equals', 'StartsWith', 'Like'] as const) {
    for (const negated of [false, true]) {
      for (const ignoreCase of [false, true]) {
        add(`String${negated ? 'Not' : ''}${base}${ignoreCase ? 'IgnoreCase' : ''}`, 'string', base, negated, ignoreCase);
      }
    }
  }
  for (const family of ['numeric', 'datetime'] as const) {
    const prefix = family === 'numeric' ? 'Numeric' : 'DateTime';
    add(`${prefix}Equals`, family, 'Equals', false, false);
    add(`${prefix}NotEquals`, family, 'Equals', true, false);
    for (const base of ['GreaterThan', 'GreaterThanEquals', 'LessThan', 'LessThanEquals'] as const) {
      add(`${prefix}${base}`, family, base, false, false);
    }
  }
  add('BoolEquals', 'bool', 'Equals', false, false);
  add('BoolNotEquals', 'bool', 'Equals', true, false);
  add('GuidEquals', 'guid', 'Equals', false, true);
  add('GuidNotEquals', 'guid', 'Equals', true, true);
  return table;
}

const OPERATORS = buildOperatorTable();

/** Resolves an operator word (any letter case); returns an error message when it is not one. */
export function lookupOperator(word: string): OperatorSpec | string {
  let quantifier: Quantifier | undefined;
  let rest = word;
  const colon = word.indexOf(':');
  if (colon !== -1) {
    const prefix = word.slice(0, colon).toLowerCase();
    quantifier = QUANTIFIERS.find((q) => q.toLowerCase() === prefix);
    if (quantifier === undefined) return `unknown cross-product prefix '${word.slice(0, colon)}'`;
    rest = word.slice(colon + 1);
  }
  const spec = OPERATORS.get(rest.toLowerCase());
  if (spec === undefined) return `unknown operator '${word}'`;
  if (quantifier !== undefined && !QUANTIFIABLE.has(spec.family)) {
    return `'${quantifier}:' cannot be used with ${spec.name}`;
  }
  return { ...spec, quantifier, name: quantifier ? `${quantifier}:${spec.name}` : spec.name };
}

/** A literal as written: quoted string or bare word (number, boolean, GUID). */
export interface RawLiteral {
  quoted: boolean;
  text: string;
}

/** Converts a literal for an operator family; undefined when it has the wrong form. */
export function literalValue(family: Family, raw: RawLiteral): Value | undefined {
  switch (family) {
    case 'string':
      return raw.quoted ? raw.text : undefined;
    case 'numeric':
      return /^[+-]?\d+$/.test(raw.text) ? Number(raw.text) : undefined;
    case 'bool':
      return parseBool(raw.text);
    case 'guid':
      return normalizeGuid(raw.text);
    case 'datetime':
      return parseDateTime(raw.text);
  }
}

/** Converts a request attribute value; undefined when it cannot be read as the family. */
export function attributeValue(family: Family, v: AttributeScalar): Value | undefined {
  switch (family) {
    case 'string':
      if (typeof v === 'string') return v;
      return v instanceof Date ? isoString(v) : String(v);
    case 'numeric':
      if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
      return typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : undefined;
    case 'bool':
      if (typeof v === 'boolean') return v;
      return typeof v === 'string' ? parseBool(v) : undefined;
    case 'guid':
      return typeof v === 'string' ? normalizeGuid(v) : undefined;
    case 'datetime':
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : BigInt(v.getTime()) * 10_000n;
      return typeof v === 'string' ? parseDateTime(v) : undefined;
  }
}

function isoString(d: Date): string {
  return Number.isNaN(d.getTime()) ? 'Invalid Date' : d.toISOString();
}

function parseBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : undefined;
}

/**
 * GUIDs compare case-insensitively with or without hyphens or braces (built-in role
 * conditions use both spellings). A full resource id is reduced to its last segment so
 * a role definition id compares equal to its GUID.
 */
export function normalizeGuid(text: string): string | undefined {
  let t = text.trim();
  const slash = t.lastIndexOf('/');
  if (slash !== -1) t = t.slice(slash + 1);
  t = t.replace(/^\{|\}$/g, '').replace(/-/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(t) ? t : undefined;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*([Zz]|[+-]\d{2}:?\d{2})?$/;

/** `yyyy-mm-ddThh:mm:ss.fffffffZ` (fraction and offset optional) to 100 ns ticks. */
export function parseDateTime(text: string): bigint | undefined {
  const m = DATE_TIME.exec(text.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return undefined;
  }
  let ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s));
  if (new Date(ms).getUTCDate() !== day) return undefined; // e.g. 2023-02-30
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return BigInt(ms) * 10_000n + BigInt(frac.padEnd(7, '0'));
}

const LIKE_CACHE_LIMIT = 1_000;
const likeCache = new Map<string, RegExp>();

/** `*` any run, `?` one character, a backslash makes the next character literal. */
function likePattern(pattern: string): RegExp {
  let re = likeCache.get(pattern);
  if (re !== undefined) return re;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]!);
    else if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else source += escapeRegExp(c);
  }
  re = new RegExp(`^${source}$`, 'u');
  if (likeCache.size >= LIKE_CACHE_LIMIT) likeCache.clear();
  likeCache.set(pattern, re);
  return re;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The positive comparison `left <base> right` (negation is applied by the caller). */
export function comparePositive(spec: OperatorSpec, left: Value, right: Value): boolean {
  if (spec.family === 'string' && spec.ignoreCase) {
    left = (left as string).toLowerCase();
    right = (right as string).toLowerCase();
  }
  switch (spec.base) {
    case 'Equals':
      return left === right;
    case 'StartsWith':
      return (left as string).startsWith(right as string);
    case 'Like':
      return likePattern(right as string).test(left as string);
    case 'GreaterThan':
      return left > right;
    case 'GreaterThanEquals':
      return left >= right;
    case 'LessThan':
      return left < right;
    case 'LessThanEquals':
      return left <= right;
  }
}

/**
 * Applies the operator to value lists. With a cross-product prefix the documented
 * quantifiers apply to each pair. Without one, a positive operator holds when any pair
 * matches and a negated operator when no pair matches the positive form (for single
 * values both readings coincide).
 */
export function applyOperator(spec: OperatorSpec, left: readonly Value[], right: readonly Value[]): boolean {
  const pair = (l: Value, r: Value) => comparePositive(spec, l, r) !== spec.negated;
  switch (spec.quantifier) {
    case undefined: {
      const any = left.some((l) => right.some((r) => comparePositive(spec, l, r)));
      return any !== spec.negated;
    }
    case 'ForAnyOfAnyValues':
      return left.some((l) => right.some((r) => pair(l, r)));
    case 'ForAllOfAnyValues':
      return left.every((l) => right.some((r) => pair(l, r)));
    case 'ForAnyOfAllValues':
      return left.some((l) => right.every((r) => pair(l, r)));
    case 'ForAllOfAllValues':
      return left.every((l) => right.every((r) => pair(l, r)));
  }
}
