// Adapts the template language (`src/arm/templates`) to the executor's plan: resources whose
// condition is false are left out, dependencies become ids, nested deployments keep their
// `prepare()`, and the parameters are shown as Azure shows them (secure values left out).
import { planDeployment, type PlannedResource, type PlanOptions, type TemplateHost } from '../templates/index.js';
import type { ExecStep } from './executor.js';
import type { Planner } from './planner.js';

const SECURE_TYPES = new Set(['securestring', 'secureobject']);

/** Azure writes parameter types capitalised in a deployment (`String`, `SecureString`, `Int`, ...). */
function typeName(type: string): string {
  const names: Record<string, string> = { string: 'String', securestring: 'SecureString', int: 'Int', bool: 'Bool', object: 'Object', secureobject: 'SecureObject', array: 'Array' };
  return names[type.toLowerCase()] ?? type;
}

export const templatePlanner: Planner = async (template, parameters, scope, host, options) => {
  const templateHost: TemplateHost = {
    subscriptionId: scope.subscriptionId,
    tenantId: scope.tenantId,
    ...(scope.resourceGroup ? { resourceGroup: { ...scope.resourceGroup, properties: { provisioningState: 'Succeeded' } } } : {}),
    deployment: { name: scope.deploymentName, ...(scope.location ? { location: scope.location } : {}) },
    reference: (id, apiVersion, full) => host.reference(id, apiVersion, full),
    list: (id, functionName, apiVersion, body) => host.list(id, apiVersion, functionName, body),
  };
  const plan = await planDeployment(template, parameters, templateHost, options as PlanOptions | undefined);
  const active = plan.resources.filter((r) => r.condition);
  const idOfKey = new Map(active.map((r) => [r.key, r.id]));
  const steps: ExecStep[] = active.map((r: PlannedResource) => ({
    id: r.id,
    type: r.type,
    name: r.name,
    apiVersion: r.apiVersion,
    dependsOn: r.dependsOn.map((k) => idOfKey.get(k)).filter((id): id is string => id !== undefined),
    existing: r.existing,
    body: () => r.body(),
    ...(r.nested ? { nested: { mode: r.nested.mode, prepare: () => r.nested!.prepare() } } : {}),
  }));
  // Serial copy loops: each batch waits for the one before it.
  for (const [i, r] of active.entries()) {
    const c = r.copy;
    if (!c || c.mode !== 'serial') continue;
    const size = Math.max(1, c.batchSize ?? 1);
    const batch = Math.floor(c.index / size);
    if (batch === 0) continue;
    for (const other of active) {
      if (other.copy?.name === c.name && other.key !== r.key && Math.floor(other.copy.index / size) === batch - 1) steps[i]!.dependsOn.push(other.id);
    }
  }
  const shown: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(plan.parameters)) {
    shown[name] = SECURE_TYPES.has(p.type.toLowerCase()) ? { type: typeName(p.type) } : { type: typeName(p.type), value: p.value };
  }
  return { steps, parameters: shown, externalReferences: plan.externalReferences ?? [], outputs: () => plan.outputs() };
};
