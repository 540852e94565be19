// Wires Microsoft.Resources/deployments into the Resource Manager: the REST surface as an ARM
// extension namespace, runs that dispatch their resources through the main origin as the
// deploying caller, and at start the marking of runs a previous process left unfinished.
import type { ModuleSetup } from '../../server/context.js';
import { DeploymentEngine } from './engine.js';
import { NAMESPACE } from './model.js';
import { RESOURCE_GROUPS } from '../model.js';
import { templatePlanner } from './templatePlanner.js';

export const setupDeployments: ModuleSetup = async (ctx) => {
  const engine = new DeploymentEngine(ctx.store, ctx.arm, templatePlanner, () => {
    if (!ctx.handle) throw new Error('the main origin is not serving yet');
    return ctx.handle;
  });
  await engine.failInterrupted();
  // MIMIC_DEPLOYMENT_SWEEP_MS: tests shorten the sweep (a runner must be missing at two in a row).
  const sweepMs = Number(ctx.env.MIMIC_DEPLOYMENT_SWEEP_MS);
  engine.sweepInterrupted(Number.isFinite(sweepMs) && sweepMs >= 100 ? sweepMs : undefined);
  ctx.onClose.push(() => engine.close());
  // Deleting a resource group (here, or on another instance sharing the store) removes its deployments.
  const unsubscribe = ctx.store.subscribe((c) => {
    if (c.kind !== RESOURCE_GROUPS || !c.deleted || c.origin !== ctx.store.instanceId) return;
    engine.forgetGroup(c.key).catch((err: unknown) => console.error('mimic: deployments of a deleted group not removed:', err));
  });
  ctx.onClose.push(unsubscribe);
  ctx.armRouter.registerExtension(NAMESPACE, (x) => engine.serve(x));
};
