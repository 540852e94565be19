// `mimic role ...`, `mimic app ...` as a user types them: role names instead of ids, identity
// names and resource ids instead of principal ids.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { ROLE } from './helpers.js';

describe('mimic role / mimic app', () => {
  let mimic: TestMimic;
  const cli = async (...args: string[]) => {
    const r = await runCli([...args, '--data-dir', mimic.dataDir], mimic.adminEnv);
    assert.equal(r.code, 0, `mimic ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T = any>(...args: string[]) => JSON.parse(await cli(...args, '--json')) as T;
  let uai: { id: string; properties: { principalId: string } };
  let site: { id: string; identity: { principalId: string } };

  before(async () => {
    mimic = await startTestMimic('sqlite');
    await cli('group', 'create', '-n', 'cli-rg');
    uai = await json('identity', 'create', '-g', 'cli-rg', '-n', 'worker');
    site = await json('resource', 'create', '-g', 'cli-rg', '-n', 'web1', '--type', 'Microsoft.Web/sites', '--assign-identity', 'system');
  });
  after(() => mimic.dispose());

  test('assigns by role name to an identity name and to a resource with a system identity', async () => {
    const byName = await json('role', 'assignment', 'create', '--assignee', 'worker', '--role', 'Key Vault Secrets User', '-g', 'cli-rg');
    assert.equal(byName.principalId, uai.properties.principalId);
    assert.equal(byName.roleDefinitionName, 'Key Vault Secrets User');
    assert.equal(byName.principalName, 'worker');
    const byResource = await json('role', 'assignment', 'create', '--assignee', site.id, '--role', ROLE.reader, '-g', 'cli-rg');
    assert.equal(byResource.principalId, site.identity.principalId);
    assert.equal(byResource.roleDefinitionName, 'Reader');
    const table = await cli('role', 'assignment', 'list', '-g', 'cli-rg');
    assert.match(table, /^worker\s+\S+\s+ServicePrincipal\s+Key Vault Secrets User\s/m);
    assert.match(table, /^web1\s+\S+\s+ServicePrincipal\s+Reader\s/m);
    const filtered = await json<unknown[]>('role', 'assignment', 'list', '-g', 'cli-rg', '--role', 'Reader');
    assert.equal(filtered.length, 1);
    const atSubscription = await json<unknown[]>('role', 'assignment', 'list', '--assignee', 'worker');
    assert.equal(atSubscription.length, 0, 'without --all only assignments at the subscription itself');
    const all = await json<unknown[]>('role', 'assignment', 'list', '--assignee', 'worker', '--all');
    assert.equal(all.length, 1);
  });

  test('check explains allow and deny', async () => {
    const allowed = await cli('role', 'check', '--principal', 'worker', '--action', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', '--scope', `/subscriptions/${mimic.endpoints.subscriptionId}/resourceGroups/cli-rg/providers/Microsoft.KeyVault/vaults/v1/secrets/s1`);
    assert.match(allowed, /^Allowed: the role 'Key Vault Secrets User' assigned to worker at '.*cli-rg'/);
    const denied = await json('role', 'check', '--principal', uai.id, '--action', 'Microsoft.KeyVault/vaults/secrets/setSecret/action', '-g', 'cli-rg');
    assert.equal(denied.allowed, false);
    assert.equal(denied.isDataAction, true);
    assert.match(denied.explanation, /Nearest miss: Key Vault Secrets User at '.*cli-rg' grants no data action matching 'Microsoft.KeyVault\/vaults\/secrets\/setSecret\/action'/);
  });

  test('deletes by assignee and role', async () => {
    const out = await cli('role', 'assignment', 'delete', '--assignee', 'worker', '--role', 'Key Vault Secrets User', '-g', 'cli-rg');
    assert.match(out, /^Deleted role assignment \/subscriptions\/.*\/roleAssignments\//);
    assert.equal((await json<unknown[]>('role', 'assignment', 'list', '-g', 'cli-rg', '--assignee', 'worker')).length, 0);
  });

  test('role definitions: list, show, create and delete a custom role', async () => {
    const readers = await json<Array<{ name: string }>>('role', 'definition', 'list', '--name', 'reader');
    assert.deepEqual(readers.map((r) => r.name), [ROLE.reader]);
    const shown = await cli('role', 'definition', 'show', '--name', 'Storage Blob Data Reader');
    assert.match(shown, /dataActions: Microsoft\.Storage\/storageAccounts\/blobServices\/containers\/blobs\/read/);
    const spec = JSON.stringify({ Name: 'Identity Reader', Description: 'reads identities', Actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/read'] });
    const created = await json('role', 'definition', 'create', '--role-definition', spec);
    assert.equal(created.properties.type, 'CustomRole');
    assert.equal((await json<unknown[]>('role', 'definition', 'list', '--custom-role-only')).length, 1);
    await cli('role', 'definition', 'delete', '--name', 'Identity Reader');
    assert.equal((await json<unknown[]>('role', 'definition', 'list', '--custom-role-only')).length, 0);
  });

  test('deny assignments through the CLI', async () => {
    await cli('role', 'deny', 'create', '-g', 'cli-rg', '--deny-name', 'no writes', '--actions', '*/write', '--principals', 'worker');
    const listed = await json<Array<{ properties: { denyAssignmentName: string } }>>('role', 'deny', 'list', '-g', 'cli-rg');
    assert.deepEqual(listed.map((d) => d.properties.denyAssignmentName), ['no writes']);
    const check = await json('role', 'check', '--principal', 'worker', '--action', 'Microsoft.Web/sites/write', '-g', 'cli-rg');
    assert.equal(check.reason, 'DeniedByDenyAssignment');
  });

  test('app registrations: create, list, delete', async () => {
    const app = await json('app', 'create', '--name', 'cli-app');
    assert.ok(app.password && app.appId && app.objectId);
    const listed = await json<Array<{ appId: string }>>('app', 'list');
    assert.ok(listed.some((a) => a.appId === app.appId));
    await cli('app', 'delete', '--id', app.appId);
    assert.ok(!(await json<Array<{ appId: string }>>('app', 'list')).some((a) => a.appId === app.appId));
  });
});
