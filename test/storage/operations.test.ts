// Request classification (operation -> RBAC permission, scope, attributes) and the storage
// condition subset, without a server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyBlob, classifyBlobBatch, BLOB_ACTIONS as B } from '../../src/services/storage/blobOperations.js';
import { classifyQueue, QUEUE_ACTIONS as Q } from '../../src/services/storage/queueOperations.js';
import { classifyTable, tableNeedsBody, TABLE_ACTIONS as T } from '../../src/services/storage/tableOperations.js';
import { storageConditionProblems } from '../../src/services/storage/conditions.js';
import { signSharedKey, stringToSign, verifySharedKey } from '../../src/services/storage/sharedKey.js';
import type { StorageAccount } from '../../src/services/storage/accounts.js';
import type { Operation, Target } from '../../src/services/storage/operation.js';
import type { StorageService } from '../../src/services/storage/azurite.js';

const account: StorageAccount = {
  name: 'acct',
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct',
  key: '/subscriptions/s/resourcegroups/rg/providers/microsoft.storage/storageaccounts/acct',
  subscriptionId: 's',
  resourceGroup: 'rg',
  allowSharedKeyAccess: true,
  allowBlobPublicAccess: false,
  isHnsEnabled: false,
};

function target(service: StorageService, method: string, path: string, headers: Record<string, string> = {}): Target {
  const [p, q] = path.split('?');
  const segs = p!.split('/').slice(1);
  return { service, account, pathStyle: true, method, first: segs[0], rest: segs.length > 1 ? segs.slice(1).join('/') : undefined, query: new URLSearchParams(q ?? ''), headers };
}

const grants = (op: Operation) => op.check?.grants.map((g) => g.actions.join('+') + (g.onlyIfNew ? ' (new only)' : ''));

