// `mimic env --as`, `mimic run --as` and `mimic token --as` end to end: the CLI process talks
// to a running Mimic, and programs run under it use the real SDKs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI, FIXTURES, ROOT, runCli, runNode, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { adminCaller, createGroup, createUai, envAs, identityBody, putHost, rid, verifyToken } from './helpers.js';

const CREDENTIAL = join(FIXTURES, 'mi/credential.mjs');
const RG = 'rg-cli';

function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

describe('mimic env/run/token --as', () => {
  let m: TestMimic;
  before(async () => {
    m = await startTestMimic();
    await createGroup(m, RG);
  });
  after(async () => {
    await m.dispose();
  });

  test('env --as prints the flavour variables, unsetting what would pick another identity', async () => {
    const site = await putHost(m, RG, 'Microsoft.Web', ['sites', 'site-env'], { identity: identityBody(true) });
    const shell = await runCli(['env', '--as', 'site-env', '--data-dir', m.dataDir]);
    assert.equal(shell.code, 0, shell.stderr);
    const lines = shell.stdout.trim().split('\n');
    assert.match(lines[0]!, /^unset .*\bAZURE_CLIENT_SECRET\b/);
    assert.ok(!/\bIDENTITY_HEADER\b/.test(lines[0]!), 'variables that are set are not unset');
    assert.ok(lines.some((l) => /^export IDENTITY_ENDPOINT='http:\/\/127\.0\.0\.1:\d+\/msi\/token'$/.test(l)));
    assert.ok(lines.some((l) => /^export IDENTITY_HEADER='[0-9a-f]{64}'$/.test(l)));
    assert.ok(lines.some((l) => l.startsWith('export NODE_EXTRA_CA_CERTS=')));
    const json = await runCli(['env', '--as', site.id, '--client-id', '00000000-0000-0000-0000-000000000001', '--data-dir', m.dataDir, '--json']);
    const env = JSON.parse(json.stdout) as Record<string, string>;
    assert.equal(env.AZURE_CLIENT_ID, '00000000-0000-0000-0000-000000000001');
    assert.equal(env.MIMIC_ARM_ENDPOINT, m.endpoints.armEndpoint);
    assert.equal(env.AZURE_AUTHORITY_HOST, m.endpoints.authorityHost);
  });

  test('env --as names resources by id or unique name, and says why it cannot', async () => {
    await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'twin'], {});
    await createGroup(m, 'rg-cli-2');
    await putHost(m, 'rg-cli-2', 'Microsoft.Compute', ['virtualMachines', 'twin'], {});
    const ambiguous = await runCli(['env', '--as', 'twin', '--data-dir', m.dataDir]);
    assert.notEqual(ambiguous.code, 0);
    assert.match(ambiguous.stderr, /AmbiguousResourceName.*rg-cli\/providers.*rg-cli-2\/providers/s);
    const missing = await runCli(['env', '--as', 'no-such-thing', '--data-dir', m.dataDir]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /ResourceNotFound/);

    const factory = await putHost(m, RG, 'Microsoft.DataFactory', ['factories', 'adf1'], { identity: identityBody(true) });
    const none = await runCli(['env', '--as', factory.id, '--data-dir', m.dataDir]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /runs no code of yours/);
    const forced = await runCli(['env', '--as', factory.id, '--flavour', 'imds', '--data-dir', m.dataDir, '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(JSON.parse(forced.stdout).AZURE_POD_IDENTITY_AUTHORITY_HOST);

    const arc = await putHost(m, RG, 'Microsoft.HybridCompute', ['machines', 'arc1'], { identity: identityBody(true) });
    const arcEnv = await runCli(['env', '--as', arc.id, '--data-dir', m.dataDir, '--json']);
    assert.equal(arcEnv.code, 0, arcEnv.stderr);
    assert.ok(JSON.parse(arcEnv.stdout).AZURE_POD_IDENTITY_AUTHORITY_HOST, 'Arc machines are served through IMDS');
    assert.match(arcEnv.stderr, /azcmagent/);
    assert.equal((await runCli(['env', '--as', arc.id, '--flavour', 'bogus', '--data-dir', m.dataDir])).code, 1);
  });

  test('a program under run --as follows the site\'s system-assigned identity through disable, re-enable and delete', async () => {
    const site = await putHost(m, RG, 'Microsoft.Web', ['sites', 'site-run'], { identity: identityBody(true) });
    const before = await envAs(m, site.id);
    const run = (args: string[]) => runCli(['run', '--as', site.id, '--data-dir', m.dataDir, '--', process.execPath, CREDENTIAL, ...args]);
    const first = lastJson((await run(['dac'])).stdout);
    assert.equal(first.ok, true, String(first.message));
    assert.equal((await verifyToken(m, String(first.token), 'https://management.azure.com')).oid, site.principalId);

    await putHost(m, RG, 'Microsoft.Web', ['sites', 'site-run'], { identity: { type: 'None' } }, 'patch');
    const reenabled = await putHost(m, RG, 'Microsoft.Web', ['sites', 'site-run'], { identity: { type: 'SystemAssigned' } }, 'patch');
    assert.notEqual(reenabled.principalId, site.principalId);
    const second = lastJson((await run(['mic'])).stdout);
    assert.equal(second.ok, true, String(second.message));
    const claims = await verifyToken(m, String(second.token), 'https://management.azure.com');
    assert.equal(claims.oid, reenabled.principalId);

    // A program still holding the secret from before the identity changed gets an error.
    const stale = lastJson((await runNode(CREDENTIAL, ['mic'], before)).stdout);
    assert.equal(stale.ok, false);

    const current = await envAs(m, site.id);
    await m.arm.deleteResource(adminCaller(m), rid(m, RG, 'Microsoft.Web', ['sites'], ['site-run']));
    const gone = lastJson((await runNode(CREDENTIAL, ['mic'], current)).stdout);
    assert.equal(gone.ok, false);
    assert.equal(gone.token, undefined);
    assert.match(String(gone.message), /unauthorized_client/);
    const rerun = await run(['mic']);
    assert.equal(rerun.code, 3);
    assert.match(rerun.stderr, /ResourceNotFound/);
  });

  test('run passes stdin, stdout, stderr and the exit code through, without the caller\'s credentials', async () => {
    await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-pipe'], { identity: identityBody(true) });
    const script = "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{process.stdout.write(s.toUpperCase());process.stderr.write('err-line');console.log(JSON.stringify({secret:process.env.AZURE_CLIENT_SECRET??null,imds:!!process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST,opts:process.env.NODE_OPTIONS}));process.exit(7)})";
    const r = await runNode(CLI, ['run', '--as', 'vm-pipe', '--data-dir', m.dataDir, '--', process.execPath, '-e', script], m.adminEnv, { input: 'hello' });
    assert.equal(r.code, 7, r.stderr);
    assert.ok(r.stdout.startsWith('HELLO'));
    assert.match(r.stderr, /err-line/);
    const seen = lastJson(r.stdout.slice('HELLO'.length));
    assert.equal(seen.secret, null, "the administrator's secret does not leak into the program");
    assert.equal(seen.imds, true);
    assert.match(String(seen.opts), /route-azure-hosts/);
    const missing = await runCli(['run', '--as', 'vm-pipe', '--data-dir', m.dataDir, '--', join(ROOT, 'no-such-command')]);
    assert.equal(missing.code, 127);
  });

  test('run forwards signals to the program and reports how it ended', async () => {
    await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-signal'], { identity: identityBody(true) });
    const script = "process.on('SIGTERM',()=>{console.log('got SIGTERM');process.exit(0)});console.log('ready');setInterval(()=>{},1000)";
    const child = spawn(process.execPath, [CLI, 'run', '--as', 'vm-signal', '--data-dir', m.dataDir, '--', process.execPath, '-e', script], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no 'ready' in time: ${out}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /got SIGTERM/);

    const killed = spawn(process.execPath, [CLI, 'run', '--as', 'vm-signal', '--data-dir', m.dataDir, '--', process.execPath, '-e', "process.kill(process.pid,'SIGKILL')"], { env: { PATH: process.env.PATH ?? '' }, stdio: 'ignore' });
    const end = await new Promise<{ code: number | null; signal: string | null }>((resolve) => killed.on('exit', (code, signal) => resolve({ code, signal })));
    assert.equal(end.signal, 'SIGKILL');
  });

  test('token --as prints the token of the identity asked for, or its claims', async () => {
    const uai = await createUai(m, RG, 'uai-cli');
    const vm = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-token'], { identity: identityBody(true, [uai]) });
    const plain = await runCli(['token', '--as', 'vm-token', '--resource', 'https://vault.azure.net', '--data-dir', m.dataDir]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal((await verifyToken(m, plain.stdout.trim(), 'https://vault.azure.net')).oid, vm.principalId);
    const decoded = await runCli(['token', '--as', vm.id, '--client-id', uai.clientId, '--resource', 'https://storage.azure.com/', '--decode', '--data-dir', m.dataDir]);
    assert.equal(decoded.code, 0, decoded.stderr);
    const { header, claims } = JSON.parse(decoded.stdout) as { header: Record<string, string>; claims: Record<string, string> };
    assert.equal(header.alg, 'RS256');
    assert.equal(claims.oid, uai.principalId);
    assert.equal(claims.aud, 'https://storage.azure.com/');
    const wrong = await runCli(['token', '--as', 'vm-token', '--resource', 'https://nope.example/', '--data-dir', m.dataDir]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /InvalidResource.*AADSTS500011/);
  });
});
