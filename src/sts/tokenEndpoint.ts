// The OAuth token endpoints (v1 `/oauth2/token` and v2 `/oauth2/v2.0/token`) for the
// client-credentials grant: client secrets, and client assertions (workload identity
// federation) through a pluggable validator.
import type { ServerResponse } from 'node:http';
import { sendJson, BodyTooLargeError, type Request } from '../server/http.js';
import { secretMatches } from '../crypto/masterKey.js';
import type { Directory } from '../directory/directory.js';
import type { ServicePrincipal } from '../directory/types.js';
import { ResourceRegistry, resourceFromScope } from './resources.js';
import { APP_TOKEN_LIFETIME, TokenService } from './tokens.js';
import { sendEntraError, unknownResourceMessage } from './errors.js';
import type { FaultInjector } from '../server/faults.js';

/** The token endpoint's one operation, for `mimic fault --service sts`. */
const FAULT_NAMES = ['token'] as const;
/** Entra's answers to each injected status: OAuth error, AADSTS code, description. */
const FAULT_ERRORS = {
  429: ['temporarily_unavailable', 90055, 'There are too many incoming requests; retry after the time given in Retry-After (injected by mimic fault).'],
  500: ['server_error', 50000, 'There was an error issuing a token (injected by mimic fault).'],
  503: ['temporarily_unavailable', 90033, 'A transient error has occurred; try again (injected by mimic fault).'],
} as const;

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Validates a client assertion for a client id; returns the principal or an Entra error. */
export type AssertionValidator = (
  clientId: string,
  assertion: string,
  tokenEndpointUrl: string,
) => Promise<{ principal: ServicePrincipal } | { status: number; error: string; code: number; message: string }>;

export class TokenEndpoint {
  assertionValidator?: AssertionValidator;
  /** Transient faults on request (`mimic fault add --service sts`); set by the reliability module. */
  faults?: FaultInjector;

  constructor(
    private readonly tokens: TokenService,
    private readonly directory: Directory,
    private readonly resources: ResourceRegistry,
  ) {}

  async handle(req: Request, res: ServerResponse, version: 1 | 2): Promise<void> {
    if (req.method !== 'POST') {
      sendEntraError(res, 405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
      return;
    }
    const injected = this.faults?.active && this.faults.strike('sts', FAULT_NAMES, res, (status, retryAfter) => {
      const [error, code, message] = FAULT_ERRORS[status];
      sendEntraError(res, status, error, code, message, retryAfter);
    });
    if (injected) return;
    let form: URLSearchParams;
    try {
      form = new URLSearchParams((await req.body(64 * 1024)).toString('utf8'));
    } catch (err) {
      if (err instanceof BodyTooLargeError) return sendEntraError(res, 413, 'invalid_request', 90000, 'The request body is too large.');
      throw err;
    }
    const tenantId = this.tokens.tenant.tenantId;
    const grantType = form.get('grant_type');
    if (!grantType) return sendEntraError(res, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    if (grantType !== 'client_credentials') {
      return sendEntraError(res, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    }
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = parseBasic(req.header('authorization'));
    if (basic === 'malformed') {
      return sendEntraError(res, 401, 'invalid_client', 50012, 'The client credentials in the Basic Authorization header are not correctly form-urlencoded.');
    }
    if (basic) {
      clientId ??= basic.id;
      clientSecret ??= basic.secret;
    }
    if (!clientId) return sendEntraError(res, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");

    let resource: string | undefined;
    if (version === 2) {
      const scope = form.get('scope');
      if (!scope) return sendEntraError(res, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
      // MSAL adds openid/profile/offline_access for some flows; client credentials takes exactly one resource.
      const scopes = scope.split(' ').filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
      resource = scopes.length === 1 ? resourceFromScope(scopes[0]!) : undefined;
      if (!resource) {
        return sendEntraError(res, 400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
      }
    } else {
      resource = form.get('resource') ?? undefined;
      if (!resource) return sendEntraError(res, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'resource'.");
    }

    let principal: ServicePrincipal | undefined;
    let appidacr: '1' | '2';
    const assertion = form.get('client_assertion');
    if (assertion) {
      if (form.get('client_assertion_type') !== JWT_BEARER) {
        return sendEntraError(res, 400, 'invalid_request', 50027, `Invalid client_assertion_type; expected '${JWT_BEARER}'.`);
      }
      if (!this.assertionValidator) return sendEntraError(res, 401, 'invalid_client', 700027, 'Client assertions are not accepted for this client.');
      const url = `https://${req.header('host') ?? 'localhost'}${req.path}`;
      const result = await this.assertionValidator(clientId, assertion, url);
      if ('status' in result) return sendEntraError(res, result.status, result.error, result.code, result.message);
      principal = result.principal;
      appidacr = '2';
    } else {
      principal = this.directory.byApp(clientId);
      if (!principal || principal.servicePrincipalType !== 'Application') {
        return sendEntraError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
      }
      if (!clientSecret) {
        return sendEntraError(res, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
      }
      const now = new Date().toISOString();
      const ok = (principal.passwordCredentials ?? []).some((c) => c.endDateTime > now && secretMatches(clientSecret!, c.hash));
      if (!ok) {
        return sendEntraError(res, 401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
      }
      appidacr = '1';
    }
    if (!principal.accountEnabled) {
      return sendEntraError(res, 400, 'unauthorized_client', 7000112, `Application '${principal.appId}' is disabled.`);
    }
    if (!this.resources.isKnown(resource)) {
      return sendEntraError(res, 400, 'invalid_resource', 500011, unknownResourceMessage(resource, tenantId));
    }
    const token = await this.tokens.mintAsync(principal, { resource, lifetimeSeconds: APP_TOKEN_LIFETIME, appidacr });
    if (version === 2) {
      sendJson(res, 200, { token_type: 'Bearer', expires_in: token.expiresIn, ext_expires_in: token.expiresIn, access_token: token.accessToken });
    } else {
      sendJson(res, 200, {
        token_type: 'Bearer',
        expires_in: String(token.expiresIn),
        ext_expires_in: String(token.expiresIn),
        expires_on: String(token.expiresOn),
        not_before: String(token.notBefore),
        resource,
        access_token: token.accessToken,
      });
    }
  }
}

/** RFC 6749 2.3.1: id and secret form-urlencoded, then joined by ':' and base64-encoded. */
function parseBasic(header: string | undefined): { id: string; secret: string } | 'malformed' | undefined {
  if (!header || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  try {
    return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
  } catch {
    // A bad percent-encoding (`%ZZ`) made decodeURIComponent throw: a 500 before this check.
    return 'malformed';
  }
}
