// The portal's storage pane: containers listed, a blob uploaded from a file and downloaded back,
// all through `/_storage/blob/{account}/...` on the main origin with the viewer's storage token;
// the gate still judges each data action (without a blob data role, the list is refused).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { arm, assignRole, createAccount, createChild, ROLE, type Account, type Arm } from '../storage/helpers.js';
import { createGroup } from '../keyvault/helpers.js';
import { href, openBrowser, resourceRoute, type Browser } from './browser.js';

describe('portal: storage account containers and blobs', () => {
  let m: TestMimic;
  let a: Arm;
  let b: Browser;
  let account: Account;

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    await createGroup(a, 'portal-st');
    account = await createAccount(a, 'portal-st', 'portalst1');
    await createChild(a, account, 'container', 'docs');
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await m?.dispose();
  });

  test('without a blob data role, listing the blobs is refused by the gate, shown in the banner', async () => {
    // Listing containers needs only `blobServices/containers/read`, an action Owner holds.
    await b.page.goto(href(m.endpoints.origin, resourceRoute('storage', account.id)));
    await b.page.getByTestId('containers').getByRole('button', { name: 'docs' }).click();
    await b.page.getByTestId('error-banner').filter({ hasText: 'AuthorizationPermissionMismatch' }).waitFor();
  });

  test('with Storage Blob Data Contributor: list, upload a file, download it', async () => {
    const r = await assignRole(a, account.id, ROLE.blobContributor, m.context.tenant.adminObjectId);
    assert.equal(r.status, 201, r.text);
    const { page } = b;
    await page.goto('about:blank');
    await page.goto(href(m.endpoints.origin, resourceRoute('storage', account.id)));
    await page.getByTestId('containers').getByRole('button', { name: 'docs' }).click();
    await page.getByLabel('Upload blob').setInputFiles({ name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the portal') });
    await page.getByTestId('blobs').getByRole('cell', { name: 'hello.txt', exact: true }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download hello.txt' }).click()]);
    assert.equal(await readFile((await download.path())!, 'utf8'), 'hello from the portal');
  });
});
