// Portal benchmark: the bundle's compressed size (target under 300 KB), and the time from
// navigation to the rendered Access control (IAM) list of a resource group holding 1,000 role
// assignments in headless Chromium (target under 500 ms), as a ratio to the raw API call for the
// same list (fetch from the same page, same token) timed in the same run. The first load is cold
// (empty browser cache); the median of the warm loads follows.
// Run: npm run build && node dist/bench/portal.bench.js   (BENCH_ROUNDS)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestMimic } from '../test/helpers/mimic.js';
import { arm, createGroup } from '../test/keyvault/helpers.js';
import { href, openBrowser, resourceRoute, screenshot } from '../test/portal/browser.js';
import { seedAssignments } from '../test/portal/seed.js';
import { PORTAL_DIR } from '../src/portal/setup.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function bundleSizes(): { raw: number; gzip: number; brotli: number } {
  const files = ['index.html', ...readdirSync(join(PORTAL_DIR, 'assets')).filter((f) => /\.(js|css)$/.test(f)).map((f) => `assets/${f}`)];
  const size = (f: string) => statSync(join(PORTAL_DIR, f)).size;
  return {
    raw: files.reduce((n, f) => n + size(f), 0),
    gzip: files.reduce((n, f) => n + size(f + '.gz'), 0),
    brotli: files.reduce((n, f) => n + size(f + '.br'), 0),
  };
}

async function main(): Promise<void> {
  const m = await startTestMimic('sqlite');
  const b = await openBrowser();
  try {
    const a = await arm(m);
    const rgId = await createGroup(a, 'bench-iam');
    const seeded = await seedAssignments(a, rgId, rgId, 100, 10, 'iam-id');
    const expected = seeded.assignments + 1; // plus the administrator's inherited Owner
    const { page } = b;
    const url = href(m.endpoints.origin, resourceRoute('iam', rgId));
    const rounds: Array<{ uiMs: number; apiMs: number }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      await page.goto('about:blank');
      await page.goto(url);
      await page.locator('.count', { hasText: `${expected} role assignments` }).waitFor({ timeout: 30_000 }).catch(async (e) => { await screenshot(page, 'bench-failed.png'); console.error(await page.locator('.count').allTextContents()); throw e; });
      const uiMs = await page.evaluate(() => performance.now());
      // The same list, raw: a fresh token from the session endpoint, then the one API call, timed alone.
      const apiMs = await page.evaluate(async (scope: string) => {
        const s = (await (await fetch('/_portal/session', { method: 'POST', headers: { 'x-mimic-portal': '1' } })).json()) as { accessToken: string };
        const t0 = performance.now();
        const r = await fetch(`${scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()`, { headers: { authorization: `Bearer ${s.accessToken}` } });
        await r.json();
        return performance.now() - t0;
      }, rgId);
      if (process.env.BENCH_TRACE) console.error(JSON.stringify(await page.evaluate(() => performance.getEntriesByType('resource').map((e) => [e.name.split('?')[0]!.slice(-60), Math.round(e.startTime), Math.round(e.duration), (e as any).encodedBodySize]))));
      rounds.push({ uiMs, apiMs });
    }
    const warm = rounds.slice(1);
    const out = {
      bundleBytes: bundleSizes(),
      assignments: expected,
      coldLoad: { uiMs: Math.round(rounds[0]!.uiMs), apiMs: Math.round(rounds[0]!.apiMs) },
      warmMedian: { uiMs: Math.round(median(warm.map((r) => r.uiMs))), apiMs: Math.round(median(warm.map((r) => r.apiMs))), ratio: Number((median(warm.map((r) => r.uiMs)) / median(warm.map((r) => r.apiMs))).toFixed(1)) },
      rounds: rounds.map((r) => ({ uiMs: Math.round(r.uiMs), apiMs: Math.round(r.apiMs) })),
    };
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await b.close();
    await m.dispose();
  }
}

await main();