describe('blob operations', () => {
  const cases: Array<[string, string, Record<string, string>, string, string[] | undefined, string]> = [
    ['GET', '/c1/a/b.txt', {}, 'GetBlob', [B.read], 'c1'],
    ['HEAD', '/c1/b.txt', {}, 'GetBlobProperties', [B.read], 'c1'],
    ['PUT', '/c1/b.txt', { 'x-ms-blob-type': 'BlockBlob' }, 'PutBlob', [B.write, `${B.add} (new only)`], 'c1'],
    ['PUT', '/c1/b.txt?comp=snapshot', {}, 'SnapshotBlob', [B.write, B.add], 'c1'],
    ['PUT', '/c1/b.txt?comp=appendblock', {}, 'AppendBlock', [B.write, B.add], 'c1'],
    ['PUT', '/c1/b.txt?comp=block&blockid=AA', {}, 'PutBlock', [B.write], 'c1'],
    ['PUT', '/c1/b.txt?comp=tags', {}, 'SetBlobTags', [B.tagsWrite], 'c1'],
    ['GET', '/c1/b.txt?comp=tags', {}, 'GetBlobTags', [B.tagsRead], 'c1'],
    ['DELETE', '/c1/b.txt', {}, 'DeleteBlob', [B.delete], 'c1'],
    ['DELETE', '/c1/b.txt?versionid=2024-01-01T00:00:00.0000000Z', {}, 'DeleteBlob', [B.deleteVersion], 'c1'],
    ['DELETE', '/c1/b.txt?deletetype=permanent', {}, 'DeleteBlob', [B.permanentDelete], 'c1'],
    ['GET', '/c1?restype=container&comp=list', {}, 'ListBlobs', [B.read], 'c1'],
    ['PUT', '/c1?restype=container', {}, 'CreateContainer', [B.containerWrite], 'c1'],
    ['DELETE', '/c1?restype=container', {}, 'DeleteContainer', [B.containerDelete], 'c1'],
    ['GET', '/c1?restype=container&comp=acl', {}, 'GetContainerACL', undefined, 'c1'],
    ['GET', '/?comp=list', {}, 'ListContainers', [B.containerRead], ''],
    ['POST', '/?restype=service&comp=userdelegationkey', {}, 'GetUserDelegationKey', [B.userDelegationKey], ''],
    ['GET', '/?restype=service&comp=properties', {}, 'GetBlobServiceProperties', [B.serviceRead], ''],
    ['GET', '/?comp=blobs&where=x', {}, 'FindBlobsByTags', [B.filter], ''],
    ['PATCH', '/c1/b.txt', {}, 'Unknown', undefined, 'c1'],
  ];
  for (const [method, path, headers, name, actions, container] of cases) {
    test(`${method} ${path} is ${name}`, () => {
      const op = classifyBlob(target('blob', method, `/${path.slice(1)}`, headers));
      assert.equal(op.name, name);
      assert.deepEqual(grants(op), actions && actions.map((a) => a));
      if (op.check) {
        const scope = `${account.id}/blobServices/default${container ? `/containers/${container}` : ''}`;
        assert.equal(op.check.scope, scope);
      }
    });
  }

  test('List Blobs is the Blob.List suboperation and carries the prefix', () => {
    const op = classifyBlob(target('blob', 'GET', '/c1?restype=container&comp=list&prefix=logs/'));
    assert.equal(op.check!.subOperation, 'Blob.List');
    assert.equal(op.check!.attributes['@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix]'], 'logs/');
  });

  test('blob attributes: container, path (with slashes), snapshot, request tags', () => {
    const op = classifyBlob(target('blob', 'PUT', '/c1/dir/sub/b.txt', { 'x-ms-blob-type': 'BlockBlob', 'x-ms-tags': 'project=alpha&tier=gold' }));
    const at = op.check!.attributes;
    assert.equal(at['@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]'], 'c1');
    assert.equal(at['@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]'], 'dir/sub/b.txt');
    assert.equal(at['@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:project<$key_case_sensitive$>]'], 'alpha');
    assert.deepEqual(at['@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags&$keys$&]'], ['project', 'tier']);
    assert.equal(op.check!.subOperation, 'Blob.Write.WithTagHeaders');
    const snap = classifyBlob(target('blob', 'GET', '/c1/b.txt?snapshot=2024-01-01T00:00:00.0000000Z'));
    assert.equal(snap.check!.attributes['@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:isCurrentVersion]'], false);
  });

  test('a copy within the account also needs read on the source', () => {
    const op = classifyBlob(target('blob', 'PUT', '/c2/copy.txt', { 'x-ms-copy-source': 'https://127.0.0.1:10000/acct/c1/src%20file.txt' }));
    assert.equal(op.name, 'CopyBlob');
    assert.equal(op.extra!.length, 1);
    assert.deepEqual(op.extra![0]!.grants[0]!.actions, [B.read]);
    assert.equal(op.extra![0]!.scope, `${account.id}/blobServices/default/containers/c1`);
    assert.equal(op.extra![0]!.attributes['@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]'], 'src file.txt');
    const other = classifyBlob(target('blob', 'PUT', '/c2/copy.txt', { 'x-ms-copy-source': 'https://other.blob.core.windows.net/c1/x' }));
    assert.equal(other.extra, undefined);
  });

  test('a blob batch is authorized per sub-request', () => {
    const body = ['--batch_1', 'Content-Type: application/http', '', 'DELETE /acct/c1/a.txt HTTP/1.1', 'x-ms-date: now', '', '--batch_1', 'Content-Type: application/http', '', 'PUT /acct/c2/b.txt?comp=tier HTTP/1.1', 'x-ms-access-tier: Cool', '', '--batch_1--'].join('\r\n');
    const op = classifyBlobBatch(target('blob', 'POST', '/?comp=batch'), Buffer.from(body));
    assert.equal(op.name, 'BlobBatch');
    assert.deepEqual(op.check!.grants[0]!.actions, [B.delete]);
    assert.equal(op.extra![0]!.scope, `${account.id}/blobServices/default/containers/c2`);
    assert.equal(op.extra![0]!.subOperation, 'Blob.Write.Tier');
  });
});

