// Adapts the template language (`src/arm/templates`) to the executor's plan.
// Until that module is wired in, every template is refused with a clear validation error.
import { ArmError } from '../errors.js';
import type { Planner } from './planner.js';

export const templatePlanner: Planner = async () => {
  throw new ArmError(400, 'InvalidTemplate', 'Deployment template validation failed: the template language is not available in this build.');
};
