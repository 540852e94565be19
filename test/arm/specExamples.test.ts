// Replays request/response examples from Azure's REST specs (test/fixtures/spec-examples, see
// SOURCE.md there) against a real Mimic over HTTPS as the administrator: each example's request
// is sent with Mimic's subscription, groups and names in place of the example's (prerequisites
// created first), and the answer must carry one of the example's status codes (the one Azure
// gives for that case) and every property the example's response has, with the same JSON type,
// recursively. Deliberate omissions are listed in OMISSIONS, each with its reason.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { FIXTURES, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { armCaller, type ArmCaller, type ArmResponse } from '../helpers/arm.js';

/** What Mimic leaves out of an example's response on purpose: `file` ('*' for every example) and the property path. */
const OMISSIONS: { file: string; path: string; reason: string }[] = [
  { file: '*', path: 'nextLink', reason: 'Mimic answers every list in one page, and Azure omits nextLink on the last page (the subscriptions and tenants lists, where the spec requires it, carry an empty one)' },
  { file: 'resources/GetSubscriptions.json', path: 'value[].tags', reason: "subscription tags are served at {subscription}/providers/Microsoft.Resources/tags/default, not in the subscription's view" },
  { file: 'resources/GetProvider.json', path: 'resourceTypes[].locationMappings', reason: 'edge zones (extended locations) are not modelled' },
  { file: 'storage/StorageAccountCreate.json', path: 'extendedLocation', reason: 'edge zones (extended locations) are not modelled; the account is placed in its region' },
  { file: 'keyvault/getVault.json', path: 'properties.hsmPoolResourceId', reason: 'HSM pools are retired in Azure and not modelled' },
  { file: 'keyvault/listVaultByResourceGroup.json', path: 'value[].properties.hsmPoolResourceId', reason: 'HSM pools are retired in Azure and not modelled' },
];

const SKIP_NEXTLINK_OMISSION = new Set(['resources/GetSubscriptions.json', 'resources/GetTenants.json']);

function omitted(file: string, path: string): boolean {
  if (path === 'nextLink' && SKIP_NEXTLINK_OMISSION.has(file)) return false;
  return OMISSIONS.some((o) => (o.file === '*' || o.file === file) && o.path === path);
}

const DATA_MAPS = new Set(['tags', 'metadata']);

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Where `actual` lacks a property of `expected` or has it with another JSON type. */
function shapeDiff(file: string, expected: unknown, actual: unknown, path = '', topList = true): string[] {
  const te = typeOf(expected);
  const ta = typeOf(actual);
  if (te === 'null') return [];
  if (te !== ta) return [`${path || '(body)'}: expected ${te}, got ${ta} (${JSON.stringify(actual)?.slice(0, 120)})`];
  if (te === 'array') {
    const e = expected as unknown[];
    const a = actual as unknown[];
    if (e.length === 0) return [];
    if (a.length === 0) return topList ? [`${path}: the example lists items, Mimic none`] : [];
    return shapeDiff(file, e[0], a[0], `${path}[]`, false);
  }
  if (te !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(expected as Record<string, unknown>)) {
    const p = path ? `${path}.${k}` : k;
    if (omitted(file, p)) continue;
    if (!(k in (actual as Record<string, unknown>))) out.push(`${p}: missing`);
    // Maps whose keys are the caller's data (tags, metadata): only their type is compared.
    else if (DATA_MAPS.has(k)) out.push(...(typeOf((actual as Record<string, unknown>)[k]) === 'object' ? [] : [`${p}: expected object`]));
    else out.push(...shapeDiff(file, v, (actual as Record<string, unknown>)[k], p, path === '' && k === 'value'));
  }
  return out;
}

interface Example {
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown }>;
}

function load(file: string): Example {
  return JSON.parse(readFileSync(join(FIXTURES, 'spec-examples', file), 'utf8')) as Example;
}

