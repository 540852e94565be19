// The access map for a subscription with 500 role assignments: it renders every assignment in
// grouped, filterable columns, shows a refused attempt from the audit log in red, highlights one
// decision's path on click, and a screenshot is kept under test-artifacts/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { arm, createGroup, type Arm } from '../keyvault/helpers.js';
import { href, openBrowser, screenshot, type Browser } from './browser.js';
import { seedAssignments, type Seeded } from './seed.js';

describe('portal: access map', () => {
  let m: TestMimic;
  let a: Arm;
  let b: Browser;
  let seeded: Seeded;

  before(async () => {
    m = await startTestMimic('sqlite');
    a = await arm(m);
    const rgId = await createGroup(a, 'map-rg');
    seeded = await seedAssignments(a, rgId, a.sub, 50, 10);
    // One refused attempt: an identity with data roles only tries to create a resource group.
    const sp = m.directory.byObject(seeded.principals[0]!.principalId)!;
    const token = m.tokens.mint(sp, { resource: 'https://management.azure.com/', lifetimeSeconds: 3600, appidacr: '2' }).accessToken;
    const refused = await a.call('PUT', `${a.sub}/resourceGroups/not-yours`, { location: 'eastus' }, '2021-04-01', token);
    assert.equal(refused.status, 403, refused.text);
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await m?.dispose();
  });

  test('renders 500 assignments, filters, shows refusals in red and one decision path', async () => {
    assert.equal(seeded.assignments, 500);
    const { page } = b;
    await page.goto(href(m.endpoints.origin, `/map/${encodeURIComponent(a.sub)}`));
    const count = page.getByTestId('map-count');
    // 500 seeded plus the administrator's Owner.
    await count.filter({ hasText: /^501 of 501 role assignments · 51 principals/ }).waitFor();
    assert.match((await count.textContent())!, /1 refused attempts/);
    const refusal = page.locator('.map .node.refused').first();
    assert.match((await refusal.textContent())!, /Microsoft.Resources\/subscriptions\/resourceGroups\/write/);
    assert.equal(await refusal.evaluate((el) => (globalThis as any).getComputedStyle(el).color), 'rgb(164, 38, 44)');
    await screenshot(page, 'portal-access-map-500.png');

    const who = seeded.principals[0]!.name;
    await page.getByLabel('Filter the access map').fill(who);
    await count.filter({ hasText: /^10 of 501 role assignments · 1 principals/ }).waitFor();
    await page.locator('.map details', { hasText: who }).locator('button').first().click();
    const path = page.getByTestId('decision-path');
    await path.waitFor();
    const text = (await path.textContent())!;
    assert.match(text, /Assignment \/subscriptions\/.*\/roleAssignments\//);
    assert.match(text, /Role .+/);
    assert.match(text, /Action patterns: .+\//);
    assert.ok(page.locator('.map .hl').first());
    await screenshot(page, 'portal-access-map-path.png');
  });
});
