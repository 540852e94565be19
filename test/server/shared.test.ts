// Several instances on one PostgreSQL database share the tenant, administrator, CA, signing keys
// and resources: a token minted by one verifies on the other.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestMimic } from '../helpers/mimic.js';
import { adminToken, call } from '../helpers/https.js';

describe('instances sharing PostgreSQL', () => {
  test('share tenant, CA and keys; tokens and resources cross over; a different master key is refused', async () => {
    const env = { MIMIC_MASTER_KEY: randomBytes(32).toString('base64') };
    const a = await startTestMimic('postgres', { env });
    let b;
    try {
      b = await startTestMimic('postgres', { storeUrl: a.storeUrl, env });
      assert.equal(b.endpoints.tenantId, a.endpoints.tenantId);
      assert.equal(b.endpoints.subscriptionId, a.endpoints.subscriptionId);
      assert.equal(b.context.tls.caCertPem, a.context.tls.caCertPem);
      assert.notEqual(b.adminEnv.AZURE_CLIENT_SECRET, a.adminEnv.AZURE_CLIENT_SECRET, 'each data dir gets its own administrator secret');
      const tokenA = await adminToken(a);
      const tokenB = await adminToken(b);
      const sub = `/subscriptions/${a.endpoints.subscriptionId}`;
      const put = await call(a, 'PUT', `${sub}/resourceGroups/shared?api-version=2025-04-01`, { headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'application/json' }, body: '{"location":"eastus"}' });
      assert.equal(put.status, 201);
      const uai = await call(a, 'PUT', `${sub}/resourceGroups/shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shared-id?api-version=2024-11-30`, { headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'application/json' }, body: '{"location":"eastus"}' });
      const readOnB = await call(b, 'GET', `${sub}/resourceGroups/shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shared-id?api-version=2024-11-30`, { headers: { authorization: `Bearer ${tokenA}` } });
      assert.equal(readOnB.status, 200, 'a token minted by A verifies on B');
      assert.deepEqual(readOnB.json.properties, uai.json.properties);
      const readOnA = await call(a, 'GET', `${sub}/resourceGroups/shared?api-version=2025-04-01`, { headers: { authorization: `Bearer ${tokenB}` } });
      assert.equal(readOnA.status, 200, 'and the other way round');
      // B's directory learns of A's new principal through the change feed.
      const deadline = Date.now() + 1000;
      while (!b.directory.byObject(uai.json.properties.principalId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(b.directory.byObject(uai.json.properties.principalId));

      await assert.rejects(startTestMimic('postgres', { storeUrl: a.storeUrl, env: { MIMIC_MASTER_KEY: randomBytes(32).toString('base64') } }), /different master key/);
    } finally {
      await b?.dispose();
      await a.dispose();
    }
  });
});
