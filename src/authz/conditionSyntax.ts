// Lexer and parser for ABAC conditions (version 2.0). Produces a typed syntax tree;
// evaluation lives in conditions.ts. Every error carries the offset where it was found.

import { literalValue, lookupOperator, type Family, type OperatorSpec, type RawLiteral, type Value } from './conditionValues.js';

export type ConditionErrorCode =
  | 'ParseError'
  | 'UnknownAttributeSource'
  | 'UnsupportedVersion'
  | 'TooLong'
  | 'Empty';

export class ConditionError extends Error {
  readonly code: ConditionErrorCode;
  /** 0-based character offset in the condition text (-1 when not tied to a place). */
  readonly position: number;

  constructor(code: ConditionErrorCode, detail: string, position: number, text?: string) {
    super(position >= 0 && text !== undefined ? `${detail} at ${where(text, position)}` : detail);
    this.name = 'ConditionError';
    this.code = code;
    this.position = position;
  }
}

function where(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  const near = text.slice(position, position + 24).replace(/\s+/g, ' ');
  return `position ${position} (line ${line}, column ${column})${near ? ` near '${near}'` : ' (end of condition)'}`;
}

export const ATTRIBUTE_SOURCES = ['Resource', 'Request', 'Principal', 'Environment'] as const;
export type AttributeSource = (typeof ATTRIBUTE_SOURCES)[number];

export interface AttributeRef {
  source: AttributeSource;
  name: string;
  /** The attribute as written, e.g. `@Resource[...:name]`; the lookup key into request attributes. */
  key: string;
}

export type Operand = { kind: 'attribute'; ref: AttributeRef } | { kind: 'literal'; values: readonly Value[] };

export type ConditionNode =
  | { kind: 'and' | 'or'; items: readonly ConditionNode[] }
  | { kind: 'not'; item: ConditionNode }
  | { kind: 'actionMatches'; pattern: string }
  | { kind: 'subOperationMatches'; pattern: string }
  | { kind: 'exists'; ref: AttributeRef }
  | { kind: 'compare'; left: Operand; op: OperatorSpec; right: Operand };

type Token =
  | { kind: '(' | ')' | '{' | '}' | ',' | '!' | '&&' | '||'; pos: number }
  | { kind: 'string'; text: string; pos: number }
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'attribute'; ref: AttributeRef; pos: number }
  | { kind: 'end'; pos: number };