describe('queue operations', () => {
  const cases: Array<[string, string, string, string[]]> = [
    ['POST', '/q1/messages', 'PutMessage', [Q.add, Q.write]],
    ['GET', '/q1/messages', 'GetMessages', [Q.process]],
    ['GET', '/q1/messages?peekonly=true', 'PeekMessages', [Q.read]],
    ['DELETE', '/q1/messages/m1?popreceipt=x', 'DeleteMessage', [Q.delete, Q.process]],
    ['PUT', '/q1/messages/m1?popreceipt=x&visibilitytimeout=1', 'UpdateMessage', [Q.write]],
    ['DELETE', '/q1/messages', 'ClearMessages', [Q.delete]],
    ['PUT', '/q1', 'CreateQueue', [Q.queueWrite]],
    ['GET', '/q1?comp=metadata', 'GetQueueMetadata', [Q.queueRead]],
    ['GET', '/?comp=list', 'ListQueues', [Q.queueRead]],
  ];
  for (const [method, path, name, actions] of cases) {
    test(`${method} ${path} is ${name}`, () => {
      const op = classifyQueue(target('queue', method, path));
      assert.equal(op.name, name);
      assert.deepEqual(grants(op), actions);
    });
  }
  test('queue scope and name attribute', () => {
    const op = classifyQueue(target('queue', 'POST', '/q1/messages'));
    assert.equal(op.check!.scope, `${account.id}/queueServices/default/queues/q1`);
    assert.equal(op.check!.attributes['@Resource[Microsoft.Storage/storageAccounts/queueServices/queues:name]'], 'q1');
  });
});

describe('table operations', () => {
  const cases: Array<[string, string, Record<string, string>, string, string[]]> = [
    ['GET', '/orders()', {}, 'QueryEntities', [T.read]],
    ['GET', "/orders(PartitionKey='p',RowKey='r')", {}, 'GetEntity', [T.read]],
    ['POST', '/orders', {}, 'InsertEntity', [T.add, T.write]],
    ['PUT', "/orders(PartitionKey='p',RowKey='r')", { 'if-match': '*' }, 'UpdateEntity', [T.update, T.write]],
    ['PUT', "/orders(PartitionKey='p',RowKey='r')", {}, 'InsertOrReplaceEntity', [T.write, `${T.add}+${T.update}`]],
    ['PATCH', "/orders(PartitionKey='p',RowKey='r')", {}, 'InsertOrMergeEntity', [T.write, `${T.add}+${T.update}`]],
    ['POST', "/orders(PartitionKey='p',RowKey='r')", { 'x-http-method': 'MERGE', 'if-match': '*' }, 'MergeEntity', [T.update, T.write]],
    ['DELETE', "/orders(PartitionKey='p',RowKey='r')", { 'if-match': '*' }, 'DeleteEntity', [T.delete]],
    ['GET', '/Tables', {}, 'QueryTables', [T.tableRead]],
    ['DELETE', "/Tables('orders')", {}, 'DeleteTable', [T.tableDelete]],
  ];
  for (const [method, path, headers, name, actions] of cases) {
    test(`${method} ${path} is ${name}`, () => {
      const op = classifyTable(target('table', method, path, headers));
      assert.equal(op.name, name);
      assert.deepEqual(grants(op), actions);
    });
  }
  test('Create Table is judged at the new table, from its body', () => {
    const t = target('table', 'POST', '/Tables');
    assert.equal(tableNeedsBody(t), true);
    const op = classifyTable(t, Buffer.from(JSON.stringify({ TableName: 'invoices' })));
    assert.equal(op.name, 'CreateTable');
    assert.equal(op.check!.scope, `${account.id}/tableServices/default/tables/invoices`);
    assert.equal(op.mirror!.name, 'invoices');
  });
  test('an entity group transaction checks every operation', () => {
    const body = [
      '--batch_a', 'Content-Type: multipart/mixed; boundary=changeset_b', '', '--changeset_b', 'Content-Type: application/http', '',
      'POST https://127.0.0.1:10002/acct/orders HTTP/1.1', 'Content-Type: application/json', '', '{"PartitionKey":"p","RowKey":"1"}',
      '--changeset_b', 'Content-Type: application/http', '',
      "DELETE https://127.0.0.1:10002/acct/orders(PartitionKey='p',RowKey='2') HTTP/1.1", 'If-Match: *', '', '--changeset_b--', '--batch_a--',
    ].join('\r\n');
    const op = classifyTable(target('table', 'POST', '/$batch'), Buffer.from(body));
    assert.equal(op.name, 'EntityGroupTransaction');
    assert.deepEqual(op.check!.grants.map((g) => g.actions.join('+')), [T.add, T.write]);
    assert.deepEqual(op.extra!.map((c) => c.grants[0]!.actions.join('+')), [T.delete]);
  });
});

