// Blob service requests -> the Azure RBAC permission each needs (Storage's "Authorize with
// Microsoft Entra ID" table), the scope (container, or the blob service for account-level
// operations) and the ABAC attributes conditions may read. Unknown operations get no check,
// which the gate refuses: nothing reaches the emulator unclassified.
import type { AttributeValue } from '../../authz/index.js';
import { ATTR, environment, parseTagHeader, request, resource, tagAttributes } from './attributes.js';
import { childScope, header, queryParam, serviceScope, single, STORAGE_NS, type AccessCheck, type Grant, type Operation, type Target } from './operation.js';

const B = `${STORAGE_NS}/blobServices`;
export const BLOB_ACTIONS = {
  serviceRead: `${B}/read`,
  serviceWrite: `${B}/write`,
  userDelegationKey: `${B}/generateUserDelegationKey/action`,
  containerRead: `${B}/containers/read`,
  containerWrite: `${B}/containers/write`,
  containerDelete: `${B}/containers/delete`,
  read: `${B}/containers/blobs/read`,
  write: `${B}/containers/blobs/write`,
  add: `${B}/containers/blobs/add/action`,
  delete: `${B}/containers/blobs/delete`,
  deleteVersion: `${B}/containers/blobs/deleteBlobVersion/action`,
  permanentDelete: `${B}/containers/blobs/permanentDelete/action`,
  tagsRead: `${B}/containers/blobs/tags/read`,
  tagsWrite: `${B}/containers/blobs/tags/write`,
  filter: `${B}/containers/blobs/filter/action`,
} as const;
const A = BLOB_ACTIONS;

const writeOrAdd: Grant[] = [{ actions: [A.write] }, { actions: [A.add] }];
const writeOrAddNew: Grant[] = [{ actions: [A.write] }, { actions: [A.add], onlyIfNew: true }];

function baseAttributes(t: Target, container?: string): Record<string, AttributeValue> {
  const attrs: Record<string, AttributeValue> = {
    [resource(ATTR.accountName)]: t.account.name,
    [resource(ATTR.isHnsEnabled)]: t.account.isHnsEnabled,
    [environment('isPrivateLink')]: false,
    [environment('UtcNow')]: new Date(),
  };
  if (container !== undefined) attrs[resource(ATTR.containerName)] = container;
  return attrs;
}

function blobAttributes(t: Target, container: string, blob: string): Record<string, AttributeValue> {
  const attrs = baseAttributes(t, container);
  attrs[resource(ATTR.blobPath)] = blob;
  const versionId = queryParam(t.query, 'versionid');
  const snapshot = queryParam(t.query, 'snapshot');
  if (versionId !== undefined) attrs[request(ATTR.versionId)] = versionId;
  if (snapshot !== undefined) attrs[request(ATTR.snapshot)] = snapshot;
  attrs[resource(ATTR.isCurrentVersion)] = versionId === undefined && snapshot === undefined;
  const tags = parseTagHeader(header(t.headers, 'x-ms-tags'));
  if (tags) tagAttributes('Request', tags, attrs);
  return attrs;
}

export function classifyBlob(t: Target): Operation {
  const comp = queryParam(t.query, 'comp')?.toLowerCase();
  const restype = queryParam(t.query, 'restype')?.toLowerCase();
  const m = t.method;
  if (restype === 'account' && comp === 'properties' && (m === 'GET' || m === 'HEAD')) return accountInfo(t);
  if (t.first === undefined || t.first === '') return serviceOperation(t, comp, restype);
  if (t.rest === undefined || t.rest === '') return containerOperation(t, t.first, comp, restype);
  return blobOperation(t, t.first, t.rest, comp);
}

/** Get Account Information answers for whoever may read data at the addressed level. */
function accountInfo(t: Target): Operation {
  const container = t.first || undefined;
  const scope = container ? childScope(t.account, 'blob', container) : serviceScope(t.account, 'blob');
  return { name: 'GetAccountInformation', check: { grants: single(A.read), scope, attributes: baseAttributes(t, container) } };
}

function serviceOperation(t: Target, comp: string | undefined, restype: string | undefined): Operation {
  const scope = serviceScope(t.account, 'blob');
  const check = (grants: Grant[], extra?: Partial<AccessCheck>): AccessCheck => ({ grants, scope, attributes: baseAttributes(t), ...extra });
  const m = t.method;
  if (restype === 'service' && comp === 'properties') {
    if (m === 'GET') return { name: 'GetBlobServiceProperties', check: check(single(A.serviceRead)) };
    if (m === 'PUT') return { name: 'SetBlobServiceProperties', check: check(single(A.serviceWrite)) };
  }
  if (restype === 'service' && comp === 'stats' && m === 'GET') return { name: 'GetBlobServiceStats', check: check(single(A.serviceRead)) };
  if (restype === 'service' && comp === 'userdelegationkey' && m === 'POST') return { name: 'GetUserDelegationKey', check: check(single(A.userDelegationKey)) };
  if (comp === 'list' && m === 'GET') return { name: 'ListContainers', check: check(single(A.containerRead)) };
  if (comp === 'blobs' && m === 'GET') return { name: 'FindBlobsByTags', check: check(single(A.filter)) };
  return { name: 'Unknown' };
}

