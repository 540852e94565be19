// planDeployment: validation before anything runs, resource expansion, dependencies, bodies and outputs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planDeployment, guid, uniqueString, locateTemplatePath, TemplateError, type PlannedResource } from '../../src/arm/templates/index.js';
import { fakeHost, RG, SUB } from './fakeHost.js';

const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const tpl = (t: Record<string, unknown>) => ({ $schema: SCHEMA, contentVersion: '1.0.0.0', ...t });
const byName = (rs: PlannedResource[], name: string) => {
  const r = rs.find((x) => x.name === name);
  assert.ok(r, `resource ${name} planned`);
  return r;
};
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const invalidTemplate = (re: RegExp) => (e: unknown) => e instanceof TemplateError && e.code === 'InvalidTemplate' && re.test(e.message);

describe('planDeployment: the seeds\' templates', () => {
  test('Logic App Consumption with a user-assigned identity defined in the template (seed 004)', async () => {
    const t = tpl({
      parameters: { Template_LogicAppName: { type: 'string' }, Template_UserAssignedIdentityName: { type: 'securestring' } },
      variables: { logicAppName: "[parameters('Template_LogicAppName')]", userAssignedIdentityName: "[parameters('Template_UserAssignedIdentityName')]" },
      resources: [
        {
          apiVersion: '2016-06-01', type: 'Microsoft.logic/workflows', name: "[variables('logicAppName')]", location: '[resourceGroup().location]',
          identity: { type: 'UserAssigned', userAssignedIdentities: { "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities/', variables('userAssignedIdentityName'))]": {} } },
          properties: { definition: { $schema: 'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#', actions: {}, triggers: {} } },
          parameters: {},
          dependsOn: ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities/', variables('userAssignedIdentityName'))]"],
        },
        { apiVersion: '2018-11-30', type: UAI, name: "[parameters('Template_UserAssignedIdentityName')]", location: '[resourceGroup().location]', properties: {} },
      ],
      outputs: {},
    });
    const plan = await planDeployment(t, { Template_LogicAppName: { value: 'la-orders' }, Template_UserAssignedIdentityName: { value: 'id-orders' } }, fakeHost());
    const la = byName(plan.resources, 'la-orders');
    const id = byName(plan.resources, 'id-orders');
    assert.equal(la.id, `${RG}/providers/Microsoft.logic/workflows/la-orders`);
    assert.equal(id.id, `${RG}/providers/${UAI}/id-orders`);
    assert.deepEqual(la.dependsOn, [id.key]);
    const body = await la.body();
    assert.deepEqual(body.identity, { type: 'UserAssigned', userAssignedIdentities: { [id.id]: {} } });
    assert.equal(body.location, 'westeurope');
    assert.deepEqual(body.parameters, {});
    assert.equal('name' in body || 'dependsOn' in body || 'apiVersion' in body, false);
  });

  test('Standard logic app with system- and user-assigned identities, and an API connection with a managed identity (seeds 001, 004)', async () => {
    const t = tpl({
      parameters: { location: { type: 'string', defaultValue: '[resourceGroup().location]' }, connection_name: { type: 'string', defaultValue: 'azureautomation' } },
      variables: { logicappName: 'la-std', hostingPlanName: 'plan-std', userAssignedIdentityName: 'id-std' },
      resources: [
        { apiVersion: '2018-11-30', type: UAI, name: "[variables('userAssignedIdentityName')]", location: "[parameters('location')]" },
        { apiVersion: '2021-02-01', type: 'Microsoft.Web/serverfarms', name: "[variables('hostingPlanName')]", location: "[parameters('location')]", sku: { name: 'WS1', tier: 'WorkflowStandard' } },
        {
          apiVersion: '2021-02-01', type: 'Microsoft.Web/sites', kind: 'functionapp,workflowapp', name: "[variables('logicappName')]", location: "[parameters('location')]",
          identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', variables('userAssignedIdentityName'))]": {} } },
          properties: { serverFarmId: "[resourceId('Microsoft.Web/serverfarms', variables('hostingPlanName'))]", clientAffinityEnabled: false },
          dependsOn: ["[resourceId('Microsoft.Web/serverfarms', variables('hostingPlanName'))]", "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities/', variables('userAssignedIdentityName'))]"],
        },
        {
          type: 'Microsoft.Web/connections', apiVersion: '2016-06-01', name: "[parameters('connection_name')]", location: "[parameters('location')]", kind: 'V1',
          properties: {
            alternativeParameterValues: {}, api: { id: "[subscriptionResourceId('Microsoft.Web/locations/managedApis', parameters('location'), 'azureautomation')]" },
            authenticatedUser: {}, connectionState: 'Enabled', customParameterValues: {}, displayName: "[parameters('connection_name')]",
            parameterValueSet: { name: 'managedIdentityAuth', values: {} }, parameterValues: {},
          },
        },
        {
          type: 'Microsoft.Web/connections/accessPolicies', apiVersion: '2016-06-01', name: "[concat(parameters('connection_name'), '/', variables('logicappName'))]", location: "[parameters('location')]",
          dependsOn: ["[resourceId('Microsoft.Web/connections', parameters('connection_name'))]", "[resourceId('Microsoft.Web/sites', variables('logicappName'))]"],
          properties: { principal: { type: 'ActiveDirectory', identity: { tenantId: '[subscription().tenantId]', objectId: "[reference(resourceId('Microsoft.Web/sites', variables('logicappName')), '2021-02-01', 'full').identity.principalId]" } } },
        },
      ],
    });
    const host = fakeHost();
    const plan = await planDeployment(t, {}, host);
    assert.equal(plan.resources.length, 5);
    const site = byName(plan.resources, 'la-std');
    const conn = byName(plan.resources, 'azureautomation');
    const policy = byName(plan.resources, 'azureautomation/la-std');
    assert.equal(policy.type, 'Microsoft.Web/connections/accessPolicies');
    assert.equal(policy.id, `${RG}/providers/Microsoft.Web/connections/azureautomation/accessPolicies/la-std`);
    assert.deepEqual(new Set(site.dependsOn), new Set([byName(plan.resources, 'plan-std').key, byName(plan.resources, 'id-std').key]));
    assert.deepEqual(new Set(policy.dependsOn), new Set([conn.key, site.key]));
    assert.deepEqual((await conn.body()).properties, {
      alternativeParameterValues: {}, api: { id: `/subscriptions/${SUB}/providers/Microsoft.Web/locations/westeurope/managedApis/azureautomation` },
      authenticatedUser: {}, connectionState: 'Enabled', customParameterValues: {}, displayName: 'azureautomation',
      parameterValueSet: { name: 'managedIdentityAuth', values: {} }, parameterValues: {},
    });
    // After the site is "deployed", the access policy's body reads its principal id.
    host.state.set(site.id.toLowerCase(), { id: site.id, identity: { type: 'SystemAssigned, UserAssigned', principalId: 'pid-site', tenantId: host.tenantId }, properties: {} });
    const pb = await policy.body();
    assert.deepEqual((pb.properties as any).principal.identity, { tenantId: host.tenantId, objectId: 'pid-site' });
  });

  test('container app with system- and user-assigned identities, role assignments named with guid() (seed 000/002)', async () => {
    const t = tpl({
      parameters: { appName: { type: 'string', defaultValue: 'orders' }, env: { type: 'string', allowedValues: ['dev', 'prd'], defaultValue: 'dev' } },
      variables: {
        identityName: "[format('id-{0}-{1}-{2}-{3}', parameters('appName'), parameters('env'), resourceGroup().location, '01')]",
        vaultName: "[concat('kv', uniqueString(resourceGroup().id))]",
        secretsUser: "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')]",
      },
      resources: [
        { type: UAI, apiVersion: '2023-01-31', name: "[variables('identityName')]", location: '[resourceGroup().location]' },
        { type: 'Microsoft.KeyVault/vaults', apiVersion: '2022-07-01', name: "[variables('vaultName')]", location: '[resourceGroup().location]', properties: { tenantId: '[subscription().tenantId]', enableRbacAuthorization: true, sku: { family: 'A', name: 'standard' } } },
        {
          type: 'Microsoft.App/containerApps', apiVersion: '2023-05-01', name: "[parameters('appName')]", location: '[resourceGroup().location]',
          identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', variables('identityName'))]": {} } },
          properties: { configuration: { secrets: [] } },
          dependsOn: ["[variables('identityName')]"],
        },
        {
          type: 'Microsoft.Authorization/roleAssignments', apiVersion: '2022-04-01',
          scope: "[format('Microsoft.KeyVault/vaults/{0}', variables('vaultName'))]",
          name: "[guid(resourceId('Microsoft.KeyVault/vaults', variables('vaultName')), resourceId('Microsoft.App/containerApps', parameters('appName')), variables('secretsUser'))]",
          properties: { roleDefinitionId: "[variables('secretsUser')]", principalId: "[reference(resourceId('Microsoft.App/containerApps', parameters('appName')), '2023-05-01', 'full').identity.principalId]", principalType: 'ServicePrincipal' },
        },
        {
          type: 'Microsoft.Authorization/roleAssignments', apiVersion: '2022-04-01',
          scope: "[resourceId('Microsoft.KeyVault/vaults', variables('vaultName'))]",
          name: "[guid(resourceGroup().id, variables('identityName'), string(copyIndex()))]",
          copy: { name: 'uaiRoles', count: 2, mode: 'serial', batchSize: 1 },
          properties: { roleDefinitionId: "[variables('secretsUser')]", principalId: "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', variables('identityName'))).principalId]" },
        },
      ],
      outputs: {
        principalId: { type: 'string', value: "[reference(resourceId('Microsoft.App/containerApps', parameters('appName')), '2023-05-01', 'full').identity.principalId]" },
        clientId: { type: 'string', value: "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', variables('identityName'))).clientId]" },
        secret: { type: 'securestring', value: 'hidden' },
        ids: { type: 'array', copy: { count: 2, input: "[concat('n', copyIndex())]" } },
      },
    });
    const host = fakeHost();
    const plan = await planDeployment(t, {}, host);
    const vaultName = `kv${uniqueString(RG)}`;
    const vaultId = `${RG}/providers/Microsoft.KeyVault/vaults/${vaultName}`;
    const appId = `${RG}/providers/Microsoft.App/containerApps/orders`;
    const uai = byName(plan.resources, 'id-orders-dev-westeurope-01');
    const app = byName(plan.resources, 'orders');
    assert.deepEqual(app.dependsOn, [uai.key]);
    const raName = guid(vaultId, appId, `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`);
    const ra = byName(plan.resources, raName);
    assert.equal(ra.scope, vaultId);
    assert.equal(ra.id, `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${raName}`);
    // implicit dependencies: reference() to the app, and the scope's vault
    assert.deepEqual(new Set(ra.dependsOn), new Set([app.key, byName(plan.resources, vaultName).key]));
    const loop = plan.resources.filter((r) => r.copy?.name === 'uaiRoles');
    assert.equal(loop.length, 2);
    assert.deepEqual(loop.map((r) => r.name), [guid(RG, 'id-orders-dev-westeurope-01', '0'), guid(RG, 'id-orders-dev-westeurope-01', '1')]);
    assert.deepEqual(loop[1]!.copy, { name: 'uaiRoles', index: 1, count: 2, mode: 'serial', batchSize: 1 });
    assert.ok(loop.every((r) => r.dependsOn.includes(uai.key)));
    host.state.set(appId.toLowerCase(), { id: appId, identity: { principalId: 'pid-app' }, properties: {} });
    host.state.set(uai.id.toLowerCase(), { id: uai.id, properties: { principalId: 'pid-uai', clientId: 'cid-uai' } });
    assert.equal(((await ra.body()).properties as any).principalId, 'pid-app');
    assert.equal(((await loop[0]!.body()).properties as any).principalId, 'pid-uai');
    assert.deepEqual(await plan.outputs(), { principalId: { type: 'String', value: 'pid-app' }, clientId: { type: 'String', value: 'cid-uai' }, ids: { type: 'Array', value: ['n0', 'n1'] } });
    // reference() without an api-version uses the template's for resources it declares
    assert.ok(host.calls.includes(`reference ${uai.id} 2023-01-31`));
  });
});

