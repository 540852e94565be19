// The template function library, following Azure's "template functions" reference: names are
// case-insensitive; every function checks its argument count (see evaluate.ts) and types.
import { ExpressionError } from './errors.js';
import type { Expr } from './parser.js';
import { evaluateExpr, NeedsRuntime, type Ctx } from './evaluate.js';
import { guid, uniqueString } from './hashes.js';
import {
  deepEqual, expectArray, expectBool, expectInt, expectObject, expectString, getProp, hasProp, isObject, Lambda, toStringValue, typeName, type Obj,
} from './values.js';

export interface TemplateFunction {
  min: number;
  max: number;
  call?: (args: unknown[], ctx: Ctx, name: string) => unknown;
  /** Functions that evaluate their own arguments (if, lambda, and/or short-circuit). */
  lazy?: (args: Expr[], ctx: Ctx, name: string) => Promise<unknown>;
}

export const FUNCTIONS = new Map<string, TemplateFunction>();
const def = (name: string, min: number, max: number, call: TemplateFunction['call']) => FUNCTIONS.set(name.toLowerCase(), { min, max, call });
const lazy = (name: string, min: number, max: number, fn: TemplateFunction['lazy']) => FUNCTIONS.set(name.toLowerCase(), { min, max, lazy: fn });
const fail = (name: string, msg: string) => new ExpressionError(`Unable to evaluate template language function '${name}': ${msg}`);

// ---------- logical and comparison ----------
def('true', 0, 0, () => true);
def('false', 0, 0, () => false);
def('null', 0, 0, () => null);
def('not', 1, 1, (a, _c, n) => !expectBool(n, a[0], 0));
lazy('and', 2, Infinity, async (args, ctx, n) => {
  for (let i = 0; i < args.length; i++) if (!expectBool(n, await evaluateExpr(args[i]!, ctx), i)) return false;
  return true;
});
lazy('or', 2, Infinity, async (args, ctx, n) => {
  for (let i = 0; i < args.length; i++) if (expectBool(n, await evaluateExpr(args[i]!, ctx), i)) return true;
  return false;
});
// if(): only the chosen branch is evaluated, so `if(cond, reference(x), null())` is safe when x is absent.
lazy('if', 3, 3, async (args, ctx, n) => {
  const c = expectBool(n, await evaluateExpr(args[0]!, ctx), 0);
  return evaluateExpr(c ? args[1]! : args[2]!, ctx);
});
def('equals', 2, 2, (a) => deepEqual(a[0], a[1]));
function compare(n: string, a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw fail(n, `the parameters must be both integers or both strings; got '${typeName(a)}' and '${typeName(b)}'.`);
}
def('greater', 2, 2, (a, _c, n) => compare(n, a[0], a[1]) > 0);
def('greaterOrEquals', 2, 2, (a, _c, n) => compare(n, a[0], a[1]) >= 0);
def('less', 2, 2, (a, _c, n) => compare(n, a[0], a[1]) < 0);
def('lessOrEquals', 2, 2, (a, _c, n) => compare(n, a[0], a[1]) <= 0);
def('coalesce', 1, Infinity, (a) => a.find((x) => x !== null && x !== undefined) ?? null);

// ---------- numeric ----------
def('add', 2, 2, (a, _c, n) => expectInt(n, a[0], 0) + expectInt(n, a[1], 1));
def('sub', 2, 2, (a, _c, n) => expectInt(n, a[0], 0) - expectInt(n, a[1], 1));
def('mul', 2, 2, (a, _c, n) => expectInt(n, a[0], 0) * expectInt(n, a[1], 1));
def('div', 2, 2, (a, _c, n) => {
  const d = expectInt(n, a[1], 1);
  if (d === 0) throw fail(n, 'the divisor is zero.');
  return Math.trunc(expectInt(n, a[0], 0) / d);
});
def('mod', 2, 2, (a, _c, n) => {
  const d = expectInt(n, a[1], 1);
  if (d === 0) throw fail(n, 'the divisor is zero.');
  return expectInt(n, a[0], 0) % d;
});
function numbers(n: string, a: unknown[]): number[] {
  const list = a.length === 1 && Array.isArray(a[0]) ? a[0] : a;
  if (list.length === 0) throw fail(n, 'the array is empty.');
  return list.map((x, i) => expectInt(n, x, i));
}
def('min', 1, Infinity, (a, _c, n) => Math.min(...numbers(n, a)));
def('max', 1, Infinity, (a, _c, n) => Math.max(...numbers(n, a)));
def('int', 1, 1, (a, _c, n) => {
  const v = a[0];
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return parseInt(v, 10);
  throw fail(n, `the value '${toStringValue(v)}' cannot be converted to an integer.`);
});
def('float', 1, 1, (a, _c, n) => {
  const v = typeof a[0] === 'string' ? Number(a[0]) : a[0];
  if (typeof v !== 'number' || Number.isNaN(v)) throw fail(n, `the value cannot be converted to a float.`);
  return v;
});
def('range', 2, 2, (a, _c, n) => {
  const start = expectInt(n, a[0], 0);
  const count = expectInt(n, a[1], 1);
  if (count < 0 || count > 10000) throw fail(n, `the count must be between 0 and 10000; got '${count}'.`);
  return Array.from({ length: count }, (_, i) => start + i);
});

