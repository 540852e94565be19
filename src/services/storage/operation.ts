// What the gate needs to know about one data-plane request before it reaches the emulator:
// the permission(s) Azure RBAC requires, at which scope, with which ABAC attributes, and
// what Mimic mirrors into the Resource Manager once it succeeded.
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestAttributes } from '../../authz/index.js';
import type { StorageAccount } from './accounts.js';
import type { StorageService } from './azurite.js';

export const STORAGE_NS = 'Microsoft.Storage/storageAccounts';

/** One way to be allowed: every action in `actions` granted (usually exactly one). */
export interface Grant {
  actions: readonly string[];
  /** Allowed only when the target blob does not exist yet (`blobs/add/action` on Put Blob). */
  onlyIfNew?: boolean;
}

export interface AccessCheck {
  /** Alternatives, tried in order: the first fully granted one admits the request. */
  grants: readonly Grant[];
  scope: string;
  subOperation?: string;
  attributes: RequestAttributes;
}

export type MirrorKind = 'container' | 'queue' | 'table';

export interface Operation {
  /** REST operation name, for messages and tests. */
  name: string;
  /** The main check; undefined when the operation cannot be authorized with OAuth at all. */
  check?: AccessCheck;
  /** Further checks that must pass too (e.g. read on a copy source in the same account). */
  extra?: readonly AccessCheck[];
  /** Blob whose existence decides `onlyIfNew` grants and whose tags conditions may read. */
  blob?: { container: string; name: string; snapshot?: string; versionId?: string };
  /** Reflect a created or deleted container/queue/table into the Resource Manager. */
  mirror?: { kind: MirrorKind; name: string; action: 'create' | 'delete'; statuses: readonly number[] };
}

/** A request reduced to what classification reads. */
export interface Target {
  service: StorageService;
  account: StorageAccount;
  /** The account came from the path (IP or localhost host), not from the host name. */
  pathStyle: boolean;
  method: string;
  /** First path segment after the account (container, queue or table segment), decoded. */
  first?: string;
  /** The rest of the path after `first`, decoded (blob name, `messages/<id>`). */
  rest?: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

/** Data actions are the operations on blobs, messages and entities; the rest are actions. */
export function isDataAction(action: string): boolean {
  return action.includes('/blobs') || action.includes('/messages') || action.includes('/entities');
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function queryParam(query: URLSearchParams, name: string): string | undefined {
  const v = query.get(name);
  if (v !== null) return v;
  // Query parameter names are case-insensitive in Storage.
  for (const [k, value] of query) if (k.toLowerCase() === name) return value;
  return undefined;
}

export function serviceScope(account: StorageAccount, service: StorageService): string {
  return `${account.id}/${service}Services/default`;
}

export function childScope(account: StorageAccount, service: StorageService, name: string): string {
  const child = service === 'blob' ? 'containers' : service === 'queue' ? 'queues' : 'tables';
  return `${serviceScope(account, service)}/${child}/${name}`;
}

export const single = (action: string): Grant[] => [{ actions: [action] }];
