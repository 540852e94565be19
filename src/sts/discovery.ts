// OIDC discovery documents (v1 and v2), JWKS, and the instance-discovery answer MSAL asks
// the public cloud for before it trusts an authority. URLs are built from the Host the
// client used, so the same documents work on localhost and on login.microsoftonline.com.
import type { ServerResponse } from 'node:http';
import { sendJson, type Request } from '../server/http.js';
import type { KeyRing } from './signingKeys.js';
import type { TenantInfo } from '../directory/types.js';

export function originOf(req: Request): string {
  return `https://${req.header('host') ?? 'localhost'}`;
}

export function openIdConfiguration(origin: string, tenant: TenantInfo, version: 1 | 2): Record<string, unknown> {
  const t = tenant.tenantId;
  const v2 = version === 2;
  return {
    token_endpoint: v2 ? `${origin}/${t}/oauth2/v2.0/token` : `${origin}/${t}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: v2 ? `${origin}/${t}/discovery/v2.0/keys` : `${origin}/common/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    scopes_supported: v2 ? ['openid', 'profile', 'email', 'offline_access'] : ['openid'],
    issuer: v2 ? `https://login.microsoftonline.com/${t}/v2.0` : `https://sts.windows.net/${t}/`,
    request_uri_parameter_supported: false,
    authorization_endpoint: v2 ? `${origin}/${t}/oauth2/v2.0/authorize` : `${origin}/${t}/oauth2/authorize`,
    device_authorization_endpoint: `${origin}/${t}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: v2 ? `${origin}/${t}/oauth2/v2.0/logout` : `${origin}/${t}/oauth2/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'oid', 'tid', 'appid', 'ver'],
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
  };
}

export function sendJwks(res: ServerResponse, keys: KeyRing): void {
  sendJson(res, 200, keys.jwks(), { 'cache-control': 'max-age=300' });
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The answer to MSAL's `common/discovery/instance` call: the requested host is its own alias.
 * MSAL Python builds `authorization_endpoint` from the authority's host name without its port,
 * so a loopback name without a port means Mimic's own origin (`mimicHost`, e.g. localhost:8443);
 * Azure's names (reached through the proxy or the preload) are answered as Azure does, unchanged.
 */
export function instanceDiscovery(req: Request, tenant: TenantInfo, mimicHost?: string): Record<string, unknown> {
  let host = req.header('host') ?? 'localhost';
  const endpoint = req.query.get('authorization_endpoint');
  if (endpoint) {
    try {
      const u = new URL(endpoint);
      host = u.port === '' && LOOPBACK.has(u.hostname) && mimicHost ? mimicHost : u.host;
    } catch {
      // keep the request's host
    }
  }
  return {
    tenant_discovery_endpoint: `https://${host}/${tenant.tenantId}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}
