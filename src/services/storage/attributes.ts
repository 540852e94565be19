// The ABAC attributes Mimic's storage gate supplies to role-assignment conditions, keyed as
// conditions write them. The list is the supported subset: conditions.ts refuses any other
// attribute at assignment time.
import type { AttributeValue } from '../../authz/index.js';

const ACCOUNT = 'Microsoft.Storage/storageAccounts';
const CONTAINER = `${ACCOUNT}/blobServices/containers`;
const BLOB = `${CONTAINER}/blobs`;
const QUEUE = `${ACCOUNT}/queueServices/queues`;

/** Attribute names (inside `@Source[...]`) by source. */
export const ATTR = {
  accountName: `${ACCOUNT}:name`,
  isHnsEnabled: `${ACCOUNT}:isHnsEnabled`,
  containerName: `${CONTAINER}:name`,
  blobPath: `${BLOB}:path`,
  blobPrefix: `${BLOB}:prefix`,
  versionId: `${BLOB}:versionId`,
  snapshot: `${BLOB}:snapshot`,
  isCurrentVersion: `${BLOB}:isCurrentVersion`,
  queueName: `${QUEUE}:name`,
  tags: `${BLOB}/tags`,
} as const;

export const KEY_CASE_SENSITIVE = '<$key_case_sensitive$>';
export const TAG_KEYS_SUFFIX = '&$keys$&';

export const resource = (name: string) => `@Resource[${name}]`;
export const request = (name: string) => `@Request[${name}]`;
export const environment = (name: string) => `@Environment[${name}]`;

/** Which attributes exist with which source (tags handled separately). */
export const SUPPORTED: ReadonlyArray<{ source: 'Resource' | 'Request' | 'Environment'; name: string }> = [
  { source: 'Resource', name: ATTR.accountName },
  { source: 'Resource', name: ATTR.isHnsEnabled },
  { source: 'Resource', name: ATTR.containerName },
  { source: 'Resource', name: ATTR.blobPath },
  { source: 'Request', name: ATTR.blobPrefix },
  { source: 'Request', name: ATTR.versionId },
  { source: 'Request', name: ATTR.snapshot },
  { source: 'Resource', name: ATTR.isCurrentVersion },
  { source: 'Resource', name: ATTR.queueName },
  { source: 'Environment', name: 'isPrivateLink' },
  { source: 'Environment', name: 'UtcNow' },
];

/** Blob index tags as condition attributes: one per key, plus the list of keys. */
export function tagAttributes(source: 'Resource' | 'Request', tags: ReadonlyMap<string, string>, into: Record<string, AttributeValue>): void {
  const wrap = source === 'Resource' ? resource : request;
  for (const [k, v] of tags) into[wrap(`${ATTR.tags}:${k}${KEY_CASE_SENSITIVE}`)] = v;
  into[wrap(`${ATTR.tags}${TAG_KEYS_SUFFIX}`)] = [...tags.keys()];
}

/** Parses the `x-ms-tags` header (URL-encoded `k=v&k2=v2`). */
export function parseTagHeader(value: string | undefined): Map<string, string> | undefined {
  if (value === undefined) return undefined;
  return new Map(new URLSearchParams(value));
}

/** Parses a Get Blob Tags XML body (`<Tag><Key>..</Key><Value>..</Value></Tag>`). */
export function parseTagXml(xml: string): Map<string, string> {
  const tags = new Map<string, string>();
  const re = /<Tag>\s*<Key>([^<]*)<\/Key>\s*<Value>([^<]*)<\/Value>\s*<\/Tag>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) tags.set(unescapeXml(m[1]!), unescapeXml(m[2]!));
  return tags;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|apos|quot|#\d+);/g, (_m, e: string) => {
    switch (e) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'apos':
        return "'";
      case 'quot':
        return '"';
      default:
        return String.fromCodePoint(Number(e.slice(1)));
    }
  });
}
