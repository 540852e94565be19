// Minimal request/response plumbing shared by every Mimic listener. No framework: the hot
// paths (token checks, ARM reads, data-plane reads) are measured against a bare Node server.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

export interface Request {
  readonly raw: IncomingMessage;
  readonly method: string;
  /** Path with repeated slashes collapsed (the SDKs send `//subscriptions/...` for some scopes). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The query string as sent (after `?`, undecoded). */
  readonly search: string;
  /** Lower-cased host without port. */
  readonly host: string;
  header(name: string): string | undefined;
  /** Reads the whole body (once), refusing more than `limit` bytes. */
  body(limit?: number): Promise<Buffer>;
}

export type Handler = (req: Request, res: ServerResponse) => Promise<void> | void;

export function toRequest(raw: IncomingMessage): Request {
  return new NodeRequest(raw);
}

/** A Request over Node's message; the query and host are parsed on first use (not every route needs them). */
class NodeRequest implements Request {
  readonly method: string;
  readonly path: string;
  readonly search: string;
  private parsedQuery?: URLSearchParams;
  private parsedHost?: string;
  private cachedBody?: Promise<Buffer>;

  constructor(readonly raw: IncomingMessage) {
    const url = raw.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    let path = rawPath;
    try {
      path = decodeURIComponentSafe(rawPath);
    } catch {
      // Malformed escapes: route on the path as sent.
    }
    this.path = path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
    this.search = q < 0 ? '' : url.slice(q + 1);
    this.method = raw.method ?? 'GET';
  }

  // Key Vault's SDK percent-encodes the hyphen in `api%2Dversion`: URLSearchParams decodes keys too.
  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.search));
  }

  get host(): string {
    if (this.parsedHost === undefined) {
      const hostHeader = (this.raw.headers.host ?? '').toLowerCase();
      const end = hostHeader.startsWith('[') ? hostHeader.indexOf(']') + 1 : hostHeader.indexOf(':');
      this.parsedHost = end > 0 ? hostHeader.slice(0, end) : hostHeader;
    }
    return this.parsedHost;
  }

  header(name: string): string | undefined {
    const v = this.raw.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }

  body(limit = MAX_BODY_BYTES): Promise<Buffer> {
    return (this.cachedBody ??= readBody(this.raw, limit));
  }
}

function decodeURIComponentSafe(p: string): string {
  return p.includes('%') ? decodeURIComponent(p) : p;
}

function readBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(raw.headers['content-length'] ?? '0');
    if (declared > limit) {
      raw.resume();
      reject(new BodyTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    raw.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        raw.removeAllListeners('data');
        raw.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(c);
    });
    raw.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    raw.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  sendJsonText(res, status, body === undefined ? '' : JSON.stringify(body), headers);
}

/** Sends JSON that is already serialised (as text, or as its UTF-8 bytes). */
export function sendJsonText(res: ServerResponse, status: number, text: string | Buffer, headers?: Record<string, string>): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * The UTF-8 bytes of `text` in a buffer of their own, for bytes kept in a long-lived cache:
 * Buffer.from() cuts small buffers out of a shared 8 KB pool, and one cached slice keeps its
 * whole pool alive (found by the soak: cached response bodies pinned about 8 KB each).
 */
export function ownedUtf8(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  bytes.write(text, 'utf8');
  return bytes;
}

export function sendEmpty(res: ServerResponse, status: number, headers?: Record<string, string>): void {
  res.writeHead(status, { 'content-length': '0', ...headers });
  res.end();
}

/**
 * Deepest nesting of objects and arrays a JSON request body may have. JSON.parse copes with any
 * depth, but the code after it (the store's encoding, the template planner, JSON.stringify)
 * walks values recursively and would exhaust the stack on a hostile body; real bodies, nested
 * deployments included, stay far below this.
 */
export const MAX_JSON_DEPTH = 128;

/** True when JSON text nests objects/arrays deeper than `limit` (a scan: no recursion, no parse). */
export function jsonNestingExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Splits a path into non-empty segments. */
export function segments(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}
