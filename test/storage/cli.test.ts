// `mimic storage blob upload|download|list` as the administrator (account key) and as a
// resource's managed identity (`--as`, judged by RBAC).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { arm, assignRole, containerAppWithIdentity, createAccount, createChild, ROLE, type Host } from './helpers.js';

describe('mimic storage blob', () => {
  let m: TestMimic;
  let host: Host;
  let container: string;
  const cli = (...args: string[]) => runCli(['storage', 'blob', ...args, '--account-name', 'mimiccli', '-c', 'files', '--data-dir', m.dataDir]);

  before(async () => {
    m = await startTestMimic('sqlite');
    const a = await arm(m);
    assert.equal((await a.call('PUT', `${a.sub}/resourceGroups/cli-rg`, { location: 'eastus' }, '2025-04-01')).status, 201);
    const account = await createAccount(a, 'cli-rg', 'mimiccli');
    container = await createChild(a, account, 'container', 'files');
    host = await containerAppWithIdentity(m, a, 'cli-rg', 'cliapp');
    await assignRole(a, container, ROLE.blobReader, host.principalId);
  });
  after(() => m.dispose());

  test('containers are created and listed through the Resource Manager', async () => {
    const made = await runCli(['storage', 'container', 'create', '--account-name', 'mimiccli', '-n', 'extra', '--data-dir', m.dataDir, '--json']);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(JSON.parse(made.stdout).type, 'Microsoft.Storage/storageAccounts/blobServices/containers');
    const list = await runCli(['storage', 'container', 'list', '--account-name', 'mimiccli', '--data-dir', m.dataDir, '--json']);
    assert.deepEqual(JSON.parse(list.stdout).map((c: { name: string }) => c.name).sort(), ['extra', 'files']);
    const empty = await runCli(['storage', 'blob', 'list', '--account-name', 'mimiccli', '-c', 'extra', '--data-dir', m.dataDir]);
    assert.equal(empty.stdout, '(none)\n');
  });

  test('the administrator uploads, lists and downloads with the account key', async () => {
    const file = join(m.dataDir, 'report.txt');
    await writeFile(file, 'quarterly numbers');
    const up = await cli('upload', '-n', 'dir/report.txt', '-f', file, '--json');
    assert.equal(up.code, 0, up.stderr);
    assert.equal(JSON.parse(up.stdout).size, 17);
    const again = await cli('upload', '-n', 'dir/report.txt', '-f', file);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /BlobAlreadyExists/);
    const list = await cli('list', '--json');
    assert.deepEqual(JSON.parse(list.stdout).map((b: { name: string }) => b.name), ['dir/report.txt']);
    const out = join(m.dataDir, 'copy.txt');
    const down = await cli('download', '-n', 'dir/report.txt', '-f', out);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await readFile(out, 'utf8'), 'quarterly numbers');
  });

  test('--as a resource is judged by its identity\'s roles', async () => {
    const down = await cli('download', '-n', 'dir/report.txt', '--as', host.id);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.stdout, 'quarterly numbers');
    const file = join(m.dataDir, 'other.txt');
    await writeFile(file, 'x');
    const up = await cli('upload', '-n', 'other.txt', '-f', file, '--as', host.id);
    assert.equal(up.code, 1);
    assert.match(up.stderr, /AuthorizationPermissionMismatch/);
    const missing = await cli('download', '-n', 'nope.txt', '--as', host.id);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /BlobNotFound/);
  });
});
