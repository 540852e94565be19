// Table service requests -> the RBAC permission each needs. Table-level operations are
// actions (`tables/read|write|delete`), entity operations data actions: insert is
// `entities/add/action` or `entities/write`, update/merge `entities/update/action` or
// `entities/write`, and the upserts (insert-or-replace/merge) `entities/write` or both add
// and update. Create Table and entity group transactions ($batch) are classified from
// their body, which the gate reads first (`tableNeedsBody`).
import { environment, resource, ATTR } from './attributes.js';
import { childScope, header, queryParam, serviceScope, single, STORAGE_NS, type AccessCheck, type Grant, type Operation, type Target } from './operation.js';

const T = `${STORAGE_NS}/tableServices`;
export const TABLE_ACTIONS = {
  serviceRead: `${T}/read`,
  serviceWrite: `${T}/write`,
  tableRead: `${T}/tables/read`,
  tableWrite: `${T}/tables/write`,
  tableDelete: `${T}/tables/delete`,
  read: `${T}/tables/entities/read`,
  write: `${T}/tables/entities/write`,
  delete: `${T}/tables/entities/delete`,
  add: `${T}/tables/entities/add/action`,
  update: `${T}/tables/entities/update/action`,
} as const;
const A = TABLE_ACTIONS;

const TABLES_SEGMENT = /^tables(?:\('((?:[^']|'')*)'\))?$/i;
const ENTITY_SEGMENT = /^([A-Za-z][A-Za-z0-9]*)(\((.*)\))?$/;

function attributes(t: Target) {
  return { [resource(ATTR.accountName)]: t.account.name, [environment('isPrivateLink')]: false, [environment('UtcNow')]: new Date() };
}

/** Create Table names the table in its body; a batch lists its operations there. */
export function tableNeedsBody(t: Target): boolean {
  if (t.method !== 'POST' || !t.first) return false;
  return t.first === '$batch' || /^tables$/i.test(t.first);
}

export function classifyTable(t: Target, body?: Buffer): Operation {
  const comp = queryParam(t.query, 'comp')?.toLowerCase();
  const restype = queryParam(t.query, 'restype')?.toLowerCase();
  const m = effectiveMethod(t);
  const serviceCheck = (grants: Grant[]): AccessCheck => ({ grants, scope: serviceScope(t.account, 'table'), attributes: attributes(t) });
  if (!t.first) {
    if (restype === 'service' && comp === 'properties') {
      if (m === 'GET') return { name: 'GetTableServiceProperties', check: serviceCheck(single(A.serviceRead)) };
      if (m === 'PUT') return { name: 'SetTableServiceProperties', check: serviceCheck(single(A.serviceWrite)) };
    }
    if (restype === 'service' && comp === 'stats' && m === 'GET') return { name: 'GetTableServiceStats', check: serviceCheck(single(A.serviceRead)) };
    return { name: 'Unknown' };
  }
  if (t.first === '$batch') return m === 'POST' && body ? classifyBatch(t, body) : { name: 'Unknown' };
  const tables = TABLES_SEGMENT.exec(t.first);
  if (tables && !t.rest) {
    const named = tables[1]?.replace(/''/g, "'");
    if (m === 'GET') return { name: 'QueryTables', check: named ? tableCheck(t, named, single(A.tableRead)) : serviceCheck(single(A.tableRead)) };
    if (m === 'POST') {
      const name = tableNameFromBody(body);
      return {
        name: 'CreateTable',
        check: name ? tableCheck(t, name, single(A.tableWrite)) : serviceCheck(single(A.tableWrite)),
        ...(name ? { mirror: { kind: 'table' as const, name, action: 'create' as const, statuses: [201, 204] } } : {}),
      };
    }
    if (m === 'DELETE' && named) return { name: 'DeleteTable', check: tableCheck(t, named, single(A.tableDelete)), mirror: { kind: 'table', name: named, action: 'delete', statuses: [204] } };
    return { name: 'Unknown' };
  }
  return entityOperation(t, m, t.first, t.rest, comp);
}

