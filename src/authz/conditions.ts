// ABAC conditions (version 2.0): compile once, evaluate per request.
//
// Evaluation is three-valued. A comparison on an attribute the request does not carry
// is indeterminate; AND/OR/NOT combine like Kleene logic, so `!(ActionMatches{x}) OR
// <attribute test>` is true for other actions even though they lack the attribute, and
// a condition that still depends on a missing attribute fails the grant (as documented:
// the operation "cannot evaluate this condition").

import { compileActionPattern, type ActionMatcher } from './actionPattern.js';
import { ConditionError, parseConditionSyntax, type AttributeRef, type ConditionNode, type Operand } from './conditionSyntax.js';
import { applyOperator, attributeValue, type Family, type Value } from './conditionValues.js';
import type { AttributeValue, RequestAttributes } from './types.js';

export { ConditionError } from './conditionSyntax.js';
export type { ConditionErrorCode } from './conditionSyntax.js';

export const SUPPORTED_CONDITION_VERSION = '2.0';
/** Documented size limit of a role assignment condition. */
export const MAX_CONDITION_BYTES = 8 * 1024;

export interface ConditionContext {
  action: string;
  subOperation?: string;
  attributes: RequestAttributes;
}

export type ConditionOutcome = 'true' | 'false' | 'indeterminate';

export interface CompiledCondition {
  readonly text: string;
  /** Every attribute key the condition reads, as written. */
  readonly attributes: readonly string[];
  /** True only when the condition definitely holds. */
  evaluate(ctx: ConditionContext): boolean;
  outcome(ctx: ConditionContext): ConditionOutcome;
  /** Referenced attributes the context lacks (for explanations). */
  missingAttributes(ctx: ConditionContext): string[];
}

export interface ConditionProblem {
  code: ConditionError['code'];
  message: string;
  position?: number;
}

// Three-valued results.
const FALSE = 0;
const TRUE = 1;
const UNKNOWN = 2;
type Tri = 0 | 1 | 2;
type Evaluator = (ctx: ConditionContext) => Tri;

const CASE_SENSITIVE_KEY = '<$key_case_sensitive$>';

/**
 * Attribute names are case-insensitive, except the key part of a `<$key_case_sensitive$>`
 * attribute (blob index tag keys): `tags:Project<$key_case_sensitive$>` never reads tag `project`.
 */
function lookupAttribute(attrs: RequestAttributes, key: string, lowerKey: string): AttributeValue | undefined {
  if (Object.prototype.hasOwnProperty.call(attrs, key)) return attrs[key];
  const colon = key.includes(CASE_SENSITIVE_KEY) ? key.lastIndexOf(':') : -1;
  for (const k of Object.keys(attrs)) {
    if (k.toLowerCase() !== lowerKey) continue;
    if (colon >= 0 && k.slice(k.lastIndexOf(':')) !== key.slice(colon)) continue;
    return attrs[k];
  }
  return undefined;
}

function operandReader(operand: Operand, family: Family): (ctx: ConditionContext) => readonly Value[] | undefined {
  if (operand.kind === 'literal') {
    const values = operand.values;
    return () => values;
  }
  const { key } = operand.ref;
  const lowerKey = key.toLowerCase();
  return (ctx) => {
    const raw = lookupAttribute(ctx.attributes, key, lowerKey);
    if (raw === undefined) return undefined;
    const list = Array.isArray(raw) ? (raw as readonly AttributeValue[]) : [raw];
    const out: Value[] = [];
    for (const item of list) {
      const v = attributeValue(family, item as Exclude<AttributeValue, readonly unknown[]>);
      if (v === undefined) return undefined; // wrong type: cannot evaluate
      out.push(v);
    }
    return out;
  };
}

