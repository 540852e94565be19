// `mimic keyvault ...` against a running Mimic: vaults and access policies through the
// Resource Manager, secrets, keys and certificates through the data plane, as the
// administrator or `--as` a resource's managed identity.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { arm, createGroup, type Arm } from './helpers.js';

const RG = 'kv-cli';

describe('mimic keyvault', () => {
  let m: TestMimic;
  let a: Arm;
  let siteId: string;
  const cli = async (...args: string[]) => {
    const r = await runCli([...args, '--data-dir', m.dataDir]);
    return { ...r, json: () => JSON.parse(r.stdout) };
  };

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    const rgId = await createGroup(a, RG);
    const web = await a.call('PUT', `${rgId}/providers/Microsoft.Web/sites/cliweb`, { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} }, '2023-12-01');
    assert.equal(web.status, 201, web.text);
    siteId = web.body.id;
  });
  after(() => m.dispose());

  test('an RBAC vault: secrets as the administrator, and as a web app once it holds a role', async () => {
    const created = await cli('keyvault', 'create', '-g', RG, '-n', 'clivault', '--json');
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.json().properties.vaultUri, 'https://clivault.vault.azure.net/');

    const refused = await cli('keyvault', 'secret', 'set', '--vault-name', 'clivault', '-n', 'greeting', '--value', 'hello');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ForbiddenByRbac/);
    const vaultId = created.json().id;
    const grant = await cli('role', 'assignment', 'create', '--assignee', m.context.tenant.adminObjectId, '--role', 'Key Vault Secrets Officer', '--scope', vaultId);
    assert.equal(grant.code, 0, grant.stderr);

    assert.equal((await cli('keyvault', 'secret', 'set', '--vault-name', 'clivault', '-n', 'greeting', '--value', 'hello')).code, 0);
    assert.equal((await cli('keyvault', 'secret', 'set', '--vault-name', 'clivault', '-n', 'greeting', '--value', 'hello again')).code, 0);
    const shown = await cli('keyvault', 'secret', 'show', '--vault-name', 'clivault', '-n', 'greeting', '--json');
    assert.equal(shown.json().value, 'hello again');
    const versions = await cli('keyvault', 'secret', 'list-versions', '--vault-name', 'clivault', '-n', 'greeting', '--json');
    assert.equal(versions.json().length, 2);
    const listed = await cli('keyvault', 'secret', 'list', '--vault-name', 'clivault');
    assert.match(listed.stdout, /greeting/);
    assert.ok(!listed.stdout.includes('hello'), 'lists carry no values');

    const asSite = await cli('keyvault', 'secret', 'show', '--vault-name', 'clivault', '-n', 'greeting', '--as', siteId);
    assert.equal(asSite.code, 1);
    assert.match(asSite.stderr, /ForbiddenByRbac/);
    const principal = (await a.call('GET', siteId, undefined, '2023-12-01')).body.identity.principalId;
    assert.equal((await cli('role', 'assignment', 'create', '--assignee', principal, '--role', 'Key Vault Secrets User', '--scope', `${vaultId}/secrets/greeting`)).code, 0);
    const allowed = await cli('keyvault', 'secret', 'show', '--vault-name', 'clivault', '-n', 'greeting', '--as', 'cliweb', '--json');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(allowed.json().value, 'hello again');

    const deleted = await cli('keyvault', 'secret', 'delete', '--vault-name', 'clivault', '-n', 'greeting', '--json');
    assert.equal(deleted.json().recoveryId, 'https://clivault.vault.azure.net/deletedsecrets/greeting');
    assert.equal((await cli('keyvault', 'secret', 'show', '--vault-name', 'clivault', '-n', 'greeting')).code, 3);
    assert.match((await cli('keyvault', 'secret', 'list-deleted', '--vault-name', 'clivault')).stdout, /greeting/);
    assert.equal((await cli('keyvault', 'secret', 'recover', '--vault-name', 'clivault', '-n', 'greeting')).code, 0);
    assert.equal((await cli('keyvault', 'secret', 'show', '--vault-name', 'clivault', '-n', 'greeting', '--json')).json().value, 'hello again');
  });

  test('an access-policy vault with set-policy; keys and certificates', async () => {
    assert.equal((await cli('keyvault', 'create', '-g', RG, '-n', 'clipolicy', '--access-policies')).code, 0);
    const admin = m.context.tenant.adminObjectId;
    const denied = await cli('keyvault', 'key', 'create', '--vault-name', 'clipolicy', '-n', 'k');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /ForbiddenByPolicy/);
    const set = await cli('keyvault', 'set-policy', '-g', RG, '-n', 'clipolicy', '--object-id', admin, '--key-permissions', 'create get list', '--certificate-permissions', 'create get list', '--secret-permissions', 'get');
    assert.equal(set.code, 0, set.stderr);
    const key = await cli('keyvault', 'key', 'create', '--vault-name', 'clipolicy', '-n', 'k', '--kty', 'EC', '--curve', 'P-256', '--json');
    assert.equal(key.code, 0, key.stderr);
    assert.equal(key.json().key.crv, 'P-256');
    assert.match((await cli('keyvault', 'key', 'list', '--vault-name', 'clipolicy')).stdout, /\bk\b/);
    const cert = await cli('keyvault', 'certificate', 'create', '--vault-name', 'clipolicy', '-n', 'site', '--subject', 'CN=site.test', '--json');
    assert.equal(cert.code, 0, cert.stderr);
    assert.match(cert.json().x5t, /^[A-Za-z0-9_-]{27}$/);
    assert.equal((await cli('keyvault', 'delete-policy', '-g', RG, '-n', 'clipolicy', '--object-id', admin)).code, 0);
    assert.equal((await cli('keyvault', 'certificate', 'show', '--vault-name', 'clipolicy', '-n', 'site')).code, 1);

    // Deleted vaults: listed, recovered with their contents, purged.
    assert.equal((await cli('keyvault', 'set-policy', '-g', RG, '-n', 'clipolicy', '--object-id', admin, '--certificate-permissions', 'get')).code, 0);
    assert.equal((await cli('keyvault', 'delete', '-g', RG, '-n', 'clipolicy')).code, 0);
    assert.match((await cli('keyvault', 'list-deleted')).stdout, /clipolicy/);
    assert.equal((await cli('keyvault', 'create', '-g', RG, '-n', 'clipolicy')).code, 1, 'the name is held');
    const recovered = await cli('keyvault', 'recover', '-n', 'clipolicy');
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.equal((await cli('keyvault', 'certificate', 'show', '--vault-name', 'clipolicy', '-n', 'site')).code, 0);
    assert.equal((await cli('keyvault', 'delete', '-g', RG, '-n', 'clipolicy')).code, 0);
    assert.equal((await cli('keyvault', 'purge', '-n', 'clipolicy')).code, 0);
    assert.doesNotMatch((await cli('keyvault', 'list-deleted')).stdout, /clipolicy/);
  });
});