describe('planDeployment: language features', () => {
  test('nested child resources get parent/child types and names and depend on their parent', async () => {
    const plan = await planDeployment(tpl({ resources: [{
      type: 'Microsoft.Web/sites', apiVersion: '2022-03-01', name: 'app', location: 'westeurope',
      resources: [{ type: 'config', apiVersion: '2022-03-01', name: 'web', properties: { alwaysOn: true }, dependsOn: ['app'] }],
    }] }), {}, fakeHost());
    const child = byName(plan.resources, 'app/web');
    assert.equal(child.type, 'Microsoft.Web/sites/config');
    assert.equal(child.id, `${RG}/providers/Microsoft.Web/sites/app/config/web`);
    assert.deepEqual(child.dependsOn, [byName(plan.resources, 'app').key]);
    assert.deepEqual(await child.body(), { properties: { alwaysOn: true } });
  });

  test('dependsOn by name, type/name, interleaved type and name, and id in any case; ids elsewhere are not ours', async () => {
    const plan = await planDeployment(tpl({ resources: [
      { type: 'Microsoft.Web/sites', apiVersion: '1', name: 'app' },
      { type: 'Microsoft.Web/sites/config', apiVersion: '1', name: 'app/web' },
      { type: UAI, apiVersion: '1', name: 'x', dependsOn: ['Microsoft.Web/sites/app', 'Microsoft.Web/sites/app/config/web', `${RG.toUpperCase()}/providers/microsoft.web/sites/APP`] },
      { type: UAI, apiVersion: '1', name: 'y', dependsOn: ['app/web'], properties: { p: `[reference('/subscriptions/${SUB}/resourceGroups/other/providers/Microsoft.Web/sites/app').x]` } },
    ] }), {}, fakeHost());
    const app = byName(plan.resources, 'app').key;
    const web = byName(plan.resources, 'app/web').key;
    assert.deepEqual(byName(plan.resources, 'x').dependsOn, [app, web]);
    assert.deepEqual(byName(plan.resources, 'y').dependsOn, [web]);
    assert.deepEqual(plan.externalReferences.map((r) => r.id), [`/subscriptions/${SUB}/resourceGroups/other/providers/Microsoft.Web/sites/app`]);
  });

  test('conditions are evaluated; copy loop names in dependsOn mean every instance', async () => {
    const plan = await planDeployment(tpl({
      parameters: { useLa: { type: 'bool', defaultValue: false }, n: { type: 'int', defaultValue: 3, minValue: 1, maxValue: 5 } },
      resources: [
        { type: 'Microsoft.Logic/workflows', apiVersion: '2019-05-01', name: 'la', condition: "[parameters('useLa')]", properties: {} },
        { type: UAI, apiVersion: '2023-01-31', name: "[concat('id-', copyIndex(1))]", copy: { name: 'ids', count: "[parameters('n')]" } },
        { type: 'Microsoft.Web/sites', apiVersion: '2022-03-01', name: 'app', dependsOn: ['ids'] },
      ],
    }), { n: { value: '2' } }, fakeHost());
    assert.equal(byName(plan.resources, 'la').condition, false);
    assert.deepEqual(plan.resources.filter((r) => r.copy).map((r) => r.name), ['id-1', 'id-2']);
    assert.deepEqual(byName(plan.resources, 'app').dependsOn, [byName(plan.resources, 'id-1').key, byName(plan.resources, 'id-2').key]);
    assert.deepEqual(plan.parameters.n, { type: 'Int', value: 2 });
    const none = await planDeployment(tpl({ resources: [
      { type: UAI, apiVersion: '1', name: "[concat('id-', copyIndex())]", copy: { name: 'ids', count: 0 } },
      { type: UAI, apiVersion: '1', name: 'after', dependsOn: ['ids'] },
    ] }), {}, fakeHost());
    assert.deepEqual(none.resources.map((r) => [r.name, r.dependsOn]), [['after', []]]);
  });

  test('languageVersion 2.0: symbolic names, existing resources, scope by symbol, reference by symbol', async () => {
    const host = fakeHost();
    const plan = await planDeployment(tpl({
      languageVersion: '2.0',
      resources: {
        vault: { existing: true, type: 'Microsoft.KeyVault/vaults', apiVersion: '2022-07-01', name: 'kv-shared' },
        id: { type: UAI, apiVersion: '2023-01-31', name: 'id-web', location: '[resourceGroup().location]' },
        ra: {
          type: 'Microsoft.Authorization/roleAssignments', apiVersion: '2022-04-01', scope: 'vault',
          name: "[guid(resourceId('Microsoft.KeyVault/vaults', 'kv-shared'), 'id-web')]",
          properties: { principalId: "[reference('id').principalId]" },
          dependsOn: ['id'],
        },
      },
      outputs: { vaultUri: { type: 'string', value: "[reference('vault').vaultUri]" } },
    }), {}, host);
    const vaultId = `${RG}/providers/Microsoft.KeyVault/vaults/kv-shared`;
    assert.deepEqual(plan.resources.map((r) => r.key), ['vault', 'id', 'ra']);
    assert.equal(plan.resources[0]!.existing, true);
    const ra = plan.resources[2]!;
    assert.equal(ra.scope, vaultId);
    assert.deepEqual(new Set(ra.dependsOn), new Set(['id', 'vault']));
    host.state.set(`${RG}/providers/${UAI}/id-web`.toLowerCase(), { properties: { principalId: 'pid-web' } });
    host.state.set(vaultId.toLowerCase(), { properties: { vaultUri: 'https://kv-shared.vault.mimic.local/' } });
    assert.equal(((await ra.body()).properties as any).principalId, 'pid-web');
    assert.deepEqual(await plan.outputs(), { vaultUri: { type: 'String', value: 'https://kv-shared.vault.mimic.local/' } });
  });

  test('subscription scope: a resource group and a module into it, depended on by subscriptionResourceId', async () => {
    const plan = await planDeployment(tpl({
      parameters: { groupName: { type: 'string' } },
      resources: [
        { type: 'Microsoft.Resources/resourceGroups', apiVersion: '2022-09-01', name: "[parameters('groupName')]", location: "[deployment().location]" },
        { type: 'Microsoft.Resources/deployments', apiVersion: '2022-09-01', name: 'mod', resourceGroup: "[parameters('groupName')]", location: 'westeurope',
          dependsOn: ["[subscriptionResourceId('Microsoft.Resources/resourceGroups', parameters('groupName'))]"],
          properties: { mode: 'Incremental', expressionEvaluationOptions: { scope: 'inner' }, template: tpl({ resources: [] }) } },
        { type: 'Microsoft.Authorization/roleAssignments', apiVersion: '2022-04-01', name: "[guid(subscription().id, 'reader')]", properties: {} },
      ],
    }), { groupName: { value: 'rg-nested' } }, { ...fakeHost({ subscriptionScope: true }), deployment: { name: 'sub1', location: 'westeurope' } });
    const [rg, mod, ra] = plan.resources;
    assert.equal(rg!.id, `/subscriptions/${SUB}/resourceGroups/rg-nested`);
    assert.deepEqual(await rg!.body(), { location: 'westeurope' });
    assert.equal(mod!.id, `/subscriptions/${SUB}/resourceGroups/rg-nested/providers/Microsoft.Resources/deployments/mod`);
    assert.deepEqual(mod!.dependsOn, [rg!.key]);
    assert.equal(ra!.id, `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/${guid(`/subscriptions/${SUB}`, 'reader')}`);
  });

  test('old-style extension type (vaults/providers/roleAssignments) becomes a scoped role assignment', async () => {
    const plan = await planDeployment(tpl({ resources: [{
      type: 'Microsoft.KeyVault/vaults/providers/roleAssignments', apiVersion: '2022-04-01', name: 'kv/Microsoft.Authorization/ra1', properties: {},
    }] }), {}, fakeHost());
    const r = plan.resources[0]!;
    assert.equal(r.type, 'Microsoft.Authorization/roleAssignments');
    assert.equal(r.scope, `${RG}/providers/Microsoft.KeyVault/vaults/kv`);
    assert.equal(r.id, `${RG}/providers/Microsoft.KeyVault/vaults/kv/providers/Microsoft.Authorization/roleAssignments/ra1`);
  });

  test('variables with copy, parameter defaults using other parameters, utcNow and newGuid', async () => {
    const plan = await planDeployment(tpl({
      parameters: {
        suffix: { type: 'string', defaultValue: "[concat(parameters('prefix'), '-x')]" },
        prefix: { type: 'string', defaultValue: 'p' },
        stamp: { type: 'string', defaultValue: '[utcNow()]' },
        id: { type: 'string', defaultValue: '[newGuid()]' },
      },
      variables: { copy: [{ name: 'names', count: 2, input: "[concat(parameters('suffix'), copyIndex('names'))]" }], first: "[variables('names')[0]]" },
      resources: [],
      outputs: { first: { type: 'string', value: "[variables('first')]" } },
    }), {}, fakeHost());
    assert.deepEqual(plan.variables, { first: 'p-x0', names: ['p-x0', 'p-x1'] });
    assert.equal(plan.parameters.stamp!.value, '20261204T050607Z');
    assert.equal(plan.parameters.id!.value, 'a0a0a0a0-b1b1-4c2c-8d3d-e4e4e4e4e4e4');
    assert.deepEqual(await plan.outputs(), { first: { type: 'String', value: 'p-x0' } });
  });

  test('nested deployments: inner scope gets parameters evaluated outside; outer scope gets the outer parameters and variables', async () => {
    const inner = tpl({ parameters: { n: { type: 'string' } }, resources: [{ type: UAI, apiVersion: '2023-01-31', name: "[parameters('n')]" }] });
    const plan = await planDeployment(tpl({
      parameters: { base: { type: 'string', defaultValue: 'id-nested' } },
      variables: { v: 'value' },
      resources: [
        { type: 'Microsoft.Resources/deployments', apiVersion: '2022-09-01', name: 'innerDeploy', properties: { mode: 'Incremental', expressionEvaluationOptions: { scope: 'inner' }, template: inner, parameters: { n: { value: "[parameters('base')]" } } } },
        { type: 'Microsoft.Resources/deployments', apiVersion: '2022-09-01', name: 'outerDeploy', resourceGroup: 'rg-other', properties: { mode: 'Incremental', template: tpl({ resources: [{ type: UAI, apiVersion: '2023-01-31', name: "[variables('v')]" }] }) } },
      ],
    }), {}, fakeHost());
    const i = byName(plan.resources, 'innerDeploy');
    const o = byName(plan.resources, 'outerDeploy');
    assert.equal(o.id, `/subscriptions/${SUB}/resourceGroups/rg-other/providers/Microsoft.Resources/deployments/outerDeploy`);
    assert.equal(o.resourceGroup, 'rg-other');
    assert.equal(i.nested!.scope, 'inner');
    assert.equal(o.nested!.scope, 'outer');
    const pi = await i.nested!.prepare();
    assert.deepEqual(pi.parameters, { n: { value: 'id-nested' } });
    const innerPlan = await planDeployment(pi.template, pi.parameters, fakeHost(), pi.options);
    assert.equal(innerPlan.resources[0]!.name, 'id-nested');
    const po = await o.nested!.prepare();
    const outerPlan = await planDeployment(po.template, po.parameters, fakeHost(), po.options);
    assert.equal(outerPlan.resources[0]!.name, 'value');
  });
});