function compileNode(node: ConditionNode, refs: AttributeRef[]): Evaluator {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const items = node.items.map((n) => compileNode(n, refs));
      const stop: Tri = node.kind === 'and' ? FALSE : TRUE;
      return (ctx) => {
        let result: Tri = node.kind === 'and' ? TRUE : FALSE;
        for (const item of items) {
          const r = item(ctx);
          if (r === stop) return stop;
          if (r === UNKNOWN) result = UNKNOWN;
        }
        return result;
      };
    }
    case 'not': {
      const item = compileNode(node.item, refs);
      return (ctx) => {
        const r = item(ctx);
        return r === UNKNOWN ? UNKNOWN : r === TRUE ? FALSE : TRUE;
      };
    }
    case 'actionMatches': {
      const match: ActionMatcher = compileActionPattern(node.pattern);
      return (ctx) => (match(ctx.action.toLowerCase()) ? TRUE : FALSE);
    }
    case 'subOperationMatches': {
      const match: ActionMatcher = compileActionPattern(node.pattern);
      return (ctx) => (ctx.subOperation !== undefined && match(ctx.subOperation.toLowerCase()) ? TRUE : FALSE);
    }
    case 'exists': {
      refs.push(node.ref);
      const { key } = node.ref;
      const lowerKey = key.toLowerCase();
      return (ctx) => (lookupAttribute(ctx.attributes, key, lowerKey) !== undefined ? TRUE : FALSE);
    }
    case 'compare': {
      for (const side of [node.left, node.right]) if (side.kind === 'attribute') refs.push(side.ref);
      const { op } = node;
      const left = operandReader(node.left, op.family);
      const right = operandReader(node.right, op.family);
      return (ctx) => {
        const l = left(ctx);
        if (l === undefined) return UNKNOWN;
        const r = right(ctx);
        if (r === undefined) return UNKNOWN;
        return applyOperator(op, l, r) ? TRUE : FALSE;
      };
    }
  }
}

function build(text: string): CompiledCondition {
  const refs: AttributeRef[] = [];
  const root = compileNode(parseConditionSyntax(text), refs);
  const attributes = [...new Set(refs.map((r) => r.key))];
  const outcome = (ctx: ConditionContext): ConditionOutcome => {
    const r = root(ctx);
    return r === TRUE ? 'true' : r === FALSE ? 'false' : 'indeterminate';
  };
  return Object.freeze({
    text,
    attributes,
    evaluate: (ctx: ConditionContext) => root(ctx) === TRUE,
    outcome,
    missingAttributes: (ctx: ConditionContext) =>
      attributes.filter((key) => lookupAttribute(ctx.attributes, key, key.toLowerCase()) === undefined),
  });
}

const CACHE_LIMIT = 4_096;
const cache = new Map<string, CompiledCondition>();

/**
 * Parses and compiles a condition (syntax only; see compileCondition for the limits).
 * Identical texts share one compiled instance.
 */
export function parseCondition(text: string): CompiledCondition {
  let compiled = cache.get(text);
  if (compiled === undefined) {
    compiled = build(text);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(text, compiled);
  }
  return compiled;
}

function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Everything wrong with a condition as a role assignment would carry it: a version other
 * than 2.0, more than 8 KB, syntax errors and unknown attribute sources. A missing
 * version is read as 2.0.
 */
export function validateCondition(text: string, version: string | null | undefined): ConditionProblem[] {
  const problems: ConditionProblem[] = [];
  if (version !== undefined && version !== null && version !== SUPPORTED_CONDITION_VERSION) {
    problems.push({
      code: 'UnsupportedVersion',
      message: `condition version '${version}' is not supported; the only accepted value is '${SUPPORTED_CONDITION_VERSION}'`,
    });
  }
  const bytes = utf8Length(text);
  if (bytes > MAX_CONDITION_BYTES) {
    problems.push({ code: 'TooLong', message: `the condition is ${bytes} bytes; the limit is ${MAX_CONDITION_BYTES}` });
  }
  try {
    parseCondition(text);
  } catch (e) {
    if (!(e instanceof ConditionError)) throw e;
    problems.push(e.position >= 0 ? { code: e.code, message: e.message, position: e.position } : { code: e.code, message: e.message });
  }
  return problems;
}

/** Compiles a condition and refuses it (ConditionError) on any validation problem. */
export function compileCondition(text: string, version?: string | null): CompiledCondition {
  const problems = validateCondition(text, version);
  const first = problems[0];
  if (first !== undefined) throw new ConditionError(first.code, first.message, first.position ?? -1);
  return parseCondition(text);
}
