// The corner of Microsoft Graph that the Azure CLI calls while logging in, creating a vault or
// assigning a role: the signed-in principal (`/me`), service principal lookups and
// `directoryObjects/getByIds`, answered from Mimic's directory. Every other Graph path answers
// 501 in Graph's error shape, so a client learns at once that Mimic does not serve it. Azure AD
// Graph (graph.windows.net, retired by Microsoft) is an audience only: its calls answer 501 too.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { BodyTooLargeError, sendJson, segments, type Request } from '../server/http.js';
import type { Directory } from '../directory/directory.js';
import type { ServicePrincipal } from '../directory/types.js';
import type { TokenService } from '../sts/tokens.js';
import { TokenError } from '../sts/jwt.js';

export const MS_GRAPH_HOST = 'graph.microsoft.com';
export const AAD_GRAPH_HOST = 'graph.windows.net';

/** Audiences Microsoft Graph accepts: its URI with or without the slash, and its application id. */
const MS_GRAPH_AUDIENCES: ReadonlySet<string> = new Set(['https://graph.microsoft.com', 'https://graph.microsoft.com/', '00000003-0000-0000-c000-000000000000']);
const MAX_BODY = 64 * 1024;
const VERSIONS = new Set(['v1.0', 'beta']);

class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Graph's challenge on a 401: where to get a token, and for which application (Graph's own id). */
const GRAPH_CHALLENGE = 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

function sendGraphError(req: Request, res: ServerResponse, err: GraphError): void {
  const requestId = randomUUID();
  // Graph echoes the caller's client-request-id when it sends one.
  const clientRequestId = req.header('client-request-id') ?? requestId;
  sendJson(
    res,
    err.status,
    { error: { code: err.code, message: err.message, innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ''), 'request-id': requestId, 'client-request-id': clientRequestId } } },
    { 'request-id': requestId, 'client-request-id': clientRequestId, ...(err.status === 401 ? { 'www-authenticate': GRAPH_CHALLENGE } : {}) },
  );
}

export function hostOf(req: Request): string {
  return (req.header('host') ?? '').toLowerCase().replace(/:443$/, '').replace(/\.$/, '');
}

export class GraphApi {
  constructor(
    private readonly tokens: TokenService,
    private readonly directory: Directory,
  ) {}

  matches(req: Request): boolean {
    const h = hostOf(req);
    return h === MS_GRAPH_HOST || h === AAD_GRAPH_HOST;
  }

  async handle(req: Request, res: ServerResponse): Promise<void> {
    if (hostOf(req) === AAD_GRAPH_HOST) {
      // AAD Graph's own error shape.
      return sendJson(res, 501, {
        'odata.error': { code: 'Request_NotImplemented', message: { lang: 'en', value: `Mimic does not serve Azure AD Graph (${req.method} ${req.path}); it issues tokens for https://graph.windows.net/ only.` } },
      });
    }
    try {
      await this.route(req, res);
    } catch (err) {
      if (err instanceof GraphError) return sendGraphError(req, res, err);
      throw err;
    }
  }

  private async route(req: Request, res: ServerResponse): Promise<void> {
    const callerId = this.authenticate(req);
    const segs = segments(req.path);
    const version = segs[0] ?? '';
    const path = segs.slice(1);
    const lower = path.map((s) => s.toLowerCase());
    if (!VERSIONS.has(version)) throw new GraphError(400, 'BadRequest', `Invalid version: ${version || '(none)'}`);
    const context = `https://${MS_GRAPH_HOST}/${version}/$metadata`;

    if (req.method === 'GET' && lower.length === 1 && lower[0] === 'me') {
      // App-only tokens (all Mimic issues) have no signed-in user, as in Azure.
      throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
    }
    if (req.method === 'GET' && lower[0] === 'serviceprincipals' && lower.length === 1) {
      const matches = spFilter(req.query.get('$filter'));
      const value = [...this.directory.all()].filter(matches).map((sp) => this.view(sp));
      return sendJson(res, 200, { '@odata.context': `${context}#servicePrincipals`, value });
    }
    if (req.method === 'GET' && lower[0] === 'serviceprincipals' && lower.length === 2) {
      const sp = this.directory.byObject(path[1]!.toLowerCase());
      if (!sp) throw notFound(path[1]!);
      return sendJson(res, 200, { '@odata.context': `${context}#servicePrincipals/$entity`, ...this.view(sp) });
    }
    if (req.method === 'POST' && lower.length === 2 && lower[0] === 'directoryobjects' && lower[1] === 'getbyids') {
      const body = await jsonBody(req);
      const ids = body.ids;
      if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string')) throw new GraphError(400, 'Request_BadRequest', "The property 'ids' must be an array of strings.");
      const types = Array.isArray(body.types) ? body.types.map((t) => String(t).toLowerCase()) : undefined;
      const value = (ids as string[])
        .map((id) => this.directory.byObject(id.toLowerCase()))
        .filter((sp): sp is ServicePrincipal => sp !== undefined && (!types || types.includes('serviceprincipal')))
        .map((sp) => ({ '@odata.type': '#microsoft.graph.servicePrincipal', ...this.view(sp) }));
      return sendJson(res, 200, { '@odata.context': `${context}#directoryObjects`, value });
    }
    void callerId;
    throw new GraphError(
      501,
      'NotImplemented',
      `Mimic serves only /me, /servicePrincipals and /directoryObjects/getByIds of Microsoft Graph; '${req.method} /${segs.join('/')}' is not available locally.`,
    );
  }

