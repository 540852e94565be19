// HTTP-level fuzz of every listener (the HTTPS origin, the managed-identity endpoints, the
// Service Fabric endpoint, the storage gates): hostile paths, bad encodings, odd methods,
// wrong content types, huge bodies and headers, abandoned and slow connections, many
// connections. Target: no crash, no 5xx, and /health stays 200 throughout.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { startTestMimic, type TestMimic } from '../helpers/mimic.js';

interface Answer {
  status: number;
  text: string;
}

const PATHS = [
  '/', '//', '///subscriptions', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/%2E%2E%5C%2E%2E%5Cwindows',
  '/subscriptions/%zz', '/subscriptions/%', '/subscriptions/%E0%A4%A', '/subscriptions/%00', '/subscriptions/x?api-version=%ff',
  '/subscriptions//resourceGroups//providers', '/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=%27',
  '/common/discovery/keys/../../..', '/common/oauth2/v2.0/token?%', '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=%zz',
  '/devstoreaccount1/c/b?comp=%', '/x/' + 'a'.repeat(4000), '/?' + '&'.repeat(3000), '/%C0%AE%C0%AE/', '/\u00e9\u00e8', '/*', '/?api-version[]=1',
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'TRACE'];
const CONTENT_TYPES = ['application/json', 'application/xml', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', ''];
const BODIES = ['', '{', '[]', 'null', '{"a":' + '['.repeat(5000), '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', '\u0000\u0001\u0002', 'a=%zz&b', JSON.stringify({ properties: { x: 'y'.repeat(100_000) } })];

describe('HTTP-level fuzz of every listener', () => {
  let m: TestMimic;
  let targets: { name: string; url: URL }[];
  let health: () => Promise<number>;

  function send(url: URL, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
    const isHttps = url.protocol === 'https:';
    return new Promise((resolve) => {
      const req = (isHttps ? httpsRequest : httpRequest)(
        { host: url.hostname, port: url.port, method, path, headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers }, ...(isHttps ? { ca: m.context.tls.caCertPem, rejectUnauthorized: false } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8').slice(0, 300) }));
          res.on('error', () => resolve({ status: -1, text: 'response error' }));
        },
      );
      // A listener may close the connection on what it refuses (e.g. an invalid path to Node's parser).
      req.on('error', (e) => resolve({ status: -1, text: e.message }));
      req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
      req.end(body);
    });
  }

  before(async () => {
    m = await startTestMimic('sqlite');
    targets = [{ name: 'origin', url: new URL(m.endpoints.origin) }, ...Object.entries(m.endpoints.listeners).map(([name, u]) => ({ name, url: new URL(u) }))];
    const origin = new URL(m.endpoints.origin);
    health = async () => (await send(origin, 'GET', '/health', {})).status;
  });
  after(() => m?.dispose());

  test('hostile paths, methods, content types and bodies: no 5xx on any listener', async (t) => {
    const fiveHundreds: string[] = [];
    let cases = 0;
    const token = 'Bearer ' + 'e'.repeat(40);
    for (const { name, url } of targets) {
      const jobs: Promise<void>[] = [];
      for (const path of PATHS) {
        for (const method of METHODS) {
          jobs.push(send(url, method, path, { metadata: 'true', authorization: token }).then((r) => void (r.status >= 500 && fiveHundreds.push(`${name} ${method} ${path} -> ${r.status} ${r.text}`))));
        }
      }
      for (const ct of CONTENT_TYPES) {
        for (const body of BODIES) {
          for (const path of ['/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg?api-version=2025-04-01', '/common/oauth2/v2.0/token', '/devstoreaccount1/c?restype=container']) {
            jobs.push(send(url, 'PUT', path, { 'content-type': ct, authorization: token }, body).then((r) => void (r.status >= 500 && fiveHundreds.push(`${name} PUT ${path} ${ct} body ${body.slice(0, 20)} -> ${r.status} ${r.text}`))));
          }
        }
      }
      cases += jobs.length;
      await Promise.all(jobs);
      assert.equal(await health(), 200, `after ${name}`);
    }
    t.diagnostic(`${cases} requests over ${targets.length} listeners (${targets.map((x) => x.name).join(', ')}), ${fiveHundreds.length} answered 5xx`);
    assert.deepEqual(fiveHundreds, []);
    assert.ok(cases > 1000, `${cases} cases`);
  });

  test('huge bodies and headers, bad header bytes: refused, never 5xx', async () => {
    const big = Buffer.alloc(6 * 1024 * 1024, 'a');
    for (const { name, url } of targets) {
      const r1 = await send(url, 'PUT', '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg?api-version=2025-04-01', { 'content-type': 'application/json', authorization: 'Bearer x' }, big);
      assert.ok(r1.status < 500, `${name} huge body -> ${r1.status} ${r1.text}`);
      const r2 = await send(url, 'GET', '/', { 'x-big': 'h'.repeat(40_000) });
      assert.ok(r2.status < 500, `${name} huge header -> ${r2.status}`);
    }
    assert.equal(await health(), 200);
  });

  test('abandoned, slow, garbage and many connections leave every listener serving', async () => {
    for (const { name, url } of targets) {
      const open = () =>
        url.protocol === 'https:'
          ? tlsConnect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false })
          : netConnect({ host: url.hostname, port: Number(url.port) });
      const sockets = [];
      for (let i = 0; i < 100; i++) {
        const s = open();
        s.on('error', () => undefined);
        sockets.push(s);
      }
      // Half a request line, garbage, a body promised and never sent, then abandoned.
      sockets[0]!.write('GET /hea');
      sockets[1]!.write('\u0000\u00ff\r\n\r\n');
      sockets[2]!.write('PUT /subscriptions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{');
      sockets[3]!.write('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nzz\r\n');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await health(), 200, `${name} while 100 connections hang`);
      for (const s of sockets) s.destroy();
    }
    // Every listener still answers a normal request.
    for (const { name, url } of targets) {
      const r = await send(url, 'GET', '/', {});
      assert.ok(r.status > 0 && r.status < 500, `${name} -> ${r.status}`);
    }
  });
});
