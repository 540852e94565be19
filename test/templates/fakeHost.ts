// A host for unit tests of the pure template module: a fixed scope and an in-memory resource table.
import type { TemplateHost } from '../../src/arm/templates/index.js';

export const SUB = '00000000-0000-0000-0000-000000000001';
export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const RG = `/subscriptions/${SUB}/resourceGroups/rg-app`;

export interface FakeHost extends TemplateHost {
  state: Map<string, Record<string, unknown>>;
  calls: string[];
}

export function fakeHost(opts: { subscriptionScope?: boolean } = {}): FakeHost {
  const state = new Map<string, Record<string, unknown>>();
  const calls: string[] = [];
  return {
    subscriptionId: SUB,
    tenantId: TENANT,
    ...(opts.subscriptionScope ? {} : { resourceGroup: { id: RG, name: 'rg-app', location: 'westeurope', tags: { env: 'test' } } }),
    deployment: { name: 'deploy1' },
    now: () => new Date(Date.UTC(2026, 11, 4, 5, 6, 7)),
    newGuid: () => 'a0a0a0a0-b1b1-4c2c-8d3d-e4e4e4e4e4e4',
    state,
    calls,
    async reference(id, apiVersion, full) {
      calls.push(`reference ${id} ${apiVersion ?? ''} ${full ? 'full' : ''}`.trim());
      const r = state.get(id.toLowerCase());
      if (!r) throw Object.assign(new Error(`The Resource '${id}' was not found.`), { code: 'ResourceNotFound' });
      return full ? r : r.properties;
    },
    async list(id, fn, apiVersion) {
      calls.push(`${fn} ${id} ${apiVersion}`);
      return { keys: [{ keyName: 'key1', value: `k-${id.split('/').pop()}` }] };
    },
  };
}
