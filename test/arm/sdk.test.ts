// The Resource Manager driven by the real @azure/arm-resources and @azure/arm-msi with
// DefaultAzureCredential and exactly the `mimic env --admin` environment, on both store engines.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, runFixture, startTestMimic, type TestMimic } from '../helpers/mimic.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

for (const engine of ENGINES) {
  describe(`Resource Manager with the Azure SDKs (${engine})`, () => {
    let mimic: TestMimic;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let out: any;
    before(async () => {
      mimic = await startTestMimic(engine);
      out = await runFixture('arm/identities.mjs', [], mimic.adminEnv);
    });
    after(() => mimic.dispose());

    test('resource groups keep Azure-normalised location and tags', () => {
      assert.equal(out.group.name, 'rg-fixture');
      assert.equal(out.group.location, 'westeurope');
      assert.deepEqual(out.group.tags, { env: 'test' });
      assert.equal(out.group.provisioningState ?? out.group.properties?.provisioningState, 'Succeeded');
    });

    test('user-assigned identities get tenantId, principalId and clientId backed by service principals', () => {
      const [id1, id2] = out.identities;
      for (const id of [id1, id2]) {
        assert.equal(id.type, 'Microsoft.ManagedIdentity/userAssignedIdentities');
        assert.equal(id.tenantId, mimic.endpoints.tenantId);
        assert.match(id.principalId, GUID);
        assert.match(id.clientId, GUID);
      }
      const kept = out.kept;
      const sp = mimic.directory.byObject(kept.principalId);
      assert.ok(sp, 'a service principal exists for the identity');
      assert.equal(sp.appId, kept.clientId);
      assert.equal(sp.servicePrincipalType, 'ManagedIdentity');
      assert.equal(sp.managedIdentityResourceId, kept.id);
      assert.notEqual(id1.principalId, id2.principalId);
      assert.equal(id1.id, `/subscriptions/${mimic.endpoints.subscriptionId}/resourceGroups/rg-fixture/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app-1`);
      assert.equal(out.identityAgain.principalId, id1.principalId);
      assert.equal(out.identityAgain.clientId, id1.clientId);
      assert.deepEqual(out.identityUpdated.tags, { a: '2' });
      assert.equal(out.identityUpdated.principalId, id1.principalId, 'an update keeps the identity');
      assert.equal(out.identities[0].systemData.createdBy, mimic.adminEnv.AZURE_CLIENT_ID);
    });

    test('identities list by resource group and by subscription', () => {
      assert.deepEqual([...out.listByGroup].sort(), ['id-app-1', 'id-app-2']);
      assert.deepEqual([...out.listBySubscription].sort(), ['id-app-1', 'id-app-2']);
    });

    test('a site with SystemAssigned, UserAssigned returns every identity field', () => {
      const [id1, id2] = out.identities;
      for (const s of [out.site, out.siteRead]) {
        assert.equal(s.identity.type, 'SystemAssigned, UserAssigned');
        assert.match(s.identity.principalId, GUID);
        assert.equal(s.identity.tenantId, mimic.endpoints.tenantId);
        const uais = s.identity.userAssignedIdentities;
        assert.deepEqual(uais[id1.id], { principalId: id1.principalId, clientId: id1.clientId });
        assert.deepEqual(uais[id2.id], { principalId: id2.principalId, clientId: id2.clientId });
      }
      assert.equal(out.siteRead.identity.principalId, out.site.identity.principalId);
      assert.ok(out.resourcesInGroup.includes('Microsoft.Web/sites'));
    });

    test('disabling and re-enabling the system-assigned identity gives a new principalId', () => {
      const first = out.site.identity.principalId;
      assert.equal(out.disabled.type, 'UserAssigned');
      assert.equal(out.disabled.principalId, undefined);
      assert.match(out.reenabled.principalId, GUID);
      assert.notEqual(out.reenabled.principalId, first);
      assert.equal(mimic.directory.byObject(first), undefined, 'the old principal is gone');
    });

    test('a Consumption logic app refuses system and user-assigned together, accepts one user-assigned', () => {
      assert.equal(out.logicBoth.status, 400);
      assert.equal(out.logicBoth.code, 'InvalidIdentityConfiguration');
      assert.match(out.logicBoth.message, /either the system-assigned identity or a user-assigned identity/);
      assert.equal(out.logicUser.type, 'UserAssigned');
    });

    test('a reference to a missing user-assigned identity is a clear 400', () => {
      assert.deepEqual(out.missingIdentity, { status: 400, code: 'FailedIdentityOperation' });
    });

    test('deleting an identity orphans the references to it, as in Azure', () => {
      assert.deepEqual(out.deletedIdentity, { status: 404, code: 'ResourceNotFound' });
      const id2 = out.identities[1];
      assert.deepEqual(out.siteAfterIdentityDelete.userAssignedIdentities[id2.id], { principalId: id2.principalId, clientId: id2.clientId });
      assert.equal(mimic.directory.byObject(id2.principalId), undefined);
    });

    test("Azure's own host name reaches Mimic in a process started with `mimic env`", () => {
      assert.deepEqual(out.groupsViaAzureName, ['rg-keep']);
    });

    test('deleting the site removes its system-assigned identity; deleting the group removes the rest', () => {
      assert.deepEqual(out.siteDeleted, { status: 404, code: 'ResourceNotFound' });
      assert.equal(mimic.directory.byObject(out.reenabled.principalId), undefined);
      assert.equal(out.groupExistsAfterDelete, false);
      assert.equal(mimic.directory.byObject(out.identities[0].principalId), undefined, 'identities in the group are deleted with it');
      const left = [...mimic.directory.all()].filter((sp) => sp.servicePrincipalType === 'ManagedIdentity').map((sp) => sp.objectId);
      assert.deepEqual(left, [out.kept.principalId]);
    });
  });
}
