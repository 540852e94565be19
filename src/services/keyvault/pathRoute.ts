// A path-based form of the Key Vault data plane on the main origin: `/_vault/{vault}/...` is the
// request `https://{vault}.vault.azure.net/...`. A browser page (the portal) cannot set Host, so
// this is how it reaches a vault; the request goes to the same handler with the same token check
// (audience https://vault.azure.net) and RBAC or access-policy decision: no bypass.
import type { Request } from '../../server/http.js';
import { VAULT_DNS_SUFFIX } from './vaultModel.js';

export const VAULT_PATH_PREFIX = '/_vault/';

export function isVaultPath(req: Request): boolean {
  return req.path.startsWith(VAULT_PATH_PREFIX);
}

/** The same request as if sent to the vault's own host name. */
export function asVaultHostRequest(req: Request): Request {
  const rest = req.path.slice(VAULT_PATH_PREFIX.length);
  const slash = rest.indexOf('/');
  const vault = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
  const path = slash < 0 ? '/' : rest.slice(slash);
  const host = `${vault}${VAULT_DNS_SUFFIX}`;
  return {
    raw: req.raw,
    method: req.method,
    path,
    get query() {
      return req.query;
    },
    search: req.search,
    host,
    header: (name: string) => (name.toLowerCase() === 'host' ? host : req.header(name)),
    body: (limit?: number) => req.body(limit),
  };
}
