// The seeds' templates deploy as written (the Consumption logic app with both identity kinds
// fails as in Azure); Complete mode removes what the template does not declare; cancel, delete,
// validate, exportTemplate and existence through the SDK; a run cut short by a restart ends
// Failed; `mimic deployment group create` follows a deployment from the command line.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { FIXTURES, runCli, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { armCaller, type ArmCaller } from '../helpers/arm.js';
import { deploy, ok, template } from './helpers.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('deployment lifecycle and the seeds', () => {
  let m: TestMimic;
  let arm: ArmCaller;
  const group = (rg: string) => `${arm.sub}/resourceGroups/${rg}`;
  const get = async (id: string, apiVersion: string) => (await arm.call('GET', id, undefined, apiVersion)).body;
  const resourcesIn = async (rg: string) => (await arm.call('GET', `${group(rg)}/resources`, undefined, '2021-04-01')).body.value as any[];

  before(async () => {
    m = await startTestMimic();
    arm = await armCaller(m.dataDir, '2021-04-01');
    for (const rg of ['rg-seeds', 'rg-complete', 'rg-cancel', 'rg-cli']) assert.equal((await arm.call('PUT', group(rg), { location: 'westeurope' })).status, 201);
  });
  after(() => m.dispose());

  test("the seeds' templates deploy as written", async () => {
    const [system, user, standard, connection, containerApp] = await deploy(m, [
      { op: 'deploy', rg: 'rg-seeds', name: 'logic-system', template: template('seed-logicapp-system.json') },
      { op: 'deploy', rg: 'rg-seeds', name: 'logic-user', template: template('seed-logicapp-user.json'), parameters: { Template_LogicAppName: 'logic-seed-user', Template_UserAssignedIdentityName: 'id-logic-seed' } },
      { op: 'deploy', rg: 'rg-seeds', name: 'standard', template: template('seed-standard-both.json'), parameters: { Template_UserAssignedIdentityName: 'id-standard-seed' } },
      { op: 'deploy', rg: 'rg-seeds', name: 'connection', template: template('seed-api-connection.json'), parameters: { objectId: m.context.tenant.adminObjectId } },
      { op: 'deploy', rg: 'rg-seeds', name: 'containerapp', template: template('seed-containerapp.json') },
    ]);
    const logicSystem = await get(`${group('rg-seeds')}/providers/Microsoft.Logic/workflows/logic-seed-system`, '2016-06-01');
    assert.equal(ok(system).properties.outputs.principalId.value, logicSystem.identity.principalId);
    assert.match(logicSystem.identity.principalId, GUID);

    assert.equal(ok(user).properties.provisioningState, 'Succeeded');
    assert.equal(ok(user).properties.parameters.Template_UserAssignedIdentityName.value, undefined, 'securestring values are not echoed');
    const logicUser = await get(`${group('rg-seeds')}/providers/Microsoft.Logic/workflows/logic-seed-user`, '2016-06-01');
    assert.equal(logicUser.identity.type, 'UserAssigned');
    const ua = Object.values(logicUser.identity.userAssignedIdentities as Record<string, any>)[0];
    assert.match(ua.principalId, GUID);

    assert.equal(ok(standard).properties.provisioningState, 'Succeeded');
    const site = await get(`${group('rg-seeds')}/providers/Microsoft.Web/sites/logic-standard-seed`, '2021-01-15');
    assert.equal(site.identity.type, 'SystemAssigned, UserAssigned');
    assert.equal(Object.keys(site.identity.userAssignedIdentities).length, 1);

    assert.equal(ok(connection).properties.provisioningState, 'Succeeded');
    const logicAutomation = await get(`${group('rg-seeds')}/providers/Microsoft.Logic/workflows/logic-automation`, '2016-06-01');
    assert.match(logicAutomation.identity.principalId, GUID);
    const conn = await get(`${group('rg-seeds')}/providers/Microsoft.Web/connections/azureautomation-mi`, '2018-07-01-preview');
    assert.equal(conn.properties.parameterValueSet.name, 'managedIdentityAuth');
    const policy = await arm.call('GET', `${group('rg-seeds')}/providers/Microsoft.Web/connections/azureautomation-mi/accessPolicies/${m.context.tenant.adminObjectId}`, undefined, '2016-06-01');
    assert.equal(policy.status, 200);
    assert.equal(policy.body.properties.principal.identity.tenantId, m.context.tenant.tenantId);

    const app = await get(`${group('rg-seeds')}/providers/Microsoft.App/containerApps/ca-orders`, '2023-05-01');
    assert.equal(ok(containerApp).properties.outputs.principalId.value, app.identity.principalId);
    assert.equal(Object.keys(app.identity.userAssignedIdentities).length, 2);
  });

  test('a Consumption logic app with both identity kinds fails the deployment as in Azure', async () => {
    const [both, ops] = await deploy(m, [
      { op: 'deploy', rg: 'rg-seeds', name: 'logic-both', template: template('seed-logicapp-both.json'), parameters: { Template_LogicAppName: 'logic-seed-both', Template_UserAssignedIdentityName: 'id-logic-both' } },
      { op: 'operations', rg: 'rg-seeds', name: 'logic-both' },
    ]);
    assert.equal(both!.ok, false);
    assert.match(JSON.stringify(both), /DeploymentFailed/);
    assert.match(JSON.stringify(both), /InvalidIdentityConfiguration/);
    const failed = ok(ops).filter((o: any) => o.properties.provisioningState === 'Failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].properties.targetResource.resourceName, 'logic-seed-both');
    assert.equal((await arm.call('GET', `${group('rg-seeds')}/providers/Microsoft.Logic/workflows/logic-seed-both`, undefined, '2016-06-01')).status, 404);
  });

  test('Complete mode deletes a resource the template does not declare (and not the deployments)', async () => {
    assert.equal((await arm.call('PUT', `${group('rg-complete')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-stray`, { location: 'westeurope' }, '2023-01-31')).status, 201);
    const [first] = await deploy(m, [{ op: 'deploy', rg: 'rg-complete', name: 'incremental', template: template('complete.json') }]);
    assert.equal(ok(first).properties.provisioningState, 'Succeeded');
    assert.deepEqual((await resourcesIn('rg-complete')).map((r) => r.name).sort(), ['id-kept-0', 'id-stray']);
    const [complete, ops, list] = await deploy(m, [
      { op: 'deploy', rg: 'rg-complete', name: 'complete', template: template('complete.json'), mode: 'Complete' },
      { op: 'operations', rg: 'rg-complete', name: 'complete' },
      { op: 'list', rg: 'rg-complete' },
    ]);
    assert.equal(ok(complete).properties.mode, 'Complete');
    assert.deepEqual((await resourcesIn('rg-complete')).map((r) => r.name), ['id-kept-0']);
    const deletion = ok(ops).find((o: any) => o.properties.provisioningOperation === 'Delete');
    assert.equal(deletion.properties.targetResource.resourceName, 'id-stray');
    const [single] = await deploy(m, [{ op: 'operation', rg: 'rg-complete', name: 'complete', operationId: deletion.operationId }]);
    assert.deepEqual(ok(single).properties.targetResource, deletion.properties.targetResource);
    assert.equal(ok(list).length, 2, 'the deployments themselves stay');
  });

  test('cancel stops a running deployment; delete, validate, exportTemplate and existence', async () => {
    const [started, cancel, again] = await deploy(m, [
      { op: 'start', rg: 'rg-cancel', name: 'long', template: template('complete.json'), parameters: { count: 800 } },
      { op: 'cancel', rg: 'rg-cancel', name: 'long' },
      { op: 'cancel', rg: 'rg-cancel', name: 'long' },
    ]);
    assert.equal(started!.ok, true, JSON.stringify(started));
    assert.equal(cancel!.ok, true, JSON.stringify(cancel));
    let state = '';
    for (let i = 0; i < 100 && state !== 'Canceled'; i++) {
      state = ok((await deploy(m, [{ op: 'get', rg: 'rg-cancel', name: 'long' }]))[0]).properties.provisioningState;
      if (state !== 'Canceled') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(state, 'Canceled');
    assert.ok((await resourcesIn('rg-cancel')).length < 800, 'the rest never started');
    assert.equal(again!.ok, false);
    assert.equal(again!.status, 409);

    await deploy(m, [{ op: 'deploy', rg: 'rg-cancel', name: 'kept', template: template('complete.json') }]);
    const before = (await resourcesIn('rg-cancel')).length;
    const [valid, invalid, exported, exists, del, missing, absent] = await deploy(m, [
      { op: 'validate', rg: 'rg-cancel', name: 'check', template: template('complete.json') },
      { op: 'validate', rg: 'rg-cancel', name: 'check', template: template('app.json'), parameters: { env: 'nope' } },
      { op: 'export', rg: 'rg-cancel', name: 'long' },
      { op: 'exists', rg: 'rg-cancel', name: 'long' },
      { op: 'delete', rg: 'rg-cancel', name: 'long' },
      { op: 'get', rg: 'rg-cancel', name: 'long' },
      { op: 'exists', rg: 'rg-cancel', name: 'long' },
    ]);
    assert.equal(ok(valid).properties.provisioningState, 'Succeeded');
    assert.equal(ok(valid).properties.validatedResources.length, 1);
    assert.equal(invalid!.ok, false, 'the SDK reports a 400 from validate as a failure');
    const raw = await arm.call('POST', `${group('rg-cancel')}/providers/Microsoft.Resources/deployments/check/validate`, { properties: { mode: 'Incremental', template: template('app.json'), parameters: { env: { value: 'nope' } } } }, '2024-03-01');
    assert.equal(raw.status, 400);
    assert.equal(raw.body.error.code, 'InvalidTemplate');
    assert.match(raw.body.error.message, /nope/);
    assert.deepEqual(ok(exported).template, template('complete.json'));
    assert.equal(ok(exists).body ?? ok(exists), true);
    assert.equal(del!.ok, true, JSON.stringify(del));
    assert.equal(missing!.status, 404);
    assert.equal(missing!.code, 'DeploymentNotFound');
    assert.equal(ok(absent).body ?? ok(absent), false);
    assert.equal((await resourcesIn('rg-cancel')).length, before, 'deleting a deployment keeps its resources');
    assert.ok(before > 0);
  });

  test('mimic deployment group create follows a deployment and prints it as JSON', async () => {
    const file = join(FIXTURES, 'deployments/identity-and-role.json');
    const r = await runCli(['deployment', 'group', 'create', '-g', 'rg-cli', '--template-file', file, '--data-dir', m.dataDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.name, 'identity-and-role');
    assert.equal(d.properties.provisioningState, 'Succeeded');
    const list = await runCli(['deployment', 'group', 'list', '-g', 'rg-cli', '--data-dir', m.dataDir]);
    assert.match(list.stdout, /identity-and-role\s+Succeeded/);
    const ops = await runCli(['deployment', 'operation', 'group', 'list', '-g', 'rg-cli', '-n', 'identity-and-role', '--data-dir', m.dataDir]);
    assert.match(ops.stdout, /Create\s+Succeeded\s+Created\s+Microsoft.ManagedIdentity\/userAssignedIdentities\s+id-worker/);
    const paramsFile = join(m.dataDir, 'app.parameters.json');
    await writeFile(paramsFile, JSON.stringify({ $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#', contentVersion: '1.0.0.0', parameters: { appName: { value: 'cli' }, env: { value: 'dev' } } }));
    const withParams = await runCli(['deployment', 'group', 'create', '-g', 'rg-cli', '-f', join(FIXTURES, 'deployments/app.json'), '-n', 'app', '--parameters', `@${paramsFile}`, 'env=test', '--data-dir', m.dataDir, '--json']);
    assert.equal(withParams.code, 0, withParams.stderr);
    assert.equal(JSON.parse(withParams.stdout).properties.outputs.identityName.value, 'id-cli-test-westeurope-01', 'name=value after the file overrides it');
    const bad = await runCli(['deployment', 'group', 'create', '-g', 'rg-cli', '--template-file', join(FIXTURES, 'deployments/app.json'), '--parameters', 'env=nope', '--data-dir', m.dataDir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /InvalidTemplate/);
  });

  test('a deployment cut short by a restart is Failed afterwards', async () => {
    const [started] = await deploy(m, [{ op: 'start', rg: 'rg-cancel', name: 'interrupted', template: template('complete.json'), parameters: { count: 800 } }]);
    assert.equal(started!.ok, true);
    m = await m.restart();
    const [got] = await deploy(m, [{ op: 'get', rg: 'rg-cancel', name: 'interrupted' }]);
    assert.equal(ok(got).properties.provisioningState, 'Failed');
    assert.equal(ok(got).properties.error.code, 'DeploymentInterrupted');
  });
});

describe('deployments on PostgreSQL', () => {
  let m: TestMimic;
  before(async () => {
    m = await startTestMimic('postgres');
  });
  after(() => m.dispose());

  test('a deployment and its operations survive a restart', async () => {
    const arm = await armCaller(m.dataDir, '2021-04-01');
    assert.equal((await arm.call('PUT', `${arm.sub}/resourceGroups/rg-pg`, { location: 'westeurope' })).status, 201);
    const [d] = await deploy(m, [{ op: 'deploy', rg: 'rg-pg', name: 'pg', template: template('identity-and-role.json') }]);
    assert.equal(ok(d).properties.provisioningState, 'Succeeded');
    m = await m.restart();
    const [got, ops] = await deploy(m, [
      { op: 'get', rg: 'rg-pg', name: 'pg' },
      { op: 'operations', rg: 'rg-pg', name: 'pg' },
    ]);
    assert.equal(ok(got).properties.provisioningState, 'Succeeded');
    assert.equal(ok(got).properties.correlationId, ok(d).properties.correlationId);
    assert.equal(ok(ops).length, 2);
  });
});
