// Authentication of Resource Manager requests: a bearer token signed by this tenant, for
// the management audience, within its lifetime. Failures answer like ARM does (401 with
// the code naming the problem and a WWW-Authenticate challenge).
import type { Request } from '../server/http.js';
import type { TokenService } from '../sts/tokens.js';
import { TokenError } from '../sts/jwt.js';
import type { Directory } from '../directory/directory.js';
import { ArmError } from './errors.js';
import type { Caller } from './model.js';
import { internalCaller } from './internalRequest.js';

export const ARM_AUDIENCES: ReadonlySet<string> = new Set([
  'https://management.azure.com/',
  'https://management.azure.com',
  'https://management.core.windows.net/',
  'https://management.core.windows.net',
]);

function challenge(tenantId: string, description: string): Record<string, string> {
  return { 'www-authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${tenantId}", error="invalid_token", error_description="${description}"` };
}

export function authenticateArm(req: Request, tokens: TokenService, directory: Directory): Caller {
  // A request made in-process for a caller authenticated already (a deployment's resources).
  const internal = internalCaller(req);
  if (internal) return internal;
  const tenantId = tokens.tenant.tenantId;
  const header = req.header('authorization');
  if (!header) {
    throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", undefined, challenge(tenantId, "The authentication failed because of missing 'Authorization' header."));
  }
  if (!/^Bearer /i.test(header)) {
    throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is provided in an invalid format.", undefined, challenge(tenantId, "The authentication failed because of invalid 'Authorization' header."));
  }
  let claims;
  try {
    claims = tokens.verify(header.slice(7).trim(), ARM_AUDIENCES);
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    const headers = challenge(tenantId, 'The access token is invalid.');
    switch (err.problem) {
      case 'expired':
        throw new ArmError(401, 'ExpiredAuthenticationToken', `The access token expiry UTC time is earlier than current UTC time '${new Date().toISOString()}'.`, undefined, headers);
      case 'audience':
        throw new ArmError(401, 'InvalidAuthenticationTokenAudience', `The access token has been obtained for wrong audience or resource. It should exactly match with one of the allowed audiences '${[...ARM_AUDIENCES].join("','")}'.`, undefined, headers);
      case 'issuer':
        throw new ArmError(401, 'InvalidAuthenticationTokenTenant', `The access token is from the wrong issuer. It must match the tenant 'https://sts.windows.net/${tenantId}/' associated with this subscription.`, undefined, headers);
      default:
        throw new ArmError(401, 'InvalidAuthenticationToken', `The access token is invalid. ${err.message}`, undefined, headers);
    }
  }
  const objectId = String(claims.oid ?? '');
  const sp = directory.byObject(objectId);
  // Only a principal missing from the directory's index (or disabled) costs a second look.
  const principalState = sp?.accountEnabled ? undefined : tokens.principalState(claims);
  return {
    objectId,
    appId: String(claims.appid ?? ''),
    tenantId,
    type: sp?.servicePrincipalType === 'ManagedIdentity' || typeof claims.xms_mirid === 'string' ? 'ManagedIdentity' : 'Application',
    ...(principalState ? { principalState } : {}),
  };
}
