// Debian's Python Azure SDK (azure-identity 1.13, keyvault-secrets 4.7, storage-blob 12.15,
// mgmt-msi, mgmt-authorization) against Mimic with Azure's default endpoints and authority:
// only `mimic env`'s proxy and CA bundle make login.microsoftonline.com, management.azure.com,
// {vault}.vault.azure.net and {account}.blob.core.windows.net reach Mimic. The scripts are in
// test/fixtures/python/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { createGroup, identityBody, putHost, type Host } from '../managedIdentity/helpers.js';
import { runWith } from './helpers.js';
import { assignRole, defaultCloudAdminEnv, lastJson, PYTHON, ROLES, runAs } from './azureClients.js';

const RG = 'rg-python';
const VAULT = 'kv-python-1';
const ACCOUNT = 'stpython1';
const script = (name: string) => join(FIXTURES, 'python', name);

describe('Python Azure SDK (Debian python3-azure) with Azure default endpoints', () => {
  let m: TestMimic;
  let env: Record<string, string>;
  let vm: Host;
  let site: Host;
  let vaultId: string;
  let accountId: string;
  const py = (name: string, args: string[], extra: Record<string, string> = {}) => runWith(PYTHON, [script(name), ...args], { ...env, ...extra }, { timeoutMs: 120_000 });

  before(async () => {
    m = await startTestMimic();
    env = await defaultCloudAdminEnv(m);
    await createGroup(m, RG);
    vm = await putHost(m, RG, 'Microsoft.Compute', ['virtualMachines', 'vm-py'], { identity: identityBody(true) });
    site = await putHost(m, RG, 'Microsoft.Web', ['sites', 'site-py'], { kind: 'app', identity: identityBody(true) });
    vaultId = (await putHost(m, RG, 'Microsoft.KeyVault', ['vaults', VAULT], { properties: { tenantId: m.endpoints.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true } })).id;
    await putHost(m, RG, 'Microsoft.KeyVault', ['vaults', VAULT, 'secrets', 'greeting'], { properties: { value: 'hello python' } });
    accountId = (await putHost(m, RG, 'Microsoft.Storage', ['storageAccounts', ACCOUNT], { kind: 'StorageV2', sku: { name: 'Standard_LRS' }, properties: {} })).id;
  });
  after(async () => m.dispose());

  test('the environment names no Mimic endpoint for the SDK: Azure defaults, proxy and CA bundle only', () => {
    assert.equal(env.AZURE_AUTHORITY_HOST, undefined);
    assert.ok(env.HTTPS_PROXY && env.REQUESTS_CA_BUNDLE);
  });

  test('azure-mgmt-msi and azure-mgmt-authorization with DefaultAzureCredential on management.azure.com', async () => {
    const r = await py('mgmt.py', [RG, 'id-python']);
    const out = lastJson<{ identity: { id: string; principalId: string; clientId: string }; assignment: { principalId: string; roleDefinitionId: string }; listed: boolean }>(r);
    assert.match(out.identity.id, /\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/id-python$/);
    assert.equal(out.assignment.principalId, out.identity.principalId);
    assert.ok(out.assignment.roleDefinitionId.endsWith(ROLES.reader));
    assert.equal(out.listed, true);
    // Mimic has it: the identity is a real service principal now.
    assert.equal(m.directory.byObject(out.identity.principalId)?.appId, out.identity.clientId);
  });

  test('SecretClient on https://{vault}.vault.azure.net: refused without a data role, allowed with one', async () => {
    const url = `https://${VAULT}.vault.azure.net`;
    const refused = lastJson(await py('secret.py', [url, 'greeting']));
    assert.equal(refused.status, 403, JSON.stringify(refused));
    assert.equal(refused.code, 'Forbidden');
    await assignRole(m, vaultId, ROLES.keyVaultSecretsUser, m.context.tenant.adminObjectId);
    assert.deepEqual(lastJson(await py('secret.py', [url, 'greeting'])), { status: 200, value: 'hello python' });
    // With AZURE_AUTHORITY_HOST=https://localhost:PORT kept, MSAL Python asks for instance discovery
    // with the port dropped from the authority; Mimic's answer puts it back.
    assert.equal(m.endpoints.authorityHost, m.endpoints.origin);
    assert.deepEqual(lastJson(await py('secret.py', [url, 'greeting'], { AZURE_AUTHORITY_HOST: m.endpoints.authorityHost })), { status: 200, value: 'hello python' });
  });

  test('BlobServiceClient on https://{account}.blob.core.windows.net with DefaultAzureCredential', async () => {
    const url = `https://${ACCOUNT}.blob.core.windows.net`;
    const refused = lastJson(await py('blob.py', [url, 'refused']));
    assert.equal(refused.status, 403, JSON.stringify(refused));
    await assignRole(m, accountId, ROLES.storageBlobDataContributor, m.context.tenant.adminObjectId);
    const ok = lastJson(await py('blob.py', [url, 'pycontainer']));
    assert.deepEqual(ok, { status: 200, data: 'hello from python', names: ['hello.txt'] });
  });

  test('ManagedIdentityCredential under `mimic run --as` in every flavour', async () => {
    const cases: Array<{ host: Host; name: string; flavour?: string; credential: string }> = [
      { host: vm, name: 'vm-py', credential: 'ImdsCredential' },
      { host: site, name: 'site-py', credential: 'AppServiceCredential' },
      { host: vm, name: 'vm-py', flavour: 'cloudShell', credential: 'CloudShellCredential' },
      { host: vm, name: 'vm-py', flavour: 'machineLearning', credential: 'AzureMLCredential' },
      { host: vm, name: 'vm-py', flavour: 'serviceFabric', credential: 'ServiceFabricCredential' },
    ];
    for (const c of cases) {
      const r = await runAs(m, c.name, [PYTHON, script('mi_token.py'), 'https://vault.azure.net/.default'], {}, c.flavour);
      const out = lastJson(r);
      assert.equal(out.credential, c.credential, `${c.name} ${c.flavour ?? ''}: ${r.stderr}`);
      assert.equal(out.aud, 'https://vault.azure.net');
      assert.equal(out.oid, c.host.principalId);
      assert.equal(String(out.xms_mirid).toLowerCase(), c.host.id.toLowerCase());
      assert.ok(Number(out.expiresOn) > Date.now() / 1000 + 600);
    }
  });

  test('a managed identity reads the secret through SecretClient once it holds a role', async () => {
    const url = `https://${VAULT}.vault.azure.net`;
    const before = lastJson(await runAs(m, 'vm-py', [PYTHON, script('secret.py'), url, 'greeting']));
    assert.equal(before.status, 403);
    await assignRole(m, vaultId, ROLES.keyVaultSecretsUser, vm.principalId!);
    assert.deepEqual(lastJson(await runAs(m, 'vm-py', [PYTHON, script('secret.py'), url, 'greeting'])), { status: 200, value: 'hello python' });
  });
});
