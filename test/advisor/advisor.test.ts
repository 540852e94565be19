// The access advisor end to end with the real SDKs: a site's identity starts with broad roles
// (Contributor on the subscription, Key Vault Secrets Officer on a vault, Storage Blob Data
// Contributor on the account), its code runs under
// `mimic run --as`, the advisor narrows the roles to what the code used, the narrowed
// assignments are applied with the advisor's own commands, and the same code runs green while
// any write is refused. Then: refused calls name the role that would allow them; orphaned
// assignments and badly named identities are reported; SARIF validates against the official
// 2.1.0 schema; `--fail-on` gates on severity.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { CLI, FIXTURES, ROOT, runCli, runNode, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { arm, assignRole, createGroup, createVault, deleteAssignment, kv, ROLES, type Arm, type Vault } from '../keyvault/helpers.js';
import { createAccount, createChild, sdk, type Account } from '../storage/helpers.js';
import type { AdvisorReport } from '../../src/advisor/api.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const RG = 'rg-advisor';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const BLOB_DATA_CONTRIBUTOR = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe';

interface Step {
  ok: boolean;
  value?: unknown;
  status?: number;
  code?: string;
  message?: string;
}

describe('the access advisor', () => {
  let m: TestMimic;
  let a: Arm;
  let vault: Vault;
  let account: Account;
  let container: string;
  let site: { id: string; principalId: string };
  let broad: string[];

  /** The app fixture under `mimic run --as` the site. */
  async function app(steps: Record<string, unknown>[]): Promise<Step[]> {
    const spec = { vaultUrl: vault.uri, blobEndpoint: account.endpoints.blob, steps };
    const r = await runNode(CLI, ['run', '--as', site.id, '--data-dir', m.dataDir, '--', process.execPath, join(FIXTURES, 'advisor/app.mjs'), JSON.stringify(spec)], {});
    const last = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return (JSON.parse(last) as { results: Step[] }).results;
    } catch {
      throw new Error(`mimic run exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    }
  }

  async function advisor(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return runCli(['advisor', ...args, '--data-dir', m.dataDir]);
  }

  async function report(args: string[]): Promise<AdvisorReport> {
    const r = await advisor([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as AdvisorReport;
  }

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    await createGroup(a, RG);
    vault = await createVault(a, RG, 'kv-advisor-1');
    await assignRole(a, vault.id, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    const seeded = await kv(m, vault, { admin: true }, [
      { op: 'setSecret', name: 'db', value: 'db-pass' },
      { op: 'setSecret', name: 'api', value: 'api-key' },
      { op: 'setSecret', name: 'other', value: 'x' },
    ]);
    assert.ok(seeded.every((s) => s.ok), JSON.stringify(seeded));
    account = await createAccount(a, RG, 'stadvisor1');
    container = await createChild(a, account, 'container', 'reports');
    const up = await sdk(account, { key: true, env: m.adminEnv }, [{ op: 'upload', container: 'reports', blob: 'q1.txt', text: 'hello' }]);
    assert.ok(up[0]!.ok, JSON.stringify(up));
    const web = await a.call('PUT', `${a.sub}/resourceGroups/${RG}/providers/Microsoft.Web/sites/app-web`, { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} }, '2023-12-01');
    assert.equal(web.status, 201, web.text);
    site = { id: web.body.id, principalId: web.body.identity.principalId };
    // Contributor grants no data actions (as in Azure), so the broad start also holds a storage
    // data role at the account: blobs need one.
    broad = [
      await assignRole(a, a.sub, CONTRIBUTOR, site.principalId),
      await assignRole(a, vault.id, ROLES.secretsOfficer, site.principalId),
      await assignRole(a, account.id, BLOB_DATA_CONTRIBUTOR, site.principalId),
    ];
    const reset = await advisor(['reset']);
    assert.equal(reset.code, 0, reset.stderr);
  });
  after(() => m.dispose());

  test('broad roles: the advisor recommends Secrets User on the two secrets and Blob Data Reader on the container, and marks Contributor', async () => {
    const run = await app([
      { op: 'getSecret', name: 'db' },
      { op: 'getSecret', name: 'api' },
      { op: 'listBlobs', container: 'reports' },
    ]);
    assert.deepEqual(run.map((s) => s.ok), [true, true, true], JSON.stringify(run));
    assert.deepEqual(run[2]!.value, ['q1.txt']);

    const r = await report(['--principal', site.id]);
    assert.equal(r.value.length, 1);
    const rec = r.value[0]!;
    assert.equal(rec.principalId, site.principalId.toLowerCase());
    const set = rec.roleSet.map((x) => [x.roleName, x.scope.toLowerCase()]).sort();
    assert.deepEqual(set, [
      ['Key Vault Secrets User', `${vault.id}/secrets/api`.toLowerCase()],
      ['Key Vault Secrets User', `${vault.id}/secrets/db`.toLowerCase()],
      ['Storage Blob Data Reader', container.toLowerCase()],
    ]);
    assert.deepEqual(rec.diff.remove.map((x) => x.id).sort(), [...broad].sort());
    const contributor = rec.unused.find((u) => u.assignmentId === broad[0]);
    assert.equal(contributor?.unused, true, JSON.stringify(rec.unused));
    assert.ok(r.findings.some((f) => f.rule === 'privileged-broad' && f.severity === 'high' && f.target === broad[0]), JSON.stringify(r.findings));
    assert.ok(r.findings.some((f) => f.rule === 'unused-grant' && f.severity === 'high' && f.target === broad[0]));

    // A lower threshold grants at the vault instead of secret by secret.
    const wide = await report(['--principal', site.id, '--scope-threshold', '1']);
    assert.deepEqual(wide.value[0]!.roleSet.filter((x) => x.roleName === 'Key Vault Secrets User').map((x) => x.scope.toLowerCase()), [vault.id.toLowerCase()]);

    // The same by resource, and in text.
    const byResource = await report(['--resource', site.id]);
    assert.deepEqual(byResource.value.map((x) => x.principalId), [site.principalId.toLowerCase()]);
    const text = await advisor(['--principal', site.id]);
    assert.equal(text.code, 0, text.stderr);
    assert.ok(text.stdout.includes('Key Vault Secrets User') && text.stdout.includes('[HIGH]'), text.stdout);

    // A high finding exists: --fail-on high fails.
    const gate = await advisor(['--principal', site.id, '--fail-on', 'high']);
    assert.equal(gate.code, 4, gate.stderr);
  });

  test("applying the advisor's commands keeps the code green and refuses writes, which name the role that would allow them", async () => {
    const rec = (await report(['--principal', site.id])).value[0]!;
    // Run the printed commands as they are, with `mimic` on the PATH as a function.
    const script = [`mimic() { "${process.execPath}" "${CLI}" "$@"; }`, 'set -e', ...rec.apply.cli].join('\n');
    const applied = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', MIMIC_DATA_DIR: m.dataDir } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(applied.code, 0, applied.out);

    const again = await app([
      { op: 'getSecret', name: 'db' },
      { op: 'getSecret', name: 'api' },
      { op: 'listBlobs', container: 'reports' },
      { op: 'getSecret', name: 'other' },
      { op: 'setSecret', name: 'db', value: 'changed' },
      { op: 'upload', container: 'reports', blob: 'q2.txt', text: 'nope' },
    ]);
    assert.deepEqual(again.map((s) => s.ok), [true, true, true, false, false, false], JSON.stringify(again));
    assert.deepEqual(again.slice(3).map((s) => s.status), [403, 403, 403]);

    const after = await report(['--principal', site.id]);
    const now = after.value[0]!;
    assert.deepEqual(now.diff.remove, [], 'nothing broad is left');
    assert.equal(now.diff.add.length, 0, JSON.stringify(now.diff.add));
    assert.ok(!after.findings.some((f) => f.severity === 'high'), JSON.stringify(after.findings));
    const refused = new Map(now.refused.map((f) => [f.action.toLowerCase(), f]));
    assert.equal(refused.get('microsoft.keyvault/vaults/secrets/setsecret/action')?.nearestRole?.roleName, 'Key Vault Secrets Officer', JSON.stringify(now.refused));
    assert.equal(refused.get('microsoft.keyvault/vaults/secrets/getsecret/action')?.nearestRole?.roleName, 'Key Vault Secrets User');
    const upload = now.refused.find((f) => f.action.toLowerCase().startsWith('microsoft.storage/storageaccounts/blobservices/containers/blobs/'));
    assert.ok(upload?.nearestRole, JSON.stringify(now.refused));
    assert.match(upload.nearestRole.roleName, /^Storage Blob Data (Contributor|Owner)$/);
    // explain()'s near misses say why the current assignments did not allow it.
    assert.ok(refused.get('microsoft.keyvault/vaults/secrets/setsecret/action')!.nearMisses.some((w) => w.includes('Key Vault Secrets User')));
    const gate = await advisor(['--principal', site.id, '--fail-on', 'high']);
    assert.equal(gate.code, 0, gate.stderr);
  });

  test('orphaned assignments and badly named identities are reported; SARIF validates against the 2.1.0 schema', async () => {
    const good = await a.call('PUT', `${a.sub}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders-prod-weu-01`, { location: 'eastus' }, '2023-01-31');
    const bad = await a.call('PUT', `${a.sub}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/OrdersIdentity`, { location: 'eastus' }, '2023-01-31');
    const gone = await a.call('PUT', `${a.sub}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-gone-dev-weu-01`, { location: 'eastus' }, '2023-01-31');
    for (const r of [good, bad, gone]) assert.equal(r.status, 201, r.text);
    const orphan = await assignRole(a, `${a.sub}/resourceGroups/${RG}`, READER, gone.body.properties.principalId);
    assert.equal((await a.call('DELETE', gone.body.id, undefined, '2023-01-31')).status, 200);

    const policies = await createVault(a, RG, 'kv-advisor-old', { enableRbacAuthorization: false, accessPolicies: [] });

    const r = await report(['--all']);
    assert.ok(r.findings.some((f) => f.rule === 'orphaned' && f.target === orphan), JSON.stringify(r.findings));
    assert.deepEqual(r.findings.filter((f) => f.rule === 'vault-access-policies').map((f) => f.target.toLowerCase()), [policies.id.toLowerCase()]);
    const naming = r.findings.filter((f) => f.rule === 'naming').map((f) => f.target.toLowerCase());
    assert.ok(naming.includes(bad.body.id.toLowerCase()), JSON.stringify(naming));
    assert.ok(!naming.includes(good.body.id.toLowerCase()));
    // A custom convention accepts the other name instead.
    const custom = await report(['--all', '--naming-pattern', '^[A-Z][A-Za-z]+$']);
    const customNaming = custom.findings.filter((f) => f.rule === 'naming').map((f) => f.target.toLowerCase());
    assert.ok(customNaming.includes(good.body.id.toLowerCase()) && !customNaming.includes(bad.body.id.toLowerCase()));

    const sarifRun = await advisor(['--all', '--sarif']);
    assert.equal(sarifRun.code, 0, sarifRun.stderr);
    const sarif = JSON.parse(sarifRun.stdout) as { version: string; runs: { results: unknown[] }[] };
    // The official schema is draft-04 (`id`); ajv 8 reads it as draft-07 once `id` is `$id`.
    const schema = JSON.parse(await readFile(join(FIXTURES, 'advisor/sarif-schema-2.1.0.json'), 'utf8'));
    delete schema.$schema;
    schema.$id = schema.id;
    delete schema.id;
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
    const validate = ajv.compile(schema);
    assert.ok(validate(sarif), JSON.stringify(validate.errors, null, 1));
    assert.equal(sarif.version, '2.1.0');
    const results = sarif.runs[0].results as { ruleId: string; level: string; locations: { logicalLocations: { fullyQualifiedName: string }[] }[] }[];
    assert.ok(results.some((x) => x.ruleId === 'MIMIC003' && x.level === 'warning' && x.locations[0]!.logicalLocations[0]!.fullyQualifiedName === orphan));
    // A schema violation is caught (the validator is not vacuous).
    assert.equal(validate({ ...sarif, version: '2.0.0' }), false);

    // No high finding is left after the narrowing; a low one is.
    assert.equal((await advisor(['--all', '--fail-on', 'high'])).code, 0);
    assert.equal((await advisor(['--all', '--fail-on', 'low'])).code, 4);
    assert.equal((await advisor(['--all', '--sarif', '--fail-on', 'high'])).code, 0);
    assert.equal((await advisor(['--all', '--sarif', '--fail-on', 'medium'])).code, 4);
    await deleteAssignment(a, orphan);
    const usage = await advisor(['--all', '--fail-on', 'bogus']);
    assert.equal(usage.code, 2);
  });
});