function containerOperation(t: Target, container: string, comp: string | undefined, restype: string | undefined): Operation {
  const scope = childScope(t.account, 'blob', container);
  const check = (grants: Grant[], extra?: Partial<AccessCheck>): AccessCheck => ({ grants, scope, attributes: baseAttributes(t, container), ...extra });
  const m = t.method;
  if (restype !== 'container') return { name: 'Unknown' };
  switch (comp) {
    case undefined:
      if (m === 'PUT') return { name: 'CreateContainer', check: check(single(A.containerWrite)), mirror: { kind: 'container', name: container, action: 'create', statuses: [201] } };
      if (m === 'GET' || m === 'HEAD') return { name: 'GetContainerProperties', check: check(single(A.containerRead)) };
      if (m === 'DELETE') return { name: 'DeleteContainer', check: check(single(A.containerDelete)), mirror: { kind: 'container', name: container, action: 'delete', statuses: [202] } };
      break;
    case 'metadata':
      if (m === 'GET' || m === 'HEAD') return { name: 'GetContainerMetadata', check: check(single(A.containerRead)) };
      if (m === 'PUT') return { name: 'SetContainerMetadata', check: check(single(A.containerWrite)) };
      break;
    case 'acl':
      // Storage does not authorize container ACL operations with OAuth.
      return { name: m === 'PUT' ? 'SetContainerACL' : 'GetContainerACL' };
    case 'lease':
    case 'undelete':
    case 'rename':
      if (m === 'PUT') return { name: comp === 'lease' ? 'LeaseContainer' : comp === 'undelete' ? 'RestoreContainer' : 'RenameContainer', check: check(single(A.containerWrite)) };
      break;
    case 'list':
      if (m === 'GET') {
        const attrs = baseAttributes(t, container);
        const prefix = queryParam(t.query, 'prefix');
        if (prefix !== undefined) attrs[request(ATTR.blobPrefix)] = prefix;
        return { name: 'ListBlobs', check: { grants: single(A.read), scope, subOperation: 'Blob.List', attributes: attrs } };
      }
      break;
    case 'blobs':
      if (m === 'GET') return { name: 'FindBlobsByTags', check: check(single(A.filter)) };
      break;
  }
  return { name: 'Unknown' };
}

