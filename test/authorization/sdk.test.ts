// @azure/arm-authorization and the other ARM SDKs against Mimic: the administrator's round trip
// through built-in roles, assignments at every scope level and a custom role; then a second
// service principal, signed in with a client secret, that only gains powers as roles are granted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, runFixture, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { ROLE } from './helpers.js';

interface ErrorInfo {
  status: number;
  code: string;
  message: string;
}

describe('@azure/arm-authorization with the administrator environment', () => {
  let mimic: TestMimic;
  let out: Record<string, any>;
  before(async () => {
    mimic = await startTestMimic('sqlite');
    out = await runFixture('authorization/admin-roundtrip.mjs', [], mimic.adminEnv);
  });
  after(() => mimic.dispose());

  test('lists every built-in role and finds the seed roles by id', () => {
    assert.equal(out.builtInCount, 928);
    assert.equal(out.secretsUser.roleName, 'Key Vault Secrets User');
    assert.equal(out.secretsUser.roleType, 'BuiltInRole');
    assert.deepEqual(out.secretsUser.permissions[0].dataActions, ['Microsoft.KeyVault/vaults/secrets/getSecret/action', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action']);
    assert.equal(out.secretsUser.id, `/subscriptions/${mimic.endpoints.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.keyVaultSecretsUser}`);
    assert.equal(out.blobReader.roleName, 'Storage Blob Data Reader');
    assert.deepEqual(out.blobReader.permissions[0].dataActions, ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read']);
    assert.deepEqual(out.blobReader.assignableScopes, ['/']);
    assert.equal(out.readerByName.length, 1);
    assert.ok(out.readerByName[0].endsWith(ROLE.reader));
    assert.equal(out.getById, 'Key Vault Secrets User');
  });

  test('creates assignments at subscription, resource group and resource scope', () => {
    const sub = `/subscriptions/${mimic.endpoints.subscriptionId}`;
    assert.equal(out.created.sub.scope, sub);
    assert.equal(out.created.sub.id, `${sub}/providers/Microsoft.Authorization/roleAssignments/${out.names.sub}`);
    assert.equal(out.created.rg.scope, `${sub}/resourceGroups/rbac-rg`);
    assert.equal(out.created.res.scope, `${sub}/resourceGroups/rbac-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/rbac-id`);
    for (const a of Object.values(out.created) as Array<{ principalType: string }>) assert.equal(a.principalType, 'ServicePrincipal');
    assert.equal(out.created.res.description, 'on the identity itself');
    assert.equal(out.again, out.created.sub.id, 'PUT with the same name and body is idempotent');
  });

  test('refuses duplicates, updates of fixed properties and bad input with Azure codes', () => {
    const expect = (e: ErrorInfo | null, status: number, code: string) => {
      assert.ok(e, `expected ${code}`);
      assert.equal(e.status, status);
      assert.equal(e.code, code);
    };
    expect(out.duplicate, 409, 'RoleAssignmentExists');
    expect(out.updateRole, 409, 'RoleAssignmentUpdateNotPermitted');
    expect(out.badCondition, 400, 'InvalidCondition');
    assert.match(out.badCondition.message, /position/);
    expect(out.badVersion, 400, 'InvalidConditionVersion');
    expect(out.unknownPrincipal, 400, 'PrincipalNotFound');
    expect(out.unknownRole, 400, 'RoleDefinitionDoesNotExist');
    expect(out.badName, 400, 'InvalidRoleAssignmentId');
  });

  test('lists with each filter: at, above and below; atScope(); principalId; assignedTo()', () => {
    const { sub, rg, res } = out.names;
    const sorted = (...xs: string[]) => [...xs].sort();
    assert.deepEqual(out.lists.subscription, sorted(sub, rg, res));
    assert.deepEqual(out.lists.subscriptionByPrincipal, sorted(sub, rg, res));
    assert.deepEqual(out.lists.resourceGroup, sorted(sub, rg, res));
    assert.deepEqual(out.lists.resourceGroupAtScope, sorted(sub, rg));
    assert.deepEqual(out.lists.resource, sorted(sub, rg, res));
    assert.deepEqual(out.lists.resourceAtScope, sorted(sub, rg, res));
    assert.deepEqual(out.lists.scopeAssignedTo, sorted(sub, rg, res));
    assert.deepEqual(out.lists.scopeAtScopeAndPrincipal, sorted(sub, rg));
  });

  test('gets by scope and name and by id, and deletes both ways', () => {
    assert.ok(out.get.endsWith('f1a07417-d97a-45cb-824c-7a7467783830'));
    assert.equal(out.assignmentById, 'on the identity itself');
    assert.equal(out.deleted, out.names.sub);
    assert.equal(out.deletedById, out.names.rg);
    assert.equal(out.deleteMissing, null, 'deleting a missing assignment answers 204');
    assert.equal(out.getDeleted.status, 404);
    assert.equal(out.getDeleted.code, 'RoleAssignmentNotFound');
  });

  test('custom role round trip with Azure validation', () => {
    assert.equal(out.custom.roleType, 'CustomRole');
    assert.deepEqual(out.custom.assignableScopes, [`/subscriptions/${mimic.endpoints.subscriptionId}`]);
    assert.equal(out.customByName.length, 1);
    assert.equal(out.customUpdated, 'reads identities, v2');
    assert.equal(out.customSameName.code, 'RoleDefinitionWithSameNameExists');
    assert.equal(out.customBuiltInName.code, 'RoleDefinitionWithSameNameExists');
    assert.equal(out.customRootScope.code, 'InvalidAssignableScope');
    assert.equal(out.customWildcardData.code, 'InvalidActionOrNotAction');
    assert.equal(out.customUnknownAction.code, 'InvalidActionOrNotAction');
    assert.equal(out.customInUse.code, 'RoleDefinitionHasAssignments');
    assert.equal(out.customDeleted, out.custom.id.split('/').pop());
    assert.equal(out.customGone.status, 404);
  });
});

describe('a second service principal gains powers only through roles', () => {
  let mimic: TestMimic;
  let app: { appId: string; objectId: string; password: string; displayName: string };
  let out: Record<string, any>;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', mimic.dataDir], mimic.adminEnv);
  before(async () => {
    mimic = await startTestMimic('sqlite');
    const created = await cli('app', 'create', '--name', 'ci-app', '--json');
    assert.equal(created.code, 0, created.stderr);
    app = JSON.parse(created.stdout);
    out = await runFixture('authorization/sp-escalation.mjs', [], { ...mimic.adminEnv, SP_CLIENT_ID: app.appId, SP_CLIENT_SECRET: app.password, SP_OBJECT_ID: app.objectId });
  });
  after(() => mimic.dispose());

  const refused = (r: any, action: string, scope: string) => {
    assert.equal(r.ok, false);
    assert.equal(r.status, 403);
    assert.equal(r.code, 'AuthorizationFailed');
    assert.equal(
      r.message,
      `The client '${app.appId}' with object id '${app.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
  };

  test('with no role it cannot even read the group', () => {
    refused(out.before, 'Microsoft.Resources/subscriptions/resourceGroups/read', `/subscriptions/${mimic.endpoints.subscriptionId}/resourceGroups/sp-rg`);
  });

  test('Reader on the group: reads it (and only it) but cannot create an identity there', () => {
    const sub = `/subscriptions/${mimic.endpoints.subscriptionId}`;
    assert.deepEqual(out.readGroup, { ok: true, value: 'sp-rg' });
    assert.deepEqual(out.listGroups, { ok: true, value: ['sp-rg'] });
    refused(out.readOtherGroup, 'Microsoft.Resources/subscriptions/resourceGroups/read', `${sub}/resourceGroups/other-rg`);
    refused(out.createIdentityAsReader, 'Microsoft.ManagedIdentity/userAssignedIdentities/write', `${sub}/resourceGroups/sp-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/sp-made`);
  });

  test('Managed Identity Contributor lets it create the identity, but not assign roles', () => {
    assert.equal(out.createIdentityAsContributor.ok, true);
    refused(out.assignWithoutUaa, 'Microsoft.Authorization/roleAssignments/write', `/subscriptions/${mimic.endpoints.subscriptionId}/resourceGroups/sp-rg`);
  });

  test('User Access Administrator on the group lets it assign roles there and nowhere else', () => {
    assert.equal(out.assignWithUaa.ok, true);
    assert.equal(out.listAtGroup.ok, true);
    refused(out.listAtSubscription, 'Microsoft.Authorization/roleAssignments/read', `/subscriptions/${mimic.endpoints.subscriptionId}`);
    refused(out.assignAtSubscription, 'Microsoft.Authorization/roleAssignments/write', `/subscriptions/${mimic.endpoints.subscriptionId}`);
  });

  test('every refusal and role change is in the audit log (mimic log)', async () => {
    const denied = await cli('log', '--denied', '--json');
    assert.equal(denied.code, 0, denied.stderr);
    const entries = JSON.parse(denied.stdout) as Array<{ operation: string; result: string; caller: { objectId: string }; scope: string }>;
    assert.equal(entries.length, 6);
    assert.ok(entries.every((e) => e.result === 'Denied' && e.caller.objectId === app.objectId));
    assert.deepEqual(
      entries.map((e) => e.operation),
      [
        'Microsoft.Resources/subscriptions/resourceGroups/read',
        'Microsoft.Resources/subscriptions/resourceGroups/read',
        'Microsoft.ManagedIdentity/userAssignedIdentities/write',
        'Microsoft.Authorization/roleAssignments/write',
        'Microsoft.Authorization/roleAssignments/read',
        'Microsoft.Authorization/roleAssignments/write',
      ],
    );
    const changes = await cli('log', '--category', 'RoleAssignment', '--json');
    const list = JSON.parse(changes.stdout) as Array<{ result: string; roleName: string; caller: { objectId: string } }>;
    assert.deepEqual(
      list.map((e) => `${e.result} ${e.roleName} by ${e.caller.objectId === app.objectId ? 'app' : 'admin'}`),
      ['Succeeded Reader by admin', 'Succeeded Managed Identity Contributor by admin', 'Succeeded User Access Administrator by admin', 'Succeeded Reader by app'],
    );
    const table = await cli('log', '--denied', '--top', '2');
    assert.match(table.stdout, /ci-app/);
    assert.equal(table.stdout.trim().split('\n').length, 4, 'header, rule and the newest two entries');
  });
});
