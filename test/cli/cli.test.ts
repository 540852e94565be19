// The `mimic` CLI against a running instance: human and JSON output, clear errors, exit codes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMimic, runCli, type TestMimic } from '../helpers/mimic.js';

describe('mimic CLI', () => {
  let mimic: TestMimic;
  let d: string[];
  before(async () => {
    mimic = await startTestMimic();
    d = ['--data-dir', mimic.dataDir];
  });
  after(() => mimic.dispose());

  test('env --admin prints shell exports and JSON with every variable', async () => {
    const shell = await runCli(['env', '--admin', ...d]);
    assert.equal(shell.code, 0);
    for (const k of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_AUTHORITY_HOST', 'AZURE_SUBSCRIPTION_ID', 'NODE_EXTRA_CA_CERTS', 'MIMIC_ARM_ENDPOINT', 'NODE_OPTIONS']) {
      assert.match(shell.stdout, new RegExp(`^export ${k}='`, 'm'));
    }
    const json = JSON.parse((await runCli(['env', '--admin', '--json', ...d])).stdout);
    assert.deepEqual(json, mimic.adminEnv);
    // The exports work in a real shell.
    const check = await new Promise<string>((resolve) => {
      import('node:child_process').then(({ execFile }) => execFile('sh', ['-c', `${shell.stdout}\nprintf %s "$AZURE_TENANT_ID"`], (_e, out) => resolve(out)));
    });
    assert.equal(check, mimic.endpoints.tenantId);
  });

  test('a second start on the same data directory is refused clearly, and the first keeps serving', async () => {
    const second = await runCli(['start', '--port', '0', ...d]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /data directory .* is in use by another Mimic process/);
    const list = await runCli(['group', 'list', '--json', ...d]);
    assert.equal(list.code, 0, list.stderr);
  });

  test('group, identity and resource commands round trip with --json', async () => {
    let r = await runCli(['group', 'create', '-n', 'cli-rg', '-l', 'northeurope', '--json', ...d]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).location, 'northeurope');
    r = await runCli(['identity', 'create', '-g', 'cli-rg', '-n', 'cli-id', '--json', ...d]);
    assert.equal(r.code, 0, r.stderr);
    const id = JSON.parse(r.stdout);
    assert.equal(id.location, 'northeurope', 'defaults to the group location');
    r = await runCli(['resource', 'create', '-g', 'cli-rg', '-n', 'cli-app', '--type', 'Microsoft.Web/sites', '--assign-identity', 'system', 'cli-id', '--json', ...d]);
    assert.equal(r.code, 0, r.stderr);
    const site = JSON.parse(r.stdout);
    assert.equal(site.identity.type, 'SystemAssigned, UserAssigned');
    assert.deepEqual(site.identity.userAssignedIdentities[id.id], { principalId: id.properties.principalId, clientId: id.properties.clientId });
    r = await runCli(['identity', 'list', '-g', 'cli-rg', ...d]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^name\s+type\s+location\s+principalId\s+clientId/m);
    assert.match(r.stdout, new RegExp(`cli-id .* ${id.properties.principalId}`));
    r = await runCli(['identity', 'show', '-g', 'cli-rg', '-n', 'cli-id', ...d]);
    assert.match(r.stdout, new RegExp(`properties.clientId\\s+${id.properties.clientId}`));
    r = await runCli(['identity', 'delete', '-g', 'cli-rg', '-n', 'cli-id', ...d]);
    assert.equal(r.code, 0);
    r = await runCli(['group', 'delete', '-n', 'cli-rg', ...d]);
    assert.equal(r.code, 0);
  });

  test('errors are clear, with script-friendly exit codes', async () => {
    let r = await runCli(['identity', 'show', '-g', 'missing-rg', '-n', 'x1y', ...d]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /ResourceGroupNotFound/);
    await runCli(['group', 'create', '-n', 'err-rg', ...d]);
    r = await runCli(['identity', 'create', '-g', 'err-rg', '-n', 'x', ...d]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^mimic: \(InvalidResourceName\)/);
    r = await runCli(['identity', 'create', ...d]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /required option/);
    r = await runCli(['group', 'list', '--data-dir', '/nonexistent/dir']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has not been started/);
  });
});