describe('planDeployment: user-defined functions and resourceInfo', () => {
  test('a namespace.member function is evaluated with its own parameters', async () => {
    const plan = await planDeployment(tpl({
      functions: [{ namespace: 'naming', members: { identity: { parameters: [{ name: 'app', type: 'string' }, { name: 'n', type: 'int' }], output: { type: 'string', value: "[format('id-{0}-{1}', parameters('app'), parameters('n'))]" } } } }],
      resources: [{ type: UAI, apiVersion: '1', name: "[naming.identity('web', 1)]" }],
    }), {}, fakeHost());
    assert.equal(plan.resources[0]!.name, 'id-web-1');
    await assert.rejects(planDeployment(tpl({ functions: [{ namespace: 'n', members: { f: { parameters: [], output: { type: 'string', value: 'x' } } } }], resources: [], outputs: { o: { type: 'string', value: "[n.f('extra')]" } } }), {}, fakeHost()), invalidTemplate(/'n\.f': function requires 0 argument/));
  });
  test('resourceInfo() of a symbolic name', async () => {
    const plan = await planDeployment(tpl({ languageVersion: '2.0', resources: { id: { type: UAI, apiVersion: '2023-01-31', name: 'id-a' } }, outputs: { rid: { type: 'string', value: "[resourceInfo('id').id]" } } }), {}, fakeHost());
    assert.deepEqual(await plan.outputs(), { rid: { type: 'String', value: `${RG}/providers/${UAI}/id-a` } });
  });
});

