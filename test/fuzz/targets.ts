// The fuzz targets: every parser that takes outside input, each with its oracle (the errors it
// may raise, the answers it may give, and the consistency it must keep). Corpora live in
// test/fuzz/corpus/<target>/.
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { createHash } from 'node:crypto';
import { OracleFailure, type FuzzTarget } from './engine.js';
import { closeOrigin, ensureOrigin, HTTP_SLOW_MS, HTTP_TOKENS, setupStep } from './origin.js';
import { parseExpression } from '../../src/arm/templates/parser.js';
import { planDeployment, type TemplateHost } from '../../src/arm/templates/index.js';
import { ExpressionError, TemplateError } from '../../src/arm/templates/errors.js';
import { compileCondition, ConditionError, validateCondition } from '../../src/authz/conditions.js';
import type { AttributeValue } from '../../src/authz/types.js';
import { storageConditionProblems } from '../../src/services/storage/conditions.js';
import { StorageGate } from '../../src/services/storage/gate.js';
import { StorageError } from '../../src/services/storage/errors.js';
import { classifyBlob, classifyBlobBatch, blobNeedsBody } from '../../src/services/storage/blobOperations.js';
import { classifyQueue } from '../../src/services/storage/queueOperations.js';
import { classifyTable, tableNeedsBody } from '../../src/services/storage/tableOperations.js';
import { signSharedKey, verifySharedKey, type SigningService } from '../../src/services/storage/sharedKey.js';
import { parseTagHeader, parseTagXml } from '../../src/services/storage/attributes.js';
import type { StorageAccount } from '../../src/services/storage/accounts.js';
import type { Operation, Target } from '../../src/services/storage/operation.js';
import { parseRequestText } from './origin.js';
import { jsonNestingExceeds, toRequest } from '../../src/server/http.js';
import { formatResourceId, keyOf, parseResourceId } from '../../src/arm/ids.js';
import { normalizeScope, scopeCovers, TENANT_ROOT } from '../../src/authz/scope.js';
import { actionMatches } from '../../src/authz/actionPattern.js';
import { IDENTITY_TARGETS } from './identityTargets.js';

// ---------------------------------------------------------------------------------------------
// ARM template language

const SUB = '00000000-0000-0000-0000-00000000f022';
const TEMPLATE_HOST: TemplateHost = {
  subscriptionId: SUB,
  tenantId: '00000000-0000-0000-0000-0000000ten0',
  resourceGroup: { id: `/subscriptions/${SUB}/resourceGroups/rg`, name: 'rg', location: 'eastus', tags: { env: 'dev' } },
  deployment: { name: 'fuzz' },
  async reference(id) {
    throw Object.assign(new Error(`The Resource '${id}' was not found.`), { code: 'ResourceNotFound' });
  },
  async list(id) {
    throw Object.assign(new Error(`The Resource '${id}' was not found.`), { code: 'ResourceNotFound' });
  },
  now: () => new Date(Date.UTC(2026, 0, 1)),
  newGuid: () => '7d2a3b4c-0000-4000-8000-000000000000',
};

/**
 * What the deployments engine turns into ARM's 400 (engine.ts): the language's own errors and
 * errors carrying a code and a message. Anything else (a TypeError, a stack overflow) is a 500.
 */
function isTemplateError(err: unknown): boolean {
  if (err instanceof TemplateError || err instanceof ExpressionError) return true;
  const e = err as { code?: unknown; message?: unknown } | null;
  return !(err instanceof TypeError || err instanceof RangeError) && typeof e?.code === 'string' && typeof e.message === 'string';
}

async function planAll(template: unknown): Promise<void> {
  try {
    const plan = await planDeployment(template, {}, TEMPLATE_HOST, typeof template === 'string' ? { source: template } : {});
    for (const r of plan.resources) {
      if (!r.condition) continue;
      await r.body().catch(rethrowUnexpected);
      await r.nested?.prepare().catch(rethrowUnexpected);
    }
    await plan.outputs().catch(rethrowUnexpected);
  } catch (err) {
    rethrowUnexpected(err);
  }
}

