// The portal's Deployments page for a resource group: two template deployments made through the
// REST API (one succeeding with outputs, one whose role assignment names a role definition that
// does not exist, so its PUT fails during the run); the page lists both with their states, and
// selecting one shows its operations (the identity Succeeded, the assignment Failed with its
// error) and its outputs, with the secure output left out as the API leaves it out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';
import { href, openBrowser, screenshot, type Browser } from './browser.js';

const API = '2024-03-01';
const RG = 'portal-dep';
const MISSING_ROLE = '11111111-2222-3333-4444-555555555555';

const identity = (name: string) => ({ type: 'Microsoft.ManagedIdentity/userAssignedIdentities', apiVersion: '2023-01-31', name, location: '[resourceGroup().location]' });
const SCHEMA = { $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#', contentVersion: '1.0.0.0' };

const good = {
  ...SCHEMA,
  parameters: { secret: { type: 'securestring', defaultValue: 'do-not-show-me' } },
  resources: [identity('id-good')],
  outputs: {
    principalId: { type: 'string', value: "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-good')).principalId]" },
    hidden: { type: 'securestring', value: "[parameters('secret')]" },
  },
};

const failing = {
  ...SCHEMA,
  resources: [
    identity('id-app'),
    {
      type: 'Microsoft.Authorization/roleAssignments',
      apiVersion: '2022-04-01',
      name: "[guid(resourceGroup().id, 'id-app', 'missing-role')]",
      properties: {
        roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${MISSING_ROLE}')]`,
        principalId: "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-app')).principalId]",
        principalType: 'ServicePrincipal',
      },
      dependsOn: ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-app')]"],
    },
  ],
};

describe('portal: resource group deployments and their operations', () => {
  let m: TestMimic;
  let a: ArmCaller;
  let b: Browser;
  let base: string;

  /** PUTs a deployment and polls it until it leaves Accepted/Running. */
  async function deployAndWait(name: string, template: unknown): Promise<any> {
    const put = await a.call('PUT', `${base}/${name}`, { properties: { mode: 'Incremental', template } });
    assert.equal(put.status, 201, put.text);
    for (let i = 0; i < 300; i++) {
      const d = await a.call('GET', `${base}/${name}`);
      if (!['Accepted', 'Running'].includes(d.body.properties.provisioningState)) return d.body;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`deployment ${name} did not finish`);
  }

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await armCaller(m.dataDir, API);
    assert.equal((await a.call('PUT', `${a.sub}/resourcegroups/${RG}`, { location: 'westeurope' }, '2021-04-01')).status, 201);
    base = `${a.sub}/resourcegroups/${RG}/providers/Microsoft.Resources/deployments`;
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await m?.dispose();
  });

  test('the failed deployment: state, operations with the succeeded identity and the failed assignment\'s error', async () => {
    const d = await deployAndWait('with-bad-role', failing);
    assert.equal(d.properties.provisioningState, 'Failed');
    // The error the page must show is the one the operations API reports for the assignment.
    const ops = (await a.call('GET', `${base}/with-bad-role/operations`)).body.value as any[];
    const failedOp = ops.find((o) => o.properties.targetResource?.resourceType === 'Microsoft.Authorization/roleAssignments');
    assert.equal(failedOp.properties.provisioningState, 'Failed');
    const opError = failedOp.properties.statusMessage.error;
    assert.ok(opError?.message, JSON.stringify(failedOp));

    const { page } = b;
    // Reached from the resource group page by its link, as a user would.
    await page.goto(href(m.endpoints.origin, `/rg/${a.sub.split('/').pop()}/${RG}`));
    await page.getByRole('link', { name: 'Deployments', exact: true }).click();
    const list = page.getByTestId('deployments');
    const row = list.getByRole('row').filter({ hasText: 'with-bad-role' });
    await row.waitFor();
    assert.match(await row.innerText(), /Failed/);
    assert.match(await row.innerText(), /PT[\d.]+S/); // the duration

    // Keyboard: focus the deployment's link and open it with Enter.
    await list.getByRole('link', { name: 'with-bad-role' }).focus();
    await page.keyboard.press('Enter');
    const opsTable = page.getByTestId('operations');
    const idRow = opsTable.getByRole('row').filter({ hasText: 'id-app' }).filter({ hasText: 'userAssignedIdentities' });
    await idRow.waitFor();
    assert.match(await idRow.innerText(), /Succeeded/);
    assert.match(await idRow.innerText(), /Created|OK/);
    const raRow = opsTable.getByRole('row').filter({ hasText: 'Microsoft.Authorization/roleAssignments' });
    assert.match(await raRow.innerText(), /Failed/);
    assert.ok((await raRow.innerText()).includes(opError.message), await raRow.innerText());
    assert.ok((await raRow.innerText()).includes(opError.code));
    await page.getByTestId('deployment-error').filter({ hasText: 'DeploymentFailed' }).waitFor();
    await screenshot(page, 'portal-deployments-failed.png');
  });

  test('a succeeded deployment shows its outputs, never the secure one', async () => {
    const d = await deployAndWait('good', good);
    assert.equal(d.properties.provisioningState, 'Succeeded', JSON.stringify(d.properties.error));
    const { page } = b;
    await page.goto('about:blank');
    await page.goto(href(m.endpoints.origin, `/deployments/${a.sub.split('/').pop()}/${RG}/good`));
    const outputs = page.getByTestId('outputs');
    const principalRow = outputs.getByRole('row').filter({ hasText: 'principalId' });
    await principalRow.waitFor();
    assert.ok((await principalRow.innerText()).includes(d.properties.outputs.principalId.value));
    assert.equal(await page.getByText('do-not-show-me').count(), 0);
    // Both deployments are listed, the newest first.
    const names = await page.getByTestId('deployments').locator('tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(names, ['good', 'with-bad-role']);
    assert.match(await page.getByTestId('operations').innerText(), /id-good[\s\S]*Succeeded/);
  });
});
