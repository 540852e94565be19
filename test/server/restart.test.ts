// Restarting Mimic on the same data dir (and store) keeps everything, signing keys included; a
// server killed with SIGKILL in the middle of a stream of writes loses nothing it acknowledged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { CLI, ENGINES, startTestMimic } from '../helpers/mimic.js';
import { adminToken, call } from '../helpers/https.js';
import { pgTestDatabase } from '../helpers/pg.js';
import pg from 'pg';
import type { Endpoints } from '../../src/server/config.js';

for (const engine of ENGINES) {
  describe(`restart (${engine})`, () => {
    test('resources, identities, tenant and signing keys survive; an old token still verifies', async () => {
      let mimic = await startTestMimic(engine);
      try {
        const token = await adminToken(mimic);
        const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        const sub = `/subscriptions/${mimic.endpoints.subscriptionId}`;
        await call(mimic, 'PUT', `${sub}/resourceGroups/keep?api-version=2025-04-01`, { headers: auth, body: '{"location":"eastus"}' });
        const uaiPath = `${sub}/resourceGroups/keep/providers/Microsoft.ManagedIdentity/userAssignedIdentities/survivor?api-version=2024-11-30`;
        const created = await call(mimic, 'PUT', uaiPath, { headers: auth, body: '{"location":"eastus"}' });
        assert.equal(created.status, 201);
        const jwksBefore = (await call(mimic, 'GET', '/common/discovery/keys')).json;
        const tenantBefore = mimic.endpoints.tenantId;

        // Private files are owner-only; no private key or client secret is stored in clear.
        for (const f of ['server.key', 'admin.json', 'master.key']) {
          assert.equal((await stat(join(mimic.dataDir, f))).mode & 0o777, 0o600, f);
        }
        if (engine === 'sqlite') {
          for (const f of (await readdir(mimic.dataDir)).filter((n) => n.startsWith('mimic.db'))) {
            const bytes = await readFile(join(mimic.dataDir, f));
            assert.equal(bytes.includes('PRIVATE KEY'), false, `${f} holds no clear private key`);
            assert.equal(bytes.includes(mimic.adminEnv.AZURE_CLIENT_SECRET!), false, `${f} holds no clear client secret`);
          }
        } else {
          const client = new pg.Client({ connectionString: mimic.storeUrl });
          await client.connect();
          try {
            const r = await client.query(`SELECT count(*)::int AS n FROM docs WHERE value LIKE '%PRIVATE KEY%' OR value LIKE $1`, [`%${mimic.adminEnv.AZURE_CLIENT_SECRET}%`]);
            assert.equal(r.rows[0].n, 0, 'no clear private key or client secret in PostgreSQL');
            assert.ok(((await client.query(`SELECT count(*)::int AS n FROM docs WHERE kind = 'signingKeys'`)).rows[0].n) > 0);
          } finally {
            await client.end();
          }
        }

        mimic = await mimic.restart();
        assert.equal(mimic.endpoints.tenantId, tenantBefore);
        assert.deepEqual((await call(mimic, 'GET', '/common/discovery/keys')).json, jwksBefore);
        const read = await call(mimic, 'GET', uaiPath, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(read.status, 200, 'the token minted before the restart verifies');
        assert.deepEqual(read.json.properties, created.json.properties);
        assert.ok(mimic.directory.byObject(created.json.properties.principalId));
      } finally {
        await mimic.dispose();
      }
    });

    test('SIGKILL during a stream of writes loses nothing acknowledged', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'mimic-kill-'));
      const db = engine === 'postgres' ? await pgTestDatabase() : undefined;
      const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--port', '0', ...(db ? ['--store', db.url] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => d.toString().includes('Mimic is ready') && resolve());
          child.once('exit', (code) => reject(new Error(`mimic exited early (${code})`)));
        });
        const endpoints = JSON.parse(await readFile(join(dataDir, 'endpoints.json'), 'utf8')) as Endpoints;
        const ca = await readFile(endpoints.caCertFile, 'utf8');
        const shim = { endpoints, context: { tls: { caCertPem: ca } }, adminEnv: JSON.parse(await readFile(join(dataDir, 'admin.json'), 'utf8')) };
        shim.adminEnv = { AZURE_CLIENT_ID: shim.adminEnv.clientId, AZURE_CLIENT_SECRET: shim.adminEnv.clientSecret, AZURE_TENANT_ID: shim.adminEnv.tenantId };
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const m = shim as any;
        const token = await adminToken(m);
        const sub = `/subscriptions/${endpoints.subscriptionId}`;
        const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        assert.equal((await call(m, 'PUT', `${sub}/resourceGroups/stream?api-version=2025-04-01`, { headers: auth, body: '{"location":"eastus"}' })).status, 201);

        const acknowledged: string[] = [];
        let killed = false;
        const writer = (async () => {
          for (let i = 0; i < 100_000 && !killed; i++) {
            const name = `id-${i}`;
            try {
              const r = await put(endpoints.origin + `${sub}/resourceGroups/stream/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}?api-version=2024-11-30`, ca, token);
              if (r === 201) acknowledged.push(name);
            } catch {
              return; // the server is gone
            }
          }
        })();
        await new Promise((r) => setTimeout(r, 700));
        killed = true;
        child.kill('SIGKILL');
        await writer;
        assert.ok(acknowledged.length > 5, `some writes were acknowledged (${acknowledged.length})`);

        const again = await startTestMimic(engine, { dataDir, storeUrl: db?.url });
        try {
          const t2 = await adminToken(again);
          const list = await call(again, 'GET', `${sub}/resourceGroups/stream/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2024-11-30`, { headers: { authorization: `Bearer ${t2}` } });
          const names = new Set((list.json.value as Array<{ name: string; properties: { principalId: string } }>).map((v) => v.name));
          for (const n of acknowledged) assert.ok(names.has(n), `acknowledged ${n} survived`);
          for (const v of list.json.value as Array<{ properties: { principalId: string } }>) assert.ok(again.directory.byObject(v.properties.principalId), 'each identity kept its principal');
        } finally {
          await again.close();
        }
      } finally {
        child.kill('SIGKILL');
        await rm(dataDir, { recursive: true, force: true });
        await db?.drop();
      }
    });
  });
}

function put(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = '{"location":"eastus"}';
    const req = request(url, { method: 'PUT', ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
