// The seeds' portal steps in a real browser against a real Mimic: a container app's
// system-assigned identity turned on; a user-assigned identity created and added to a Standard
// logic app; "Key Vault Secrets User" added for it on a vault through Add role assignment; Check
// access showing the grant and its source; code running as the app (`mimic run --as`) reading the
// secret, then refused once the portal removes the assignment. Then "view as" a Reader, whose
// writes come back refused with AuthorizationFailed in the banner.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { arm, assignRole, createGroup, createVault, kv, ROLES, type Arm, type Vault } from '../keyvault/helpers.js';
import { href, openBrowser, resourceRoute, screenshot, type Browser } from './browser.js';

const RG = 'portal-rg';

describe('portal: the seeds steps end to end', () => {
  let m: TestMimic;
  let a: Arm;
  let b: Browser;
  let rgId: string;
  let vault: Vault;
  let containerAppId: string;
  let logicAppId: string;

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    rgId = await createGroup(a, RG);
    vault = await createVault(a, RG, 'portalvault1');
    // The administrator writes the secret through a data role of its own.
    await assignRole(a, vault.id, ROLES.secretsOfficer, m.context.tenant.adminObjectId);
    const [set] = await kv(m, vault, { admin: true }, [{ op: 'setSecret', name: 'db-password', value: 's3cret' }]);
    assert.equal(set?.ok, true, JSON.stringify(set));
    const ca = await a.call('PUT', `${rgId}/providers/Microsoft.App/containerApps/ca1`, { location: 'eastus', properties: {} }, '2024-03-01');
    assert.equal(ca.status, 201, ca.text);
    containerAppId = ca.body.id;
    const la = await a.call('PUT', `${rgId}/providers/Microsoft.Web/sites/logic1`, { location: 'eastus', kind: 'functionapp,workflowapp', properties: {} }, '2023-12-01');
    assert.equal(la.status, 201, la.text);
    logicAppId = la.body.id;
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await m?.dispose();
  });

  test('the page and its assets are served with caching headers and compression', async () => {
    const page = await b.context.request.get(`${m.endpoints.origin}/`, { headers: { 'accept-encoding': 'br' } });
    assert.equal(page.status(), 200);
    assert.equal(page.headers()['cache-control'], 'no-cache');
    const script = /src="(\/portal\/assets\/app-[0-9a-f]+\.js)"/.exec(await page.text())?.[1];
    assert.ok(script);
    const js = await b.context.request.get(`${m.endpoints.origin}${script}`, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(js.headers()['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers()['content-encoding'], 'br');
    // The session endpoint refuses a request without the portal's header (as a cross-site form post would be).
    const bare = await b.context.request.post(`${m.endpoints.origin}/_portal/session`, { data: {} });
    assert.equal(bare.status(), 403);
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }] as Array<Record<string, string>>) {
      const r = await b.context.request.post(`${m.endpoints.origin}/_portal/session`, { headers: { 'x-mimic-portal': '1', ...headers }, data: {} });
      assert.equal(r.status(), 403, JSON.stringify(headers));
      assert.equal((await r.json()).error.code, 'Forbidden');
    }
    assert.equal((await b.context.request.get(`${m.endpoints.origin}/_portal/session`)).status(), 405);
    // The path form of a vault checks tokens like the vault's own host: none, or an ARM token, is 401.
    const session = await (await b.context.request.post(`${m.endpoints.origin}/_portal/session`, { headers: { 'x-mimic-portal': '1' }, data: {} })).json();
    const noToken = await b.context.request.get(`${m.endpoints.origin}/_vault/portalvault1/secrets?api-version=7.5`);
    assert.equal(noToken.status(), 401);
    const armToken = await b.context.request.get(`${m.endpoints.origin}/_vault/portalvault1/secrets?api-version=7.5`, { headers: { authorization: `Bearer ${session.accessToken}` } });
    assert.equal(armToken.status(), 401);
    assert.match(await armToken.text(), /AKV10022/);
  });

  test('turn on a container app system-assigned identity and read its principal id', async () => {
    const { page } = b;
    await page.goto(href(m.endpoints.origin, resourceRoute('identity', containerAppId)));
    await page.getByRole('radio', { name: 'On' }).click();
    await page.getByTestId('save-system').click();
    const shown = (await page.getByTestId('principal-id').textContent())!.trim();
    const got = await a.call('GET', containerAppId, undefined, '2024-03-01');
    assert.equal(shown, got.body.identity.principalId);
    assert.ok(m.directory.byObject(shown), 'the identity exists in the directory');
  });

  let uai: { id: string; principalId: string; clientId: string };

  test('create a user-assigned identity and add it to a Standard logic app', async () => {
    const { page } = b;
    await page.goto(href(m.endpoints.origin, `/rg/${m.endpoints.subscriptionId}/${RG}`));
    await page.getByLabel('New user assigned identity name').fill('logic-id');
    await page.getByTestId('create-uai').click();
    await page.getByRole('link', { name: 'logic-id' }).waitFor();
    const got = await a.call('GET', `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/logic-id`, undefined, '2023-01-31');
    assert.equal(got.status, 200, got.text);
    uai = { id: got.body.id, principalId: got.body.properties.principalId, clientId: got.body.properties.clientId };

    await page.goto(href(m.endpoints.origin, resourceRoute('identity', logicAppId)));
    await page.getByTestId('uai-select').selectOption({ label: 'logic-id' });
    await page.getByTestId('add-uai').click();
    await page.getByRole('cell', { name: uai.clientId }).waitFor();
    const site = await a.call('GET', logicAppId, undefined, '2023-12-01');
    assert.equal(site.body.identity.type, 'UserAssigned');
    assert.deepEqual(Object.keys(site.body.identity.userAssignedIdentities).map((k) => k.toLowerCase()), [uai.id.toLowerCase()]);
  });

  test('a user-assigned identity: add and delete a federated credential; its associated resources', async () => {
    const { page } = b;
    await page.goto(href(m.endpoints.origin, resourceRoute('uai', uai.id)));
    await page.getByTestId('associated').getByRole('cell', { name: 'logic1' }).waitFor();
    await page.getByLabel('Credential name').fill('github-main');
    await page.getByLabel('Issuer URL').fill('https://token.actions.githubusercontent.com');
    await page.getByLabel('Subject identifier').fill('repo:contoso/app:ref:refs/heads/main');
    await page.getByRole('button', { name: 'Add credential' }).click();
    await page.getByTestId('fics').getByRole('cell', { name: 'github-main', exact: true }).waitFor();
    const fic = await a.call('GET', `${uai.id}/federatedIdentityCredentials/github-main`, undefined, '2023-01-31');
    assert.equal(fic.status, 200, fic.text);
    assert.equal(fic.body.properties.subject, 'repo:contoso/app:ref:refs/heads/main');
    await page.getByRole('button', { name: 'Delete github-main' }).click();
    await page.getByTestId('fics').getByRole('cell', { name: 'github-main', exact: true }).waitFor({ state: 'detached' });
  });

  test('Add role assignment, Check access, the app reads the secret; remove, and it is refused', async () => {
    const { page } = b;
    await page.goto(href(m.endpoints.origin, resourceRoute('iam', vault.id)));
    await page.getByTestId('add-role-assignment').click();
    await page.getByLabel('Search roles').fill('Key Vault Secrets User');
    await page.getByRole('option').filter({ has: page.locator('strong', { hasText: /^Key Vault Secrets User$/ }) }).click();
    await page.getByTestId('member-select').selectOption(uai.principalId);
    await page.getByRole('button', { name: 'Review + assign' }).click();
    const row = page.getByTestId('role-assignments').getByRole('row').filter({ hasText: 'Key Vault Secrets User' }).filter({ hasText: uai.principalId });
    await row.waitFor({ timeout: 10_000 }).catch(async (e) => {
      await screenshot(page, 'portal-add-assignment-failed.png');
      throw e;
    });
    assert.match((await row.textContent())!, /This resource/);
    // The administrator's subscription-wide Owner shows as inherited.
    await page.getByTestId('role-assignments').getByRole('row').filter({ hasText: 'Owner' }).filter({ hasText: 'Inherited from' }).first().waitFor();

    await page.getByLabel('Principal to check').selectOption(uai.principalId);
    await page.getByRole('button', { name: 'Check access' }).click();
    const result = page.getByTestId('check-result');
    await result.waitFor();
    assert.match((await result.textContent())!, /^Allowed/);
    const source = (await page.getByTestId('check-source').textContent())!;
    assert.match(source, /Key Vault Secrets User/);
    assert.ok(source.includes(vault.id), source);
    await screenshot(page, 'portal-iam-check-access.png');

    const as = { as: logicAppId, clientId: uai.clientId };
    const [read] = await kv(m, vault, as, [{ op: 'getSecret', name: 'db-password' }]);
    assert.equal(read?.ok, true, JSON.stringify(read));
    assert.equal(read!.value.value, 's3cret');

    await page.getByRole('button', { name: `Remove Key Vault Secrets User for logic-id` }).click();
    await row.waitFor({ state: 'detached' });
    const [refused] = await kv(m, vault, as, [{ op: 'getSecret', name: 'db-password' }]);
    assert.equal(refused?.ok, false, JSON.stringify(refused));
    assert.equal(refused!.status, 403);
  });

  test('a vault lists its secrets through the path form of the data plane, with the viewer token', async () => {
    const { page } = b;
    await page.goto(href(m.endpoints.origin, resourceRoute('vault', vault.id)));
    await page.getByTestId('vault-items').getByRole('cell', { name: 'db-password' }).waitFor();
  });

  test('view as a principal with Reader only: writes are refused with AuthorizationFailed in the banner', async () => {
    const { page } = b;
    const r = await a.call('PUT', `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader-id`, { location: 'eastus' }, '2023-01-31');
    assert.equal(r.status, 201, r.text);
    await assignRole(a, rgId, 'acdd72a7-3385-48ef-bd42-f606fba81ae7', r.body.properties.principalId);
    await page.goto(href(m.endpoints.origin, `/rg/${m.endpoints.subscriptionId}/${RG}`));
    await page.getByLabel('View as principal id').fill(r.body.properties.principalId);
    await page.getByRole('button', { name: 'View as', exact: true }).click();
    await page.getByTestId('signed-in').filter({ hasText: 'reader-id (viewing as)' }).waitFor();
    // Reading works: the group's resources are listed.
    await page.getByRole('link', { name: 'logic1' }).waitFor();
    await page.getByLabel('New user assigned identity name').fill('not-allowed');
    await page.getByTestId('create-uai').click();
    const banner = page.getByTestId('error-banner');
    await banner.waitFor();
    assert.match((await banner.textContent())!, /AuthorizationFailed.*does not have authorization to perform action 'Microsoft.ManagedIdentity\/userAssignedIdentities\/write'/);
    await screenshot(page, 'portal-view-as-reader.png');
    const gone = await a.call('GET', `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/not-allowed`, undefined, '2023-01-31');
    assert.equal(gone.status, 404);
    // Reader holds no data actions: the vault's secrets list is refused by Key Vault itself.
    await page.goto(href(m.endpoints.origin, resourceRoute('vault', vault.id)));
    await banner.filter({ hasText: 'Forbidden' }).waitFor();
    await page.getByRole('button', { name: 'Back to administrator' }).click();
    await page.getByTestId('signed-in').filter({ hasText: '(administrator)' }).waitFor();
    // The refusal is in the audit log, filterable by text.
    await page.goto(href(m.endpoints.origin, '/audit'));
    await page.getByLabel('Search the audit log').fill('userAssignedIdentities/write');
    const row = page.getByRole('row').filter({ hasText: 'Microsoft.ManagedIdentity/userAssignedIdentities/write' }).filter({ hasText: r.body.properties.principalId });
    await row.first().waitFor();
    assert.match((await row.first().textContent())!, /Denied/);
  });
});
