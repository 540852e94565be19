// Mimic's Resource Manager extension for the local OIDC issuers, called by the CLI with an
// administrator's token:
//   GET  /subscriptions/{s}/providers/Mimic.Federation/issuers/{name}          the issuer URL
//   POST /subscriptions/{s}/providers/Mimic.Federation/issuers/{name}/tokens   {subject, audience?, lifetimeSeconds?, claims?}
// Signing an assertion is acting as the external identity provider, so it needs an action
// only owners (or a role granting it) have on the subscription.
import { ArmError } from '../../arm/errors.js';
import type { Authorizer } from '../../arm/service.js';
import type { ExtensionContext, ExtensionHandler } from '../../arm/router.js';
import { sendJson } from '../../server/http.js';
import { ISSUER_NAME, MAX_ASSERTION_LIFETIME, type LocalIssuers } from './localIssuers.js';

export const FEDERATION_NAMESPACE = 'Mimic.Federation';
export const ISSUE_ACTION = 'Mimic.Federation/issuers/tokens/action';

export function federationAdminApi(deps: { subscriptionId: string; issuers: LocalIssuers; authorizer: () => Authorizer }): ExtensionHandler {
  return async (ctx: ExtensionContext) => {
    const scope = `/subscriptions/${deps.subscriptionId}`;
    if (ctx.scope.toLowerCase() !== scope) throw new ArmError(404, 'InvalidResourceType', `${FEDERATION_NAMESPACE} operations live at ${scope}/providers/${FEDERATION_NAMESPACE}.`);
    const [collection, name, action, ...extra] = ctx.rest;
    if (collection?.toLowerCase() !== 'issuers' || !name || extra.length > 0 || (action !== undefined && action.toLowerCase() !== 'tokens')) {
      throw new ArmError(404, 'InvalidResourceType', `Unknown path '${ctx.rest.join('/')}' in ${FEDERATION_NAMESPACE}.`);
    }
    if (!ISSUER_NAME.test(name)) throw new ArmError(400, 'InvalidResourceName', `Issuer name '${name}' is invalid: use 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit.`);
    if (action === undefined) {
      if (ctx.req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', 'Use GET to read an issuer.');
      return sendJson(ctx.res, 200, { name, issuer: deps.issuers.url(name) });
    }
    if (ctx.req.method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', 'Use POST to issue a token.');
    deps.authorizer().check(ctx.caller, ISSUE_ACTION, scope);
    const body = await ctx.body();
    const subject = body.subject;
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 600) throw new ArmError(400, 'InvalidRequestContent', "The property 'subject' must be a string of 1 to 600 characters.");
    const audience = body.audience;
    if (audience !== undefined && (typeof audience !== 'string' || audience.length === 0 || audience.length > 600)) {
      throw new ArmError(400, 'InvalidRequestContent', "The property 'audience' must be a string of 1 to 600 characters.");
    }
    const lifetime = body.lifetimeSeconds;
    if (lifetime !== undefined && (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_ASSERTION_LIFETIME)) {
      throw new ArmError(400, 'InvalidRequestContent', `The property 'lifetimeSeconds' must be an integer from 1 to ${MAX_ASSERTION_LIFETIME}.`);
    }
    const claims = body.claims;
    if (claims !== undefined && (typeof claims !== 'object' || claims === null || Array.isArray(claims))) {
      throw new ArmError(400, 'InvalidRequestContent', "The property 'claims' must be an object.");
    }
    const issued = await deps.issuers.mint(name, {
      subject,
      audience: audience as string | undefined,
      lifetimeSeconds: lifetime as number | undefined,
      claims: claims as Record<string, unknown> | undefined,
    });
    sendJson(ctx.res, 200, issued);
  };
}
