// Which ABAC conditions the storage gate can honour. A role-assignment condition that reads a
// storage attribute the gate never supplies would silently deny (or, under a negation,
// silently allow), so such conditions are refused when the assignment is written.
//
// Supported: every operator and function of condition version 2.0 (the RBAC engine evaluates
// them), over these attributes:
//   @Resource[Microsoft.Storage/storageAccounts:name]                                  account name
//   @Resource[Microsoft.Storage/storageAccounts:isHnsEnabled]                          always false unless set on the account
//   @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]          container name
//   @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]    blob name (no container, no leading /)
//   @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix]   List Blobs prefix (absent without one)
//   @Request[...blobs:versionId], @Request[...blobs:snapshot], @Resource[...blobs:isCurrentVersion]
//   @Resource[...blobs/tags:<key><$key_case_sensitive$>], @Resource[...blobs/tags&$keys$&]  the blob's index tags
//   @Request[...blobs/tags:<key><$key_case_sensitive$>], @Request[...blobs/tags&$keys$&]    tags sent with x-ms-tags
//   @Resource[Microsoft.Storage/storageAccounts/queueServices/queues:name]             queue name
//   @Environment[isPrivateLink] (always false), @Environment[UtcNow]
// Refused: any other Microsoft.Storage attribute (encryption scopes, blob metadata, tags in a
// Set Blob Tags body...), @Principal custom security attributes, and other @Environment
// attributes, in conditions that concern storage.
import { parseConditionSyntax, type AttributeRef, type ConditionNode } from '../../authz/conditionSyntax.js';
import { ATTR, KEY_CASE_SENSITIVE, SUPPORTED, TAG_KEYS_SUFFIX } from './attributes.js';

const STORAGE_PREFIX = 'microsoft.storage/';
const supported = new Set(SUPPORTED.map((a) => `${a.source}|${a.name}`.toLowerCase()));
const TAG_PREFIX = `${ATTR.tags}:`.toLowerCase();

function refs(node: ConditionNode, out: AttributeRef[], actions: string[]): void {
  switch (node.kind) {
    case 'and':
    case 'or':
      for (const n of node.items) refs(n, out, actions);
      return;
    case 'not':
      return refs(node.item, out, actions);
    case 'actionMatches':
      actions.push(node.pattern);
      return;
    case 'subOperationMatches':
      return;
    case 'exists':
      out.push(node.ref);
      return;
    case 'compare':
      for (const side of [node.left, node.right]) if (side.kind === 'attribute') out.push(side.ref);
  }
}

function isTagAttribute(ref: AttributeRef): boolean {
  if (ref.source !== 'Resource' && ref.source !== 'Request') return false;
  const name = ref.name.toLowerCase();
  if (name === `${ATTR.tags}${TAG_KEYS_SUFFIX}`.toLowerCase()) return true;
  return name.startsWith(TAG_PREFIX) && name.endsWith(KEY_CASE_SENSITIVE.toLowerCase()) && name.length > TAG_PREFIX.length + KEY_CASE_SENSITIVE.length;
}

/**
 * Problems that keep the storage gate from evaluating a condition (empty when it can, or when
 * the condition does not concern storage). Syntax errors are left to the RBAC engine's own
 * validation.
 */
export function storageConditionProblems(text: string): string[] {
  let root: ConditionNode;
  try {
    root = parseConditionSyntax(text);
  } catch {
    return [];
  }
  const attributes: AttributeRef[] = [];
  const actions: string[] = [];
  refs(root, attributes, actions);
  const concernsStorage = actions.some((a) => a.toLowerCase().startsWith(STORAGE_PREFIX)) || attributes.some((r) => r.name.toLowerCase().startsWith(STORAGE_PREFIX));
  if (!concernsStorage) return [];
  const problems: string[] = [];
  for (const ref of attributes) {
    const written = `@${ref.source}[${ref.name}]`;
    if (supported.has(`${ref.source}|${ref.name}`.toLowerCase()) || isTagAttribute(ref)) continue;
    if (ref.source === 'Principal') problems.push(`${written}: custom security attributes of principals are not supported by Mimic`);
    else if (ref.source === 'Environment') problems.push(`${written}: only @Environment[isPrivateLink] and @Environment[UtcNow] are supported by Mimic's storage data plane`);
    else if (ref.name.toLowerCase().startsWith(STORAGE_PREFIX)) problems.push(`${written}: Mimic's storage data plane does not supply this attribute (supported: ${SUPPORTED.filter((s) => s.source !== 'Environment').map((s) => `@${s.source}[${s.name}]`).join(', ')}, and blob index tags)`);
  }
  return [...new Set(problems)];
}
