// Tokens of a deleted user-assigned identity and of a disabled system-assigned identity. Azure
// keeps such access tokens valid until they expire (the identity's role assignments stay,
// orphaned), and so does Mimic by default, saying so in `mimic role check` and in the audit
// log (an entry per decision on such a token, with the principal's state);
// `mimic start --revoke-deleted-principals` refuses them at once, on every service of the matrix.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { serviceMatrix, type Matrix } from './services.js';

interface Gone {
  /** Genuine tokens of the identity, minted while it existed, per row. */
  tokens: Map<string, string>;
  principalId: string;
}

/** A user-assigned identity and a VM's system-assigned identity with every role, then deleted/disabled. */
async function goneIdentities(m: TestMimic, matrix: Matrix): Promise<{ uai: Gone; system: Gone }> {
  const { a, rgId, rows } = matrix;
  const uai = await a.call('PUT', `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ghost`, { location: 'eastus' }, '2023-01-31');
  assert.equal(uai.status, 201, uai.text);
  const vmId = `${rgId}/providers/Microsoft.Compute/virtualMachines/vm-ghost`;
  const vm = await a.call('PUT', vmId, { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} }, '2024-07-01');
  assert.ok(vm.status === 200 || vm.status === 201, vm.text);
  const ids = [uai.body.properties.principalId as string, vm.body.identity.principalId as string];
  for (const id of ids) await matrix.grantAll(id);
  const [uaiTokens, vmTokens] = ids.map((id) => new Map(rows.map((r) => [r.name, matrix.mint(id, r.audience)])));
  // Delete the one, disable the other (Azure deletes a system-assigned identity's principal).
  assert.equal((await a.call('DELETE', uai.body.id, undefined, '2023-01-31')).status, 200);
  const off = await a.call('PUT', vmId, { location: 'eastus', identity: { type: 'None' }, properties: {} }, '2024-07-01');
  assert.equal(off.status, 200, off.text);
  for (const id of ids) assert.equal(m.directory.byObject(id), undefined);
  return { uai: { tokens: uaiTokens!, principalId: ids[0]! }, system: { tokens: vmTokens!, principalId: ids[1]! } };
}