function rethrowUnexpected(err: unknown): void {
  if (!isTemplateError(err)) throw err;
}

const TEMPLATE_FUNCTIONS = [
  'concat', 'format', 'parameters', 'variables', 'resourceId', 'subscriptionResourceId', 'tenantResourceId', 'extensionResourceId', 'resourceGroup', 'subscription',
  'deployment', 'environment', 'reference', 'listKeys', 'uniqueString', 'guid', 'newGuid', 'utcNow', 'dateTimeAdd', 'toLower', 'toUpper', 'substring', 'replace', 'split',
  'join', 'length', 'empty', 'contains', 'first', 'last', 'take', 'skip', 'union', 'intersection', 'createArray', 'createObject', 'json', 'string', 'int', 'bool', 'float',
  'if', 'and', 'or', 'not', 'equals', 'less', 'greater', 'lessOrEquals', 'greaterOrEquals', 'coalesce', 'range', 'copyIndex', 'padLeft', 'trim', 'startsWith', 'endsWith',
  'indexOf', 'lastIndexOf', 'base64', 'base64ToString', 'dataUri', 'dataUriToString', 'uri', 'uriComponent', 'uriComponentToString', 'add', 'sub', 'mul', 'div', 'mod',
  'min', 'max', 'array', 'items', 'filter', 'map', 'reduce', 'sort', 'toObject', 'lambda', 'lambdaVariables', 'objectKeys', 'shallowMerge', 'flatten', 'tryGet', 'indexFromEnd',
];
const EXPRESSION_TOKENS = [...TEMPLATE_FUNCTIONS.map((f) => `${f}(`), '[', ']', '(', ')', "'", "''", ',', '.', '[[', "'a'", '0', '-1', '.id', '.properties', "['x']", "parameters('p')", "variables('v')", 'x.y('];

const templateExpression: FuzzTarget = {
  name: 'templateExpression',
  coverage: ['/dist/src/arm/templates/'],
  dictionary: EXPRESSION_TOKENS,
  maxLength: 30_000,
  async run(input) {
    try {
      parseExpression(input);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
    }
    // Then evaluated through the real function library, as a resource property and an output.
    await planAll({
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: '1.0.0.0',
      parameters: { p: { type: 'string', defaultValue: 'dev' }, o: { type: 'object', defaultValue: { a: [1, 2], b: { c: 'd' } } }, n: { type: 'int', defaultValue: 3 } },
      variables: { v: 'value', arr: [1, 2, 3] },
      resources: [{ type: 'Microsoft.ManagedIdentity/userAssignedIdentities', apiVersion: '2023-01-31', name: 'id1', location: 'eastus', properties: { x: input } }],
      outputs: { out: { type: 'object', value: { x: input } } },
    });
  },
};

const TEMPLATE_KEYS = ['$schema', 'contentVersion', 'parameters', 'variables', 'resources', 'outputs', 'functions', 'copy', 'condition', 'dependsOn', 'type', 'apiVersion', 'name', 'location', 'properties', 'identity', 'scope', 'existing', 'count', 'input', 'mode', 'batchSize', 'defaultValue', 'allowedValues', 'minValue', 'maxValue', 'minLength', 'maxLength', 'value', 'languageVersion', 'template', 'expressionEvaluationOptions', 'nested', 'members', 'namespace', 'output', 'secureString', 'securestring', 'object', 'array', 'int', 'bool', 'string', 'Microsoft.Resources/deployments', 'Microsoft.ManagedIdentity/userAssignedIdentities', 'Microsoft.Authorization/roleAssignments', '2.0', 'Incremental', 'inner', 'outer', 'serial'];

const templateDeployment: FuzzTarget = {
  name: 'templateDeployment',
  coverage: ['/dist/src/arm/templates/'],
  dictionary: [...TEMPLATE_KEYS, ...EXPRESSION_TOKENS.map((t) => `"[${t}"`)],
  json: true,
  maxLength: 16384,
  async run(input) {
    // What the Resource Manager's body reader refuses never reaches the template language.
    if (jsonNestingExceeds(input)) return;
    let template: unknown;
    try {
      template = JSON.parse(input);
    } catch {
      return;
    }
    await planAll(template);
  },
};

