// `mimic start --throttle azure`: IMDS's documented per-VM limits (20 requests/s, 5 in flight)
// answered with 429 and Retry-After, while the real ManagedIdentityCredential still gets its
// token through its retry policy. Off by default.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runFixture, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { createGroup, envAs, identityBody, putHost, raw } from '../managedIdentity/helpers.js';
import { RateLimiter } from '../../src/server/throttle.js';

const ARM = 'https://management.azure.com/';

/** Sends IMDS token requests at `perSecond` for `ms`, without waiting for answers. */
async function flood(url: string, perSecond: number, ms: number): Promise<{ status: number; retryAfter?: string }[]> {
  const answers: Promise<{ status: number; retryAfter?: string }>[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    answers.push(raw(url, { headers: { Metadata: 'true' } }).then((r) => ({ status: r.status, retryAfter: r.headers['retry-after'] as string | undefined })));
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
  return Promise.all(answers);
}

describe('throttling on request', () => {
  test('the limiter: per key, a one-second window and a cap on requests in flight', () => {
    const l = new RateLimiter({ perSecond: 3, inFlight: 2 });
    const a = l.enter('vm', 0);
    const b = l.enter('vm', 10);
    assert.ok(a.ok && b.ok);
    assert.deepEqual(l.enter('vm', 20), { ok: false, retryAfter: 1 }, 'two in flight');
    assert.ok(l.enter('other', 20).ok, 'another VM has its own budget');
    if (a.ok) a.done();
    const c = l.enter('vm', 30);
    assert.ok(c.ok);
    if (b.ok) b.done();
    if (c.ok) c.done();
    assert.equal(l.enter('vm', 40).ok, false, 'three in the last second');
    assert.equal(l.enter('vm', 1001).ok, true, 'the window moved on');
  });

  describe('IMDS with --throttle azure', () => {
    let m: TestMimic;
    let env: Record<string, string>;
    let url: string;
    before(async () => {
      m = await startTestMimic('sqlite', { env: { MIMIC_THROTTLE: 'azure' } });
      await createGroup(m, 'throttle');
      const vm = await putHost(m, 'throttle', 'Microsoft.Compute', ['virtualMachines', 'busy'], { identity: identityBody(true) });
      env = await envAs(m, vm.id);
      url = `${env.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(ARM)}`;
    });
    after(() => m?.dispose());

    test('a 30 req/s client gets 429s with Retry-After, and ManagedIdentityCredential still gets its token', async () => {
      const [answers, credential] = await Promise.all([flood(url, 30, 3000), runFixture<{ ok: boolean; message?: string }>('mi/credential.mjs', ['mic'], env)]);
      const throttled = answers.filter((a) => a.status === 429);
      assert.ok(throttled.length > 0, `no 429 among ${answers.length}`);
      assert.ok(throttled.every((a) => a.retryAfter === '1'));
      assert.ok(answers.every((a) => a.status === 200 || a.status === 429), JSON.stringify(answers.filter((a) => a.status !== 200 && a.status !== 429)));
      // Over 3 s no more than 20 per second (plus the credential's own) got through.
      assert.ok(answers.length - throttled.length <= 62, `${answers.length - throttled.length} admitted`);
      assert.equal(credential.ok, true, credential.message);
    });
  });

  test('off by default: the same flood is all 200', async () => {
    const m = await startTestMimic('sqlite');
    try {
      await createGroup(m, 'free');
      const vm = await putHost(m, 'free', 'Microsoft.Compute', ['virtualMachines', 'calm'], { identity: identityBody(true) });
      const env = await envAs(m, vm.id);
      const answers = await flood(`${env.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(ARM)}`, 30, 1000);
      assert.ok(answers.every((a) => a.status === 200));
    } finally {
      await m.dispose();
    }
  });
});
