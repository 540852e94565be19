// Tokens of a deleted user-assigned identity and of a disabled system-assigned identity. Azure
// keeps such access tokens valid until they expire (the identity's role assignments stay,
// orphaned), and so does Mimic by default, saying so in `mimic role check`;
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