// ---------------------------------------------------------------------------------------------
// ABAC conditions

const CONDITION_TOKENS = [
  '(', ')', '!', 'AND', 'OR', 'NOT', '&&', '||', ' ', "'", '{', '}', ',', '@Resource[', '@Request[', '@Principal[', '@Environment[', ']', 'Exists', 'NotExists',
  'ActionMatches', 'SubOperationMatches', "{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'}", 'StringEquals', 'StringEqualsIgnoreCase', 'StringNotEquals',
  'StringLike', 'StringNotLike', 'StringStartsWith', 'StringNotStartsWith', 'NumericEquals', 'NumericLessThan', 'NumericGreaterThanEquals', 'BoolEquals', 'GuidEquals',
  'GuidNotEquals', 'DateTimeEquals', 'DateTimeGreaterThan', 'ForAnyOfAnyValues:', 'ForAllOfAnyValues:', 'ForAnyOfAllValues:', 'ForAllOfAllValues:', 'ListKeyValues',
  'Microsoft.Storage/storageAccounts/blobServices/containers:name', 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:project<$key_case_sensitive$>', 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags&$keys$&',
  'isPrivateLink', 'UtcNow', 'Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project', 'true', 'false', '2026-01-01T00:00:00.0Z', '7d2a3b4c-0000-4000-8000-000000000000',
  '42', '-1.5', 'Blob.List',
];

