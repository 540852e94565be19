// What a data-plane handler receives, and the helpers every collection shares: request bodies,
// attributes and tags in Key Vault's wire shape (times are epoch seconds), deletion views,
// and paged lists with `nextLink`.
import type { Request } from '../../server/http.js';
import { BodyTooLargeError, jsonNestingExceeds, MAX_JSON_DEPTH } from '../../server/http.js';
import type { Sealer } from '../../crypto/masterKey.js';
import type { KvCaller } from './authenticate.js';
import { badParameter, KvError } from './errors.js';
import type { Attributes, Collection, DeletedState, ObjectRecord } from './records.js';
import type { VaultData } from './vaultData.js';
import type { VaultInfo } from './vaultModel.js';
import type { Entry } from '../../store/types.js';

export const MAX_REQUEST_BYTES = 1024 * 1024;
export const MAX_TAGS = 15;
export const MAX_PAGE = 25;

export interface KvContext {
  req: Request;
  vault: VaultInfo;
  caller: KvCaller;
  apiVersion: string;
  data: VaultData;
  sealer: Sealer;
  /** The path parameters: item name and version where the route has them. */
  name: string;
  version?: string;
}

export interface KvResult {
  status: number;
  /** A value to send as JSON, or JSON already serialised to bytes. */
  body?: unknown;
}

export type KvHandler = (ctx: KvContext) => Promise<KvResult>;

export const ok = (body: unknown): KvResult => ({ status: 200, body });

/** The request body as a JSON object (Key Vault answers malformed JSON with BadParameter). */
export async function jsonBody(req: Request): Promise<Record<string, unknown>> {
  let raw: Buffer;
  try {
    raw = await req.body(MAX_REQUEST_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new KvError(413, 'RequestEntityTooLarge', `The request body is larger than ${MAX_REQUEST_BYTES} bytes.`);
    throw err;
  }
  if (raw.length === 0) return {};
  const text = raw.toString('utf8');
  if (jsonNestingExceeds(text)) throw badParameter(`The request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw badParameter('The request body is not valid JSON.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badParameter('The request body must be a JSON object.');
  return v as Record<string, unknown>;
}

function epoch(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badParameter(`The attribute '${field}' must be a number of seconds since 1970.`);
  return Math.floor(v);
}

/**
 * Attributes from a request over the previous ones: members not sent keep their value, `null`
 * clears nbf/exp. created/updated are the caller's to set.
 */
export function parseAttributes(raw: unknown, previous?: Attributes): Pick<Attributes, 'enabled' | 'nbf' | 'exp' | 'exportable'> {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw badParameter("'attributes' must be an object.");
  const a = (raw ?? {}) as Record<string, unknown>;
  if (a.enabled !== undefined && a.enabled !== null && typeof a.enabled !== 'boolean') throw badParameter("The attribute 'enabled' must be a boolean.");
  const out: Pick<Attributes, 'enabled' | 'nbf' | 'exp' | 'exportable'> = {
    enabled: typeof a.enabled === 'boolean' ? a.enabled : (previous?.enabled ?? true),
  };
  const nbf = 'nbf' in a ? epoch(a.nbf, 'nbf') : previous?.nbf;
  const exp = 'exp' in a ? epoch(a.exp, 'exp') : previous?.exp;
  if (nbf !== undefined) out.nbf = nbf;
  if (exp !== undefined) out.exp = exp;
  if (nbf !== undefined && exp !== undefined && exp <= nbf) throw badParameter("The attribute 'exp' must be later than 'nbf'.");
  const exportable = typeof a.exportable === 'boolean' ? a.exportable : previous?.exportable;
  if (exportable !== undefined) out.exportable = exportable;
  return out;
}

export function parseTags(raw: unknown, previous?: Record<string, string>): Record<string, string> | undefined {
  if (raw === undefined) return previous;
  if (raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badParameter("'tags' must be an object of strings.");
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_TAGS) throw badParameter(`An item can have at most ${MAX_TAGS} tags.`);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw badParameter(`The tag '${k}' must have a string value.`);
    if (k.length > 512 || v.length > 256) throw badParameter(`The tag '${k}' is too long: names take at most 512 characters, values 256.`);
  }
  return entries.length > 0 ? (raw as Record<string, string>) : undefined;
}

export function attributesView(a: Attributes, vault: VaultInfo): Record<string, unknown> {
  const v: Record<string, unknown> = { enabled: a.enabled };
  if (a.nbf !== undefined) v.nbf = a.nbf;
  if (a.exp !== undefined) v.exp = a.exp;
  v.created = a.created;
  v.updated = a.updated;
  v.recoveryLevel = vault.recoveryLevel;
  v.recoverableDays = vault.retentionDays;
  if (a.exportable !== undefined) v.exportable = a.exportable;
  return v;
}

/** The members a deleted item adds to its bundle. */
export function deletedMembers(vault: VaultInfo, coll: Collection, name: string, d: DeletedState): Record<string, unknown> {
  return { recoveryId: `${vault.base}/deleted${coll}/${name}`, deletedDate: d.deletedDate, scheduledPurgeDate: d.scheduledPurgeDate };
}

export function itemId(vault: VaultInfo, coll: Collection, name: string, version?: string): string {
  return version ? `${vault.base}/${coll}/${name}/${version}` : `${vault.base}/${coll}/${name}`;
}

function pageSize(query: URLSearchParams): number {
  const raw = query.get('maxresults');
  if (raw === null || raw === '') return MAX_PAGE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw badParameter(`maxresults must be an integer from 1 to ${MAX_PAGE}.`);
  return n;
}

/**
 * One page of items in a stable order, with `nextLink` (null on the last page) pointing at the
 * same path with a `$skiptoken` after the page's last sort key.
 */
export function paged<T>(ctx: KvContext, path: string, sorted: Array<{ sortKey: string; item: T }>): { value: T[]; nextLink: string | null } {
  const size = pageSize(ctx.req.query);
  const token = ctx.req.query.get('$skiptoken');
  let start = 0;
  if (token) {
    const after = Buffer.from(token, 'base64url').toString('utf8');
    start = sorted.findIndex((e) => e.sortKey > after);
    if (start < 0) start = sorted.length;
  }
  const slice = sorted.slice(start, start + size);
  const more = start + size < sorted.length;
  const last = slice[slice.length - 1];
  const nextLink = more && last
    ? `${ctx.vault.base}${path}?api-version=${encodeURIComponent(ctx.apiVersion)}&$skiptoken=${Buffer.from(last.sortKey, 'utf8').toString('base64url')}&maxresults=${size}`
    : null;
  return { value: slice.map((e) => e.item), nextLink };
}

/** Live (or deleted) object records of a collection, in key order. */
export async function objectsOf(ctx: KvContext, coll: Collection, deleted: boolean): Promise<Entry<ObjectRecord>[]> {
  const now = Math.floor(Date.now() / 1000);
  const all = await ctx.data.objects(ctx.vault.name, coll);
  return all.filter((e) => (deleted ? !!e.value.deleted && e.value.deleted.scheduledPurgeDate > now : !e.value.deleted));
}
