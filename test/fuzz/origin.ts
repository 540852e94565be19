// A whole Mimic in the fuzzing thread, reached without sockets: each input is a request in text
// form, turned into the message Node's HTTP parser would hand the listener and sent through the
// main origin's handler (server/http.ts's request parsing, the module routes, the token checks,
// the Resource Manager router and every type's hooks), so coverage of all of it is measured in
// this thread. The answer is captured; 5xx (but 501, Graph's documented "not implemented"), an
// exception out of the handler, a dropped connection or no answer at all fail the oracle.
//
// Request text: `METHOD URL`, header lines, a blank line, the body. `{name}` placeholders are
// filled from the harness's variables (subscription, tokens, vault host...).
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startMimic, type Mimic } from '../../src/server/app.js';
import { toRequest, type Handler } from '../../src/server/http.js';
import { adminEnvironment } from '../../src/cli/environment.js';
import { OracleFailure } from './engine.js';

export interface RequestParts {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What reaches a Node listener: bytes above 0x7f arrive as latin1, controls and spaces never do. */
function wire(s: string, allowSpace: boolean): string {
  const latin1 = Buffer.from(s, 'utf8').toString('latin1');
  return latin1.replace(allowSpace ? /[\0-\x08\n-\x1f\x7f]/g : /[\0-\x20\x7f]/g, '');
}

/** `authorization` is sent when the text carries no Authorization header (an empty one sends none). */
export function parseRequestText(text: string, vars: Record<string, string>, defaultHost: string, authorization?: string): RequestParts {
  const filled = text.replace(/\{([A-Za-z]+)\}/g, (m, name: string) => vars[name] ?? m);
  const blank = filled.indexOf('\n\n');
  const head = blank < 0 ? filled : filled.slice(0, blank);
  const body = Buffer.from(blank < 0 ? '' : filled.slice(blank + 2), 'utf8');
  const [line = '', ...headerLines] = head.split('\n');
  const sp = line.indexOf(' ');
  const method = (sp < 0 ? 'GET' : line.slice(0, sp)).toUpperCase().replace(/[^A-Z]/g, '') || 'GET';
  let url = wire(sp < 0 ? line : line.slice(sp + 1), false);
  if (!url.startsWith('/')) url = `/${url}`;
  const headers: Record<string, string> = { host: defaultHost };
  for (const h of headerLines) {
    const colon = h.indexOf(':');
    const name = (colon < 0 ? h : h.slice(0, colon)).trim().toLowerCase();
    if (!HEADER_NAME.test(name) || name === 'content-length' || name === 'transfer-encoding') continue;
    headers[name] = wire(colon < 0 ? '' : h.slice(colon + 1), true).trim();
  }
  if (headers.authorization === undefined && authorization) headers.authorization = authorization;
  else if (headers.authorization === '') delete headers.authorization;
  if (body.length > 0 || method === 'PUT' || method === 'POST' || method === 'PATCH') headers['content-length'] = String(body.length);
  return { method, url, headers, body };
}

/** The parts of ServerResponse the handlers use, recording the answer. */
class CapturedResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  private readonly headers = new Map<string, unknown>();
  private readonly chunks: Buffer[] = [];
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor() {
    super();
    this.done = new Promise((r) => (this.resolveDone = r));
  }
  setHeader(name: string, value: unknown): this {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  getHeader(name: string): unknown {
    return this.headers.get(name.toLowerCase());
  }
  getHeaders(): Record<string, unknown> {
    return Object.fromEntries(this.headers);
  }
  hasHeader(name: string): boolean {
    return this.headers.has(name.toLowerCase());
  }
  removeHeader(name: string): void {
    this.headers.delete(name.toLowerCase());
  }
  writeHead(status: number, a?: unknown, b?: unknown): this {
    this.statusCode = status;
    const headers = typeof a === 'string' ? b : a;
    if (Array.isArray(headers)) for (let i = 0; i + 1 < headers.length; i += 2) this.setHeader(String(headers[i]), headers[i + 1]);
    else if (headers && typeof headers === 'object') for (const [k, v] of Object.entries(headers)) this.setHeader(k, v);
    this.headersSent = true;
    return this;
  }
  flushHeaders(): void {
    this.headersSent = true;
  }
  write(chunk: string | Buffer | Uint8Array, enc?: unknown, cb?: unknown): boolean {
    this.headersSent = true;
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
    const callback = typeof enc === 'function' ? enc : cb;
    if (typeof callback === 'function') queueMicrotask(callback as () => void);
    return true;
  }
  end(chunk?: unknown, enc?: unknown, cb?: unknown): this {
    if (typeof chunk === 'function') cb = chunk;
    else if (chunk !== undefined && chunk !== null) this.write(chunk as Buffer);
    if (typeof enc === 'function') cb = enc;
    this.headersSent = true;
    this.writableEnded = true;
    this.resolveDone();
    queueMicrotask(() => this.emit('finish'));
    if (typeof cb === 'function') queueMicrotask(cb as () => void);
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    this.resolveDone();
    queueMicrotask(() => this.emit('close'));
    return this;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  text: string;
}

const ANSWER_MS = 15_000;

/** Sends one request through `handler` and applies the HTTP oracle. */
export async function dispatch(handler: Handler, parts: RequestParts): Promise<Answer> {
  const raw = new PassThrough() as unknown as IncomingMessage & PassThrough;
  Object.assign(raw, { url: parts.url, method: parts.method, headers: parts.headers, httpVersion: '1.1', socket: { remoteAddress: '127.0.0.1', encrypted: true }, complete: true });
  raw.end(parts.body);
  const res = new CapturedResponse();
  const what = `${parts.method} ${parts.url}`;
  try {
    await handler(toRequest(raw), res as unknown as ServerResponse);
  } catch (err) {
    // serve() turns this into a 500.
    throw new OracleFailure(`${what}: the handler threw, answered 500: ${(err as Error)?.stack ?? err}`);
  }
  let timer: NodeJS.Timeout | undefined;
  const answered = await Promise.race([res.done.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ANSWER_MS)))]);
  clearTimeout(timer);
  if (!answered) throw new OracleFailure(`${what}: no answer within ${ANSWER_MS} ms`);
  if (res.destroyed && !res.writableEnded) throw new OracleFailure(`${what}: the connection was dropped (status ${res.statusCode})`);
  const text = res.text();
  if (res.statusCode >= 500 && res.statusCode !== 501) throw new OracleFailure(`${what}: answered ${res.statusCode}: ${text.slice(0, 400)}`);
  return { status: res.statusCode, headers: res.getHeaders(), text };
}

