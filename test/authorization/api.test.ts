// The Microsoft.Authorization REST surface beyond the SDK round trip: nested scopes, conditions
// (stored, validated, evaluated; delegation conditions on roleAssignments/write), deny
// assignments, orphaned principals, checkAccess and permissions, versions and filters, and the
// bootstrap Owner assignment.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestMimic, runCli, type TestMimic } from '../helpers/mimic.js';
import { deterministicGuid } from '../../src/arm/authorization/bootstrap.js';
import { ROLE, assignmentPath, rest, roleId, type Rest } from './helpers.js';

const ARM_API = '2025-04-01';
const CONTAINER_NAME = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]';
const BLOB_READ = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read';

describe('Microsoft.Authorization REST surface', () => {
  let mimic: TestMimic;
  let r: Rest;
  let sub: string;
  let rg: string;
  let app: { appId: string; objectId: string; password: string };
  let token: string;

  const assign = (scope: string, role: string, principalId: string, extra: Record<string, unknown> = {}, as?: string) =>
    r.call('PUT', assignmentPath(scope, randomUUID()), { properties: { roleDefinitionId: roleId(r.subscriptionId, role), principalId, ...extra } }, as);
  const check = (scope: string, body: Record<string, unknown>, as?: string) => r.call('POST', `${scope}/providers/Microsoft.Authorization/checkAccess`, body, as);

  before(async () => {
    mimic = await startTestMimic('sqlite');
    r = await rest(mimic.dataDir);
    sub = `/subscriptions/${r.subscriptionId}`;
    rg = `${sub}/resourceGroups/api-rg`;
    assert.equal((await r.call('PUT', `${rg}?api-version=${ARM_API}`, { location: 'eastus' })).status, 201);
    app = await r.createApp('api-app');
    token = await r.appToken(app.appId, app.password);
  });
  after(() => mimic.dispose());

  test('the bootstrap administrator is Owner of the subscription under a deterministic name, once', async () => {
    const adminId = mimic.context.tenant.adminObjectId;
    const name = deterministicGuid('mimic-bootstrap-owner', r.subscriptionId, adminId);
    const got = await r.call('GET', assignmentPath(sub, name));
    assert.equal(got.status, 200);
    assert.ok(got.body.properties.roleDefinitionId.endsWith(ROLE.owner));
    assert.equal(got.body.properties.principalId, adminId);
  });

  test('assignments at nested scopes: a single Key Vault secret, checked against its vault', async () => {
    const vault = `${rg}/providers/Microsoft.KeyVault/vaults/api-vault`;
    const made = await r.call('PUT', `${vault}?api-version=2023-07-01`, { location: 'eastus', properties: { tenantId: mimic.endpoints.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true } });
    assert.ok(made.status === 200 || made.status === 201, made.text);
    const secretScope = `${vault}/secrets/db-password`;
    const put = await assign(secretScope, ROLE.keyVaultSecretsUser, app.objectId);
    assert.equal(put.status, 201, put.text);
    assert.equal(put.body.properties.scope, secretScope);
    const getSecret = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';
    const mine = await check(secretScope, { principalId: app.objectId, action: getSecret });
    assert.equal(mine.body.allowed, true);
    assert.equal(mine.body.isDataAction, true, 'getSecret is recognised as a data action');
    assert.equal(mine.body.assignment.roleName, 'Key Vault Secrets User');
    const other = await check(`${vault}/secrets/other`, { principalId: app.objectId, action: getSecret });
    assert.equal(other.body.allowed, false);
    assert.match(other.body.explanation, /Nearest miss: Key Vault Secrets User is assigned at '.*db-password'/);
    const noVault = await assign(`${rg}/providers/Microsoft.KeyVault/vaults/missing/secrets/x`, ROLE.keyVaultSecretsUser, app.objectId);
    assert.equal(noVault.status, 404);
    assert.equal(noVault.body.error.code, 'ResourceNotFound');
    const noGroup = await assign(`${sub}/resourceGroups/nope`, ROLE.reader, app.objectId);
    assert.equal(noGroup.body.error.code, 'ResourceGroupNotFound');
    const otherSub = await assign(`/subscriptions/${randomUUID()}`, ROLE.reader, app.objectId);
    assert.equal(otherSub.body.error.code, 'SubscriptionNotFound');
  });

  test('conditions are stored with version 2.0 and evaluated', async () => {
    const condition = `((!(ActionMatches{'${BLOB_READ}'})) OR (${CONTAINER_NAME} StringEquals 'logs'))`;
    const put = await assign(rg, ROLE.storageBlobDataReader, app.objectId, { condition });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.body.properties.condition, condition);
    assert.equal(put.body.properties.conditionVersion, '2.0');
    const container = (c: string) => `${rg}/providers/Microsoft.Storage/storageAccounts/acct/blobServices/default/containers/${c}`;
    const logs = await check(container('logs'), { principalId: app.objectId, action: BLOB_READ, attributes: { [CONTAINER_NAME]: 'logs' } });
    assert.equal(logs.body.allowed, true);
    const secrets = await check(container('secrets'), { principalId: app.objectId, action: BLOB_READ, attributes: { [CONTAINER_NAME]: 'secrets' } });
    assert.equal(secrets.body.allowed, false);
    assert.equal(secrets.body.reason, 'ConditionNotMet');
    assert.match(secrets.body.explanation, /only under a condition/);
    // A control-plane action of the same role is not targeted by the condition.
    const list = await check(container('secrets'), { principalId: app.objectId, action: 'Microsoft.Storage/storageAccounts/blobServices/containers/read' });
    assert.equal(list.body.allowed, true);
    const tooBig = await assign(rg, ROLE.storageBlobDataReader, app.objectId, { condition: `${CONTAINER_NAME} StringEquals '${'x'.repeat(9000)}'` });
    assert.equal(tooBig.status, 400);
    assert.equal(tooBig.body.error.code, 'InvalidCondition');
  });

  test('a delegation condition limits which roles a User Access Administrator may hand out', async () => {
    const scope = `${sub}/resourceGroups/delegated`;
    assert.equal((await r.call('PUT', `${scope}?api-version=${ARM_API}`, { location: 'eastus' })).status, 201);
    const condition = `((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${ROLE.reader}}))`;
    assert.equal((await assign(scope, ROLE.userAccessAdministrator, app.objectId, { condition })).status, 201);
    const target = (await r.createApp('delegate-target')).objectId;
    const reader = await assign(scope, ROLE.reader, target, {}, token);
    assert.equal(reader.status, 201, reader.text);
    const contributor = await assign(scope, ROLE.contributor, target, {}, token);
    assert.equal(contributor.status, 403);
    assert.equal(contributor.body.error.code, 'AuthorizationFailed');
  });

  test('deny assignments: only the platform (administrator) writes them; they beat role grants', async () => {
    const scope = `${sub}/resourceGroups/denied`;
    assert.equal((await r.call('PUT', `${scope}?api-version=${ARM_API}`, { location: 'eastus' })).status, 201);
    assert.equal((await assign(scope, ROLE.owner, app.objectId)).status, 201);
    const denyPath = (n: string) => `${scope}/providers/Microsoft.Authorization/denyAssignments/${n}`;
    const body = {
      properties: {
        denyAssignmentName: 'no identities here',
        permissions: [{ actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/write'] }],
        principals: [{ id: '00000000-0000-0000-0000-000000000000', type: 'SystemDefined' }],
        excludePrincipals: [{ id: mimic.context.tenant.adminObjectId, type: 'ServicePrincipal' }],
      },
    };
    const byApp = await r.call('PUT', denyPath(randomUUID()), body, token);
    assert.equal(byApp.status, 403, 'an Owner cannot create deny assignments');
    const name = randomUUID();
    const made = await r.call('PUT', denyPath(name), body);
    assert.equal(made.status, 201, made.text);
    const uai = `${scope}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/blocked?api-version=2024-11-30`;
    const refused = await r.call('PUT', uai, { location: 'eastus' }, token);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /deny assignment with name 'no identities here'/);
    assert.equal((await r.call('PUT', uai, { location: 'eastus' })).status, 201, 'the excluded administrator is not denied');
    const explained = await check(scope, { principalId: app.objectId, action: 'Microsoft.ManagedIdentity/userAssignedIdentities/write' });
    assert.equal(explained.body.reason, 'DeniedByDenyAssignment');
    assert.equal(explained.body.denyAssignment.name, 'no identities here');
    // Read API and its filters.
    const listed = await r.call('GET', `${scope}/providers/Microsoft.Authorization/denyAssignments?$filter=${encodeURIComponent(`principalId eq '${app.objectId}'`)}`, undefined, token);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.value.map((d: { name: string }) => d.name), [name]);
    const forAdmin = await r.call('GET', `${scope}/providers/Microsoft.Authorization/denyAssignments?$filter=${encodeURIComponent(`principalId eq '${mimic.context.tenant.adminObjectId}'`)}`);
    assert.deepEqual(forAdmin.body.value, []);
    const got = await r.call('GET', denyPath(name));
    assert.equal(got.body.properties.scope, scope);
    assert.equal(got.body.properties.isSystemProtected, true);
    // Not applied below the scope when doNotApplyToChildScopes is set.
    const scoped = await r.call('PUT', denyPath(name), { properties: { ...body.properties, doNotApplyToChildScopes: true } });
    assert.equal(scoped.status, 201);
    assert.equal((await r.call('PUT', uai.replace('blocked', 'allowed'), { location: 'eastus' }, token)).status, 201);
    assert.equal((await r.call('DELETE', denyPath(name))).status, 200);
  });

  test('a principal that no longer exists keeps its assignments, shown as Unknown by the CLI', async () => {
    const uai = `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/short-lived`;
    const made = await r.call('PUT', `${uai}?api-version=2024-11-30`, { location: 'eastus' });
    const principalId = made.body.properties.principalId as string;
    const put = await assign(rg, ROLE.reader, principalId);
    assert.equal(put.status, 201);
    assert.equal((await r.call('DELETE', `${uai}?api-version=2024-11-30`)).status, 200);
    const listed = await r.call('GET', `${rg}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${principalId}'`)}`);
    assert.equal(listed.body.value.length, 1);
    assert.equal(listed.body.value[0].properties.principalType, 'ServicePrincipal');
    const cli = await runCli(['role', 'assignment', 'list', '-g', 'api-rg', '--assignee', principalId, '--json', '--data-dir', mimic.dataDir], mimic.adminEnv);
    assert.equal(cli.code, 0, cli.stderr);
    const rows = JSON.parse(cli.stdout);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].principalName, '');
    const table = await runCli(['role', 'assignment', 'list', '-g', 'api-rg', '--assignee', principalId, '--data-dir', mimic.dataDir], mimic.adminEnv);
    assert.match(table.stdout, /^Unknown\s/m);
    // A new assignment for the vanished principal needs principalType, as in Azure.
    assert.equal((await assign(rg, ROLE.contributor, principalId)).body.error.code, 'PrincipalNotFound');
    assert.equal((await assign(rg, ROLE.contributor, principalId, { principalType: 'ServicePrincipal' })).status, 201);
  });

  test('checkAccess about someone else needs roleAssignments/read; permissions lists the caller\'s own', async () => {
    assert.equal((await assign(rg, ROLE.reader, app.objectId)).status, 201);
    const self = await check(rg, { action: 'Microsoft.Resources/subscriptions/resourceGroups/read' }, token);
    assert.equal(self.status, 200);
    assert.equal(self.body.principalId, app.objectId);
    assert.equal(self.body.allowed, true);
    assert.equal(self.body.assignment.roleName, 'Reader');
    const stranger = await r.createApp('stranger');
    const strangerToken = await r.appToken(stranger.appId, stranger.password);
    const aboutOther = await check(rg, { principalId: app.objectId, action: 'Microsoft.Resources/subscriptions/resourceGroups/read' }, strangerToken);
    assert.equal(aboutOther.status, 403);
    const perms = await r.call('GET', `${rg}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`, undefined, token);
    assert.equal(perms.status, 200);
    assert.ok(perms.body.value.some((p: { actions: string[] }) => p.actions.includes('*/read')), JSON.stringify(perms.body));
    const none = await r.call('GET', `${rg}/providers/Microsoft.Authorization/permissions`, undefined, strangerToken);
    assert.deepEqual(none.body.value, []);
  });

  test('refuses unpublished api-versions, unsupported filters and unknown types', async () => {
    const v = await r.call('GET', `${sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2021-01-01`);
    assert.equal(v.status, 400);
    assert.equal(v.body.error.code, 'NoRegisteredProviderFound');
    const older = await r.call('GET', `${sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2015-07-01`);
    assert.equal(older.status, 200);
    const f = await r.call('GET', `${sub}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent("roleName eq 'x'")}`);
    assert.equal(f.body.error.code, 'UnsupportedQuery');
    const t = await r.call('GET', `${sub}/providers/Microsoft.Authorization/policyAssignments`);
    assert.equal(t.body.error.code, 'InvalidResourceType');
  });
});

describe('the bootstrap assignment across restarts', () => {
  test('a restart adds no second Owner assignment, and restores it to an administrator left with none', async () => {
    let mimic = await startTestMimic('sqlite');
    try {
      const adminAssignments = async () => {
        const r = await rest(mimic.dataDir);
        const adminId = mimic.context.tenant.adminObjectId;
        return { r, list: (await r.call('GET', `/subscriptions/${r.subscriptionId}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${adminId}'`)}`)).body.value };
      };
      mimic = await mimic.restart();
      const first = await adminAssignments();
      assert.equal(first.list.length, 1);
      // The administrator removes its own Owner role: locked out until the next start.
      assert.equal((await first.r.call('DELETE', first.list[0].id)).status, 200);
      assert.equal((await first.r.call('GET', `/subscriptions/${first.r.subscriptionId}/resourcegroups?api-version=2025-04-01`)).status, 403);
      mimic = await mimic.restart();
      const again = await adminAssignments();
      assert.equal(again.list.length, 1);
      assert.equal(again.list[0].name, first.list[0].name);
    } finally {
      await mimic.dispose();
    }
  });
});