// ---------- string ----------
def('concat', 1, Infinity, (a) => {
  if (a.length > 0 && a.every((x) => Array.isArray(x) || x === null)) return a.flatMap((x) => (x === null ? [] : (x as unknown[])));
  if (a.some((x) => Array.isArray(x))) return a.flatMap((x) => (Array.isArray(x) ? x : [x]));
  return a.map(toStringValue).join('');
});
def('string', 1, 1, (a) => toStringValue(a[0]));
def('toLower', 1, 1, (a, _c, n) => expectString(n, a[0], 0).toLowerCase());
def('toUpper', 1, 1, (a, _c, n) => expectString(n, a[0], 0).toUpperCase());
def('trim', 1, 1, (a, _c, n) => expectString(n, a[0], 0).trim());
def('replace', 3, 3, (a, _c, n) => {
  const s = expectString(n, a[0], 0);
  const old = expectString(n, a[1], 1);
  if (old === '') throw fail(n, 'the old value cannot be empty.');
  return s.split(old).join(expectString(n, a[2], 2));
});
def('split', 2, 2, (a, _c, n) => {
  const s = expectString(n, a[0], 0);
  const d = a[1];
  const delims = Array.isArray(d) ? d.map((x, i) => expectString(n, x, i)) : [expectString(n, d, 1)];
  let parts = [s];
  for (const del of delims) if (del) parts = parts.flatMap((p) => p.split(del));
  return parts;
});
def('join', 2, 2, (a, _c, n) => expectArray(n, a[0], 0).map(toStringValue).join(expectString(n, a[1], 1)));
def('substring', 2, 3, (a, _c, n) => {
  const s = expectString(n, a[0], 0);
  const start = expectInt(n, a[1], 1);
  const len = a.length > 2 ? expectInt(n, a[2], 2) : s.length - start;
  if (start < 0 || start > s.length) throw fail(n, `The index parameter cannot be less than zero or greater than the length of the string. Index: '${start}', length: '${s.length}'.`);
  if (len < 0 || start + len > s.length) throw fail(n, `The index and length parameters must refer to a location within the string. The index parameter: '${start}', the length parameter: '${len}', the length of the string parameter: '${s.length}'.`);
  return s.substring(start, start + len);
});
// startsWith/endsWith/indexOf/lastIndexOf compare case-insensitively (Azure's documented behaviour).
def('startsWith', 2, 2, (a, _c, n) => expectString(n, a[0], 0).toLowerCase().startsWith(expectString(n, a[1], 1).toLowerCase()));
def('endsWith', 2, 2, (a, _c, n) => expectString(n, a[0], 0).toLowerCase().endsWith(expectString(n, a[1], 1).toLowerCase()));
def('indexOf', 2, 2, (a, _c, n) => {
  if (Array.isArray(a[0])) return a[0].findIndex((x) => deepEqual(x, a[1]));
  return expectString(n, a[0], 0).toLowerCase().indexOf(expectString(n, a[1], 1).toLowerCase());
});
def('lastIndexOf', 2, 2, (a, _c, n) => {
  if (Array.isArray(a[0])) {
    for (let i = a[0].length - 1; i >= 0; i--) if (deepEqual(a[0][i], a[1])) return i;
    return -1;
  }
  return expectString(n, a[0], 0).toLowerCase().lastIndexOf(expectString(n, a[1], 1).toLowerCase());
});
def('padLeft', 2, 3, (a, _c, n) => {
  const s = typeof a[0] === 'number' ? String(a[0]) : expectString(n, a[0], 0);
  const pad = a.length > 2 ? expectString(n, a[2], 2) : ' ';
  if (pad.length !== 1) throw fail(n, 'the padding character must be a single character.');
  const total = expectInt(n, a[1], 1);
  if (total > 16384) throw fail(n, `the total length '${total}' is too large.`);
  return s.padStart(total, pad);
});
def('base64', 1, 1, (a, _c, n) => Buffer.from(expectString(n, a[0], 0), 'utf8').toString('base64'));
def('base64ToString', 1, 1, (a, _c, n) => Buffer.from(expectString(n, a[0], 0), 'base64').toString('utf8'));
def('base64ToJson', 1, 1, (a, _c, n) => parseJson(n, Buffer.from(expectString(n, a[0], 0), 'base64').toString('utf8')));
def('dataUri', 1, 1, (a) => `data:text/plain;charset=utf8;base64,${Buffer.from(toStringValue(a[0]), 'utf8').toString('base64')}`);
def('dataUriToString', 1, 1, (a, _c, n) => {
  const m = /^data:[^,]*?(;base64)?,(.*)$/s.exec(expectString(n, a[0], 0));
  if (!m) throw fail(n, 'the value is not a data URI.');
  return m[1] ? Buffer.from(m[2]!, 'base64').toString('utf8') : decodeURIComponent(m[2]!);
});
def('uri', 2, 2, (a, _c, n) => {
  const base = expectString(n, a[0], 0);
  try {
    return new URL(expectString(n, a[1], 1), base).toString();
  } catch {
    throw fail(n, `the base URI '${base}' is not an absolute URI.`);
  }
});
def('uriComponent', 1, 1, (a, _c, n) => encodeURIComponent(expectString(n, a[0], 0)));
def('uriComponentToString', 1, 1, (a, _c, n) => {
  try {
    return decodeURIComponent(expectString(n, a[0], 0));
  } catch (e) {
    if (e instanceof ExpressionError) throw e;
    throw fail(n, 'the value is not a valid URI-encoded string.');
  }
});
def('guid', 1, Infinity, (a, _c, n) => guid(...a.map((x, i) => expectString(n, x, i))));
def('uniqueString', 1, Infinity, (a, _c, n) => uniqueString(...a.map((x, i) => expectString(n, x, i))));
def('format', 1, Infinity, (a, _c, n) => formatComposite(n, expectString(n, a[0], 0), a.slice(1)));
def('newGuid', 0, 0, (_a, ctx, n) => {
  if (!ctx.allowNonDeterministic) throw nonDeterministic(n);
  return ctx.newGuid();
});
def('utcNow', 0, 1, (a, ctx, n) => {
  if (!ctx.allowNonDeterministic) throw nonDeterministic(n);
  return formatDate(ctx.now, a.length ? expectString(n, a[0], 0) : 'yyyyMMddTHHmmssZ');
});
def('dateTimeAdd', 2, 3, (a, _c, n) => {
  const base = new Date(expectString(n, a[0], 0));
  if (Number.isNaN(base.getTime())) throw fail(n, 'the base time is not a valid date-time.');
  const d = addDuration(n, base, expectString(n, a[1], 1));
  return a.length > 2 ? formatDate(d, expectString(n, a[2], 2)) : d.toISOString().replace('.000Z', 'Z');
});
def('emptyString', 0, 0, () => '');
def('dateTimeToEpoch', 1, 1, (a, _c, n) => {
  const d = new Date(expectString(n, a[0], 0));
  if (Number.isNaN(d.getTime())) throw fail(n, 'the value is not a valid date-time.');
  return Math.floor(d.getTime() / 1000);
});
def('dateTimeFromEpoch', 1, 1, (a, _c, n) => new Date(expectInt(n, a[0], 0) * 1000).toISOString().replace('.000Z', 'Z'));