export interface Origin {
  mimic: Mimic;
  handler: Handler;
  vars: Record<string, string>;
  /** Sends a request as text (placeholders filled), applying the oracle. */
  send(text: string, defaultHost?: string, authorization?: string): Promise<Answer>;
  /** As `send`, through another handler (a managed-identity listener's); also returns the parts sent. */
  sendTo(handler: Handler, text: string, defaultHost: string, authorization?: string): Promise<Answer & { parts: RequestParts }>;
  close(): Promise<void>;
}

/** Starts Mimic in a temporary data dir with the administrator's ARM and Key Vault tokens at hand. */
export async function startOrigin(): Promise<Origin> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mimic-fuzz-'));
  const mimic = await startMimic({ dataDir, port: 0, env: {} });
  const handler = mimic.context.handle!;
  const admin = await adminEnvironment(dataDir);
  const token = async (scope: string) => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: admin.AZURE_CLIENT_ID!, client_secret: admin.AZURE_CLIENT_SECRET!, scope });
    const a = await dispatch(handler, { method: 'POST', url: `/${admin.AZURE_TENANT_ID}/oauth2/v2.0/token`, headers: { host: 'login.microsoftonline.com', 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()) });
    if (a.status !== 200) throw new Error(`token: ${a.status} ${a.text}`);
    return (JSON.parse(a.text) as { access_token: string }).access_token;
  };
  const vars: Record<string, string> = {
    subscriptionId: mimic.endpoints.subscriptionId,
    tenantId: mimic.endpoints.tenantId,
    adminObjectId: mimic.context.tenant.adminObjectId,
    armToken: await token('https://management.azure.com/.default'),
    vaultToken: await token('https://vault.azure.net/.default'),
    graphToken: await token('https://graph.microsoft.com/.default'),
    adminClientId: admin.AZURE_CLIENT_ID!,
    adminSecret: admin.AZURE_CLIENT_SECRET!,
  };
  const send = (text: string, defaultHost = 'management.azure.com', authorization = `Bearer ${vars.armToken}`) => dispatch(handler, parseRequestText(text, vars, defaultHost, authorization));
  const sendTo = async (h: Handler, text: string, defaultHost: string, authorization?: string) => {
    const parts = parseRequestText(text, vars, defaultHost, authorization);
    return { ...(await dispatch(h, parts)), parts };
  };
  return {
    mimic,
    handler,
    vars,
    send,
    sendTo,
    async close() {
      await mimic.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A request through a whole Mimic may do real work once (the first storage account wakes the
 * emulator: about 2 s, more on a loaded machine; RSA key generation); algorithmic blowups are
 * still caught, and the answer timeout (above) and the hang watchdog stay.
 */
export const HTTP_SLOW_MS = 10_000;

/** Dictionary tokens every request-in-text target shares. */
export const HTTP_TOKENS = ['\n', '\n\n', '/', '//', '?', '&', '=', '%', '%2e%2e', '%2F', '%00', '%ZZ', '..', '%C0%AF', 'api-version=', 'Content-Type: application/json', 'Content-Type: text/plain', 'Authorization: ', 'Authorization: Bearer x', 'If-Match: *', 'If-None-Match: *', 'x-ms-client-request-id: 1'];

/** One Mimic per fuzzing process (each target runs in its own child), started on first use. */
let shared: Origin | undefined;
export async function ensureOrigin(): Promise<Origin> {
  shared ??= await startOrigin();
  return shared;
}
/** One step of a target's setup through the shared origin: it must succeed; its JSON answer (or {}). */
export async function setupStep(target: string, text: string): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const a = await (await ensureOrigin()).send(text);
  if (a.status >= 300) throw new Error(`${target} fuzz setup: ${a.status} ${a.text}`);
  return a.text ? JSON.parse(a.text) : {};
}
export async function closeOrigin(): Promise<void> {
  await shared?.close();
  shared = undefined;
}
