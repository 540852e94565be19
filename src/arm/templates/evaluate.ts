// The evaluator: walks a JSON value, evaluating expression strings with the function library.
// Async because reference()/list*() read the Resource Manager through the host.
import { randomUUID } from 'node:crypto';
import type { TemplateHost } from './index.js';
import { ExpressionError } from './errors.js';
import { isExpression, literalString, parseExpression, type Expr } from './parser.js';
import { FUNCTIONS } from './functions.js';
import { getProp, hasProp, isObject, Lambda, typeName, type Obj } from './values.js';

/** Thrown during the static dependency scan when a value needs the Resource Manager. */
export class NeedsRuntime extends Error {}

export interface Ctx {
  host: TemplateHost;
  parameter(name: string): unknown;
  variable(name: string): Promise<unknown>;
  /** Active copy loops, innermost last (resource loop, then property loops). */
  loops: Array<{ name: string; index: number }>;
  lambdaVars?: Map<string, unknown>;
  /** utcNow()/newGuid() are allowed only in a parameter's defaultValue. */
  allowNonDeterministic?: boolean;
  /** Resolves a symbolic name (2.0) or a resource name of this template to its id and apiVersion. */
  resolveResource(nameOrId: string): { id: string; apiVersion?: string; key?: string; name?: string; type?: string } | undefined;
  /** Static scan: reference()/list*() throw NeedsRuntime and report their target here. */
  scan?: (target: string) => void;
  now: Date;
  newGuid(): string;
  /** Azure's `languageVersion` is 2.0 (symbolic names). */
  symbolic: boolean;
  environment(): Obj;
  /** User-defined functions of the template (`functions` section), by lower-case `namespace.member`. */
  userFunctions?: Map<string, UserFunction>;
  /** Nesting of user-defined function calls (bounded: recursion is an error, not a stack overflow). */
  userDepth?: number;
}

export interface UserFunction {
  name: string;
  params: string[];
  output: unknown;
}

export function defaultNewGuid(): string {
  return randomUUID();
}

/** Evaluates a JSON value: expression strings are evaluated, objects and arrays recursively. */
export async function evaluateValue(v: unknown, ctx: Ctx): Promise<unknown> {
  if (typeof v === 'string') {
    if (isExpression(v)) {
      const out = await evaluateExpr(parseExpression(v), ctx);
      if (out instanceof Lambda) throw new ExpressionError('A lambda function can only be used as an argument of filter, map, reduce, sort, toObject, groupBy or mapValues.');
      return out;
    }
    return literalString(v);
  }
  if (Array.isArray(v)) {
    const out: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = await evaluateValue(v[i], ctx);
    return out;
  }
  if (isObject(v)) {
    const out: Obj = {};
    const propertyCopy = v.copy;
    for (const [k, val] of Object.entries(v)) {
      if (k === 'copy' && isPropertyCopy(propertyCopy)) continue;
      const key = typeof k === 'string' && isExpression(k) ? await evaluateExpr(parseExpression(k), ctx) : literalString(k);
      if (typeof key !== 'string') throw new ExpressionError(`A property name must evaluate to a string; got '${typeName(key)}'.`);
      out[key] = await evaluateValue(val, ctx);
    }
    if (isPropertyCopy(propertyCopy)) {
      for (const c of propertyCopy as Obj[]) out[String(c.name)] = await expandCopy(c, ctx);
    }
    return out;
  }
  return v;
}

/** `copy: [{name, count, input}]` inside properties and variables. */
export function isPropertyCopy(c: unknown): boolean {
  return Array.isArray(c) && c.length > 0 && c.every((e) => isObject(e) && typeof e.name === 'string' && 'count' in e && 'input' in e);
}

/** Expands a property/variable/output copy block into an array. */
export async function expandCopy(c: Obj, ctx: Ctx, name = String(c.name ?? '')): Promise<unknown[]> {
  const count = await evaluateValue(c.count, ctx);
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 800) {
    throw new ExpressionError(`The copy count of '${name}' must be a non-negative integer no greater than 800; got '${String(count)}'.`);
  }
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    out.push(await evaluateValue(c.input, { ...ctx, loops: [...ctx.loops, { name, index: i }] }));
  }
  return out;
}

