// Refuses, when a role assignment is written, a condition the storage gate could not honour
// (see conditions.ts). It runs on the main origin ahead of the Resource Manager: it reads the
// body (the request keeps it for the router), answers 400 InvalidCondition when the condition
// reads storage attributes the gate never supplies, and otherwise hands the request on
// unchanged. The Microsoft.Authorization handler validates everything else.
import type { ArmRouter } from '../../arm/router.js';
import { authenticateArm } from '../../arm/auth.js';
import { ArmError, sendArmError } from '../../arm/errors.js';
import type { Directory } from '../../directory/directory.js';
import type { OriginRoute } from '../../server/context.js';
import type { TokenService } from '../../sts/tokens.js';
import { storageConditionProblems } from './conditions.js';

const ASSIGNMENT_PUT = /\/providers\/microsoft\.authorization\/roleassignments\/[^/]+$/i;

export function conditionGuardRoute(d: { armRouter: ArmRouter; tokens: TokenService; directory: Directory }): OriginRoute {
  return {
    matches: (req) => req.method === 'PUT' && ASSIGNMENT_PUT.test(req.path),
    handle: async (req, res) => {
      let condition: unknown;
      try {
        const body = JSON.parse((await req.body()).toString('utf8')) as { properties?: { condition?: unknown } };
        condition = body?.properties?.condition;
      } catch {
        // Not JSON (or too large): the Resource Manager reports it.
      }
      const problems = typeof condition === 'string' && condition.length > 0 ? storageConditionProblems(condition) : [];
      if (problems.length === 0) return d.armRouter.handle(req, res);
      try {
        authenticateArm(req, d.tokens, d.directory);
      } catch (err) {
        if (err instanceof ArmError) return sendArmError(res, err);
        throw err;
      }
      sendArmError(res, new ArmError(400, 'InvalidCondition', `The condition is invalid: ${problems.join('; ')}.`, 'properties.condition'));
    },
  };
}