function tableCheck(t: Target, table: string, grants: Grant[]): AccessCheck {
  return { grants, scope: childScope(t.account, 'table', table), attributes: attributes(t) };
}

function effectiveMethod(t: Target): string {
  // Clients that cannot send MERGE tunnel it through POST.
  const tunnel = header(t.headers, 'x-http-method');
  return (t.method === 'POST' && tunnel ? tunnel : t.method).toUpperCase();
}

function entityOperation(t: Target, method: string, segment: string, rest: string | undefined, comp: string | undefined): Operation {
  const m = ENTITY_SEGMENT.exec(segment);
  if (!m || rest) return { name: 'Unknown' };
  const table = m[1]!;
  const keyed = m[3] !== undefined && m[3].trim() !== '';
  if (comp === 'acl') return { name: method === 'PUT' ? 'SetTableACL' : 'GetTableACL' };
  return entityByMethod(t, table, method, keyed, header(t.headers, 'if-match') !== undefined);
}

function entityByMethod(t: Target, table: string, method: string, keyed: boolean, ifMatch: boolean): Operation {
  const check = (grants: Grant[]) => tableCheck(t, table, grants);
  switch (method) {
    case 'GET':
    case 'HEAD':
      return { name: keyed ? 'GetEntity' : 'QueryEntities', check: check(single(A.read)) };
    case 'POST':
      if (!keyed) return { name: 'InsertEntity', check: check([{ actions: [A.add] }, { actions: [A.write] }]) };
      break;
    case 'PUT':
    case 'MERGE':
    case 'PATCH':
      if (!keyed) break;
      if (ifMatch) return { name: method === 'PUT' ? 'UpdateEntity' : 'MergeEntity', check: check([{ actions: [A.update] }, { actions: [A.write] }]) };
      return { name: method === 'PUT' ? 'InsertOrReplaceEntity' : 'InsertOrMergeEntity', check: check([{ actions: [A.write] }, { actions: [A.add, A.update] }]) };
    case 'DELETE':
      if (keyed) return { name: 'DeleteEntity', check: check(single(A.delete)) };
      break;
  }
  return { name: 'Unknown' };
}

function tableNameFromBody(body: Buffer | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const v = (JSON.parse(body.toString('utf8')) as { TableName?: unknown }).TableName;
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An entity group transaction: every operation in the body is authorized on its own; the
 * batch passes only when all do.
 */
function classifyBatch(t: Target, body: Buffer): Operation {
  const text = body.toString('utf8');
  const parts = text.split(/\r?\n--/);
  const checks: AccessCheck[] = [];
  for (const part of parts) {
    const line = /^(GET|POST|PUT|PATCH|MERGE|DELETE) (\S+) HTTP\/1\.1\s*$/m.exec(part);
    if (!line) continue;
    const method = line[1]!;
    let path: string;
    try {
      path = decodeURIComponent(new URL(line[2]!, 'https://placeholder').pathname);
    } catch {
      return { name: 'Unknown' };
    }
    const segs = path.split('/').filter((s) => s.length > 0);
    // Path-style URLs carry the account first.
    if (segs[0]?.toLowerCase() === t.account.name) segs.shift();
    const segment = segs[0];
    const entity = segment ? ENTITY_SEGMENT.exec(segment) : null;
    if (!segment || !entity) return { name: 'Unknown' };
    const keyed = entity[3] !== undefined && entity[3].trim() !== '';
    const ifMatch = /^if-match:/im.test(part.slice(line.index + line[0].length));
    const tunnel = /^x-http-method:\s*(\S+)/im.exec(part.slice(line.index + line[0].length));
    const op = entityByMethod(t, entity[1]!, method === 'POST' && tunnel ? tunnel[1]!.toUpperCase() : method, keyed, ifMatch);
    if (!op.check) return { name: 'Unknown' };
    checks.push(op.check);
  }
  if (checks.length === 0) return { name: 'Unknown' };
  return { name: 'EntityGroupTransaction', check: checks[0], extra: checks.slice(1) };
}