describe('planDeployment: Bicep-compiled (languageVersion 2.0) shapes', () => {
  test('user-defined types, nullable parameters, resource loops by symbolic name, a module', async () => {
    const t = tpl({
      languageVersion: '2.0',
      metadata: { _generator: { name: 'bicep', version: '0.30.23.60470' } },
      definitions: { appSettings: { type: 'object', properties: { name: { type: 'string' } } }, envName: { $ref: '#/definitions/plainString' }, plainString: { type: 'string' } },
      parameters: { settings: { $ref: '#/definitions/appSettings' }, env: { $ref: '#/definitions/envName', defaultValue: 'dev' }, note: { type: 'string', nullable: true } },
      resources: {
        ids: { copy: { name: 'ids', count: 2 }, type: UAI, apiVersion: '2023-01-31', name: "[format('id-{0}-{1}', parameters('settings').name, copyIndex())]", location: '[resourceGroup().location]' },
        mod: {
          type: 'Microsoft.Resources/deployments', apiVersion: '2022-09-01', name: 'roles',
          properties: {
            expressionEvaluationOptions: { scope: 'inner' }, mode: 'Incremental',
            parameters: { principalId: { value: "[reference('ids[1]').principalId]" } },
            template: tpl({ languageVersion: '2.0', parameters: { principalId: { type: 'string' } }, resources: {}, outputs: { p: { type: 'string', value: "[parameters('principalId')]" } } }),
          },
          dependsOn: ['ids'],
        },
      },
      outputs: { note: { type: 'string', nullable: true, value: "[coalesce(parameters('note'), 'none')]" }, env: { type: 'string', value: "[parameters('env')]" } },
    });
    const host = fakeHost();
    const plan = await planDeployment(t, { settings: { value: { name: 'web' } } }, host);
    assert.deepEqual(plan.resources.map((r) => r.key), ['ids[0]', 'ids[1]', 'mod']);
    assert.deepEqual(plan.resources.map((r) => r.name), ['id-web-0', 'id-web-1', 'roles']);
    assert.deepEqual(plan.resources[2]!.dependsOn, ['ids[0]', 'ids[1]']);
    host.state.set(plan.resources[1]!.id.toLowerCase(), { properties: { principalId: 'pid-1' } });
    const prepared = await plan.resources[2]!.nested!.prepare();
    assert.deepEqual(prepared.parameters, { principalId: { value: 'pid-1' } });
    const inner = await planDeployment(prepared.template, prepared.parameters, host, prepared.options);
    assert.deepEqual(await inner.outputs(), { p: { type: 'String', value: 'pid-1' } });
    assert.deepEqual(await plan.outputs(), { note: { type: 'String', value: 'none' }, env: { type: 'String', value: 'dev' } });
    await assert.rejects(planDeployment(t, { settings: { value: 'not an object' } }, host), invalidTemplate(/Expected 'Object'. Actual 'String'/));
  });
});

