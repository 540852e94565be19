// Microsoft.KeyVault/vaults in the Resource Manager: what a created vault looks like (vaultUri,
// defaults, the permission model by api-version), what Azure refuses, global names, and a
// vault's data plane appearing and disappearing with the resource.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runFixture, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { readEndpoints } from '../../src/server/config.js';
import { adminVaultToken, arm, assignRole, createGroup, createVault, raw, ROLES, type Arm, type StepResult } from './helpers.js';

const RG = 'kv-vaults';

describe('Key Vault vaults as resources', () => {
  let m: TestMimic;
  let a: Arm;
  let tenantId: string;
  const path = (name: string, rg = RG) => `${a.sub}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`;
  const props = (extra: Record<string, unknown> = {}) => ({ tenantId, sku: { family: 'A', name: 'standard' }, ...extra });

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    tenantId = m.context.tenant.tenantId;
    await createGroup(a, RG);
    await createGroup(a, 'kv-vaults-2');
  });
  after(() => m.dispose());

  test('created through @azure/arm-keyvault: vaultUri, defaults, RBAC by default from 2026-02-01', async () => {
    const r = (await runFixture<{ results: StepResult[] }>('keyvault/arm.mjs', [JSON.stringify({ resourceGroup: RG, steps: [
      { op: 'create', name: 'sdkvault' },
      { op: 'get', name: 'sdkvault' },
      { op: 'list' },
    ] })], m.adminEnv)).results;
    assert.ok(r.every((x) => x.ok), JSON.stringify(r));
    assert.deepEqual(r[1]!.value, { name: 'sdkvault', vaultUri: 'https://sdkvault.vault.azure.net/', rbac: true, accessPolicies: [] });
    assert.deepEqual(r[2]!.value, ['sdkvault']);

    const full = await a.call('GET', path('sdkvault'));
    assert.deepEqual(
      { ...full.body.properties, tenantId: undefined },
      {
        tenantId: undefined,
        sku: { family: 'A', name: 'standard' },
        accessPolicies: [],
        enabledForDeployment: false,
        enabledForDiskEncryption: false,
        enabledForTemplateDeployment: false,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        enableRbacAuthorization: true,
        publicNetworkAccess: 'Enabled',
        vaultUri: 'https://sdkvault.vault.azure.net/',
        provisioningState: 'Succeeded',
      },
    );
    const older = await a.call('PUT', path('oldapivault'), { location: 'eastus', properties: props() }, '2025-05-01');
    assert.equal(older.status, 201, older.text);
    assert.equal(older.body.properties.enableRbacAuthorization, false);
    const explicit = await a.call('PUT', path('explicitvault'), { location: 'eastus', properties: props({ enableRbacAuthorization: false }) });
    assert.equal(explicit.body.properties.enableRbacAuthorization, false);
    // An update that does not mention the model keeps it.
    const updated = await a.call('PUT', path('explicitvault'), { location: 'eastus', properties: props({ enabledForDeployment: true }) });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.properties.enableRbacAuthorization, false);
    assert.equal(updated.body.properties.enabledForDeployment, true);

    const endpoints = await readEndpoints(m.dataDir);
    assert.equal(endpoints.routes['*.vault.azure.net'], `127.0.0.1:${new URL(m.endpoints.origin).port}`);
  });

  test('what Azure refuses', async () => {
    const put = (name: string, properties: unknown, rg = RG) => a.call('PUT', path(name, rg), { location: 'eastus', properties });
    const expect = async (p: Promise<{ status: number; body: any; text: string }>, status: number, code: string) => {
      const r = await p;
      assert.equal(r.status, status, r.text);
      assert.equal(r.body.error.code, code, r.text);
    };
    await expect(put('1bad', props()), 400, 'VaultNameNotValid');
    await expect(put('bad--name', props()), 400, 'VaultNameNotValid');
    await expect(put('a'.repeat(25), props()), 400, 'VaultNameNotValid');
    await expect(put('nosku', { tenantId }), 400, 'BadRequest');
    await expect(put('othertenant', props({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' })), 400, 'BadRequest');
    await expect(put('nosoftdelete', props({ enableSoftDelete: false })), 400, 'BadRequest');
    await expect(put('shortretention', props({ softDeleteRetentionInDays: 6 })), 400, 'BadRequest');
    const policy = (i: number) => ({ tenantId, objectId: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, permissions: { secrets: ['get'] } });
    await expect(put('toomany', props({ accessPolicies: Array.from({ length: 1025 }, (_, i) => policy(i)) })), 400, 'BadRequest');
    assert.equal((await put('atlimit', props({ accessPolicies: Array.from({ length: 1024 }, (_, i) => policy(i)) }))).status, 201);
    await expect(put('policytenant', props({ accessPolicies: [{ ...policy(1), tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' }] })), 400, 'BadRequest');
    await expect(put('policyperm', props({ accessPolicies: [{ ...policy(1), permissions: { secrets: ['sign'] } }] })), 400, 'BadRequest');
    await expect(a.call('PUT', `${path('atlimit')}/accessPolicies/add`, { properties: { accessPolicies: [policy(5000)] } }), 400, 'BadRequest');
    await expect(a.call('PUT', `${path('atlimit')}/accessPolicies/merge`, { properties: { accessPolicies: [policy(1)] } }), 400, 'BadRequest');

    // Names are global, across resource groups.
    assert.equal((await put('globalname', props())).status, 201);
    await expect(put('globalname', props(), 'kv-vaults-2'), 409, 'VaultAlreadyExists');

    await expect(put('explicitoff', props({ enablePurgeProtection: false })), 400, 'BadRequest');
    // Deletion settings only tighten.
    assert.equal((await put('guarded', props({ enablePurgeProtection: true, softDeleteRetentionInDays: 30 }))).status, 201);
    await expect(a.call('PATCH', path('guarded'), { properties: { enablePurgeProtection: false } }), 400, 'BadRequest');
    await expect(a.call('PATCH', path('guarded'), { properties: { softDeleteRetentionInDays: 60 } }), 400, 'BadRequest');
    const guarded = await a.call('GET', path('guarded'));
    assert.deepEqual([guarded.body.properties.enablePurgeProtection, guarded.body.properties.softDeleteRetentionInDays], [true, 30]);

    assert.equal((await a.call('PUT', path('wrongapi'), { location: 'eastus', properties: props() }, '2020-01-01')).status, 400);
  });

  test('vaults/secrets through the Resource Manager writes a data-plane secret (authorized by ARM RBAC)', async () => {
    const v = await createVault(a, RG, 'armsecrets');
    const put = await a.call('PUT', `${v.id}/secrets/from-arm`, { properties: { value: 'deployed', contentType: 'text/plain' } });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.body.properties.value, undefined);
    assert.equal(put.body.properties.secretUri, 'https://armsecrets.vault.azure.net/secrets/from-arm');
    const version = put.body.properties.secretUriWithVersion.split('/').pop();
    const token = adminVaultToken(m);
    // Owner may write through the Resource Manager, yet has no data action to read it back.
    assert.equal((await raw(m, v, 'GET', '/secrets/from-arm/', { token })).status, 403);
    await assignRole(a, v.id, ROLES.secretsUser, m.context.tenant.adminObjectId);
    const read = (await raw(m, v, 'GET', '/secrets/from-arm/', { token })).json();
    assert.equal(read.value, 'deployed');
    assert.equal(read.contentType, 'text/plain');
    assert.equal(read.id.split('/').pop(), version);
    assert.equal((await a.call('PUT', `${v.id}/secrets/bad_name`, { properties: { value: 'x' } })).status, 400);
    assert.equal((await a.call('PUT', `${v.id}/secrets/novalue`, { properties: {} })).status, 400);
  });

  test('deleting a vault soft-deletes it: name held, recover brings the contents back, purge releases both', async () => {
    const v = await createVault(a, RG, 'shortlived');
    await assignRole(a, `${a.sub}/resourceGroups/${RG}`, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    const token = adminVaultToken(m);
    assert.equal((await raw(m, v, 'PUT', '/secrets/s', { token, body: { value: 'kept' } })).status, 200);
    const sdk = async (steps: Record<string, unknown>[]) => (await runFixture<{ results: StepResult[] }>('keyvault/arm.mjs', [JSON.stringify({ resourceGroup: RG, steps })], m.adminEnv)).results;

    const r = await sdk([
      { op: 'delete', name: 'shortlived' },
      { op: 'listDeleted' },
      { op: 'getDeleted', name: 'shortlived', location: 'eastus' },
      { op: 'checkName', name: 'shortlived' },
      { op: 'checkName', name: 'freshname' },
      { op: 'checkName', name: '-bad' },
      { op: 'create', name: 'shortlived' },
    ]);
    assert.ok(r.slice(0, 6).every((x) => x.ok), JSON.stringify(r));
    const listed = r[1]!.value.find((d: { name: string }) => d.name === 'shortlived');
    assert.equal(listed.vaultId, v.id);
    assert.equal((Date.parse(listed.scheduledPurgeDate) - Date.parse(listed.deletionDate)) / 86_400_000, 90);
    assert.equal(r[2]!.value.id, `${a.sub}/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/shortlived`);
    assert.deepEqual(r[3]!.value, { nameAvailable: false, reason: 'AlreadyExists' });
    assert.deepEqual(r[4]!.value, { nameAvailable: true });
    assert.deepEqual(r[5]!.value, { nameAvailable: false, reason: 'AccountNameInvalid' });
    assert.equal(r[6]!.status, 409, 'the name is held by the deleted vault');
    assert.equal(r[6]!.code, 'ConflictError');
    assert.equal((await raw(m, v, 'GET', '/secrets/s/', { token })).status, 404, 'a deleted vault has no data plane');

    const recovered = await a.call('PUT', v.id, { location: 'eastus', properties: { tenantId, sku: { family: 'A', name: 'standard' }, createMode: 'recover' } });
    assert.equal(recovered.status, 201, recovered.text);
    assert.equal(recovered.body.properties.vaultUri, 'https://shortlived.vault.azure.net/');
    assert.equal((await raw(m, v, 'GET', '/secrets/s/', { token })).json().value, 'kept');

    // Deleting the group soft-deletes its vaults too; purge releases the name and drops the contents.
    assert.equal((await a.call('DELETE', `${a.sub}/resourceGroups/${RG}`, undefined, '2025-04-01')).status, 202);
    const purged = await sdk([{ op: 'purgeDeleted', name: 'shortlived', location: 'eastus' }, { op: 'getDeleted', name: 'shortlived', location: 'eastus' }]);
    assert.ok(purged[0]!.ok, JSON.stringify(purged[0]));
    assert.equal(purged[1]!.status, 404);
    const again = await createVault(a, 'kv-vaults-2', 'shortlived');
    const empty = await raw(m, again, 'GET', '/secrets/s/', { token });
    assert.equal(empty.status, 403, 'a new vault: no inherited contents (and no role on it yet)');
    await assignRole(a, again.id, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    assert.equal((await raw(m, again, 'GET', '/secrets/s/', { token })).json().error.code, 'SecretNotFound');

    // Purge protection keeps a deleted vault until its retention period ends.
    assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/kv-vaults-2/providers/Microsoft.KeyVault/vaults/keepme`, { location: 'eastus', properties: props({ enablePurgeProtection: true }) })).status, 201);
    assert.equal((await a.call('DELETE', `${a.sub}/resourceGroups/kv-vaults-2/providers/Microsoft.KeyVault/vaults/keepme`)).status, 200);
    const refused = await a.call('POST', `${a.sub}/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/keepme/purge`);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error.code, 'InvalidOperation');
  });
});
