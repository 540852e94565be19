// Parser for ARM template expressions: a JSON string `[...]` holds one expression made of
// function calls, single-quoted string literals ('' escapes a quote), integers, and property
// (`.name`) or index (`[expr]`) access. `[[` at the start escapes a literal bracket.
import { ExpressionError } from './errors.js';

export type Expr =
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'call'; name: string; args: Expr[]; pos: number }
  | { kind: 'property'; target: Expr; name: string; pos: number }
  | { kind: 'index'; target: Expr; index: Expr; pos: number };

/** True when a JSON string is a template expression (`[...]`, not `[[...`). */
export function isExpression(s: string): boolean {
  return s.length >= 2 && s[0] === '[' && s[1] !== '[' && s[s.length - 1] === ']';
}

/** A JSON string that is not an expression: `[[x]` stands for the literal `[x]`. */
export function literalString(s: string): string {
  return s.startsWith('[[') ? s.slice(1) : s;
}

/** Azure's limit on one template expression ("A template expression can't exceed 24,576 characters"). */
export const MAX_EXPRESSION_LENGTH = 24_576;
/**
 * Deepest nesting of calls and indexes the parser follows. Azure documents no such limit; this
 * one keeps an expression within the length limit (12,000 levels of `a(`) from exhausting the
 * stack of the parser and the evaluator, far above what a template needs.
 */
export const MAX_EXPRESSION_NESTING = 256;

// Parsed expressions are cached: a copy loop evaluates the same strings once per instance.
const cache = new Map<string, Expr>();

/** Parses the text of an expression string including its brackets. Positions are 0-based offsets in `text`. */
export function parseExpression(text: string): Expr {
  const hit = cache.get(text);
  if (hit) return hit;
  const p = new Parser(text);
  const expr = p.parseTop();
  if (cache.size > 10000) cache.clear();
  cache.set(text, expr);
  return expr;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly s: string) {}

  parseTop(): Expr {
    if (!isExpression(this.s)) throw new ExpressionError(`The template language expression '${this.s}' is not enclosed in brackets.`, 0);
    if (this.s.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`The template language expression is ${this.s.length} characters long; an expression can't exceed ${MAX_EXPRESSION_LENGTH} characters.`, 0);
    this.i = 1;
    this.ws();
    if (this.i >= this.s.length - 1) throw this.err('The expression is empty.');
    const e = this.parseExpr();
    this.ws();
    if (this.i !== this.s.length - 1) throw this.err(`Unexpected character '${this.s[this.i]}'.`);
    return e;
  }

  private err(msg: string): ExpressionError {
    return new ExpressionError(`The template language expression '${this.s.slice(1, -1)}' is not valid: ${msg} Position: ${this.i}.`, this.i);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private parseExpr(): Expr {
    if (++this.depth > MAX_EXPRESSION_NESTING) throw this.tooDeep();
    try {
      return this.parsePostfix();
    } finally {
      this.depth--;
    }
  }

  private parsePostfix(): Expr {
    let e = this.parsePrimary();
    let links = 0;
    try {
      for (;;) {
        this.ws();
        const c = this.s[this.i];
        if (c !== '.' && !(c === '[' && this.i < this.s.length - 1)) return e;
        // Each access wraps the expression so far: one more level for the evaluator too.
        links++;
        if (++this.depth > MAX_EXPRESSION_NESTING) throw this.tooDeep();
        const pos = this.i++;
        this.ws();
        if (c === '.') {
          const name = this.ident();
          if (!name) throw this.err('Expected a property name after \'.\'.');
          e = { kind: 'property', target: e, name, pos };
        } else {
          const index = this.parseExpr();
          this.ws();
          if (this.s[this.i] !== ']') throw this.err('Expected \']\'.');
          this.i++;
          e = { kind: 'index', target: e, index, pos };
        }
      }
    } finally {
      this.depth -= links;
    }
  }

  private tooDeep(): ExpressionError {
    return this.err(`The expression nests calls, indexes and property accesses deeper than ${MAX_EXPRESSION_NESTING} levels.`);
  }

  private ident(): string {
    const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(this.s.slice(this.i, this.i + 256));
    if (!m) return '';
    this.i += m[0].length;
    return m[0];
  }

  private parsePrimary(): Expr {
    const pos = this.i;
    const c = this.s[this.i];
    if (c === "'") {
      let out = '';
      this.i++;
      for (;;) {
        if (this.i >= this.s.length - 1) { this.i = pos; throw this.err('The string literal is not terminated.'); }
        const ch = this.s[this.i]!;
        if (ch === "'") {
          if (this.s[this.i + 1] === "'") { out += "'"; this.i += 2; continue; }
          this.i++;
          return { kind: 'string', value: out, pos };
        }
        out += ch;
        this.i++;
      }
    }
    if (c !== undefined && /[-+0-9]/.test(c)) {
      const m = /^[-+]?[0-9]+(\.[0-9]+)?/.exec(this.s.slice(this.i, this.i + 64));
      if (!m) throw this.err('Invalid number.');
      this.i += m[0].length;
      return { kind: 'number', value: Number(m[0]), pos };
    }
    let name = this.ident();
    if (!name) throw this.err(c === undefined || this.i >= this.s.length - 1 ? 'Unexpected end of expression.' : `Unexpected character '${c}'.`);
    // User-defined functions are called as `namespace.member(...)`.
    if (this.s[this.i] === '.') {
      const save = this.i;
      this.i++;
      const member = this.ident();
      if (member && (this.ws(), this.s[this.i] === '(')) name = `${name}.${member}`;
      else this.i = save;
    }
    this.ws();
    if (this.s[this.i] !== '(') throw this.err(`Expected '(' after '${name}'.`);
    this.i++;
    const args: Expr[] = [];
    this.ws();
    if (this.s[this.i] === ')') {
      this.i++;
      return { kind: 'call', name, args, pos };
    }
    for (;;) {
      this.ws();
      args.push(this.parseExpr());
      this.ws();
      const d = this.s[this.i];
      if (d === ',') { this.i++; continue; }
      if (d === ')') { this.i++; return { kind: 'call', name, args, pos }; }
      throw this.err(d === undefined || this.i >= this.s.length - 1 ? `Missing ')' for '${name}'.` : `Unexpected character '${d}'.`);
    }
  }
}