describe('planDeployment: references outside the template', () => {
  test('unconditional reference()/list*() targets outside the template are listed for a pre-check', async () => {
    const ext = '/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/outside';
    const plan = await planDeployment(tpl({ resources: [
      { type: UAI, apiVersion: '1', name: 'a', properties: { x: `[reference('${ext}', '2022-03-01').state]`, y: `[if(false(), reference('${ext}-maybe'), null())]` } },
      { type: UAI, apiVersion: '1', name: 'b', condition: false, properties: { x: `[reference('${ext}-off').state]` } },
      { type: UAI, apiVersion: '1', name: 'c', properties: { x: "[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'st'), '2023-01-01')]", self: "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'a')).principalId]" } },
    ] }), {}, fakeHost());
    assert.deepEqual(plan.externalReferences, [
      { id: ext, apiVersion: '2022-03-01', templatePath: 'resources[0]' },
      { id: `${RG}/providers/Microsoft.Storage/storageAccounts/st`, apiVersion: '2023-01-01', templatePath: 'resources[2]' },
    ]);
    assert.deepEqual(byName(plan.resources, 'c').dependsOn, [byName(plan.resources, 'a').key]);
  });
});

describe('planDeployment: validation errors', () => {
  const one = (extra: Record<string, unknown> = {}) => tpl({ resources: [{ type: UAI, apiVersion: '2023-01-31', name: 'id1' }], ...extra });
  test('missing $schema or contentVersion', async () => {
    await assert.rejects(planDeployment({ contentVersion: '1.0.0.0', resources: [] }, {}, fakeHost()), invalidTemplate(/'\$schema' not found/));
    await assert.rejects(planDeployment({ $schema: SCHEMA, resources: [] }, {}, fakeHost()), invalidTemplate(/'contentVersion' not found/));
  });
  test('a parameter outside allowedValues names the parameter and the value', async () => {
    const t = one({ parameters: { env: { type: 'string', allowedValues: ['dev', 'prd'] } } });
    await assert.rejects(planDeployment(t, { env: { value: 'qa' } }, fakeHost()), (e: unknown) => e instanceof TemplateError && e.code === 'InvalidTemplate' && /The provided value 'qa' for the template parameter 'env' is not valid.*allowed value\(s\): 'dev,prd'/.test(e.message) && e.target === 'env');
  });
  test('minValue, maxValue, minLength, maxLength, wrong type, missing and unknown parameters', async () => {
    const t = one({ parameters: { n: { type: 'int', minValue: 2, maxValue: 4, defaultValue: 3 }, s: { type: 'string', minLength: 2, maxLength: 3, defaultValue: 'ab' }, req: { type: 'string', defaultValue: 'x' } } });
    await assert.rejects(planDeployment(t, { n: { value: 1 } }, fakeHost()), invalidTemplate(/less than the minimum value '2'/));
    await assert.rejects(planDeployment(t, { n: { value: 5 } }, fakeHost()), invalidTemplate(/greater than the maximum value '4'/));
    await assert.rejects(planDeployment(t, { s: { value: 'a' } }, fakeHost()), invalidTemplate(/greater than or equal to '2'/));
    await assert.rejects(planDeployment(t, { s: { value: 'abcd' } }, fakeHost()), invalidTemplate(/less than or equal to '3'/));
    await assert.rejects(planDeployment(t, { n: { value: 'three' } }, fakeHost()), invalidTemplate(/Expected 'Int'. Actual 'String'/));
    await assert.rejects(planDeployment(t, { nope: { value: 1 } }, fakeHost()), invalidTemplate(/The template parameters 'nope' .* are not valid/));
    const r = one({ parameters: { required: { type: 'string' } } });
    await assert.rejects(planDeployment(r, {}, fakeHost()), invalidTemplate(/The value for the template parameter 'required' is not provided/));
    await assert.rejects(planDeployment(one({ parameters: { p: { type: 'float' } } }), {}, fakeHost()), invalidTemplate(/invalid type 'float'/));
  });
  test('a Key Vault reference parameter is refused clearly', async () => {
    const t = one({ parameters: { pw: { type: 'securestring' } } });
    await assert.rejects(planDeployment(t, { pw: { reference: { keyVault: { id: 'x' }, secretName: 's' } } }, fakeHost()), (e: unknown) => e instanceof TemplateError && e.code === 'InvalidTemplateDeployment' && /Key Vault reference/.test(e.message));
  });
  test('an unknown function fails naming the function and the template path', async () => {
    const t = tpl({ resources: [{ type: UAI, apiVersion: '2023-01-31', name: 'a' }, { type: UAI, apiVersion: '2023-01-31', name: 'b', location: "[resourceGroupp().location]" }] });
    await assert.rejects(planDeployment(t, {}, fakeHost()), (e: unknown) => e instanceof TemplateError && e.code === 'InvalidTemplate' && /'resourceGroupp' is not valid/.test(e.message) && e.target === 'resources[1].location');
  });
  test('with the template text, errors give the line and column of the expression', async () => {
    const t = tpl({ parameters: { env: { type: 'string', allowedValues: ['dev'] } }, resources: [{ type: UAI, apiVersion: '2023-01-31', name: 'a' }, { type: UAI, apiVersion: '2023-01-31', name: 'b', location: '[resourceGroupp().location]' }] });
    const source = JSON.stringify(t, null, 2);
    assert.deepEqual(locateTemplatePath(source, 'resources[1].location'), { line: 22, column: 19 });
    assert.equal(source.split('\n')[21]!.slice(18, 19), '"');
    await assert.rejects(planDeployment(t, {}, fakeHost(), { source }), invalidTemplate(/'resourceGroupp' is not valid.* at line '22' and column '19'/));
    const t2 = { ...t, resources: [] };
    await assert.rejects(planDeployment(t2, { env: { value: 'x' } }, fakeHost(), { source: JSON.stringify(t2, null, 2) }), invalidTemplate(/'env'.* at line '5' and column '12'/));
  });
  test('metadata, comments and allowedValues are not evaluated', async () => {
    const plan = await planDeployment(tpl({ metadata: { description: '[Preview] sample' }, parameters: { p: { type: 'string', allowedValues: ['[x]', 'y'], metadata: { description: '[Optional] name' } } }, resources: [{ type: UAI, apiVersion: '1', name: 'a', comments: '[not] evaluated' }] }), { p: { value: '[x]' } }, fakeHost());
    assert.equal(plan.resources.length, 1);
  });
  test('an output whose value does not match its type', async () => {
    const plan = await planDeployment(tpl({ resources: [], outputs: { n: { type: 'int', value: "[concat('a')]" } } }), {}, fakeHost());
    await assert.rejects(plan.outputs(), invalidTemplate(/The template output 'n' is not valid: .*Expected 'Int'. Actual 'String'/));
  });
  test('a wrong argument count fails before anything runs', async () => {
    await assert.rejects(planDeployment(one({ outputs: { x: { type: 'string', value: "[toLower('a', 'b')]" } } }), {}, fakeHost()), invalidTemplate(/'toLower': function requires 1 argument/));
  });
  test('utcNow outside a parameter default is refused', async () => {
    await assert.rejects(planDeployment(tpl({ variables: { t: '[utcNow()]' }, resources: [] }), {}, fakeHost()), invalidTemplate(/'utcNow' is not expected at this location/));
  });
  test('circular dependsOn names the resources on the cycle', async () => {
    const t = tpl({ resources: [
      { type: UAI, apiVersion: '2023-01-31', name: 'a', dependsOn: ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'b')]"] },
      { type: UAI, apiVersion: '2023-01-31', name: 'b', dependsOn: ['c'] },
      { type: UAI, apiVersion: '2023-01-31', name: 'c', dependsOn: ['a'] },
    ] });
    await assert.rejects(planDeployment(t, {}, fakeHost()), invalidTemplate(/Circular dependency detected on resource: '.*\/a' and '.*\/b' and '.*\/c'/));
  });
  test('dependsOn naming nothing in the template', async () => {
    await assert.rejects(planDeployment(one({ resources: [{ type: UAI, apiVersion: '2023-01-31', name: 'a', dependsOn: ['ghost'] }] }), {}, fakeHost()), invalidTemplate(/The resource 'ghost' is not defined in the template/));
  });
  test('a resource defined twice, wrong name segments, missing type', async () => {
    await assert.rejects(planDeployment(tpl({ resources: [{ type: UAI, apiVersion: '1', name: 'a' }, { type: UAI, apiVersion: '1', name: 'A' }] }), {}, fakeHost()), invalidTemplate(/defined multiple times/));
    await assert.rejects(planDeployment(tpl({ resources: [{ type: 'Microsoft.Web/sites/config', apiVersion: '1', name: 'web' }] }), {}, fakeHost()), invalidTemplate(/incorrect segment lengths/));
    await assert.rejects(planDeployment(tpl({ resources: [{ apiVersion: '1', name: 'a' }] }), {}, fakeHost()), invalidTemplate(/'type' not found/));
  });
  test('reference() in a resource name is refused; resourceGroup() at subscription scope too', async () => {
    await assert.rejects(planDeployment(tpl({ resources: [{ type: UAI, apiVersion: '1', name: "[reference('x').name]" }] }), {}, fakeHost()), invalidTemplate(/not expected/));
    await assert.rejects(planDeployment(tpl({ variables: { l: '[resourceGroup().location]' }, resources: [] }), {}, fakeHost({ subscriptionScope: true })), invalidTemplate(/subscription scope/));
  });
  test('expression errors while the deployment runs say which resource and path', async () => {
    const host = fakeHost();
    const plan = await planDeployment(tpl({ resources: [{ type: UAI, apiVersion: '1', name: 'a', properties: { x: "[reference('b').missing]" } }, { type: UAI, apiVersion: '1', name: 'b' }] }), {}, host);
    host.state.set(plan.resources[1]!.id.toLowerCase(), { properties: { present: 1 } });
    await assert.rejects(plan.resources[0]!.body(), (e: unknown) => e instanceof TemplateError && e.code === 'InvalidTemplate'
      && e.message.startsWith(`Unable to process template language expressions for resource '${plan.resources[0]!.id}'.`)
      && /property 'missing' doesn't exist, available properties are 'present'/.test(e.message) && e.target === 'resources[0].properties');
  });
  test('a reference to a missing resource fails with the host\'s error when the body is evaluated', async () => {
    const plan = await planDeployment(tpl({ resources: [{ type: UAI, apiVersion: '1', name: 'a', properties: { x: "[reference('/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/none', '2022-03-01').state]" } }] }), {}, fakeHost());
    await assert.rejects(plan.resources[0]!.body(), (e: any) => e.code === 'ResourceNotFound');
  });
});