export async function evaluateExpr(e: Expr, ctx: Ctx): Promise<unknown> {
  switch (e.kind) {
    case 'string':
    case 'number':
      return e.value;
    case 'property': {
      const t = await evaluateExpr(e.target, ctx);
      return access(t, e.name);
    }
    case 'index': {
      const t = await evaluateExpr(e.target, ctx);
      const i = await evaluateExpr(e.index, ctx);
      if (Array.isArray(t)) {
        if (typeof i !== 'number' || !Number.isInteger(i)) throw new ExpressionError(`The language expression '[${typeName(i)}]' is not valid: an array index must be an integer.`);
        if (i < 0 || i >= t.length) throw new ExpressionError(`The language expression property array index '${i}' is out of bounds.`);
        return t[i];
      }
      if (typeof i === 'string') return access(t, i);
      throw new ExpressionError(`The language expression property '${String(i)}' can't be evaluated, property name must be a string.`);
    }
    case 'call':
      return callFunction(e, ctx);
  }
}

function access(t: unknown, name: string): unknown {
  if (!isObject(t)) throw new ExpressionError(`The language expression property '${name}' can't be evaluated, the value is of type '${typeName(t)}', not 'Object'.`);
  if (!hasProp(t, name)) {
    throw new ExpressionError(`The language expression property '${name}' doesn't exist, available properties are '${Object.keys(t).join(', ')}'.`);
  }
  return getProp(t, name);
}

/** Checks a parsed expression statically: known function names and argument counts. */
export function checkExpr(e: Expr, user?: Map<string, UserFunction>): void {
  if (e.kind === 'property') return checkExpr(e.target, user);
  if (e.kind === 'index') { checkExpr(e.target, user); return checkExpr(e.index, user); }
  if (e.kind !== 'call') return;
  const u = e.name.includes('.') ? user?.get(e.name.toLowerCase()) : undefined;
  if (u) arity(e.name, { min: u.params.length, max: u.params.length }, e.args.length);
  else arity(e.name, lookup(e.name), e.args.length);
  for (const a of e.args) checkExpr(a, user);
}

function lookup(name: string) {
  const lower = name.toLowerCase();
  const fn = FUNCTIONS.get(lower) ?? (lower.startsWith('list') ? FUNCTIONS.get('list*') : undefined);
  if (!fn) throw new ExpressionError(`The template function '${name}' is not valid. Please see https://aka.ms/arm-functions for usage details.`);
  return fn;
}

function arity(name: string, fn: { min: number; max: number }, n: number): void {
  if (n < fn.min || n > fn.max) {
    const expect = fn.min === fn.max ? `${fn.min}` : fn.max === Infinity ? `at least ${fn.min}` : `${fn.min} to ${fn.max}`;
    throw new ExpressionError(`Unable to evaluate template language function '${name}': function requires ${expect} argument(s) while ${n} were provided. Please see https://aka.ms/arm-functions for usage details.`);
  }
}

async function callFunction(e: Extract<Expr, { kind: 'call' }>, ctx: Ctx): Promise<unknown> {
  const u = e.name.includes('.') ? ctx.userFunctions?.get(e.name.toLowerCase()) : undefined;
  if (u) return callUserFunction(u, e, ctx);
  const fn = lookup(e.name);
  arity(e.name, fn, e.args.length);
  if (fn.lazy) return fn.lazy(e.args, ctx, e.name);
  const args: unknown[] = new Array(e.args.length);
  for (let i = 0; i < e.args.length; i++) args[i] = await evaluateExpr(e.args[i]!, ctx);
  return fn.call!(args, ctx, e.name);
}

// A user-defined function sees only its own parameters (Azure: no variables, no reference()).
async function callUserFunction(u: UserFunction, e: Extract<Expr, { kind: 'call' }>, ctx: Ctx): Promise<unknown> {
  arity(e.name, { min: u.params.length, max: u.params.length }, e.args.length);
  const depth = (ctx.userDepth ?? 0) + 1;
  if (depth > 32) throw new ExpressionError(`The user-defined function '${u.name}' calls itself too deeply (recursion is not supported).`);
  const args: unknown[] = [];
  for (const a of e.args) args.push(await evaluateExpr(a, ctx));
  const inner: Ctx = {
    ...ctx,
    loops: [],
    lambdaVars: undefined,
    userDepth: depth,
    parameter: (n) => {
      const i = u.params.findIndex((p) => p.toLowerCase() === n.toLowerCase());
      if (i < 0) throw new ExpressionError(`The template parameter '${n}' is not found in the user-defined function '${u.name}'.`);
      return args[i];
    },
    variable: async (n) => {
      throw new ExpressionError(`The template function 'variables' cannot be used in the user-defined function '${u.name}' (variable '${n}').`);
    },
  };
  return evaluateValue(u.output, inner);
}

export { Lambda };
