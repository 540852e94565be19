// The local-administrator session's gate, unit by unit: only loopback peers, and only requests
// the portal's own script could have sent.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Request } from '../../src/server/http.js';
import { isLoopback, refusal } from '../../src/portal/session.js';

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