function blobOperation(t: Target, container: string, blob: string, comp: string | undefined): Operation {
  const scope = childScope(t.account, 'blob', container);
  const target = { container, name: blob, snapshot: queryParam(t.query, 'snapshot'), versionId: queryParam(t.query, 'versionid') };
  const op = (name: string, grants: Grant[], subOperation?: string): Operation => ({
    name,
    check: { grants, scope, attributes: blobAttributes(t, container, blob), ...(subOperation ? { subOperation } : {}) },
    blob: target,
  });
  const m = t.method;
  const read = m === 'GET' || m === 'HEAD';
  switch (comp) {
    case undefined: {
      if (read) return op(m === 'GET' ? 'GetBlob' : 'GetBlobProperties', single(A.read));
      if (m === 'DELETE') {
        if (queryParam(t.query, 'deletetype')?.toLowerCase() === 'permanent') return op('DeleteBlob', single(A.permanentDelete));
        if (target.versionId !== undefined) return op('DeleteBlob', single(A.deleteVersion));
        return op('DeleteBlob', single(A.delete));
      }
      if (m === 'PUT') {
        const tagged = header(t.headers, 'x-ms-tags') !== undefined ? 'Blob.Write.WithTagHeaders' : undefined;
        const copySource = header(t.headers, 'x-ms-copy-source');
        if (copySource !== undefined) {
          const o = op(header(t.headers, 'x-ms-blob-type') ? 'PutBlobFromUrl' : 'CopyBlob', writeOrAddNew, tagged);
          const source = sameAccountSource(t, copySource);
          if (source) o.extra = [{ grants: single(A.read), scope: childScope(t.account, 'blob', source.container), attributes: blobAttributes({ ...t, query: source.query, headers: {} }, source.container, source.blob) }];
          return o;
        }
        if (header(t.headers, 'x-ms-blob-type') !== undefined) return op('PutBlob', writeOrAddNew, tagged);
      }
      break;
    }
    case 'metadata':
      if (read) return op('GetBlobMetadata', single(A.read));
      if (m === 'PUT') return op('SetBlobMetadata', single(A.write));
      break;
    case 'properties':
      if (m === 'PUT') return op('SetBlobProperties', single(A.write));
      break;
    case 'block':
      if (m === 'PUT') return op('PutBlock', single(A.write));
      break;
    case 'blocklist':
      if (m === 'PUT') return op('PutBlockList', single(A.write), header(t.headers, 'x-ms-tags') !== undefined ? 'Blob.Write.WithTagHeaders' : undefined);
      if (read) return op('GetBlockList', single(A.read));
      break;
    case 'page':
      if (m === 'PUT') return op('PutPage', single(A.write));
      break;
    case 'pagelist':
      if (read) return op('GetPageRanges', single(A.read));
      break;
    case 'appendblock':
      if (m === 'PUT') return op('AppendBlock', writeOrAdd);
      break;
    case 'snapshot':
      if (m === 'PUT') return op('SnapshotBlob', writeOrAdd);
      break;
    case 'lease':
      if (m === 'PUT') return op('LeaseBlob', single(A.write));
      break;
    case 'tier':
      if (m === 'PUT') return op('SetBlobTier', single(A.write), 'Blob.Write.Tier');
      break;
    case 'copy':
      if (m === 'PUT') return op('AbortCopyBlob', single(A.write));
      break;
    case 'incrementalcopy':
      if (m === 'PUT') return op('IncrementalCopyBlob', writeOrAddNew);
      break;
    case 'expiry':
      if (m === 'PUT') return op('SetBlobExpiry', single(A.write));
      break;
    case 'tags':
      if (m === 'GET') return op('GetBlobTags', single(A.tagsRead));
      if (m === 'PUT') return op('SetBlobTags', single(A.tagsWrite));
      break;
    case 'query':
      if (m === 'POST') return op('QueryBlobContents', single(A.read));
      break;
    case 'undelete':
    case 'immutabilitypolicies':
    case 'legalhold':
      if (m === 'PUT' || m === 'DELETE') return { name: comp === 'undelete' ? 'UndeleteBlob' : 'SetBlobImmutability', check: { grants: single(A.containerWrite), scope, attributes: baseAttributes(t, container) } };
      break;
  }
  return { name: 'Unknown' };
}

/** The source of a copy when it is a blob of the same account (checked for read as well). */
function sameAccountSource(t: Target, copySource: string): { container: string; blob: string; query: URLSearchParams } | undefined {
  let url: URL;
  try {
    url = new URL(copySource);
  } catch {
    return undefined;
  }
  const host = url.hostname.toLowerCase();
  let segs = url.pathname.split('/').filter((s) => s.length > 0);
  let account: string | undefined;
  const vhost = /^([a-z0-9]+)\.blob\.core\.windows\.net$/.exec(host);
  if (vhost) account = vhost[1];
  else {
    account = segs[0];
    segs = segs.slice(1);
  }
  if (account?.toLowerCase() !== t.account.name || segs.length < 2) return undefined;
  try {
    return { container: decodeURIComponent(segs[0]!), blob: segs.slice(1).map(decodeURIComponent).join('/'), query: url.searchParams };
  } catch {
    return undefined;
  }
}

/** A blob batch lists its sub-requests (Delete Blob, Set Blob Tier) in the body. */
export function blobNeedsBody(t: Target): boolean {
  return t.method === 'POST' && queryParam(t.query, 'comp')?.toLowerCase() === 'batch';
}

/** Every sub-request of a batch is authorized on its own; the batch passes only when all do. */
export function classifyBlobBatch(t: Target, body: Buffer): Operation {
  const parts = body.toString('utf8').split(/\r?\n--/);
  const checks: AccessCheck[] = [];
  for (const part of parts) {
    const line = /^(DELETE|PUT) (\S+) HTTP\/1\.1\s*$/m.exec(part);
    if (!line) continue;
    let url: URL;
    try {
      url = new URL(line[2]!, 'https://placeholder');
    } catch {
      return { name: 'Unknown' };
    }
    let segs: string[];
    try {
      segs = url.pathname.split('/').filter((s) => s.length > 0).map(decodeURIComponent);
    } catch {
      return { name: 'Unknown' };
    }
    if (t.pathStyle && segs[0]?.toLowerCase() === t.account.name) segs.shift();
    const headers: Record<string, string> = {};
    for (const h of part.slice(line.index + line[0].length).split(/\r?\n/)) {
      const i = h.indexOf(':');
      if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    const sub = classifyBlob({ ...t, method: line[1]!, first: segs[0], rest: segs.slice(1).join('/'), query: url.searchParams, headers });
    if (!sub.check || !sub.blob) return { name: 'Unknown' };
    checks.push(sub.check);
  }
  if (checks.length === 0) return { name: 'Unknown' };
  return { name: 'BlobBatch', check: checks[0], extra: checks.slice(1) };
}
