// Concurrent PUTs of one resource on one instance: ARM's PUT is create-or-update, so exactly one
// caller creates it (201) and the others update it (200), all answers carry the same principal,
// and no service principal is left without its resource (the write is conditional on the version
// read, and a writer that lost the race starts again from what the winner wrote). The same for a
// DELETE racing a PUT: the delete is conditional on the version it read.
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

    test('a DELETE racing a PUT that adds a system-assigned identity leaves no principal behind', async () => {
      const m = await startTestMimic(engine);
      try {
        const a = await armCaller(m.dataDir, '2023-12-01');
        const rg = `${a.sub}/resourceGroups/race`;
        assert.equal((await a.call('PUT', rg, { location: 'eastus' }, '2025-04-01')).status, 201);
        const outcomes = new Map<string, number>();
        for (let i = 0; i < 15; i++) {
          const site = `${rg}/providers/Microsoft.Web/sites/s${i}`;
          assert.equal((await a.call('PUT', site, { location: 'eastus', kind: 'app', properties: {} })).status, 201);
          const [put, del] = await Promise.all([a.call('PUT', site, { location: 'eastus', kind: 'app', identity: { type: 'SystemAssigned' }, properties: {} }), a.call('DELETE', site)]);
          const after = await a.call('GET', site);
          const owners = (await a.call('GET', '/providers/Mimic.Directory/servicePrincipals', undefined, '2025-01-01')).body.value.filter((p: any) => p.managedIdentityResourceId?.toLowerCase() === site.toLowerCase()).map((p: any) => p.objectId);
          if (after.status === 200) assert.deepEqual(owners, [after.body.identity.principalId], `round ${i}: the site that remains has its principal`);
          else assert.deepEqual(owners, [], `round ${i}: the deleted site left no principal (PUT ${put.status}, DELETE ${del.status})`);
          const k = `PUT ${put.status}, DELETE ${del.status}, site ${after.status === 200 ? 'kept' : 'gone'}`;
          outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
        }
        assert.ok(outcomes.size > 0);
      } finally {
        await m.dispose();
      }
    });
  });
}
