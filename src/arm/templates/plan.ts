// Template processing: validation, parameters, variables, resource expansion, dependencies, outputs.
import type { DeploymentPlan, PlanOptions, TemplateHost } from './index.js';
import { TemplateError } from './errors.js';

export async function planDeployment(_template: unknown, _parameters: Record<string, unknown>, _host: TemplateHost, _opts?: PlanOptions): Promise<DeploymentPlan> {
  throw new TemplateError('InvalidTemplate', 'not implemented yet');
}
