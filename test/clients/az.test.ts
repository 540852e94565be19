// Debian's Azure CLI 2.45 against Mimic with Azure's default cloud: `mimic env --admin`'s
// proxy and CA bundle are all it gets (no custom cloud, no AZURE_AUTHORITY_HOST), and managed
// identities through `mimic run --as` (App Service's MSI_ENDPOINT/MSI_SECRET and IMDS at
// 169.254.169.254). Each az gets its own config dir. az takes 1-3 s per command, so each test
// chains a scenario instead of starting from scratch.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startTestMimic, type RunResult, type TestMimic } from '../helpers/mimic.js';
import { runWith } from './helpers.js';
import { assignRole, azSettings, claimsOf, defaultCloudAdminEnv, ROLES, runAs } from './azureClients.js';

const RG = 'rg-az';
const VAULT = 'kv-az-cli-1';
const ACCOUNT = 'stazcli1';

describe('Azure CLI 2.45 (Debian) with Azure default cloud', () => {
  let m: TestMimic;
  let dir: string;
  let adminEnv: Record<string, string>;
  let sub: string;
  const az = async (args: string[], extra: Record<string, string> = {}): Promise<RunResult> => runWith('az', [...args, '--only-show-errors'], { ...adminEnv, ...extra }, { timeoutMs: 120_000 });
  const azJson = async <T = any>(args: string[]): Promise<T> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await az([...args, '-o', 'json']);
    assert.equal(r.code, 0, `az ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const roleAssignmentBody = (roleGuid: string, principalId: string) =>
    JSON.stringify({ properties: { roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`, principalId, principalType: 'ServicePrincipal' } });

  before(async () => {
    m = await startTestMimic();
    dir = await mkdtemp(join(tmpdir(), 'mimic-az-'));
    adminEnv = { ...(await defaultCloudAdminEnv(m)), ...azSettings(join(dir, 'admin')) };
    sub = `/subscriptions/${m.endpoints.subscriptionId}`;
  });
  after(async () => {
    await m.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  test('az login --service-principal with mimic env --admin, then groups, identities and resources without --api-version', async () => {
    const accounts = await azJson<Array<{ id: string; tenantId: string; cloudName: string; user: { type: string; name: string } }>>([
      'login', '--service-principal', '-u', adminEnv.AZURE_CLIENT_ID!, '-p', adminEnv.AZURE_CLIENT_SECRET!, '--tenant', adminEnv.AZURE_TENANT_ID!,
    ]);
    assert.equal(accounts.length, 1);
    assert.deepEqual([accounts[0]!.id, accounts[0]!.tenantId, accounts[0]!.cloudName, accounts[0]!.user.type], [m.endpoints.subscriptionId, m.endpoints.tenantId, 'AzureCloud', 'servicePrincipal']);

    assert.equal((await azJson(['group', 'create', '-n', RG, '-l', 'eastus'])).properties.provisioningState, 'Succeeded');
    const uai = await azJson(['identity', 'create', '-g', RG, '-n', 'id-az']);
    assert.equal(m.directory.byObject(uai.principalId)?.appId, uai.clientId);

    // No --api-version: az reads the provider's apiVersions to pick one.
    const site = await azJson(['resource', 'create', '-g', RG, '-n', 'site-az', '--resource-type', 'Microsoft.Web/sites', '--is-full-object', '--properties',
      JSON.stringify({ location: 'eastus', kind: 'app', identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uai.id]: {} } }, properties: {} })]);
    assert.equal(site.identity.type, 'SystemAssigned, UserAssigned');
    assert.ok(m.directory.byObject(site.identity.principalId));
    const vm = await azJson(['resource', 'create', '-g', RG, '-n', 'vm-az', '--resource-type', 'Microsoft.Compute/virtualMachines', '--is-full-object', '--properties',
      JSON.stringify({ location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} })]);
    assert.ok(m.directory.byObject(vm.identity.principalId));
  });

  test('az keyvault create --enable-rbac-authorization, then az rest: PUT a role assignment, PUT and GET a secret', async () => {
    const vault = await azJson(['keyvault', 'create', '-g', RG, '-n', VAULT, '-l', 'eastus', '--enable-rbac-authorization']);
    assert.equal(vault.properties.enableRbacAuthorization, true);
    assert.equal(vault.properties.vaultUri, `https://${VAULT}.vault.azure.net/`);
    const secretUrl = `https://${VAULT}.vault.azure.net/secrets/greeting?api-version=7.4`;
    const refused = await az(['rest', '--method', 'put', '--url', secretUrl, '--resource', 'https://vault.azure.net', '--body', '{"value":"hello az"}']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Forbidden/);

    const assignment = await azJson(['rest', '--method', 'put', '--url', `https://management.azure.com${vault.id}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      '--body', roleAssignmentBody(ROLES.keyVaultSecretsOfficer, m.context.tenant.adminObjectId)]);
    assert.equal(assignment.properties.principalId, m.context.tenant.adminObjectId);
    assert.equal((await azJson(['rest', '--method', 'put', '--url', secretUrl, '--resource', 'https://vault.azure.net', '--body', '{"value":"hello az"}'])).value, 'hello az');
    assert.equal((await azJson(['rest', '--method', 'get', '--url', secretUrl, '--resource', 'https://vault.azure.net'])).value, 'hello az');

    // Without RBAC, az looks the signed-in principal up in Microsoft Graph (/me, then the service
    // principal by its appId) to give it an access policy.
    const withPolicy = await azJson(['keyvault', 'create', '-g', RG, '-n', 'kv-az-policy', '-l', 'eastus']);
    assert.deepEqual(withPolicy.properties.accessPolicies.map((p: { objectId: string }) => p.objectId), [m.context.tenant.adminObjectId]);
  });

  test('az storage account create; blob upload/download --auth-mode login refused without a data role, allowed with one', async () => {
    const account = await azJson(['storage', 'account', 'create', '-g', RG, '-n', ACCOUNT, '-l', 'eastus', '--sku', 'Standard_LRS']);
    assert.equal(account.provisioningState, 'Succeeded');
    const file = join(dir, 'upload.txt');
    await writeFile(file, 'hello blob from az');
    const upload = ['storage', 'blob', 'upload', '--account-name', ACCOUNT, '-c', 'azcontainer', '-n', 'hello.txt', '-f', file, '--auth-mode', 'login', '--overwrite'];
    // Owner may create the container (a control-plane action) but holds no blob data action.
    assert.equal((await azJson(['storage', 'container', 'create', '--account-name', ACCOUNT, '-n', 'azcontainer', '--auth-mode', 'login'])).created, true);
    const refused = await az(upload);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /You do not have the required permissions|AuthorizationPermissionMismatch/);
    await assignRole(m, account.id, ROLES.storageBlobDataContributor, m.context.tenant.adminObjectId);
    assert.equal((await az([...upload, '-o', 'none'])).code, 0);
    const out = join(dir, 'download.txt');
    const download = await az(['storage', 'blob', 'download', '--account-name', ACCOUNT, '-c', 'azcontainer', '-n', 'hello.txt', '-f', out, '--auth-mode', 'login', '-o', 'none']);
    assert.equal(download.code, 0, download.stderr);
    assert.equal(await readFile(out, 'utf8'), 'hello blob from az');
  });

  test('az login --identity inside mimic run --as: App Service (MSI_ENDPOINT) and VM (IMDS); no role means no access', async () => {
    const roles = { 'site-az': ROLES.contributor, 'vm-az': ROLES.reader };
    for (const [name, flavourVars] of [['site-az', ['MSI_ENDPOINT', 'MSI_SECRET', 'APPSETTING_WEBSITE_SITE_NAME']], ['vm-az', []]] as const) {
      const host = (await azJson(['resource', 'show', '-g', RG, '-n', name, '--resource-type', name === 'vm-az' ? 'Microsoft.Compute/virtualMachines' : 'Microsoft.Web/sites']));
      const settings = azSettings(join(dir, name));
      const env = await runAs(m, name, ['env'], settings);
      for (const v of flavourVars) assert.ok(env.stdout.includes(`${v}=`), `${v} in ${name}'s environment`);

      const denied = await runAs(m, name, ['az', 'login', '--identity'], settings);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /No access was configured for the VM, hence no subscriptions were found/);

      await assignRole(m, `${sub}/resourceGroups/${RG}`, roles[name], host.identity.principalId);
      const login = await runAs(m, name, ['az', 'login', '--identity', '-o', 'json'], settings);
      assert.equal(login.code, 0, login.stderr);
      const account = (JSON.parse(login.stdout) as Array<{ id: string; user: { name: string; type: string } }>)[0]!;
      assert.equal(account.id, m.endpoints.subscriptionId);
      assert.equal(account.user.type, 'servicePrincipal');
      const tokenRun = await runAs(m, name, ['az', 'account', 'get-access-token', '--resource', 'https://vault.azure.net', '-o', 'json'], settings);
      assert.equal(tokenRun.code, 0, tokenRun.stderr);
      const token = JSON.parse(tokenRun.stdout) as { accessToken: string; expiresOn: string; tenant: string };
      const claims = claimsOf(token.accessToken);
      assert.equal(claims.aud, 'https://vault.azure.net');
      assert.equal(claims.oid, host.identity.principalId);
      assert.equal(String(claims.xms_mirid).toLowerCase(), String(host.id).toLowerCase());
      assert.ok(new Date(token.expiresOn).getTime() > Date.now());
    }
    // As the web app's identity (a Contributor): az asks its endpoint for an AAD Graph token too.
    const vault = await runAs(m, 'site-az', ['az', 'keyvault', 'create', '-g', RG, '-n', 'kv-az-identity', '-l', 'eastus', '--enable-rbac-authorization', '-o', 'json'], azSettings(join(dir, 'site-az')));
    assert.equal(vault.code, 0, vault.stderr);
    assert.equal((JSON.parse(vault.stdout) as { properties: { enableRbacAuthorization: boolean } }).properties.enableRbacAuthorization, true);
  });

  test('az cloud register with only the Resource Manager endpoint, then a login in that cloud', async () => {
    const env = { ...adminEnv, ...azSettings(join(dir, 'cloud')) };
    const origin = m.endpoints.origin;
    const register = await runWith('az', ['cloud', 'register', '-n', 'mimic', '--endpoint-resource-manager', `${origin}/`], env);
    assert.equal(register.code, 0, register.stderr);
    const cloud = JSON.parse((await runWith('az', ['cloud', 'show', '-n', 'mimic', '-o', 'json'], env)).stdout) as { endpoints: Record<string, string>; suffixes: Record<string, string> };
    assert.equal(cloud.endpoints.activeDirectory, `${origin}/`);
    assert.equal(cloud.endpoints.activeDirectoryResourceId, 'https://management.core.windows.net/');
    assert.equal(cloud.endpoints.activeDirectoryGraphResourceId, 'https://graph.windows.net/');
    // MSAL drops the port when it asks for instance discovery; Mimic's answer puts it back.
    assert.equal((await runWith('az', ['cloud', 'set', '-n', 'mimic'], env)).code, 0);
    const login = await runWith('az', ['login', '--service-principal', '-u', adminEnv.AZURE_CLIENT_ID!, '-p', adminEnv.AZURE_CLIENT_SECRET!, '--tenant', adminEnv.AZURE_TENANT_ID!, '-o', 'json'], env);
    assert.equal(login.code, 0, login.stderr);
    assert.equal((JSON.parse(login.stdout) as Array<{ cloudName: string }>)[0]!.cloudName, 'mimic');
    const groups = await runWith('az', ['group', 'show', '-n', RG, '-o', 'json'], env);
    assert.equal(groups.code, 0, groups.stderr);
  });
});