describe('Azure REST spec examples replayed against Mimic', () => {
  let mimic: TestMimic;
  let a: ArmCaller;
  let sub: string;
  let rg: string;
  let tenantId: string;
  const suffix = randomUUID().slice(0, 6);

  /** Sends an example's request and checks the status and the response's shape. */
  async function replay(file: string, method: string, path: string, opts: { status: number; body?: unknown; bodyParam?: string; apiVersion?: string } ): Promise<ArmResponse> {
    const ex = load(file);
    assert.ok(ex.responses[String(opts.status)], `${file}: ${opts.status} is one of the example's responses (${Object.keys(ex.responses).join(', ')})`);
    const body = opts.body !== undefined ? opts.body : opts.bodyParam ? ex.parameters[opts.bodyParam] : undefined;
    const apiVersion = opts.apiVersion ?? String(ex.parameters['api-version']);
    const r = await a.call(method, path, body, apiVersion);
    assert.equal(r.status, opts.status, `${file}: ${method} ${path} answered ${r.status}: ${r.text.slice(0, 400)}`);
    const expected = ex.responses[String(opts.status)]!.body;
    if (expected !== undefined) {
      const diff = shapeDiff(file, expected, r.body);
      assert.deepEqual(diff, [], `${file}: the response differs from the example:\n${diff.join('\n')}\n${r.text.slice(0, 1500)}`);
    }
    return r;
  }

  before(async () => {
    mimic = await startTestMimic('sqlite');
    a = await armCaller(mimic.dataDir, '2024-11-30');
    sub = a.sub;
    tenantId = mimic.endpoints.tenantId;
    rg = `${sub}/resourceGroups/rg-spec`;
    const g = await a.call('PUT', rg, { location: 'eastus' }, '2021-04-01');
    assert.equal(g.status, 201);
  });
  after(() => mimic.dispose());

  describe('Microsoft.Resources', () => {
    test('resource groups: create, get, update, list', async () => {
      const ex = load('resources/CreateResourceGroup.json');
      await replay('resources/CreateResourceGroup.json', 'PUT', `${sub}/resourceGroups/my-resource-group`, { status: 201, body: ex.parameters.parameters });
      await replay('resources/CreateResourceGroup.json', 'PUT', `${sub}/resourceGroups/my-resource-group`, { status: 200, body: ex.parameters.parameters });
      await replay('resources/GetResourceGroups.json', 'GET', `${sub}/resourceGroups/my-resource-group`, { status: 200 });
      await replay('resources/UpdateResourceGroups.json', 'PATCH', `${sub}/resourceGroups/my-resource-group`, { status: 200, bodyParam: 'parameters' });
      await replay('resources/ListResourceGroups.json', 'GET', `${sub}/resourceGroups`, { status: 200 });
    });

    test('generic resources: create and get by type path', async () => {
      const id = `${rg}/providers/Microsoft.Web/sites/site-spec-${suffix}`;
      await replay('resources/CreateOrUpdateResources.json', 'PUT', id, { status: 201, body: { location: 'eastus', properties: {} }, apiVersion: '2023-12-01' });
      await replay('resources/GetResources.json', 'GET', id, { status: 200, apiVersion: '2023-12-01' });
      await replay('resources/UpdateResources.json', 'PATCH', id, { status: 200, body: { tags: { a: 'b' } }, apiVersion: '2023-12-01' });
      await replay('resources/DeleteResources.json', 'DELETE', id, { status: 200, apiVersion: '2023-12-01' });
      assert.equal((await a.call('DELETE', id, undefined, '2023-12-01')).status, 204, 'deleting what is gone answers 204');
    });

    test('resource group existence: 204 or 404', async () => {
      await replay('resources/CheckExistenceResourceGroups.json', 'HEAD', rg, { status: 204 });
      await replay('resources/CheckExistenceResourceGroups.json', 'HEAD', `${sub}/resourceGroups/rg-nowhere`, { status: 404 });
    });

    test('tags/default on a resource and on the subscription: put, get, patch, delete', async () => {
      const uai = `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-tags`;
      assert.equal((await a.call('PUT', uai, { location: 'eastus' })).status, 201);
      const put = load('resources/PutTagsResource.json');
      const r = await replay('resources/PutTagsResource.json', 'PUT', `${uai}/providers/Microsoft.Resources/tags/default`, { status: 200, body: put.parameters.parameters });
      assert.deepEqual(r.body.properties.tags, { tagKey1: 'tag-value-1', tagKey2: 'tag-value-2' });
      assert.deepEqual((await a.call('GET', uai)).body.tags, { tagKey1: 'tag-value-1', tagKey2: 'tag-value-2' }, 'the resource carries the tags');
      await replay('resources/PutTagsSubscription.json', 'PUT', `${sub}/providers/Microsoft.Resources/tags/default`, { status: 200, bodyParam: 'parameters' });
      await replay('resources/GetTagsSubscription.json', 'GET', `${sub}/providers/Microsoft.Resources/tags/default`, { status: 200 });
      const merged = await replay('resources/UpdateAtScopeTags.json', 'PATCH', `${uai}/providers/Microsoft.Resources/tags/default`, {
        status: 200,
        body: { operation: 'Merge', properties: { tags: { tagKey3: 'v3' } } },
      });
      assert.deepEqual(merged.body.properties.tags, { tagKey1: 'tag-value-1', tagKey2: 'tag-value-2', tagKey3: 'v3' });
      const removed = await a.call('PATCH', `${uai}/providers/Microsoft.Resources/tags/default`, { operation: 'Delete', properties: { tags: { tagKey1: '' } } }, '2021-04-01');
      assert.deepEqual(removed.body.properties.tags, { tagKey2: 'tag-value-2', tagKey3: 'v3' });
      await replay('resources/DeleteAtScopeTags.json', 'DELETE', `${uai}/providers/Microsoft.Resources/tags/default`, { status: 200 });
      assert.deepEqual((await a.call('GET', uai)).body.tags, {}, 'deleting tags/default removes every tag');
    });

    test('subscriptions, tenants and locations', async () => {
      const s = await replay('resources/GetSubscriptions.json', 'GET', '/subscriptions', { status: 200 });
      assert.equal(typeof s.body.nextLink, 'string');
      const t = await replay('resources/GetTenants.json', 'GET', '/tenants', { status: 200 });
      assert.equal(t.body.value[0].tenantId, tenantId);
      const l = await replay('resources/GetLocations.json', 'GET', `${sub}/locations`, { status: 200 });
      assert.ok(l.body.value.some((x: { name: string }) => x.name === 'eastus'));
    });

    test('provider GET lists api-versions (newest first) and locations for every type', async () => {
      const r = await replay('resources/GetProvider.json', 'GET', `${sub}/providers/Microsoft.ManagedIdentity`, { status: 200 });
      const uai = r.body.resourceTypes.find((t: { resourceType: string }) => t.resourceType === 'userAssignedIdentities');
      assert.equal(uai.apiVersions[0], '2025-05-31-preview');
      assert.ok(uai.apiVersions.includes('2023-01-31'));
      assert.ok(uai.locations.includes('East US'));
      const storage = (await a.call('GET', `${sub}/providers/Microsoft.Storage`, undefined, '2021-04-01')).body;
      for (const t of storage.resourceTypes) assert.ok(t.apiVersions.length > 0 && t.locations.length > 0, `${t.resourceType} lists versions and locations`);
    });

    test('operations lists of the five providers have Azure\'s Operation shape', async () => {
      const ex = load('msi/MsiOperationsList.json');
      for (const ns of ['Microsoft.Resources', 'Microsoft.ManagedIdentity', 'Microsoft.Authorization', 'Microsoft.KeyVault', 'Microsoft.Storage']) {
        const r = await a.call('GET', `/providers/${ns}/operations`, undefined, '2023-01-31');
        assert.equal(r.status, 200, `${ns}: ${r.text}`);
        assert.deepEqual(shapeDiff('msi/MsiOperationsList.json', ex.responses['200']!.body, r.body), [], ns);
        assert.ok(r.body.value.every((o: { name: string }) => o.name.toLowerCase().startsWith(ns.toLowerCase() + '/')), `${ns} lists its own operations`);
      }
      const kv = (await a.call('GET', '/providers/Microsoft.KeyVault/operations', undefined, '2023-07-01')).body.value.map((o: { name: string }) => o.name);
      assert.ok(kv.includes('Microsoft.KeyVault/vaults/secrets/getSecret/action'), 'data actions from the built-in roles are listed');
    });
  });

  describe('Microsoft.ManagedIdentity', () => {
    const uaiPath = () => `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityName`;

    test('user-assigned identities: create, get, update, list, delete', async () => {
      const c = await replay('msi/IdentityCreate.json', 'PUT', uaiPath(), { status: 201, bodyParam: 'parameters' });
      assert.equal(c.body.properties.isolationScope, 'None', 'Azure reports isolationScope None unless set');
      await replay('msi/IdentityCreate.json', 'PUT', uaiPath(), { status: 200, bodyParam: 'parameters' });
      await replay('msi/IdentityGet.json', 'GET', uaiPath(), { status: 200 });
      await replay('msi/IdentityUpdate.json', 'PATCH', uaiPath(), { status: 200, bodyParam: 'parameters' });
      await replay('msi/IdentityListByResourceGroup.json', 'GET', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, { status: 200 });
      await replay('msi/IdentityListBySubscription.json', 'GET', `${sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, { status: 200 });
    });

    test('federated identity credentials: create, get, list, delete', async () => {
      const fic = `${uaiPath()}/federatedIdentityCredentials/ficResourceName`;
      await replay('msi/FederatedIdentityCredentialCreate.json', 'PUT', fic, { status: 201, bodyParam: 'parameters' });
      await replay('msi/FederatedIdentityCredentialGet.json', 'GET', fic, { status: 200 });
      await replay('msi/FederatedIdentityCredentialList.json', 'GET', `${uaiPath()}/federatedIdentityCredentials`, { status: 200 });
      await replay('msi/FederatedIdentityCredentialDelete.json', 'DELETE', fic, { status: 200 });
      await replay('msi/IdentityDelete.json', 'DELETE', uaiPath(), { status: 200 });
    });

    test("a resource's system-assigned identity as a resource", async () => {
      const site = `${rg}/providers/Microsoft.Web/sites/site-sami-${suffix}`;
      const made = await a.call('PUT', site, { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} }, '2023-12-01');
      assert.equal(made.status, 201);
      const r = await replay('msi/SystemAssignedIdentityGet.json', 'GET', `${site}/providers/Microsoft.ManagedIdentity/identities/default`, { status: 200 });
      assert.equal(r.body.properties.principalId, made.body.identity.principalId);
      assert.equal(r.body.properties.clientId, mimic.directory.byObject(made.body.identity.principalId)!.appId);
      const none = `${rg}/providers/Microsoft.Web/sites/site-none-${suffix}`;
      assert.equal((await a.call('PUT', none, { location: 'eastus', properties: {} }, '2023-12-01')).status, 201);
      assert.equal((await a.call('GET', `${none}/providers/Microsoft.ManagedIdentity/identities/default`, undefined, '2023-01-31')).status, 404);
    });
  });

  describe('Microsoft.Authorization', () => {
    const reader = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
    test('role assignments: create, get, list, delete', async () => {
      const uai = (await a.call('PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ra`, { location: 'eastus' })).body;
      const name = randomUUID();
      const path = `${rg}/providers/Microsoft.Authorization/roleAssignments/${name}`;
      const body = { properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${reader}`, principalId: uai.properties.principalId, principalType: 'ServicePrincipal' } };
      await replay('authorization/RoleAssignments_CreateForResourceGroup.json', 'PUT', path, { status: 201, body });
      await replay('authorization/RoleAssignments_Get.json', 'GET', path, { status: 200, apiVersion: '2022-04-01' });
      await replay('authorization/RoleAssignments_ListForResourceGroup.json', 'GET', `${rg}/providers/Microsoft.Authorization/roleAssignments`, { status: 200 });
      await replay('authorization/RoleAssignments_Delete.json', 'DELETE', path, { status: 200 });
    });

    test('role definitions: get a built-in role, create a custom role', async () => {
      await replay('authorization/GetRoleDefinitionById.json', 'GET', `${sub}/providers/Microsoft.Authorization/roleDefinitions/${reader}`, { status: 200 });
      const ex = load('authorization/PutRoleDefinition.json');
      const sent = (ex.parameters.body as { roleDefinition: Record<string, unknown> }).roleDefinition;
      const id = randomUUID();
      const defPath = `${sub}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
      await replay('authorization/PutRoleDefinition.json', 'PUT', defPath, {
        status: 201,
        body: {
          properties: {
            roleName: `${String(sent.roleName)} ${suffix}`,
            description: sent.description,
            type: 'CustomRole',
            assignableScopes: [sub],
            permissions: [{ actions: ['Microsoft.Storage/storageAccounts/read'], notActions: [], dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'], notDataActions: [] }],
          },
        },
      });
      await replay('authorization/DeleteRoleDefinition.json', 'DELETE', defPath, { status: 200 });
    });

    test('permissions of the caller at a resource group', async () => {
      await replay('authorization/GetPermissions.json', 'GET', `${rg}/providers/Microsoft.Authorization/permissions`, { status: 200, apiVersion: '2022-04-01' });
    });
  });

  describe('Microsoft.KeyVault', () => {
    const vaultName = `kvspec${suffix}`;
    const vault = () => `${rg}/providers/Microsoft.KeyVault/vaults/${vaultName}`;

    test('vaults: get (tags are {} when none were set)', async () => {
      const made = await a.call('PUT', vault(), {
        location: 'eastus',
        properties: {
          tenantId,
          sku: { family: 'A', name: 'standard' },
          accessPolicies: [{ tenantId, objectId: mimic.context.tenant.adminObjectId, permissions: { keys: ['get'], secrets: ['get'], certificates: ['get'] } }],
        },
      }, '2023-07-01');
      assert.ok(made.status === 200 || made.status === 201, made.text);
      const r = await replay('keyvault/getVault.json', 'GET', vault(), { status: 200 });
      assert.deepEqual(r.body.tags, {});
    });

    test('secrets through the Resource Manager carry the vault location', async () => {
      const s = await replay('keyvault/createSecret.json', 'PUT', `${vault()}/secrets/secret-name`, { status: 201, bodyParam: 'parameters' });
      assert.equal(s.body.location, 'eastus');
      await replay('keyvault/getSecret.json', 'GET', `${vault()}/secrets/secret-name`, { status: 200 });
    });

    test('keys: create makes a real data-plane key; get, list, versions', async () => {
      const k = await replay('keyvault/createKey.json', 'PUT', `${vault()}/keys/sample-key-name`, { status: 200, bodyParam: 'parameters' });
      assert.equal(k.body.properties.keySize, 2048);
      const again = await a.call('PUT', `${vault()}/keys/sample-key-name`, load('keyvault/createKey.json').parameters.parameters, '2023-07-01');
      assert.equal(again.status, 200);
      assert.equal(again.body.properties.keyUriWithVersion, k.body.properties.keyUriWithVersion, 'creating an existing key changes nothing');
      await replay('keyvault/getKey.json', 'GET', `${vault()}/keys/sample-key-name`, { status: 200 });
      await replay('keyvault/listKeys.json', 'GET', `${vault()}/keys`, { status: 200 });
      const versions = await replay('keyvault/listKeyVersions.json', 'GET', `${vault()}/keys/sample-key-name/versions`, { status: 200 });
      const version = String(k.body.properties.keyUriWithVersion).split('/').pop()!;
      assert.deepEqual(versions.body.value.map((v: { name: string }) => v.name), [version]);
      await replay('keyvault/getKeyVersion.json', 'GET', `${vault()}/keys/sample-key-name/versions/${version}`, { status: 200 });
    });

    test('vaults: list by group, name availability, delete, deleted vaults', async () => {
      await replay('keyvault/listVaultByResourceGroup.json', 'GET', `${rg}/providers/Microsoft.KeyVault/vaults`, { status: 200 });
      await replay('keyvault/checkVaultNameAvailability.json', 'POST', `${sub}/providers/Microsoft.KeyVault/checkNameAvailability`, { status: 200, body: { name: `kvfree${suffix}`, type: 'Microsoft.KeyVault/vaults' } });
      await replay('keyvault/deleteVault.json', 'DELETE', vault(), { status: 200 });
      await replay('keyvault/listDeletedVaults.json', 'GET', `${sub}/providers/Microsoft.KeyVault/deletedVaults`, { status: 200 });
    });
  });

  describe('Microsoft.Storage', () => {
    const account = `sto${suffix}`;
    const acct = () => `${rg}/providers/Microsoft.Storage/storageAccounts/${account}`;

    test('storage accounts: create answers 200 with every endpoint; GRS has a secondary', async () => {
      const ex = load('storage/StorageAccountCreate.json');
      const body = structuredClone(ex.parameters.parameters) as { properties: Record<string, unknown> };
      body.properties.isHnsEnabled = false;
      const r = await replay('storage/StorageAccountCreate.json', 'PUT', acct(), { status: 200, body });
      assert.equal(r.body.properties.secondaryLocation, 'westus', "a GRS account replicates to its region's pair");
      assert.match(r.body.properties.primaryEndpoints.blob, /^https:\/\//);
    });

    test('listKeys and regenerateKey say permissions Full', async () => {
      const l = await replay('storage/StorageAccountListKeys.json', 'POST', `${acct()}/listKeys`, { status: 200 });
      assert.ok(l.body.keys.every((k: { permissions: string }) => k.permissions === 'Full'));
      const g = await replay('storage/StorageAccountRegenerateKey.json', 'POST', `${acct()}/regenerateKey`, { status: 200, bodyParam: 'regenerateKey' });
      assert.notEqual(g.body.keys[1].value, l.body.keys[1].value);
    });

    test('blob services carry the sku', async () => {
      const ex = load('storage/BlobServicesGet.json');
      const props = (ex.responses['200']!.body as { properties: Record<string, unknown> }).properties;
      assert.equal((await a.call('PUT', `${acct()}/blobServices/default`, { properties: props }, '2023-05-01')).status, 200);
      await replay('storage/BlobServicesGet.json', 'GET', `${acct()}/blobServices/default`, { status: 200 });
    });

    test('containers (with an etag), queues and tables: create and delete with Azure\'s status codes', async () => {
      const c = await replay('storage/BlobContainersPut.json', 'PUT', `${acct()}/blobServices/default/containers/container6185`, { status: 201, bodyParam: 'blobContainer' });
      assert.match(c.body.etag, /^"0x[0-9A-F]+"$/);
      await replay('storage/BlobContainersDelete.json', 'DELETE', `${acct()}/blobServices/default/containers/container6185`, { status: 200 });
      await replay('storage/QueueOperationPut.json', 'PUT', `${acct()}/queueServices/default/queues/queue6185`, { status: 200, body: { properties: { metadata: { sample1: 'meta1' } } } });
      await replay('storage/QueueOperationGet.json', 'GET', `${acct()}/queueServices/default/queues/queue6185`, { status: 200 });
      await replay('storage/QueueOperationDelete.json', 'DELETE', `${acct()}/queueServices/default/queues/queue6185`, { status: 204 });
      // The example sends no body at all: the table's body is optional.
      await replay('storage/TableOperationPut.json', 'PUT', `${acct()}/tableServices/default/tables/table6185`, { status: 200 });
      await replay('storage/TableOperationDelete.json', 'DELETE', `${acct()}/tableServices/default/tables/table6185`, { status: 204 });
    });

    test('networkAcls after an update keep bypass, ipRules and virtualNetworkRules', async () => {
      const r = await a.call('PATCH', acct(), { properties: { networkAcls: { defaultAction: 'Deny' } } }, '2023-05-01');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.properties.networkAcls, { bypass: 'AzureServices', virtualNetworkRules: [], ipRules: [], defaultAction: 'Deny' });
    });

    test('name availability and delete', async () => {
      await replay('storage/StorageAccountCheckNameAvailability.json', 'POST', `${sub}/providers/Microsoft.Storage/checkNameAvailability`, { status: 200, body: { name: `free${suffix}`, type: 'Microsoft.Storage/storageAccounts' } });
      await replay('storage/StorageAccountDelete.json', 'DELETE', acct(), { status: 200 });
      await replay('storage/StorageAccountDelete.json', 'DELETE', acct(), { status: 204 });
    });
  });
});