describe('storage condition subset', () => {
  const PATH = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]';
  test('supported attributes pass, including blob index tags', () => {
    assert.deepEqual(storageConditionProblems(`${PATH} StringLike 'logs/*'`), []);
    assert.deepEqual(storageConditionProblems(`@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>] StringEquals 'alpha'`), []);
    assert.deepEqual(storageConditionProblems(`@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags&$keys$&] ForAllOfAnyValues:StringEquals {'a','b'}`), []);
    assert.deepEqual(storageConditionProblems(`(!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR @Environment[UtcNow] DateTimeLessThan '2030-01-01T00:00:00.0Z'`), []);
  });
  test('unsupported storage attributes, principal and environment attributes are refused with the reason', () => {
    const scope = storageConditionProblems(`@Resource[Microsoft.Storage/storageAccounts/encryptionScopes:name] StringEquals 'x'`);
    assert.equal(scope.length, 1);
    assert.match(scope[0]!, /encryptionScopes:name.*does not supply/);
    const principal = storageConditionProblems(`(!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR @Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Dept_Team] StringEquals 'x'`);
    assert.match(principal[0]!, /custom security attributes/);
    const env = storageConditionProblems(`${PATH} StringLike 'a*' AND @Environment[Microsoft.Network/privateEndpoints] StringEqualsIgnoreCase 'x'`);
    assert.match(env[0]!, /only @Environment\[isPrivateLink\]/);
  });
  test('conditions about other services are not storage\'s business', () => {
    assert.deepEqual(storageConditionProblems(`@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {acdd72a7-3385-48ef-bd42-f606fba81ae7}`), []);
  });
});

describe('shared key string to sign', () => {
  test('blob: standard headers, sorted x-ms headers, resource with sorted query parameters', () => {
    const s = stringToSign('blob', 'acct', {
      method: 'put',
      path: '/acct/c1/b.txt',
      rawQuery: 'comp=block&blockid=QQ%3D%3D',
      headers: { 'content-length': '0', 'x-ms-version': '2025-11-05', 'x-ms-date': 'Mon, 01 Jan 2024 00:00:00 GMT', 'content-type': 'text/plain' },
    });
    assert.equal(s, ['PUT', '', '', '', '', 'text/plain', '', '', '', '', '', '', 'x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT', 'x-ms-version:2025-11-05', '/acct/acct/c1/b.txt', 'blockid:QQ==', 'comp:block'].join('\n'));
  });
  test('table: verb, md5, type, date and the resource with comp only', () => {
    const s = stringToSign('table', 'acct', { method: 'GET', path: '/acct/Tables', rawQuery: '$filter=x', headers: { 'x-ms-date': 'D' } });
    assert.equal(s, 'GET\n\n\nD\n/acct/acct/Tables');
  });
});

describe('shared key verification', () => {
  const key1 = Buffer.alloc(64, 1);
  const key2 = Buffer.alloc(64, 2);
  const request = () => ({ method: 'GET', path: '/acct/c1/a%20b.txt', rawQuery: 'snapshot=2024-01-01T00%3A00%3A00Z&comp=metadata', headers: { 'x-ms-version': '2025-11-05' } as Record<string, string> });
  test('a request signed with either key verifies; another key or account does not', () => {
    for (const key of [key1, key2]) {
      const r = request();
      signSharedKey('blob', 'acct', key, r);
      assert.deepEqual(verifySharedKey('blob', 'acct', [key1, key2], r, r.headers.authorization!), { ok: true });
    }
    const r = request();
    signSharedKey('blob', 'acct', Buffer.alloc(64, 3), r);
    const bad = verifySharedKey('blob', 'acct', [key1, key2], r, r.headers.authorization!);
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.reason, 'signature');
    const other = verifySharedKey('blob', 'other', [key1], r, r.headers.authorization!);
    assert.equal(!other.ok && other.reason, 'account');
  });
  test('a changed header or query breaks the signature', () => {
    const r = request();
    signSharedKey('queue', 'acct', key1, r);
    r.rawQuery = 'comp=list';
    assert.equal(verifySharedKey('queue', 'acct', [key1], r, r.headers.authorization!).ok, false);
  });
});
