// ARM template deployments with the real @azure/arm-resourcesdeployments: a template with an
// identity, a vault, a site with both identity kinds, a conditional logic app and role
// assignments deploys, redeploys without changes, and gives the site the access it needs;
// validation errors create nothing; a caller's missing rights fail its resource as a direct PUT would.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';
import { assignRole, kv } from '../keyvault/helpers.js';
import { rest, ROLE, type Rest } from '../authorization/helpers.js';
import { deploy, ok, template } from './helpers.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('template deployments', () => {
  let m: TestMimic;
  let arm: ArmCaller;
  let auth: Rest;
  const group = (rg: string) => `${arm.sub}/resourceGroups/${rg}`;
  const assignmentsAt = async (scope: string) => (await arm.call('GET', `${scope}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()`, undefined, '2022-04-01')).body.value.filter((a: any) => a.properties.scope.toLowerCase() === scope.toLowerCase());
  const resourcesIn = async (rg: string) => (await arm.call('GET', `${group(rg)}/resources`, undefined, '2021-04-01')).body.value as any[];

  before(async () => {
    m = await startTestMimic();
    arm = await armCaller(m.dataDir, '2021-04-01');
    auth = await rest(m.dataDir);
    for (const rg of ['rg-app', 'rg-fail', 'rg-bicep', 'rg-limited']) assert.equal((await arm.call('PUT', group(rg), { location: 'westeurope' })).status, 201);
  });
  after(() => m.dispose());

  let first: any;
  test('a template with identities, a vault, a site, a logic app and role assignments deploys', async () => {
    const [d, ops] = await deploy(m, [
      { op: 'deploy', rg: 'rg-app', name: 'app', template: template('app.json'), parameters: { appName: 'orders', env: 'dev' } },
      { op: 'operations', rg: 'rg-app', name: 'app' },
    ]);
    first = ok(d);
    assert.equal(first.properties.provisioningState, 'Succeeded');
    const out = first.properties.outputs;
    assert.equal(out.identityName.value, 'id-orders-dev-westeurope-01');
    assert.match(out.vaultName.value, /^kv[a-z0-9]{13}$/);
    const uai = (await arm.call('GET', `${group('rg-app')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders-dev-westeurope-01`, undefined, '2023-01-31')).body;
    assert.equal(out.identityPrincipalId.value, uai.properties.principalId);
    assert.equal(out.identityClientId.value, uai.properties.clientId);
    const site = (await arm.call('GET', `${group('rg-app')}/providers/Microsoft.Web/sites/app-orders-dev`, undefined, '2023-12-01')).body;
    assert.equal(site.identity.type, 'SystemAssigned, UserAssigned');
    assert.equal(out.sitePrincipalId.value, site.identity.principalId);
    assert.match(out.sitePrincipalId.value, GUID);
    const logic = await arm.call('GET', `${group('rg-app')}/providers/Microsoft.Logic/workflows/logic-orders-dev`, undefined, '2019-05-01');
    assert.equal(logic.status, 200);
    assert.equal(logic.body.identity.type, 'SystemAssigned');

    const vaultId = `${group('rg-app')}/providers/Microsoft.KeyVault/vaults/${out.vaultName.value}`;
    const assignments = await assignmentsAt(vaultId);
    assert.equal(assignments.length, 3);
    const siteAssignment = assignments.find((a: any) => a.properties.principalId === site.identity.principalId);
    assert.ok(siteAssignment.properties.roleDefinitionId.endsWith(ROLE.keyVaultSecretsUser));
    assert.equal(assignments.filter((a: any) => a.properties.principalId === uai.properties.principalId).length, 2);

    const operations = ok(ops);
    assert.equal(operations.length, 7);
    for (const op of operations) {
      assert.equal(op.properties.provisioningState, 'Succeeded');
      assert.equal(op.properties.statusCode, 'Created');
      assert.ok(op.properties.targetResource.id && op.properties.targetResource.resourceType && op.properties.targetResource.resourceName);
      assert.ok(op.properties.timestamp && op.properties.duration);
    }
    assert.ok(first.properties.outputResources.some((r: any) => r.id === site.id));
    assert.equal(first.properties.parameters.env.value, 'dev');
    assert.match(first.properties.templateHash, /^\d+$/);
    assert.match(first.properties.correlationId, GUID);
  });

  test('redeploying the same template changes nothing', async () => {
    const [again] = await deploy(m, [{ op: 'deploy', rg: 'rg-app', name: 'app', template: template('app.json'), parameters: { appName: 'orders', env: 'dev' } }]);
    const d = ok(again);
    assert.equal(d.properties.provisioningState, 'Succeeded');
    assert.deepEqual(d.properties.outputs, first.properties.outputs);
    const vaultId = `${group('rg-app')}/providers/Microsoft.KeyVault/vaults/${first.properties.outputs.vaultName.value}`;
    assert.equal((await assignmentsAt(vaultId)).length, 3);
    assert.equal((await resourcesIn('rg-app')).length, 4);
  });

  test('code running as the site reads a secret with the role the template gave it', async () => {
    const out = first.properties.outputs;
    const vaultId = `${group('rg-app')}/providers/Microsoft.KeyVault/vaults/${out.vaultName.value}`;
    const vault = { id: vaultId, name: out.vaultName.value, uri: out.vaultUri.value, body: {} };
    await assignRole(arm, vaultId, 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7', m.context.tenant.adminObjectId);
    const [set] = await kv(m, vault, { admin: true }, [{ op: 'setSecret', name: 'db-password', value: 's3cret' }]);
    assert.equal(set!.ok, true, JSON.stringify(set));
    const siteId = `${group('rg-app')}/providers/Microsoft.Web/sites/app-orders-dev`;
    const [got] = await kv(m, vault, { as: siteId }, [{ op: 'getSecret', name: 'db-password' }]);
    assert.equal(got!.ok, true, JSON.stringify(got));
    assert.equal(got!.value.value, 's3cret');
  });

  test('validation errors answer 400 with Azure codes naming the culprit, and create nothing', async () => {
    const base = template('app.json');
    const circular = {
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: '1.0.0.0',
      resources: [
        { type: 'Microsoft.ManagedIdentity/userAssignedIdentities', apiVersion: '2023-01-31', name: 'id-a', location: 'westeurope', dependsOn: ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-b')]"] },
        { type: 'Microsoft.ManagedIdentity/userAssignedIdentities', apiVersion: '2023-01-31', name: 'id-b', location: 'westeurope', dependsOn: ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-a')]"] },
      ],
    };
    const unknownFunction = { ...circular, resources: [{ type: 'Microsoft.ManagedIdentity/userAssignedIdentities', apiVersion: '2023-01-31', name: "[frobnicate('x')]", location: 'westeurope' }] };
    const [allowed, unknown, cycle] = await deploy(m, [
      { op: 'deploy', rg: 'rg-fail', name: 'allowed', template: base, parameters: { env: 'staging' } },
      { op: 'deploy', rg: 'rg-fail', name: 'unknown', template: unknownFunction },
      { op: 'deploy', rg: 'rg-fail', name: 'cycle', template: circular },
    ]);
    assert.equal(allowed!.ok, false);
    assert.equal(allowed!.status, 400);
    assert.match(String(allowed!.code), /^InvalidTemplate/);
    assert.match(String(allowed!.message), /env/);
    assert.match(String(allowed!.message), /staging/);
    assert.equal(unknown!.status, 400);
    assert.equal(unknown!.code, 'InvalidTemplate');
    assert.match(String(unknown!.message), /frobnicate/);
    assert.equal(cycle!.status, 400);
    assert.equal(cycle!.code, 'InvalidTemplate');
    assert.match(String(cycle!.message), /[Cc]ircular/);
    assert.match(String(cycle!.message), /id-a|id-b/);
    assert.deepEqual(await resourcesIn('rg-fail'), []);
    assert.deepEqual(ok((await deploy(m, [{ op: 'list', rg: 'rg-fail' }]))[0]), []);
  });

  test('a reference to a missing resource fails the deployment naming it, and creates nothing', async () => {
    const t = {
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: '1.0.0.0',
      resources: [
        {
          type: 'Microsoft.Authorization/roleAssignments',
          apiVersion: '2022-04-01',
          name: "[guid(resourceGroup().id, 'missing')]",
          properties: {
            roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${ROLE.reader}')]`,
            principalId: "[reference(resourceId('Microsoft.Web/sites', 'site-that-is-not-there'), '2023-12-01', 'full').identity.principalId]",
          },
        },
      ],
    };
    const [r, ops] = await deploy(m, [{ op: 'deploy', rg: 'rg-fail', name: 'missing', template: t }, { op: 'operations', rg: 'rg-fail', name: 'missing' }]);
    assert.equal(r!.ok, false);
    assert.equal(r!.status, 400, 'refused by validation, before anything runs');
    assert.equal(r!.code, 'InvalidTemplateDeployment');
    assert.match(String(r!.message), /site-that-is-not-there/);
    const raw = await arm.call('PUT', `${group('rg-fail')}/providers/Microsoft.Resources/deployments/missing`, { properties: { mode: 'Incremental', template: t } }, '2024-03-01');
    assert.equal(raw.status, 400);
    assert.equal(raw.body.error.details[0].code, 'ResourceNotFound');
    assert.match(raw.body.error.details[0].message, /site-that-is-not-there/);
    assert.match(raw.body.error.details[0].target, /resources\[0\]/);
    assert.deepEqual(await resourcesIn('rg-fail'), []);
    assert.equal((await assignmentsAt(group('rg-fail'))).length, 0);
    assert.equal(ops!.status, 404, 'no deployment was recorded');
  });

  test('a Bicep-style template (languageVersion 2.0, symbolic names, existing) deploys', async () => {
    const [d] = await deploy(m, [{ op: 'deploy', rg: 'rg-bicep', name: 'bicep', template: template('bicep.json'), parameters: { identityName: 'id-shared' } }]);
    const out = ok(d).properties.outputs;
    const uai = (await arm.call('GET', `${group('rg-bicep')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-shared`, undefined, '2023-01-31')).body;
    const worker = (await arm.call('GET', `${group('rg-bicep')}/providers/Microsoft.Web/sites/worker-bicep`, undefined, '2023-12-01')).body;
    assert.equal(out.clientId.value, uai.properties.clientId);
    assert.equal(out.workerPrincipalId.value, worker.identity.principalId);
    assert.ok(worker.identity.userAssignedIdentities[uai.id] || Object.keys(worker.identity.userAssignedIdentities).some((k) => k.toLowerCase() === uai.id.toLowerCase()));
    const [again] = await deploy(m, [{ op: 'deploy', rg: 'rg-bicep', name: 'bicep-existing', template: template('bicep-existing.json'), parameters: { identityName: 'id-shared' } }]);
    assert.equal(ok(again).properties.outputs.clientId.value, uai.properties.clientId);
  });

  test('a Managed Identity Contributor deploys identities, but its role assignment fails with AuthorizationFailed', async () => {
    const app = await auth.createApp('mi-contributor-deployer');
    await assignRole(arm, group('rg-limited'), ROLE.managedIdentityContributor, app.objectId);
    const env = { ...m.adminEnv, AZURE_CLIENT_ID: app.appId, AZURE_CLIENT_SECRET: app.password };
    const [d, ops] = await deploy(m, [{ op: 'deploy', rg: 'rg-limited', name: 'limited', template: template('identity-and-role.json') }, { op: 'operations', rg: 'rg-limited', name: 'limited' }], env);
    assert.equal(d!.ok, false);
    assert.match(JSON.stringify(d), /DeploymentFailed/);
    assert.match(JSON.stringify(d), /AuthorizationFailed/);
    const operations = ok(ops);
    const byType = (t: string) => operations.find((o: any) => o.properties.targetResource.resourceType.toLowerCase() === t.toLowerCase());
    assert.equal(byType('Microsoft.ManagedIdentity/userAssignedIdentities').properties.provisioningState, 'Succeeded');
    const ra = byType('Microsoft.Authorization/roleAssignments');
    assert.equal(ra.properties.provisioningState, 'Failed');
    assert.equal(ra.properties.statusCode, 'Forbidden');
    assert.equal(ra.properties.statusMessage.error.code, 'AuthorizationFailed');
    const [got] = await deploy(m, [{ op: 'get', rg: 'rg-limited', name: 'limited' }], env);
    assert.equal(ok(got).properties.provisioningState, 'Failed');
    assert.equal(ok(got).properties.error.code, 'DeploymentFailed');
    assert.match(ok(got).properties.error.message, /At least one resource deployment operation failed/);
    assert.equal((await resourcesIn('rg-limited')).length, 1);
    assert.equal((await assignmentsAt(group('rg-limited'))).length, 1, 'only the assignment the test made');
  });

  test('a subscription deployment creates a group and a nested deployment into it, a real child deployment', async () => {
    const [d, child, subList] = await deploy(m, [
      { op: 'deploy', location: 'westeurope', name: 'platform', template: template('sub-nested.json'), parameters: { groupName: 'rg-nested', identityName: 'id-nested' } },
      { op: 'get', rg: 'rg-nested', name: 'identity' },
      { op: 'list' },
    ]);
    const out = ok(d).properties.outputs;
    const uai = (await arm.call('GET', `${group('rg-nested')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-nested`, undefined, '2023-01-31')).body;
    assert.equal(out.clientId.value, uai.properties.clientId);
    assert.equal(ok(child).properties.provisioningState, 'Succeeded');
    assert.equal(ok(child).properties.outputs.clientId.value, uai.properties.clientId);
    assert.ok(ok(subList).some((x: any) => x.name === 'platform' && x.location === 'westeurope'));
  });
});