describe('planDeployment: malformed templates are InvalidTemplate, never a crash or a hang', () => {
  const r = (extra: Record<string, unknown>) => ({ type: 'A.B/c', apiVersion: '1', name: 'a', ...extra });
  const cases: Array<[string, Record<string, unknown>]> = [
    ['resources null', tpl({ resources: null })],
    ['resource null', tpl({ resources: [null] })],
    ['type not a string', tpl({ resources: [r({ type: 1 })] })],
    ['parameter definition null', tpl({ parameters: { p: null } })],
    ['parameter default refers to itself', tpl({ parameters: { p: { type: 'string', defaultValue: "[parameters('p')]" } } })],
    ['parameter defaults refer to each other', tpl({ parameters: { p: { type: 'string', defaultValue: "[parameters('q')]" }, q: { type: 'string', defaultValue: "[parameters('p')]" } } })],
    ['variables refer to each other', tpl({ variables: { a: "[variables('b')]", b: "[variables('a')]" } })],
    ['copy count negative', tpl({ resources: [r({ copy: { name: 'l', count: -1 } })] })],
    ['copy not an object', tpl({ resources: [r({ copy: 5 })] })],
    ['dependsOn not a string', tpl({ resources: [r({ dependsOn: [5] })] })],
    ['condition not a boolean', tpl({ resources: [r({ condition: 'yes' })] })],
    ['nested resources not an array', tpl({ resources: [r({ resources: {} })] })],
    ['copyIndex outside a loop', tpl({ resources: [r({ resources: [{ type: 'd', apiVersion: '1', name: '[copyIndex()]' }] })] })],
    ['output copy count not an integer', tpl({ outputs: { o: { type: 'array', copy: { count: '[range(1, 1)]', input: 1 } } } })],
    ['2.0 resource null', tpl({ languageVersion: '2.0', resources: { a: null } })],
    ['functions not an array', tpl({ functions: 5 })],
    ['recursive user function', tpl({ functions: [{ namespace: 'n', members: { f: { output: { type: 'string', value: '[n.f()]' } } } }], resources: [r({ name: '[n.f()]' })] })],
    ['nested deployment without a template', tpl({ resources: [{ type: 'Microsoft.Resources/deployments', apiVersion: '1', name: 'd', properties: 5 }] })],
    ['unterminated json()', tpl({ resources: [r({ name: "[string(json('[1,2'))]" })] })],
    ['malformed URI escape', tpl({ resources: [r({ name: "[uriComponentToString('%E0%A4%A')]" })] })],
    ['huge padLeft', tpl({ resources: [r({ name: "[padLeft('a', 999999999)]" })] })],
    ['format index out of range', tpl({ resources: [r({ name: "[format('{5}', 1)]" })] })],
    ['lambda given where none expected', tpl({ resources: [r({ name: "[map(createArray(1), 5)]" })] })],
  ];
  for (const [what, t] of cases) {
    test(what, async () => {
      await assert.rejects((async () => {
        const plan = await planDeployment(t, {}, fakeHost());
        for (const res of plan.resources) await res.body();
        await plan.outputs();
        for (const res of plan.resources) if (res.nested) await res.nested.prepare();
      })(), (e: unknown) => e instanceof TemplateError && e.code === 'InvalidTemplate');
    });
  }
});

describe('planDeployment: scale', () => {
  test('a 600-resource template with reference() dependencies plans every resource with its implicit dependency', async () => {
    const resources: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      resources.push({ type: UAI, apiVersion: '2023-01-31', name: `id-${i}`, location: 'westeurope' });
      resources.push({ type: 'Microsoft.Web/sites', apiVersion: '2022-03-01', name: `app-${i}`, identity: { type: 'UserAssigned', userAssignedIdentities: { [`[resourceId('${UAI}', 'id-${i}')]`]: {} } }, dependsOn: [`id-${i}`] });
      resources.push({ type: 'Microsoft.Authorization/roleAssignments', apiVersion: '2022-04-01', name: `[guid('ra', '${i}')]`, properties: { principalId: `[reference(resourceId('${UAI}', 'id-${i}')).principalId]` } });
    }
    const plan = await planDeployment(tpl({ resources }), {}, fakeHost());
    assert.equal(plan.resources.length, 600);
    assert.deepEqual(plan.resources[599]!.dependsOn, [plan.resources[597]!.key]);
  });
});