  /** Verifies the bearer token for Microsoft Graph; answers 401 as Graph does. */
  private authenticate(req: Request): string {
    const header = req.header('authorization') ?? '';
    if (!/^Bearer \S/i.test(header)) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    try {
      return String(this.tokens.verify(header.slice(7).trim(), MS_GRAPH_AUDIENCES).oid ?? '');
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      // Graph's own messages: it says little about why a token failed (no detail for forgers).
      switch (err.problem) {
        case 'expired':
          throw new GraphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
        case 'audience':
          throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
        case 'malformed':
          throw new GraphError(401, 'InvalidAuthenticationToken', 'CompactToken parsing failed with error code: 80049217');
        default:
          throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
      }
    }
  }

  private view(sp: ServicePrincipal): Record<string, unknown> {
    const managed = sp.servicePrincipalType === 'ManagedIdentity';
    return {
      id: sp.objectId,
      appId: sp.appId,
      displayName: sp.displayName,
      accountEnabled: sp.accountEnabled,
      appOwnerOrganizationId: this.tokens.tenant.tenantId,
      servicePrincipalType: sp.servicePrincipalType,
      servicePrincipalNames: managed && sp.managedIdentityResourceId ? [sp.appId, sp.managedIdentityResourceId] : [sp.appId],
      alternativeNames: managed && sp.managedIdentityResourceId ? [`isExplicit=${sp.isSystemAssigned ? 'False' : 'True'}`, sp.managedIdentityResourceId] : [],
      createdDateTime: sp.createdDateTime,
    };
  }
}

function notFound(id: string): GraphError {
  return new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
}

/**
 * The `$filter` forms az sends for service principals: `servicePrincipalNames/any(c:c eq 'X')`,
 * `appId eq 'X'`, `displayName eq 'X'` (joined by `and`); anything else is refused as Graph does.
 */
function spFilter(filter: string | null): (sp: ServicePrincipal) => boolean {
  if (!filter) return () => true;
  const tests: Array<(sp: ServicePrincipal) => boolean> = [];
  for (const clause of filter.split(/\s+and\s+/i)) {
    const anyName = /^servicePrincipalNames\/any\((\w+):\1 eq '((?:[^']|'')*)'\)$/i.exec(clause.trim());
    const eq = /^(appId|displayName|id) eq '((?:[^']|'')*)'$/i.exec(clause.trim());
    if (anyName) {
      const v = anyName[2]!.replace(/''/g, "'").toLowerCase();
      tests.push((sp) => sp.appId.toLowerCase() === v || sp.managedIdentityResourceId?.toLowerCase() === v);
    } else if (eq) {
      const field = eq[1]!.toLowerCase();
      const v = eq[2]!.replace(/''/g, "'");
      tests.push((sp) => (field === 'appid' ? sp.appId.toLowerCase() === v.toLowerCase() : field === 'id' ? sp.objectId === v.toLowerCase() : sp.displayName === v));
    } else {
      throw new GraphError(400, 'Request_UnsupportedQuery', `Unsupported query: '${clause.trim()}'. Mimic filters service principals by servicePrincipalNames/any, appId, displayName or id.`);
    }
  }
  return (sp) => tests.every((t) => t(sp));
}

async function jsonBody(req: Request): Promise<Record<string, unknown>> {
  let raw: Buffer;
  try {
    raw = await req.body(MAX_BODY);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new GraphError(413, 'Request_EntityTooLarge', 'The request body is too large.');
    throw err;
  }
  try {
    const v: unknown = JSON.parse(raw.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
}
