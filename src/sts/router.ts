// Routes the token service's paths: `/{tenant}/oauth2/...`, discovery documents and keys.
import type { ServerResponse } from 'node:http';
import { sendJson, segments, type Request } from '../server/http.js';
import type { KeyRing } from './signingKeys.js';
import type { TenantInfo } from '../directory/types.js';
import { instanceDiscovery, openIdConfiguration, originOf, sendJwks } from './discovery.js';
import type { TokenEndpoint } from './tokenEndpoint.js';
import { sendEntraError } from './errors.js';

const TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);

export class StsRouter {
  constructor(
    private readonly tenant: TenantInfo,
    private readonly keys: KeyRing,
    private readonly tokenEndpoint: TokenEndpoint,
    /** Mimic's own origin (`https://localhost:PORT`) once it listens. */
    private readonly origin: () => string | undefined = () => undefined,
  ) {}

  /** True when the path belongs to the token service (first segment is this tenant or an alias). */
  owns(path: string): boolean {
    const first = path.split('/', 2)[1]?.toLowerCase() ?? '';
    return first === this.tenant.tenantId || TENANT_ALIASES.has(first) || /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(first);
  }

  async handle(req: Request, res: ServerResponse): Promise<void> {
    const segs = segments(req.path);
    const tenantSeg = segs[0]!.toLowerCase();
    const rest = segs.slice(1).join('/').toLowerCase();
    const isThisTenant = tenantSeg === this.tenant.tenantId;
    const known = isThisTenant || TENANT_ALIASES.has(tenantSeg);
    if (!known) {
      return sendEntraError(res, 400, 'invalid_tenant', 90002, `Tenant '${segs[0]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    switch (rest) {
      case 'discovery/instance':
        const origin = this.origin();
        return sendJson(res, 200, instanceDiscovery(req, this.tenant, origin ? new URL(origin).host : undefined));
      case 'discovery/keys':
      case 'discovery/v2.0/keys':
        return sendJwks(res, this.keys);
      case '.well-known/openid-configuration':
        return sendJson(res, 200, openIdConfiguration(originOf(req), this.tenant, 1));
      case 'v2.0/.well-known/openid-configuration':
        return sendJson(res, 200, openIdConfiguration(originOf(req), this.tenant, 2));
      case 'oauth2/token':
      case 'oauth2/v2.0/token':
        if (!isThisTenant) {
          return sendEntraError(res, 400, 'invalid_request', 90002, `Tenant '${segs[0]}' is not valid for the client credentials flow; use the tenant id.`);
        }
        return this.tokenEndpoint.handle(req, res, rest === 'oauth2/token' ? 1 : 2);
      default:
        return sendEntraError(res, 404, 'invalid_request', 90056, `The endpoint '${req.path}' does not exist.`);
    }
  }
}