/** A context that gives every attribute the condition reads a value drawn from the text. */
function conditionContext(attributes: readonly string[], text: string) {
  const h = createHash('sha1').update(text).digest();
  const values: Record<string, AttributeValue> = {};
  attributes.forEach((a, i) => {
    const pool: AttributeValue[] = ['images', 'photos/cat.png', 42, true, new Date(Date.UTC(2026, 0, 1)), ['a', 'b'], '7d2a3b4c-0000-4000-8000-000000000000', ''];
    if (h[i % h.length]! % 5 !== 0) values[a] = pool[h[(i + 7) % h.length]! % pool.length]!;
  });
  return { action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read', subOperation: h[0]! % 2 ? 'Blob.List' : undefined, attributes: values };
}

const abacCondition: FuzzTarget = {
  name: 'abacCondition',
  coverage: ['/dist/src/authz/condition', '/dist/src/services/storage/conditions.js'],
  dictionary: CONDITION_TOKENS,
  maxLength: 9000,
  run(input) {
    const problems = validateCondition(input, '2.0');
    let compiled;
    try {
      compiled = compileCondition(input, '2.0');
    } catch (err) {
      if (!(err instanceof ConditionError)) throw err;
    }
    if ((compiled === undefined) !== problems.length > 0) throw new OracleFailure(`validateCondition found ${problems.length} problems but compileCondition ${compiled ? 'accepted' : 'refused'} the condition`);
    storageConditionProblems(input);
    if (!compiled) return;
    const ctx = conditionContext(compiled.attributes, input);
    const outcome = compiled.outcome(ctx);
    if (compiled.evaluate(ctx) !== (outcome === 'true')) throw new OracleFailure(`evaluate() and outcome() disagree (${outcome})`);
    compiled.missingAttributes(ctx);
  },
};

// ---------------------------------------------------------------------------------------------
// Paths, resource ids, scopes and action patterns (line 1: a request target; line 2: an action
// pattern as a custom role or a condition carries it; line 3: an action)

const ARM_PATH_TOKENS = ['/subscriptions/{subscriptionId}', '/resourceGroups/fuzz', '/providers/', 'Microsoft.ManagedIdentity/userAssignedIdentities/', 'Microsoft.Authorization/roleAssignments/', '/providers/Microsoft.Management/managementGroups/mg1', '%2F', '%2e%2e', '//', '?', '&api-version=2023-01-31'];

/** Reference glob match (`*` = any run), by dynamic programming: slow and obviously right. */
function globReference(pattern: string, s: string): boolean {
  let row = new Array<boolean>(s.length + 1).fill(false);
  row[0] = true;
  for (const c of pattern) {
    const next = new Array<boolean>(s.length + 1).fill(false);
    for (let j = 0; j <= s.length; j++) {
      if (c === '*') next[j] = row[j]! || (j > 0 && next[j - 1]!);
      else next[j] = j > 0 && row[j - 1]! && s[j - 1] === c;
    }
    row = next;
  }
  return row[s.length]!;
}

const pathsAndScopes: FuzzTarget = {
  name: 'pathsAndScopes',
  coverage: ['/dist/src/server/http.js', '/dist/src/arm/ids.js', '/dist/src/authz/scope.js', '/dist/src/authz/actionPattern.js', '/dist/src/store/keys.js'],
  dictionary: [...ARM_PATH_TOKENS, '*', '/*', '*/', '**', '\n'],
  maxLength: 4096,
  run(input) {
    const [url = '', pattern = '', action = ''] = input.split('\n');
    // The request line as server/http.ts reads it.
    const raw = Object.assign(new PassThrough(), { url: parseRequestText(`GET ${url}`, {}, 'management.azure.com').url, method: 'GET', headers: { host: 'management.azure.com' } });
    const req = toRequest(raw as unknown as IncomingMessage);
    void req.query.toString();
    if (req.path.includes('//')) throw new OracleFailure(`path '${req.path}' keeps a double slash`);
    // Resource ids: formatting what was parsed gives an id that parses to the same thing.
    const r = parseResourceId(req.path);
    if (r) {
      const again = parseResourceId(formatResourceId(r));
      if (JSON.stringify(again) !== JSON.stringify(r)) throw new OracleFailure(`resource id does not round-trip: ${JSON.stringify(r)} -> ${JSON.stringify(again)}`);
      if (keyOf(formatResourceId(r)) !== keyOf(keyOf(formatResourceId(r)))) throw new OracleFailure('store key is not stable');
    }
    // Scopes: normalising is idempotent, and a scope covers itself and what lies below it.
    const scope = normalizeScope(req.path);
    if (normalizeScope(scope) !== scope) throw new OracleFailure(`normalizeScope is not idempotent on '${req.path}'`);
    if (!scopeCovers(scope, scope) || !scopeCovers(TENANT_ROOT, scope)) throw new OracleFailure(`scope '${scope}' does not cover itself`);
    if (scope !== TENANT_ROOT && !scopeCovers(scope, `${scope}/child`)) throw new OracleFailure(`scope '${scope}' does not cover its child`);
    if (scope !== TENANT_ROOT && scopeCovers(`${scope}/child`, scope)) throw new OracleFailure(`a child covers its parent '${scope}'`);
    // Action patterns: the compiled matcher agrees with the reference glob.
    const got = actionMatches(pattern, action);
    const want = globReference(pattern.toLowerCase(), action.toLowerCase());
    if (got !== want) throw new OracleFailure(`pattern '${pattern}' on '${action}': ${got}, expected ${want}`);
  },
};

// ---------------------------------------------------------------------------------------------
// Requests on the main origin (Resource Manager, Key Vault), through the real handler

const ARM_TOKENS = [
  ...HTTP_TOKENS, 'GET ', 'PUT ', 'PATCH ', 'DELETE ', 'POST ', 'HEAD ', '/subscriptions/{subscriptionId}', '/resourceGroups/fuzz', '/providers/', 'Microsoft.ManagedIdentity/userAssignedIdentities/',
  'Microsoft.Authorization/roleAssignments/', 'Microsoft.Authorization/roleDefinitions/', 'Microsoft.Authorization/denyAssignments/', 'Microsoft.KeyVault/vaults/', 'Microsoft.Storage/storageAccounts/',
  'Microsoft.Resources/deployments/', '/federatedIdentityCredentials/', '/secrets/', '/keys/', '/blobServices/default/containers/', '/listKeys', '/regenerateKey', '/validate', '/whatIf',
  '/exportTemplate', '/cancel', '2023-01-31', '2022-04-01', '2024-11-01', '2023-05-01', '2025-04-01', '2021-04-01', '"location"', '"properties"', '"identity"', '"tags"',
  '"type"', '"SystemAssigned"', '"UserAssigned"', '"principalId"', '"{adminObjectId}"', '"roleDefinitionId"', '"condition"', '"conditionVersion"', '"permissions"',
  '"actions"', '"dataActions"', '"assignableScopes"', '"accessPolicies"', '"enableRbacAuthorization"', '"sku"', '"kind"', '"template"', '"mode"', '"issuer"', '"subject"', '"audiences"',
  '7d2a3b4c-0000-4000-8000-000000000000', '{tenantId}', 'eastus', '$filter=', "principalId eq '", 'atScope()',
];

const armRequest: FuzzTarget = {
  name: 'armRequest',
  coverage: ['/dist/src/arm/', '/dist/src/server/http.js', '/dist/src/services/keyvault/vault', '/dist/src/services/storage/armTypes.js', '/dist/src/sts/managedIdentity/'],
  dictionary: ARM_TOKENS,
  json: true,
  maxLength: 16384,
  slowMs: HTTP_SLOW_MS,
  async setup() {
    const o = await ensureOrigin();
    await o.send('PUT /subscriptions/{subscriptionId}/resourceGroups/fuzz?api-version=2025-04-01\ncontent-type: application/json\n\n{"location":"eastus"}');
  },
  teardown: closeOrigin,
  async run(input) {
    const o = await ensureOrigin();
    await o.send(input);
  },
};

const VAULT = 'fuzzkv';
const KEY_VAULT_ADMINISTRATOR = '00482a5a-887f-4fb3-b363-3b7fe8e74483';

const KV_TOKENS = [
  ...HTTP_TOKENS, 'GET ', 'PUT ', 'PATCH ', 'DELETE ', 'POST ', '/secrets/', '/keys/', '/certificates/', '/deletedsecrets/', '/deletedkeys/', '/deletedcertificates/', '/versions',
  '/backup', '/restore', '/recover', '/create', '/import', '/rotate', '/rotationpolicy', '/sign', '/verify', '/encrypt', '/decrypt', '/wrapkey', '/unwrapkey', '/release', '/policy',
  '/pending', '/merge', '/contacts', '/issuers/', '/rng', 'api-version=7.5', 'api-version=2025-07-01', 'maxresults=', '"value"', '"kty"', '"RSA"', '"EC"', '"oct"', '"RSA-HSM"', '"EC-HSM"',
  '"key_size"', '"crv"', '"P-256"', '"P-384"', '"P-521"', '"P-256K"', '"key_ops"', '"attributes"', '"enabled"', '"exp"', '"nbf"', '"tags"', '"contentType"', '"alg"', '"RS256"',
  '"PS256"', '"ES256"', '"RSA-OAEP"', '"RSA-OAEP-256"', '"RSA1_5"', '"A256GCM"', '"digest"', '"key"', '"n"', '"e"', '"d"', '"x"', '"y"', '"k"', '"policy"', '"x509_props"',
  '"subject"', '"CN=fuzz"', '"issuer"', '"Self"', '"secret_props"', '"application/x-pkcs12"', '"application/x-pem-file"', '"lifetime_actions"', '"count"', '"AQAB"', '"AA"', '"x5c"',
  '"hsm"', '"release_policy"', '"exportable"', '"lifetimeActions"', '"trigger"', '"timeAfterCreate"', '"P30D"', '"action"', '"type"', '"Rotate"', '"Notify"', '"expiryTime"',
];

const keyvaultRequest: FuzzTarget = {
  name: 'keyvaultRequest',
  coverage: ['/dist/src/services/keyvault/', '/dist/src/server/http.js'],
  dictionary: KV_TOKENS,
  json: true,
  maxLength: 16384,
  slowMs: HTTP_SLOW_MS,
  async setup() {
    const rg = '/subscriptions/{subscriptionId}/resourceGroups/fuzz';
    const vault = `${rg}/providers/Microsoft.KeyVault/vaults/${VAULT}`;
    const steps = [
      `PUT ${rg}?api-version=2025-04-01\ncontent-type: application/json\n\n{"location":"eastus"}`,
      `PUT ${vault}?api-version=2024-11-01\ncontent-type: application/json\n\n{"location":"eastus","properties":{"tenantId":"{tenantId}","sku":{"family":"A","name":"standard"},"enableRbacAuthorization":true}}`,
      `PUT ${vault}/providers/Microsoft.Authorization/roleAssignments/7d2a3b4c-0000-4000-8000-000000000001?api-version=2022-04-01\ncontent-type: application/json\n\n{"properties":{"roleDefinitionId":"/subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${KEY_VAULT_ADMINISTRATOR}","principalId":"{adminObjectId}","principalType":"ServicePrincipal"}}`,
    ];
    for (const s of steps) await setupStep('keyvault', s);
  },
  teardown: closeOrigin,
  async run(input) {
    const o = await ensureOrigin();
    await o.send(input, `${VAULT}.vault.azure.net`, `Bearer ${o.vars.vaultToken}`);
  },
};

// ---------------------------------------------------------------------------------------------
// Storage: the gate's request parsing and classification, Shared Key, blob index tags

const ACCOUNT: StorageAccount = {
  name: 'fuzzacct',
  id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/fuzzacct`,
  key: `/subscriptions/${SUB}/resourcegroups/rg/providers/microsoft.storage/storageaccounts/fuzzacct`,
  subscriptionId: SUB,
  resourceGroup: 'rg',
  allowSharedKeyAccess: true,
  allowBlobPublicAccess: false,
  isHnsEnabled: false,
};
const ACCOUNT_KEY = Buffer.from('fuzz-account-key-of-sixty-four-bytes-0123456789abcdef0123456789ab');

// The gate's parse() is what reads the wire; it needs only the account lookup.
const gates = Object.fromEntries(
  (['blob', 'queue', 'table'] as const).map((service) => [service, new StorageGate({ service, accounts: { get: (n: string) => (n === ACCOUNT.name ? ACCOUNT : undefined) } } as never)]),
) as Record<SigningService, StorageGate>;

function checkOperation(op: Operation, service: SigningService): void {
  for (const check of [op.check, ...(op.extra ?? [])]) {
    if (!check) continue;
    if (!check.scope.startsWith(ACCOUNT.id)) throw new OracleFailure(`${op.name}: scope ${check.scope} is outside the account`);
    if (check.grants.length === 0 || check.grants.some((g) => g.actions.length === 0)) throw new OracleFailure(`${op.name}: a check without actions`);
    for (const g of check.grants) for (const a of g.actions) if (!a.toLowerCase().startsWith(`microsoft.storage/storageaccounts/${service}services`)) throw new OracleFailure(`${op.name}: action ${a} of another service`);
  }
}

const STORAGE_TOKENS = [
  ...HTTP_TOKENS, 'GET ', 'PUT ', 'DELETE ', 'POST ', 'HEAD ', 'MERGE ', 'OPTIONS ', 'https://fuzzacct.blob.core.windows.net', 'https://fuzzacct.queue.core.windows.net', 'https://fuzzacct.table.core.windows.net',
  '/fuzzacct/', 'restype=container', 'restype=service', 'comp=list', 'comp=metadata', 'comp=acl', 'comp=tags', 'comp=block', 'comp=blocklist', 'comp=page', 'comp=appendblock', 'comp=lease',
  'comp=snapshot', 'comp=copy', 'comp=batch', 'comp=properties', 'comp=stats', 'comp=userdelegationkey', 'comp=query', 'comp=undelete', 'comp=tier', 'comp=expiry', 'comp=blobs', 'where=',
  'snapshot=', 'versionid=', 'prefix=', 'popreceipt=', 'visibilitytimeout=', 'peekonly=true', 'numofmessages=', '/messages', 'Tables', "Tables('t')", "t(PartitionKey='p',RowKey='r')", '$batch',
  'x-ms-copy-source: https://fuzzacct.blob.core.windows.net/c/b', 'x-ms-tags: a=b&c=d', 'x-ms-blob-type: BlockBlob', 'x-ms-lease-action: acquire', 'x-ms-version: 2025-01-05', 'x-ms-date: ',
  'x-ms-rename-source: /c/b', 'x-ms-http-method: DELETE', 'X-HTTP-Method: MERGE', 'If-Match: *', '<Tags><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tags>',
  '--batch_1\r\nContent-Type: application/http\r\n\r\nDELETE /c/b HTTP/1.1\r\n\r\n', 'multipart/mixed; boundary=batch_1', '{"TableName":"t"}',
];

const storageRequest: FuzzTarget = {
  name: 'storageRequest',
  coverage: ['/dist/src/services/storage/'],
  dictionary: STORAGE_TOKENS,
  maxLength: 16384,
  run(input) {
    // The URL's host picks the service (default blob); parts as Node's parser delivers them.
    const m = /^\s*\S*\s+https?:\/\/([^/\s]*)/.exec(input);
    const host = m ? m[1]! : 'fuzzacct.blob.core.windows.net';
    const service: SigningService = /\.queue\./.test(host) ? 'queue' : /\.table\./.test(host) ? 'table' : 'blob';
    const parts = parseRequestText(m ? input.replace(/https?:\/\/[^/\s]*/, '') : input, {}, host);
    const raw = Object.assign(new PassThrough(), { url: parts.url, method: parts.method, headers: parts.headers }) as unknown as IncomingMessage;
    let target: Target;
    try {
      target = (gates[service] as unknown as { parse(req: IncomingMessage): Target }).parse(raw);
    } catch (err) {
      if (err instanceof StorageError && err.status < 500) return;
      throw err;
    }
    const body = parts.body.length > 0 ? parts.body : undefined;
    let op: Operation;
    if (service === 'blob') op = blobNeedsBody(target) && body ? classifyBlobBatch(target, body) : classifyBlob(target);
    else if (service === 'queue') op = classifyQueue(target);
    else op = classifyTable(target, tableNeedsBody(target) ? body : undefined);
    checkOperation(op, service);
    // Shared Key: what Mimic signs, the gate must accept; another account's name it must refuse.
    const q = parts.url.indexOf('?');
    const signable = { method: parts.method, path: q < 0 ? parts.url : parts.url.slice(0, q), rawQuery: q < 0 ? '' : parts.url.slice(q + 1), headers: { ...parts.headers } as Record<string, string> };
    signSharedKey(service, ACCOUNT.name, ACCOUNT_KEY, signable);
    const auth = signable.headers.authorization!;
    if (!verifySharedKey(service, ACCOUNT.name, [ACCOUNT_KEY], signable, auth).ok) throw new OracleFailure('a request Mimic signed fails its own Shared Key check');
    if (verifySharedKey(service, 'other', [ACCOUNT_KEY], signable, auth).ok) throw new OracleFailure('a Shared Key signature for one account passes for another');
    if (parts.headers.authorization?.startsWith('SharedKey ')) verifySharedKey(service, ACCOUNT.name, [ACCOUNT_KEY], { ...signable, headers: parts.headers }, parts.headers.authorization);
    parseTagHeader(parts.headers['x-ms-tags']);
    if (body) parseTagXml(body.toString('utf8'));
  },
};

export const TARGETS: Record<string, FuzzTarget> = Object.fromEntries(
  [templateExpression, templateDeployment, abacCondition, pathsAndScopes, armRequest, keyvaultRequest, storageRequest, ...Object.values(IDENTITY_TARGETS)].map((t) => [t.name, t]),
);

/**
 * Targets with planted faults, for the tests of the runner itself (not fuzzed by `npm run fuzz`):
 * an endless loop, and an error thrown later from a timer the input left behind.
 */
export const SELF_TEST_TARGETS: Record<string, FuzzTarget> = {
  selfTestHang: { name: 'selfTestHang', coverage: ['/dist/test/fuzz/targets.js'], dictionary: ['HANG'], run: (input) => { while (input.includes('HANG')); } },
  selfTestStray: { name: 'selfTestStray', coverage: ['/dist/test/fuzz/targets.js'], dictionary: ['STRAY'], run: (input) => void (input.includes('STRAY') && setTimeout(() => { throw new Error('stray error'); }, 0)) },
};