const nonDeterministic = (n: string) => new ExpressionError(`The template function '${n}' is not expected at this location. The function can only be used with parameter default values. Please see https://aka.ms/arm-functions for usage details.`);

/** .NET composite formatting: `{index[,alignment][:format]}`, `{{`/`}}` escapes. */
function formatComposite(n: string, fmt: string, args: unknown[]): string {
  return fmt.replace(/\{\{|\}\}|\{(\d+)(?:,(-?\d+))?(?::([^}]*))?\}/g, (m, idx?: string, align?: string, spec?: string) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const i = Number(idx);
    if (i >= args.length) throw fail(n, `Index (zero based) must be greater than or equal to zero and less than the size of the argument list.`);
    let s = formatOne(args[i], spec);
    if (align) {
      const w = Number(align);
      s = w < 0 ? s.padEnd(-w) : s.padStart(w);
    }
    return s;
  });
}

function formatOne(v: unknown, spec: string | undefined): string {
  if (spec && typeof v === 'number') {
    const m = /^([NnDdXxFfPp])(\d*)$/.exec(spec);
    if (m) {
      const p = m[2] ? Number(m[2]) : undefined;
      switch (m[1]) {
        case 'N': case 'n':
          return v.toLocaleString('en-US', { minimumFractionDigits: p ?? 2, maximumFractionDigits: p ?? 2 });
        case 'F': case 'f':
          return v.toFixed(p ?? 2);
        case 'D': case 'd':
          return (v < 0 ? '-' : '') + String(Math.abs(Math.trunc(v))).padStart(p ?? 0, '0');
        case 'X':
          return Math.trunc(v).toString(16).toUpperCase().padStart(p ?? 0, '0');
        case 'x':
          return Math.trunc(v).toString(16).padStart(p ?? 0, '0');
        case 'P': case 'p':
          return `${(v * 100).toLocaleString('en-US', { minimumFractionDigits: p ?? 2, maximumFractionDigits: p ?? 2 })} %`;
      }
    }
    if (/^0+$/.test(spec)) return String(Math.trunc(v)).padStart(spec.length, '0');
  }
  return toStringValue(v);
}

