// In-process Resource Manager requests made on behalf of an already authenticated caller (a
// template deployment creating its resources). They go through the main origin's handler, so
// every resource takes exactly the path (routing, catalog, RBAC, hooks) a direct request takes.
// The caller rides in a WeakMap keyed by the request object: only code in this process can
// create such a request, so no header can forge it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Handler, Request } from '../server/http.js';
import type { Caller } from './model.js';

const callers = new WeakMap<Request, Caller>();

/** The caller of an in-process request; undefined for a request that came over the network. */
export function internalCaller(req: Request): Caller | undefined {
  return callers.get(req);
}

export interface InternalResponse {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body, or undefined when empty or not JSON. */
  body: unknown;
}

class InternalRequest implements Request {
  readonly raw = { headers: {} } as unknown as IncomingMessage;
  readonly path: string;
  readonly search: string;
  readonly query: URLSearchParams;
  readonly host = 'management.azure.com';
  private readonly payload: Buffer;

  constructor(
    readonly method: string,
    pathAndQuery: string,
    body: unknown,
  ) {
    const q = pathAndQuery.indexOf('?');
    this.path = (q < 0 ? pathAndQuery : pathAndQuery.slice(0, q)).replace(/\/{2,}/g, '/');
    this.search = q < 0 ? '' : pathAndQuery.slice(q + 1);
    this.query = new URLSearchParams(this.search);
    this.payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body), 'utf8');
  }

  header(name: string): string | undefined {
    switch (name.toLowerCase()) {
      case 'host':
        return this.host;
      case 'content-type':
        return this.payload.length > 0 ? 'application/json' : undefined;
      default:
        return undefined;
    }
  }

  async body(): Promise<Buffer> {
    return this.payload;
  }
}

/** Collects what a handler writes (handlers answer with writeHead + end). */
class CapturingResponse {
  status = 0;
  headers: Record<string, string> = {};
  private chunks: Buffer[] = [];
  headersSent = false;
  done!: Promise<void>;
  private finish!: () => void;

  constructor() {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  setHeader(name: string, value: unknown): this {
    this.headers[name.toLowerCase()] = String(value);
    return this;
  }

  writeHead(status: number, headers?: Record<string, unknown>): this {
    this.status = status;
    for (const [k, v] of Object.entries(headers ?? {})) this.headers[k.toLowerCase()] = String(v);
    this.headersSent = true;
    return this;
  }

  write(chunk: string | Buffer): boolean {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    return true;
  }

  end(chunk?: string | Buffer): this {
    if (chunk !== undefined) this.write(chunk);
    this.finish();
    return this;
  }

  destroy(): this {
    this.status ||= 500;
    this.finish();
    return this;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Sends one request through `handler` as `caller` and returns its answer. */
export async function dispatchAs(handler: Handler, caller: Caller, method: string, pathAndQuery: string, body?: unknown): Promise<InternalResponse> {
  const req = new InternalRequest(method, pathAndQuery, body);
  callers.set(req, caller);
  const res = new CapturingResponse();
  await handler(req, res as unknown as ServerResponse);
  await res.done;
  const text = res.text();
  let parsed: unknown;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