describe('tokens of deleted identities: valid until they expire by default, as in Azure', () => {
  let m: TestMimic;
  let matrix: Matrix;
  let gone: { uai: Gone; system: Gone };
  before(async () => {
    m = await startTestMimic('sqlite');
    matrix = await serviceMatrix(m, 'gone-default', 'gonedefault');
    gone = await goneIdentities(m, matrix);
  });
  after(() => m?.dispose());

  test('every row still admits the tokens (the orphaned role assignments still grant)', async () => {
    for (const g of [gone.uai, gone.system]) {
      for (const row of matrix.rows) {
        const r = await row.read(g.tokens.get(row.name));
        assert.equal(r.status, 200, `${row.name}: ${r.status} ${r.text}`);
      }
    }
  });

  test('the audit log notes every such request, on every row, with the principal\'s state and why it still works', async () => {
    const entriesOf = async (principalId: string) => {
      const r = await matrix.a.call('GET', `${matrix.rgId}/providers/Microsoft.Authorization/auditEvents?principalId=${principalId}&$top=1000`, undefined, '2022-04-01');
      assert.equal(r.status, 200, r.text);
      return r.body.value as Array<{ id: string; category: string; result: string; operation: string; scope: string; caller: { objectId: string }; principalState?: string; note?: string }>;
    };
    // Every row that makes an authorization decision (Graph makes none: it reads the directory).
    for (const [g, state] of [[gone.uai, 'deleted'], [gone.system, 'disabled']] as const) {
      for (const row of matrix.rows.filter((r) => r.rbac !== false)) {
        const before = new Set((await entriesOf(g.principalId)).map((e) => e.id));
        assert.equal((await row.read(g.tokens.get(row.name))).status, 200, row.name);
        const added = (await entriesOf(g.principalId)).filter((e) => !before.has(e.id));
        assert.ok(added.length >= 1, `${row.name}: an entry for the ${state} principal's request`);
        for (const e of added) {
          assert.equal(e.category, 'AccessGranted', `${row.name}: ${JSON.stringify(e)}`);
          assert.equal(e.result, 'Succeeded', row.name);
          assert.equal(e.caller.objectId, g.principalId, row.name);
          assert.equal(e.principalState, state, `${row.name}: ${JSON.stringify(e)}`);
          assert.match(e.note ?? '', /stay valid until they expire/, row.name);
          assert.match(e.note ?? '', /--revoke-deleted-principals/, row.name);
          assert.ok(e.scope.toLowerCase().startsWith(matrix.rgId.toLowerCase()), `${row.name}: scope ${e.scope}`);
        }
      }
    }
    // A refusal of such a token says so too (ARM: a group the identity holds no role on).
    const other = `${matrix.rgId}-elsewhere`;
    assert.equal((await matrix.a.call('PUT', other, { location: 'eastus' }, '2025-04-01')).status, 201);
    const arm = matrix.rows.find((r) => r.name === 'Resource Manager')!;
    const r = await matrix.a.client.send('GET', `${matrix.a.client.endpoints.armEndpoint}${other}?api-version=2025-04-01`, undefined, { authorization: `Bearer ${gone.uai.tokens.get(arm.name)}` });
    assert.equal(r.status, 403, r.text);
    const denied = await matrix.a.call('GET', `${other}/providers/Microsoft.Authorization/auditEvents?principalId=${gone.uai.principalId}&result=Denied`, undefined, '2022-04-01');
    assert.equal(denied.body.value.length, 1, denied.text);
    assert.equal(denied.body.value[0].category, 'AccessDenied');
    assert.equal(denied.body.value[0].principalState, 'deleted');
    // Living principals' requests add nothing (the note costs nothing on their path).
    const admin = m.context.tenant.adminObjectId;
    const adminBefore = (await entriesOf(admin)).length;
    for (const row of matrix.rows) assert.equal((await row.read(matrix.mint(admin, row.audience))).status, 200, row.name);
    assert.equal((await entriesOf(admin)).length, adminBefore);
    // `mimic log` shows the note.
    const log = await runCli(['log', '--principal', gone.system.principalId, '--data-dir', m.dataDir]);
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, /AccessGranted/);
    assert.match(log.stdout, /was disabled/);
  });

  test('`mimic role check` explains why, and names the stricter switch', async () => {
    const r = await runCli(['role', 'check', '--principal', gone.uai.principalId, '--action', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', '--scope', matrix.rgId, '--data-dir', m.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /stay valid until they expire/);
    assert.match(r.stdout, /--revoke-deleted-principals/);
  });
});

describe('mimic start --revoke-deleted-principals: such tokens are refused at once', () => {
  let m: TestMimic;
  let matrix: Matrix;
  let gone: { uai: Gone; system: Gone };
  before(async () => {
    m = await startTestMimic('sqlite', { env: { MIMIC_REVOKE_DELETED_PRINCIPALS: '1' } });
    matrix = await serviceMatrix(m, 'gone-strict', 'gonestrict');
    gone = await goneIdentities(m, matrix);
  });
  after(() => m?.dispose());

  test('every row answers its own 401 to both, on reads and writes, and nothing lands', async () => {
    for (const g of [gone.uai, gone.system]) {
      for (const row of matrix.rows) {
        row.is401(await row.read(g.tokens.get(row.name)), `${row.name} read`);
        row.is401(await row.write(g.tokens.get(row.name)), `${row.name} write`);
        assert.ok(await row.unchanged(), row.name);
      }
    }
  });

  test('living principals are unaffected', async () => {
    const admin = m.context.tenant.adminObjectId;
    for (const row of matrix.rows) assert.equal((await row.read(matrix.mint(admin, row.audience))).status, 200, row.name);
  });
});