/** The .NET custom date-time format specifiers utcNow() is commonly given; 'u', 'd', 'o' standard formats. */
function formatDate(d: Date, f: string): string {
  const p = (x: number, w = 2) => String(x).padStart(w, '0');
  if (f === 'u') return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}Z`;
  if (f === 'd') return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;
  if (f === 'o' || f === 'O') return d.toISOString().replace('Z', '0000Z');
  const tokens: Array<[RegExp, () => string]> = [
    [/^yyyy/, () => String(d.getUTCFullYear())],
    [/^yy/, () => p(d.getUTCFullYear() % 100)],
    [/^MM/, () => p(d.getUTCMonth() + 1)],
    [/^dd/, () => p(d.getUTCDate())],
    [/^HH/, () => p(d.getUTCHours())],
    [/^hh/, () => p(d.getUTCHours() % 12 || 12)],
    [/^mm/, () => p(d.getUTCMinutes())],
    [/^ss/, () => p(d.getUTCSeconds())],
    [/^fff/, () => p(d.getUTCMilliseconds(), 3)],
    [/^M/, () => String(d.getUTCMonth() + 1)],
    [/^d/, () => String(d.getUTCDate())],
    [/^H/, () => String(d.getUTCHours())],
  ];
  let out = '';
  let i = 0;
  outer: while (i < f.length) {
    const rest = f.slice(i);
    for (const [re, fn] of tokens) {
      const m = re.exec(rest);
      if (m) { out += fn(); i += m[0].length; continue outer; }
    }
    out += f[i++];
  }
  return out;
}

function addDuration(n: string, base: Date, iso: string): Date {
  const m = /^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T')) throw fail(n, `the duration '${iso}' is not a valid ISO 8601 duration.`);
  const s = m[1] ? -1 : 1;
  const d = new Date(base.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + s * Number(m[2] ?? 0));
  d.setUTCMonth(d.getUTCMonth() + s * Number(m[3] ?? 0));
  d.setUTCDate(d.getUTCDate() + s * (7 * Number(m[4] ?? 0) + Number(m[5] ?? 0)));
  d.setTime(d.getTime() + s * 1000 * (3600 * Number(m[6] ?? 0) + 60 * Number(m[7] ?? 0) + Number(m[8] ?? 0)));
  return d;
}

/** Deepest value json() builds: what the Resource Manager accepts in a request body (server/http.ts MAX_JSON_DEPTH). */
const MAX_JSON_VALUE_DEPTH = 128;

function deeperThan(v: unknown, limit: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (limit === 0) return true;
  for (const x of Object.values(v)) if (deeperThan(x, limit - 1)) return true;
  return false;
}

function parseJson(n: string, s: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    // Azure's parser also accepts single-quoted strings (its documentation's own examples use them).
    try {
      v = JSON.parse(singleToDoubleQuotes(s));
    } catch {
      throw fail(n, `the value '${s.length > 100 ? `${s.slice(0, 100)}...` : s}' is not valid JSON.`);
    }
  }
  // The value goes on into resource bodies, which are walked recursively.
  if (deeperThan(v, MAX_JSON_VALUE_DEPTH)) throw fail(n, `the value nests objects and arrays deeper than ${MAX_JSON_VALUE_DEPTH} levels.`);
  return v;
}

function singleToDoubleQuotes(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') {
      // copy a double-quoted string through
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      out += s.slice(i, j + 1);
      i = j;
    } else if (c === "'") {
      let j = i + 1;
      let v = '';
      while (j < s.length && s[j] !== "'") {
        if (s[j] === '\\' && j + 1 < s.length) { v += s[j + 1]; j += 2; continue; }
        v += s[j++];
      }
      out += JSON.stringify(v);
      i = j;
    } else out += c;
  }
  return out;
}

// ---------- arrays and objects ----------
def('array', 1, 1, (a) => (Array.isArray(a[0]) ? a[0] : [a[0]]));
def('createArray', 0, Infinity, (a) => a);
def('createObject', 0, Infinity, (a, _c, n) => {
  if (a.length % 2) throw fail(n, 'the function requires an even number of arguments (key, value pairs).');
  const o: Obj = {};
  for (let i = 0; i < a.length; i += 2) o[expectString(n, a[i], i)] = a[i + 1];
  return o;
});
def('json', 1, 1, (a, _c, n) => parseJson(n, expectString(n, a[0], 0)));
def('bool', 1, 1, (a, _c, n) => {
  const v = a[0];
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw fail(n, `the value '${toStringValue(v)}' cannot be converted to a boolean.`);
});
def('empty', 1, 1, (a) => {
  const v = a[0];
  if (v === null || v === undefined) return true;
  if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.keys(v).length === 0;
  return false;
});
def('length', 1, 1, (a, _c, n) => {
  const v = a[0];
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  throw fail(n, `the parameter must be a string, an array or an object; got '${typeName(v)}'.`);
});
def('contains', 2, 2, (a, _c, n) => {
  const [c, item] = a;
  if (typeof c === 'string') return c.includes(toStringValue(item));
  if (Array.isArray(c)) return c.some((x) => deepEqual(x, item));
  if (isObject(c)) return hasProp(c, expectString(n, item, 1));
  throw fail(n, `the container must be a string, an array or an object; got '${typeName(c)}'.`);
});
def('first', 1, 1, (a, _c, n) => {
  const v = a[0];
  if (typeof v === 'string') return v.slice(0, 1);
  return expectArray(n, v, 0)[0] ?? null;
});
def('last', 1, 1, (a, _c, n) => {
  const v = a[0];
  if (typeof v === 'string') return v.slice(-1);
  const arr = expectArray(n, v, 0);
  return arr.length ? arr[arr.length - 1] : null;
});
def('take', 2, 2, (a, _c, n) => {
  const k = Math.max(0, expectInt(n, a[1], 1));
  if (typeof a[0] === 'string') return a[0].slice(0, k);
  return expectArray(n, a[0], 0).slice(0, k);
});
def('skip', 2, 2, (a, _c, n) => {
  const k = Math.max(0, expectInt(n, a[1], 1));
  if (typeof a[0] === 'string') return a[0].slice(k);
  return expectArray(n, a[0], 0).slice(k);
});
def('flatten', 1, 1, (a, _c, n) => expectArray(n, a[0], 0).flatMap((x, i) => expectArray(n, x, i)));
function unionTwo(x: unknown, y: unknown): unknown {
  if (isObject(x) && isObject(y)) {
    const o: Obj = { ...x };
    for (const [k, v] of Object.entries(y)) o[k] = isObject(o[k]) && isObject(v) ? unionTwo(o[k], v) : v;
    return o;
  }
  return y;
}
def('union', 1, Infinity, (a, _c, n) => {
  if (a.every((x) => Array.isArray(x))) {
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (const arr of a as unknown[][]) {
      for (const v of arr) {
        const k = valueKey(v);
        if (!seen.has(k)) { seen.add(k); out.push(v); }
      }
    }
    return out;
  }
  a.forEach((x, i) => expectObject(n, x, i));
  return a.reduce((acc, x) => unionTwo(acc, x), {});
});
def('shallowMerge', 1, 1, (a, _c, n) => Object.assign({}, ...expectArray(n, a[0], 0).map((x, i) => expectObject(n, x, i))));
def('intersection', 1, Infinity, (a, _c, n) => {
  if (a.every((x) => Array.isArray(x))) {
    const [head, ...rest] = a as unknown[][];
    const restKeys = rest.map((r) => new Set(r.map(valueKey)));
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (const v of head!) {
      const k = valueKey(v);
      if (!seen.has(k) && restKeys.every((r) => r.has(k))) { seen.add(k); out.push(v); }
    }
    return out;
  }
  const objs = a.map((x, i) => expectObject(n, x, i));
  const out: Obj = {};
  for (const [k, v] of Object.entries(objs[0]!)) if (objs.every((o) => hasProp(o, k) && deepEqual(getProp(o, k), v))) out[k] = v;
  return out;
});
// items(): [{key, value}] in key order (Azure sorts the keys).
def('items', 1, 1, (a, _c, n) => Object.keys(expectObject(n, a[0], 0)).sort(ordinalIgnoreCase).map((key) => ({ key, value: (a[0] as Obj)[key] })));
def('objectKeys', 1, 1, (a, _c, n) => Object.keys(expectObject(n, a[0], 0)));
def('tryGet', 2, Infinity, (a) => {
  let v: unknown = a[0];
  for (const k of a.slice(1)) {
    if (Array.isArray(v) && typeof k === 'number') v = v[k];
    else if (isObject(v) && typeof k === 'string') v = getProp(v, k);
    else return null;
    if (v === undefined) return null;
  }
  return v ?? null;
});
/** A canonical key for set operations: JSON with object keys sorted (and lower-cased, as lookups are). */
function valueKey(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(valueKey).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k.toLowerCase())}:${valueKey(v[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}

function ordinalIgnoreCase(x: string, y: string): number {
  const a = x.toLowerCase();
  const b = y.toLowerCase();
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------- lambdas ----------
lazy('lambda', 2, Infinity, async (args, ctx, n) => {
  const names: string[] = [];
  for (let i = 0; i < args.length - 1; i++) {
    const a = args[i]!;
    if (a.kind !== 'string') throw fail(n, 'the lambda parameter names must be string literals.');
    names.push(a.value);
  }
  const body = args[args.length - 1]!;
  return new Lambda(names, body, (vals) => {
    const vars = new Map(ctx.lambdaVars);
    names.forEach((p, i) => vars.set(p.toLowerCase(), vals[i]));
    return evaluateExpr(body, { ...ctx, lambdaVars: vars });
  });
});
def('lambdaVariables', 1, 1, (a, ctx, n) => {
  const name = expectString(n, a[0], 0);
  const vars = ctx.lambdaVars;
  if (!vars || !vars.has(name.toLowerCase())) throw fail(n, `the lambda variable '${name}' is not defined.`);
  return vars.get(name.toLowerCase());
});
const expectLambda = (n: string, v: unknown, i: number, arity: number[]): Lambda => {
  if (!(v instanceof Lambda)) throw fail(n, `the parameter at position ${i} must be a lambda function.`);
  if (!arity.includes(v.params.length)) throw fail(n, `the lambda function must take ${arity.join(' or ')} parameter(s).`);
  return v;
};
async function mapArr(items: unknown[], f: Lambda): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < items.length; i++) out.push(await f.apply([items[i], i]));
  return out;
}
def('map', 2, 2, (a, _c, n) => mapArr(expectArray(n, a[0], 0), expectLambda(n, a[1], 1, [1, 2])));
def('filter', 2, 2, async (a, _c, n) => {
  const items = expectArray(n, a[0], 0);
  const keep = await mapArr(items, expectLambda(n, a[1], 1, [1, 2]));
  return items.filter((_, i) => expectBool(n, keep[i], 1));
});
def('reduce', 3, 3, async (a, _c, n) => {
  const f = expectLambda(n, a[2], 2, [2, 3]);
  let acc = a[1];
  const items = expectArray(n, a[0], 0);
  for (let i = 0; i < items.length; i++) acc = await f.apply([acc, items[i], i]);
  return acc;
});
def('sort', 2, 2, async (a, _c, n) => {
  const f = expectLambda(n, a[1], 1, [2]);
  // Stable merge sort: O(n log n) calls of the (async) comparator, which answers "a before b".
  const sortRange = async (items: unknown[]): Promise<unknown[]> => {
    if (items.length < 2) return items;
    const mid = items.length >> 1;
    const left = await sortRange(items.slice(0, mid));
    const right = await sortRange(items.slice(mid));
    const out: unknown[] = [];
    let i = 0;
    let j = 0;
    while (i < left.length && j < right.length) {
      if (expectBool(n, await f.apply([right[j], left[i]]), 1)) out.push(right[j++]);
      else out.push(left[i++]);
    }
    return out.concat(left.slice(i), right.slice(j));
  };
  return sortRange([...expectArray(n, a[0], 0)]);
});
def('toObject', 2, 3, async (a, _c, n) => {
  const items = expectArray(n, a[0], 0);
  const kf = expectLambda(n, a[1], 1, [1]);
  const vf = a.length > 2 ? expectLambda(n, a[2], 2, [1]) : undefined;
  const o: Obj = {};
  for (const it of items) o[expectString(n, await kf.apply([it]), 1)] = vf ? await vf.apply([it]) : it;
  return o;
});
def('groupBy', 2, 2, async (a, _c, n) => {
  const items = expectArray(n, a[0], 0);
  const kf = expectLambda(n, a[1], 1, [1]);
  const o: Record<string, unknown[]> = {};
  for (const it of items) (o[expectString(n, await kf.apply([it]), 1)] ??= []).push(it);
  return o;
});
def('mapValues', 2, 2, async (a, _c, n) => {
  const f = expectLambda(n, a[1], 1, [1]);
  const o: Obj = {};
  for (const [k, v] of Object.entries(expectObject(n, a[0], 0))) o[k] = await f.apply([v]);
  return o;
});

// ---------- deployment values ----------
def('parameters', 1, 1, (a, ctx, n) => ctx.parameter(expectString(n, a[0], 0)));
def('variables', 1, 1, (a, ctx, n) => ctx.variable(expectString(n, a[0], 0)));
def('copyIndex', 0, 2, (a, ctx, n) => {
  let loopName: string | undefined;
  let offset = 0;
  if (a.length === 1) {
    if (typeof a[0] === 'string') loopName = a[0];
    else offset = expectInt(n, a[0], 0);
  } else if (a.length === 2) {
    loopName = expectString(n, a[0], 0);
    offset = expectInt(n, a[1], 1);
  }
  const loop = loopName === undefined ? ctx.loops[0] : ctx.loops.find((l) => l.name.toLowerCase() === loopName!.toLowerCase());
  if (!loop) {
    throw new ExpressionError(loopName === undefined
      ? `The template function 'copyIndex' is not expected at this location. The function can only be used in a resource with copy specified.`
      : `The template function 'copyIndex' has an invalid loop name '${loopName}': there is no copy loop with this name here.`);
  }
  return loop.index + offset;
});
def('resourceGroup', 0, 0, (_a, ctx) => {
  const rg = ctx.host.resourceGroup;
  if (!rg) throw new ExpressionError(`The template function 'resourceGroup' is not expected at this location. It cannot be used in a deployment at subscription scope.`);
  return { id: rg.id, name: rg.name, type: 'Microsoft.Resources/resourceGroups', location: rg.location, ...(rg.managedBy ? { managedBy: rg.managedBy } : {}), tags: rg.tags ?? {}, properties: rg.properties ?? { provisioningState: 'Succeeded' } };
});
def('subscription', 0, 0, (_a, ctx) => ({
  id: `/subscriptions/${ctx.host.subscriptionId}`,
  subscriptionId: ctx.host.subscriptionId,
  tenantId: ctx.host.tenantId,
  displayName: ctx.host.subscriptionDisplayName ?? ctx.host.subscriptionId,
}));
def('tenant', 0, 0, (_a, ctx) => ({ countryCode: 'US', displayName: ctx.host.tenantDisplayName ?? ctx.host.tenantId, id: `/tenants/${ctx.host.tenantId}`, tenantId: ctx.host.tenantId }));
def('deployment', 0, 0, (_a, ctx) => {
  const d = ctx.host.deployment;
  return { name: d.name, ...(d.location ? { location: d.location } : {}), properties: d.properties ?? {} };
});
def('environment', 0, 0, (_a, ctx) => ctx.environment());

// ---------- resources ----------
function splitNames(names: string[]): string[] {
  return names.flatMap((x) => x.split('/')).filter((x) => x !== '');
}
function typeAndNames(n: string, type: string, names: string[]): { segs: string } {
  const t = type.replace(/^\/+|\/+$/g, '');
  const parts = t.split('/');
  const ns = parts[0]!;
  const types = parts.slice(1);
  const nm = splitNames(names);
  if (!ns.includes('.') && types.length === 0) throw fail(n, `the resource type '${type}' is not valid.`);
  if (types.length !== nm.length) {
    throw fail(n, `the type '${t}' requires '${types.length}' resource name argument(s).`);
  }
  return { segs: `${ns}/${types.map((ty, i) => `${ty}/${nm[i]}`).join('/')}` };
}
/** The first argument naming a resource type (`Namespace.X/type`) splits scope arguments from names. */
function typeIndex(a: string[]): number {
  return a.findIndex((x) => /^[A-Za-z0-9]+(\.[A-Za-z0-9]+)+\/[^/]/.test(x));
}
def('resourceId', 2, Infinity, (a, ctx, n) => {
  const s = a.map((x, i) => expectString(n, x, i));
  const ti = typeIndex(s);
  if (ti < 0 || ti > 2) throw fail(n, `no resource type was found in its arguments.`);
  const { segs } = typeAndNames(n, s[ti]!, s.slice(ti + 1));
  let sub = ctx.host.subscriptionId;
  let rg = ctx.host.resourceGroup?.name;
  if (ti === 1) rg = s[0];
  if (ti === 2) { sub = s[0]!; rg = s[1]; }
  return rg === undefined ? `/subscriptions/${sub}/providers/${segs}` : `/subscriptions/${sub}/resourceGroups/${rg}/providers/${segs}`;
});
def('subscriptionResourceId', 2, Infinity, (a, ctx, n) => {
  const s = a.map((x, i) => expectString(n, x, i));
  const ti = typeIndex(s);
  if (ti < 0 || ti > 1) throw fail(n, `no resource type was found in its arguments.`);
  const sub = ti === 1 ? s[0]! : ctx.host.subscriptionId;
  return `/subscriptions/${sub}/providers/${typeAndNames(n, s[ti]!, s.slice(ti + 1)).segs}`;
});
def('tenantResourceId', 2, Infinity, (a, _c, n) => {
  const s = a.map((x, i) => expectString(n, x, i));
  return `/providers/${typeAndNames(n, s[0]!, s.slice(1)).segs}`;
});
def('managementGroupResourceId', 2, Infinity, (a, _c, n) => {
  const s = a.map((x, i) => expectString(n, x, i));
  const ti = typeIndex(s);
  if (ti !== 1) throw fail(n, `the management group id must be given at this scope.`);
  return `/providers/Microsoft.Management/managementGroups/${s[0]}/providers/${typeAndNames(n, s[1]!, s.slice(2)).segs}`;
});
def('extensionResourceId', 3, Infinity, (a, _c, n) => {
  const s = a.map((x, i) => expectString(n, x, i));
  return `${s[0]!.replace(/\/+$/, '')}/providers/${typeAndNames(n, s[1]!, s.slice(2)).segs}`;
});
def('reference', 1, 3, async (a, ctx, n) => {
  const target = expectString(n, a[0], 0);
  const apiVersion = a.length > 1 && a[1] !== null ? expectString(n, a[1], 1) : undefined;
  const full = a.length > 2 && expectString(n, a[2], 2).toLowerCase() === 'full';
  const r = ctx.resolveResource(target);
  if (ctx.scan) { ctx.scan(target); throw new NeedsRuntime(); }
  if (!r && !target.startsWith('/')) throw fail(n, `the resource '${target}' is not defined in the template.`);
  return ctx.host.reference(r?.id ?? target, apiVersion ?? r?.apiVersion, full);
});
def('list*', 2, 3, async (a, ctx, n) => {
  const target = expectString(n, a[0], 0);
  const apiVersion = expectString(n, a[1], 1);
  if (ctx.scan) { ctx.scan(target); throw new NeedsRuntime(); }
  const r = ctx.resolveResource(target);
  return ctx.host.list(r?.id ?? target, n, apiVersion, a[2]);
});
// resourceInfo(symbolicName): id, name, type and apiVersion of a resource of a languageVersion 2.0 template.
def('resourceInfo', 1, 1, (a, ctx, n) => {
  const sym = expectString(n, a[0], 0);
  const r = ctx.symbolic ? ctx.resolveResource(sym) : undefined;
  if (!r) throw fail(n, `the symbolic name '${sym}' is not a resource of this template.`);
  return { id: r.id, name: r.name, type: r.type, apiVersion: r.apiVersion };
});
def('pickZones', 3, 5, () => []);