const WORD_CHAR = /[A-Za-z0-9_.:+\-$]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (msg: string, at: number): never => {
    throw new ConditionError('ParseError', msg, at, text);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const pos = i;
    if (c === '(' || c === ')' || c === '{' || c === '}' || c === ',' || c === '!') {
      tokens.push({ kind: c, pos });
      i++;
    } else if (c === '&' || c === '|') {
      if (text[i + 1] !== c) fail(`expected '${c}${c}'`, pos);
      tokens.push({ kind: c === '&' ? '&&' : '||', pos });
      i += 2;
    } else if (c === "'") {
      // Only \' is an escape here; other backslashes stay for StringLike (\* and \?).
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated string literal', pos);
        const ch = text[i]!;
        if (ch === '\\' && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (ch === "'") {
          i++;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      tokens.push({ kind: 'string', text: value, pos });
    } else if (c === '@') {
      const open = text.indexOf('[', i);
      const sourceText = open === -1 ? '' : text.slice(i + 1, open);
      if (open === -1 || !/^[A-Za-z]+$/.test(sourceText)) fail("expected '@Source[attribute]'", pos);
      const source = ATTRIBUTE_SOURCES.find((s) => s.toLowerCase() === sourceText.toLowerCase());
      if (source === undefined) {
        throw new ConditionError(
          'UnknownAttributeSource',
          `unknown attribute source '@${sourceText}' (expected @Resource, @Request, @Principal or @Environment)`,
          pos,
          text,
        );
      }
      const close = text.indexOf(']', open);
      if (close === -1) fail("missing ']' after attribute name", pos);
      const name = text.slice(open + 1, close).trim();
      if (name.length === 0) fail('empty attribute name', open);
      tokens.push({ kind: 'attribute', ref: { source, name, key: `@${sourceText}[${name}]` }, pos });
      i = close + 1;
    } else if (WORD_CHAR.test(c)) {
      let j = i;
      while (j < text.length && WORD_CHAR.test(text[j]!)) j++;
      tokens.push({ kind: 'word', text: text.slice(i, j), pos });
      i = j;
    } else {
      fail(`unexpected character '${c}'`, pos);
    }
  }
  tokens.push({ kind: 'end', pos: text.length });
  return tokens;
}

/**
 * Deepest nesting of parentheses and NOT the parser follows. Azure documents none; this bound
 * keeps a hostile condition (8 KB of '(' or '!') from exhausting the stack, far above any
 * condition a person writes.
 */
export const MAX_CONDITION_NESTING = 256;

type RawOperand = { kind: 'attribute'; ref: AttributeRef; pos: number } | { kind: 'literal'; items: RawLiteral[]; pos: number[] };

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  parse(): ConditionNode {
    const node = this.expression();
    const t = this.peek();
    if (t.kind !== 'end') this.fail(t.kind === ')' ? "unbalanced ')'" : 'expected AND, OR or the end of the condition', t.pos);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private fail(msg: string, pos: number): never {
    throw new ConditionError('ParseError', msg, pos, this.text);
  }

  private expect<K extends Token['kind']>(kind: K, what: string): Extract<Token, { kind: K }> {
    const t = this.next();
    if (t.kind !== kind) this.fail(`expected ${what}`, t.pos);
    return t as Extract<Token, { kind: K }>;
  }

  private logical(t: Token): 'and' | 'or' | undefined {
    if (t.kind === '&&') return 'and';
    if (t.kind === '||') return 'or';
    if (t.kind === 'word') {
      const w = t.text.toUpperCase();
      if (w === 'AND') return 'and';
      if (w === 'OR') return 'or';
    }
    return undefined;
  }

  private isNot(t: Token): boolean {
    return t.kind === '!' || (t.kind === 'word' && t.text.toUpperCase() === 'NOT');
  }

  // AND and OR may not be mixed at one level: the documented grammar demands parentheses.
  private expression(): ConditionNode {
    const items = [this.unary()];
    let kind: 'and' | 'or' | undefined;
    for (;;) {
      const t = this.peek();
      const op = this.logical(t);
      if (op === undefined) break;
      if (kind !== undefined && op !== kind) {
        this.fail('AND and OR cannot be mixed without parentheses', t.pos);
      }
      kind = op;
      this.next();
      items.push(this.unary());
    }
    return kind === undefined ? items[0]! : { kind, items };
  }

  private unary(): ConditionNode {
    if (++this.depth > MAX_CONDITION_NESTING) this.fail(`the condition nests parentheses and NOT deeper than ${MAX_CONDITION_NESTING} levels`, this.peek().pos);
    try {
      if (this.isNot(this.peek())) {
        this.next();
        return { kind: 'not', item: this.unary() };
      }
      return this.primary();
    } finally {
      this.depth--;
    }
  }

  private primary(): ConditionNode {
    const t = this.peek();
    if (t.kind === '(') {
      this.next();
      const inner = this.expression();
      this.expect(')', "')'");
      return inner;
    }
    if (t.kind === 'word') {
      const w = t.text.toLowerCase();
      if (w === 'actionmatches' || w === 'suboperationmatches') {
        this.next();
        this.expect('{', `'{' after ${t.text}`);
        const pattern = this.expect('string', 'a quoted pattern').text;
        this.expect('}', "'}'");
        return { kind: w === 'actionmatches' ? 'actionMatches' : 'subOperationMatches', pattern };
      }
      if (w === 'exists') {
        this.next();
        const a = this.expect('attribute', 'an attribute after Exists');
        return { kind: 'exists', ref: a.ref };
      }
    }
    if (t.kind === 'end') this.fail('expected an expression', t.pos);
    return this.comparison();
  }

  private comparison(): ConditionNode {
    const left = this.operand();
    const opToken = this.next();
    if (opToken.kind !== 'word') this.fail('expected an operator', opToken.pos);
    const op = lookupOperator(opToken.text);
    if (typeof op === 'string') this.fail(op, opToken.pos);
    const right = this.operand();
    return { kind: 'compare', left: this.typed(left, op.family), op, right: this.typed(right, op.family) };
  }

  private operand(): RawOperand {
    const t = this.next();
    if (t.kind === 'attribute') return { kind: 'attribute', ref: t.ref, pos: t.pos };
    if (t.kind === 'string' || t.kind === 'word') {
      return { kind: 'literal', items: [{ quoted: t.kind === 'string', text: t.text }], pos: [t.pos] };
    }
    if (t.kind === '{') {
      const items: RawLiteral[] = [];
      const pos: number[] = [];
      for (;;) {
        const v = this.next();
        if (v.kind !== 'string' && v.kind !== 'word') this.fail('expected a value in the set', v.pos);
        items.push({ quoted: v.kind === 'string', text: v.text });
        pos.push(v.pos);
        const sep = this.next();
        if (sep.kind === '}') break;
        if (sep.kind !== ',') this.fail("expected ',' or '}' in the set", sep.pos);
      }
      return { kind: 'literal', items, pos };
    }
    return this.fail('expected an attribute or a value', t.pos);
  }

  private typed(raw: RawOperand, family: Family): Operand {
    if (raw.kind === 'attribute') return { kind: 'attribute', ref: raw.ref };
    const values = raw.items.map((item, k) => {
      const v = literalValue(family, item);
      if (v === undefined) this.fail(`'${item.text}' is not a valid ${describe(family)}`, raw.pos[k]!);
      return v;
    });
    return { kind: 'literal', values };
  }
}

function describe(family: Family): string {
  switch (family) {
    case 'string':
      return "string (strings are written in single quotes)";
    case 'numeric':
      return 'integer';
    case 'bool':
      return 'boolean (true or false)';
    case 'guid':
      return 'GUID';
    case 'datetime':
      return "date-time ('yyyy-mm-ddThh:mm:ss.fffffffZ')";
  }
}

/** Parses condition text into a syntax tree; throws ConditionError. */
export function parseConditionSyntax(text: string): ConditionNode {
  if (text.trim().length === 0) throw new ConditionError('Empty', 'the condition is empty', -1);
  return new Parser(text, tokenize(text)).parse();
}
