// Public surface of the authorization engine.
export * from './types.js';
export { AuthzEngine, ALL_PRINCIPALS_ID } from './engine.js';
export {
  parseCondition,
  validateCondition,
  compileCondition,
  ConditionError,
  MAX_CONDITION_BYTES,
  SUPPORTED_CONDITION_VERSION,
  type CompiledCondition,
  type ConditionContext,
  type ConditionOutcome,
  type ConditionProblem,
} from './conditions.js';
export { normalizeScope, scopeCovers } from './scope.js';
export { actionMatches, compileActionPattern } from './actionPattern.js';
