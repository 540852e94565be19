// The provider catalog's published api-versions and the provider operation lists (pure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiVersionsOf, lookupType, namespaces, typesOf } from '../../src/arm/providers.js';
import { operationsOf, servesOperations } from '../../src/arm/operationsList.js';
import { locationViews, pairedRegion } from '../../src/arm/locations.js';

test('every type lists api-versions newest first, and types with a fixed list list exactly those', () => {
  for (const ns of namespaces()) {
    for (const t of typesOf(ns)) {
      const list = apiVersionsOf(ns, t);
      assert.ok(list.length > 0, `${ns}/${t}`);
      assert.deepEqual(list, [...list].sort().reverse(), `${ns}/${t} newest first`);
      const fixed = lookupType(ns, t.split('/')).versions;
      if (fixed) assert.deepEqual([...list].sort(), [...fixed].sort(), `${ns}/${t} lists what it accepts`);
    }
  }
  // az picks the newest stable version: it must be one the type accepts.
  const uai = apiVersionsOf('Microsoft.ManagedIdentity', 'userAssignedIdentities');
  assert.equal(uai.find((v) => !v.endsWith('-preview')), '2024-11-30');
});

test('operation lists: five namespaces, any spelling, names unique and inside the namespace', () => {
  assert.equal(servesOperations('microsoft.keyvault'), 'Microsoft.KeyVault');
  assert.equal(servesOperations('Microsoft.Web'), undefined);
  for (const ns of ['Microsoft.Resources', 'Microsoft.ManagedIdentity', 'Microsoft.Authorization', 'Microsoft.KeyVault', 'Microsoft.Storage']) {
    const names = operationsOf(ns).map((o) => o.name as string);
    assert.ok(names.length > 3, ns);
    assert.equal(new Set(names).size, names.length, `${ns}: unique`);
    assert.ok(names.every((n) => n.startsWith(`${ns}/`) && !n.includes('*')), ns);
  }
  const storage = operationsOf('Microsoft.Storage');
  const read = storage.find((o) => o.name === 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read');
  assert.equal(read?.isDataAction, true, 'data actions are marked');
  assert.ok(storage.some((o) => o.name === 'Microsoft.Storage/storageAccounts/listKeys/action' && o.isDataAction === false));
});

test('locations: ids under the subscription, paired regions for geo-redundant storage', () => {
  const views = locationViews('sub-1');
  assert.ok(views.every((v) => (v.id as string).startsWith('/subscriptions/sub-1/locations/')));
  assert.equal(pairedRegion('eastus'), 'westus');
  assert.equal(pairedRegion('nowhere'), undefined);
});
