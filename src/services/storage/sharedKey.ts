// Shared Key (Azure Storage's account-key scheme): signing for Mimic's own calls and the CLI,
// verification for the gate. Blob and Queue sign the verb, eleven standard headers, the
// x-ms-* headers and the resource with every query parameter; Table signs the verb,
// Content-MD5, Content-Type, the date and the resource with `comp` only.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SigningService = 'blob' | 'queue' | 'table';

export interface SignableRequest {
  method: string;
  /** Path as sent on the wire (percent-encoded), starting with '/'. */
  path: string;
  /** Query string as sent, without '?'. */
  rawQuery: string;
  /** Header names lower-case. */
  headers: Record<string, string | string[] | undefined>;
}

const STANDARD_HEADERS = [
  'content-encoding',
  'content-language',
  'content-length',
  'content-md5',
  'content-type',
  'date',
  'if-modified-since',
  'if-match',
  'if-none-match',
  'if-unmodified-since',
  'range',
];

function value(headers: SignableRequest['headers'], name: string): string {
  const v = headers[name];
  return v === undefined ? '' : Array.isArray(v) ? v.join(',') : v;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Query parameters as Storage canonicalizes them: names lower-cased, values decoded (no '+' rule). */
function queryParameters(rawQuery: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    const list = byName.get(name) ?? [];
    list.push(eq < 0 ? '' : decode(pair.slice(eq + 1)));
    byName.set(name, list);
  }
  return byName;
}

function canonicalHeaders(headers: SignableRequest['headers']): string {
  return Object.keys(headers)
    .filter((h) => h.startsWith('x-ms-') && headers[h] !== undefined)
    .sort()
    .map((h) => `${h}:${value(headers, h).replace(/\s+/g, ' ').trim()}\n`)
    .join('');
}

export function stringToSign(service: SigningService, account: string, r: SignableRequest): string {
  const resource = `/${account}${r.path || '/'}`;
  const params = queryParameters(r.rawQuery);
  if (service === 'table') {
    const comp = params.get('comp');
    const date = value(r.headers, 'x-ms-date') || value(r.headers, 'date');
    return [r.method.toUpperCase(), value(r.headers, 'content-md5'), value(r.headers, 'content-type'), date, comp ? `${resource}?comp=${comp[0]}` : resource].join('\n');
  }
  const standard = STANDARD_HEADERS.map((name) => {
    const v = value(r.headers, name);
    return name === 'content-length' && v === '0' ? '' : v;
  });
  let canonicalResource = resource;
  for (const name of [...params.keys()].sort()) canonicalResource += `\n${name}:${params.get(name)!.sort().join(',')}`;
  return [r.method.toUpperCase(), ...standard].join('\n') + '\n' + canonicalHeaders(r.headers) + canonicalResource;
}

function signature(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64');
}

/** Adds x-ms-date (when absent) and the `SharedKey` authorization header to `r.headers`. */
export function signSharedKey(service: SigningService, account: string, key: Buffer, r: SignableRequest): void {
  r.headers['x-ms-date'] ??= new Date().toUTCString();
  r.headers['authorization'] = `SharedKey ${account}:${signature(key, stringToSign(service, account, r))}`;
}

export type SharedKeyCheck = { ok: true } | { ok: false; reason: 'account' | 'signature'; signed: string; stringToSign: string };

/** Checks a `SharedKey account:signature` header against the account's keys. */
export function verifySharedKey(service: SigningService, account: string, keys: readonly Buffer[], r: SignableRequest, authorization: string): SharedKeyCheck {
  const credential = authorization.slice('SharedKey '.length).trim();
  const colon = credential.lastIndexOf(':');
  const signed = colon < 0 ? '' : credential.slice(colon + 1);
  const text = stringToSign(service, account, r);
  if (colon < 0 || credential.slice(0, colon) !== account) return { ok: false, reason: 'account', signed, stringToSign: text };
  const given = Buffer.from(signed, 'base64');
  for (const key of keys) {
    const expected = Buffer.from(signature(key, text), 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'signature', signed, stringToSign: text };
}
