// Concurrent PUTs of one resource on one instance: ARM's PUT is create-or-update, so exactly one
// caller creates it (201) and the others update it (200), all answers carry the same principal,
// and no service principal is left without its resource (the write is conditional on the version
// read, and a writer that lost the race starts again from what the winner wrote).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, startTestMimic } from '../helpers/mimic.js';
import { armCaller } from '../helpers/arm.js';

const WRITERS = 8;

for (const engine of ENGINES) {
  describe(`concurrent PUTs of one resource (${engine})`, () => {
    test('one 201, the rest 200, one principal', async () => {
      const m = await startTestMimic(engine);
      try {
        const a = await armCaller(m.dataDir, '2023-01-31');
        const rg = `${a.sub}/resourceGroups/race`;
        assert.equal((await a.call('PUT', rg, { location: 'eastus' }, '2025-04-01')).status, 201);
        for (const [path, apiVersion, body, principalOf] of [
          [`${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/same`, '2023-01-31', {}, (r: any) => r.properties.principalId],
          [`${rg}/providers/Microsoft.Web/sites/same`, '2023-12-01', { kind: 'app', identity: { type: 'SystemAssigned' }, properties: {} }, (r: any) => r.identity.principalId],
        ] as const) {
          const answers = await Promise.all(Array.from({ length: WRITERS }, (_, i) => a.call('PUT', path, { location: 'eastus', tags: { writer: String(i) }, ...body }, apiVersion)));
          assert.deepEqual(answers.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201], answers.map((r) => r.text).join('\n'));
          const principals = new Set(answers.map((r) => principalOf(r.body)));
          assert.equal(principals.size, 1, 'every answer carries the same principal');
          const id = answers[0]!.body.id.toLowerCase();
          const owners = [...(await a.call('GET', '/providers/Mimic.Directory/servicePrincipals', undefined, '2025-01-01')).body.value].filter((p: any) => p.managedIdentityResourceId?.toLowerCase() === id);
          assert.deepEqual(owners.map((p: any) => p.objectId), [...principals]);
        }
      } finally {
        await m.dispose();
      }
    });
  });
}
