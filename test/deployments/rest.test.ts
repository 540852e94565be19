// The Microsoft.Resources/deployments REST surface's answers that need no template: routing at
// both scopes, Azure's errors for missing deployments, refused links, missing location.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';

const API = '2024-03-01';

describe('deployments REST surface', () => {
  let m: TestMimic;
  let arm: ArmCaller;
  let rg: string;
  before(async () => {
    m = await startTestMimic();
    arm = await armCaller(m.dataDir, API);
    rg = `${arm.sub}/resourcegroups/rg-rest`;
    assert.equal((await arm.call('PUT', rg, { location: 'westeurope' }, '2021-04-01')).status, 201);
  });
  after(() => m.dispose());

  test('lists are empty at both scopes, and a missing deployment is DeploymentNotFound', async () => {
    for (const scope of [rg, arm.sub]) {
      const list = await arm.call('GET', `${scope}/providers/Microsoft.Resources/deployments`);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body, { value: [] });
      const missing = await arm.call('GET', `${scope}/providers/Microsoft.Resources/deployments/nope`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'DeploymentNotFound');
      const head = await arm.call('HEAD', `${scope}/providers/Microsoft.Resources/deployments/nope`);
      assert.equal(head.status, 404);
    }
    const ops = await arm.call('GET', `${rg}/deployments/nope/operations`);
    assert.equal(ops.status, 404);
    assert.equal(ops.body.error.code, 'DeploymentNotFound');
    const missingGroup = await arm.call('GET', `${arm.sub}/resourcegroups/rg-none/providers/Microsoft.Resources/deployments`);
    assert.equal(missingGroup.status, 404);
    assert.equal(missingGroup.body.error.code, 'ResourceGroupNotFound');
  });

  test('templateLink and parametersLink are refused with a clear 400; a subscription deployment needs a location', async () => {
    const linked = await arm.call('PUT', `${rg}/providers/Microsoft.Resources/deployments/d1`, { properties: { mode: 'Incremental', templateLink: { uri: 'https://example.com/t.json' } } });
    assert.equal(linked.status, 400);
    assert.equal(linked.body.error.code, 'InvalidContentLink');
    assert.match(linked.body.error.message, /https:\/\/example\.com\/t\.json/);
    const noTemplate = await arm.call('PUT', `${rg}/providers/Microsoft.Resources/deployments/d1`, { properties: { mode: 'Incremental' } });
    assert.equal(noTemplate.status, 400);
    const badMode = await arm.call('PUT', `${rg}/providers/Microsoft.Resources/deployments/d1`, { properties: { mode: 'Partial', template: {} } });
    assert.equal(badMode.status, 400);
    assert.equal(badMode.body.error.code, 'InvalidDeploymentMode');
    const noLocation = await arm.call('PUT', `${arm.sub}/providers/Microsoft.Resources/deployments/d1`, { properties: { mode: 'Incremental', template: {} } });
    assert.equal(noLocation.status, 400);
    assert.equal(noLocation.body.error.code, 'LocationRequired');
    // Nothing was recorded.
    assert.deepEqual((await arm.call('GET', `${rg}/providers/Microsoft.Resources/deployments`)).body, { value: [] });
  });

  test('cancel of a missing deployment is 404; delete of a missing one is 204', async () => {
    const cancel = await arm.call('POST', `${rg}/providers/Microsoft.Resources/deployments/nope/cancel`);
    assert.equal(cancel.status, 404);
    const del = await arm.call('DELETE', `${rg}/providers/Microsoft.Resources/deployments/nope`);
    assert.equal(del.status, 204);
  });

  test('deleting a resource group removes its deployments', async () => {
    const t = { $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#', contentVersion: '1.0.0.0', resources: [] };
    assert.equal((await arm.call('PUT', `${arm.sub}/resourcegroups/rg-gone`, { location: 'westeurope' }, '2021-04-01')).status, 201);
    const put = await arm.call('PUT', `${arm.sub}/resourcegroups/rg-gone/providers/Microsoft.Resources/deployments/empty`, { properties: { mode: 'Incremental', template: t } });
    assert.equal(put.status, 201);
    assert.equal(put.body.properties.provisioningState, 'Accepted');
    assert.match(put.headers['azure-asyncoperation'] as string, /\/operationStatuses\//);
    assert.equal((await arm.call('GET', `${arm.sub}/resourcegroups/rg-gone/providers/Microsoft.Resources/deployments`)).body.value.length, 1);
    assert.equal((await arm.call('DELETE', `${arm.sub}/resourcegroups/rg-gone`, undefined, '2021-04-01')).status, 202);
    assert.equal((await arm.call('PUT', `${arm.sub}/resourcegroups/rg-gone`, { location: 'westeurope' }, '2021-04-01')).status, 201);
    for (let i = 0; i < 50; i++) {
      const list = await arm.call('GET', `${arm.sub}/resourcegroups/rg-gone/providers/Microsoft.Resources/deployments`);
      if (list.body.value.length === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail('the deployment outlived its group');
  });
});
