// `/providers/Mimic.Reliability/faults`: the ARM extension behind `mimic fault add|list|clear`.
//   GET     list the rules in force (with how many requests each failed)
//   POST    add one rule  {service, operation, rate, status: 503|429|500|"timeout", retryAfter?, forSeconds?}
//   DELETE  remove every rule
// Faults affect every caller, so only the tenant's administrator may change or read them.
import { ArmError } from '../arm/errors.js';
import type { ExtensionHandler } from '../arm/router.js';
import type { ModuleSetup } from './context.js';
import { sendJson } from './http.js';
import { FaultError, type FaultInput } from './faults.js';

export const RELIABILITY_NAMESPACE = 'Mimic.Reliability';

export const setupFaultsApi: ModuleSetup = (ctx) => {
  // The core services built before the modules learn of the injector and the throttle here.
  ctx.armRouter.faults = ctx.faults;
  ctx.armRouter.throttle = ctx.throttler;
  ctx.tokenEndpoint.faults = ctx.faults;
  const handler: ExtensionHandler = async (x) => {
    if (x.scope !== '/' || x.rest.length !== 1 || x.rest[0]!.toLowerCase() !== 'faults') return false;
    if (x.caller.objectId.toLowerCase() !== ctx.tenant.adminObjectId.toLowerCase()) {
      throw new ArmError(403, 'AuthorizationFailed', `The client '${x.caller.objectId}' does not have authorization to manage injected faults: only the administrator may.`);
    }
    switch (x.req.method) {
      case 'GET':
        return sendJson(x.res, 200, { value: ctx.faults.list() });
      case 'POST': {
        try {
          return sendJson(x.res, 201, ctx.faults.add((await x.body()) as unknown as FaultInput));
        } catch (err) {
          if (err instanceof FaultError) throw new ArmError(400, 'InvalidRequestContent', err.message);
          throw err;
        }
      }
      case 'DELETE':
        return sendJson(x.res, 200, { cleared: ctx.faults.clear() });
      default:
        throw new ArmError(405, 'MethodNotAllowed', `The method '${x.req.method}' is not allowed on faults.`);
    }
  };
  ctx.armRouter.registerExtension(RELIABILITY_NAMESPACE, handler);
};
