// A minimal storage REST client: one request, optionally signed with an account key or
// carrying a bearer token, over HTTP (Mimic to its emulator) or HTTPS (the CLI to the gate).
import http from 'node:http';
import https from 'node:https';
import { signSharedKey, type SigningService } from './sharedKey.js';

export const CLIENT_API_VERSION = '2025-11-05';

export interface StorageCall {
  method: string;
  /** Full URL; the path must already be percent-encoded. */
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Sign with Shared Key. */
  sharedKey?: { service: SigningService; account: string; key: Buffer };
  bearer?: string;
  /** Extra CA (PEM) for HTTPS. */
  ca?: string;
  agent?: http.Agent;
}

export interface StorageReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function storageCall(call: StorageCall): Promise<StorageReply> {
  const url = new URL(call.url);
  const headers: Record<string, string> = { 'x-ms-version': CLIENT_API_VERSION };
  for (const [k, v] of Object.entries(call.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = call.body === undefined ? undefined : Buffer.isBuffer(call.body) ? call.body : Buffer.from(call.body, 'utf8');
  headers['content-length'] = String(body?.length ?? 0);
  if (call.sharedKey) {
    signSharedKey(call.sharedKey.service, call.sharedKey.account, call.sharedKey.key, { method: call.method, path: url.pathname, rawQuery: url.search.slice(1), headers });
  } else if (call.bearer) {
    headers['x-ms-date'] ??= new Date().toUTCString();
    headers['authorization'] = `Bearer ${call.bearer}`;
  }
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: call.method, headers, ...(call.ca ? { ca: call.ca } : {}), ...(call.agent ? { agent: call.agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Percent-encodes each segment of a blob/container path, keeping the slashes. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

/** The `<Code>` of a storage XML error body, or the JSON odata error code. */
export function errorCodeOf(reply: StorageReply): string | undefined {
  const header = reply.headers['x-ms-error-code'];
  if (typeof header === 'string') return header;
  const text = reply.body.toString('utf8');
  const xml = /<Code>([^<]+)<\/Code>/.exec(text);
  if (xml) return xml[1];
  try {
    return (JSON.parse(text) as { 'odata.error'?: { code?: string } })['odata.error']?.code;
  } catch {
    return undefined;
  }
}
