// The local-administrator session's gate, unit by unit: only loopback peers, and only requests
// the portal's own script could have sent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Request } from '../../src/server/http.js';
import { isLoopback, refusal } from '../../src/portal/session.js';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { call } from '../helpers/https.js';

function req(remoteAddress: string, headers: Record<string, string>): Request {
  return { raw: { socket: { remoteAddress } }, header: (n: string) => headers[n] } as unknown as Request;
}

describe('portal session gate', () => {
  test('loopback addresses only', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
    for (const a of ['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1', undefined]) assert.equal(isLoopback(a), false, String(a));
  });
  test('the portal header, same origin, same site', () => {
    const ok = { 'x-mimic-portal': '1', host: 'localhost:8443' };
    assert.equal(refusal(req('127.0.0.1', ok)), undefined);
    assert.equal(refusal(req('127.0.0.1', { ...ok, origin: 'https://localhost:8443', 'sec-fetch-site': 'same-origin' })), undefined);
    assert.match(refusal(req('10.1.1.1', ok))!, /loopback/);
    assert.match(refusal(req('127.0.0.1', { host: 'localhost:8443' }))!, /header/);
    assert.match(refusal(req('127.0.0.1', { ...ok, origin: 'https://localhost:9999' }))!, /Cross-origin/);
    assert.match(refusal(req('127.0.0.1', { ...ok, 'sec-fetch-site': 'same-site' }))!, /Cross-site/);
  });
});

describe('portal session over HTTPS', () => {
  let m: TestMimic;
  before(async () => {
    m = await startTestMimic();
  });
  after(() => m.dispose());

  // Found by the portalApi fuzz target (corpus regress-session-body-too-large): a 500 before.
  test('a body over 4 KB is refused with 413 in ARM\'s shape, and a small one still gets a session', async () => {
    const headers = { 'x-mimic-portal': '1', 'content-type': 'application/json' };
    const big = await call(m, 'POST', '/_portal/session', { headers, body: JSON.stringify({ principalId: m.context.tenant.adminObjectId, pad: 'x'.repeat(5000) }) });
    assert.equal(big.status, 413, big.text);
    assert.equal(big.json.error.code, 'RequestEntityTooLarge');
    const ok = await call(m, 'POST', '/_portal/session', { headers, body: JSON.stringify({ principalId: m.context.tenant.adminObjectId }) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(typeof ok.json.accessToken, 'string');
  });
});
