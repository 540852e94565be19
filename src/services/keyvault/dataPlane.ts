// The data-plane request pipeline of every vault, chosen by Host (`{vault}.vault.azure.net`):
// vault -> bearer token (challenge first, body untouched) -> api-version -> route ->
// authorization (RBAC or access policy) -> handler. Nothing is read or written for a request
// that fails authentication or authorization.
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { sendEmpty, sendJson, sendJsonText, segments, type Request } from '../../server/http.js';
import type { Sealer } from '../../crypto/masterKey.js';
import { requireDataApiVersion } from './apiVersions.js';
import type { KvAuthenticator } from './authenticate.js';
import type { KvAuthorizer } from './authorize.js';
import type { KvContext, KvHandler } from './context.js';
import { KvError, sendKvError } from './errors.js';
import { OPERATIONS, type OperationId } from './operations.js';
import { resolveRoute } from './routes.js';
import type { VaultData } from './vaultData.js';
import type { VaultIndex } from './vaultIndex.js';
import type { FaultInjector } from '../../server/faults.js';
import type { AzureThrottle, KeyVaultClass } from '../../server/throttle.js';
import { VAULT_DNS_SUFFIX } from './vaultModel.js';

/** Each operation's names for `mimic fault`: its id (`secret.get`) and its action's last word (`getSecret`). */
const FAULT_NAMES = Object.fromEntries(
  Object.entries(OPERATIONS).map(([id, spec]) => [id, [id, spec.action.replace(/\/action$/, '').split('/').pop()!]]),
) as unknown as Record<OperationId, readonly string[]>;

/** Each operation's class in Key Vault's service limits (creating secrets, creating keys, other key and other vault transactions). */
const THROTTLE_CLASS = Object.fromEntries(
  (Object.keys(OPERATIONS) as OperationId[]).map((id) => [id, throttleClassOf(id)]),
) as Record<OperationId, KeyVaultClass>;

function throttleClassOf(id: OperationId): KeyVaultClass {
  if (id === 'secret.set' || id === 'key.import' || id === 'certificate.import') return 'secretCreate';
  if (id === 'key.create' || id === 'key.rotate' || id === 'certificate.create') return 'keyCreate';
  return id.startsWith('key.') ? 'key' : 'vault';
}

/** Key Vault's throttling message (as its 429s word it). */
const THROTTLED = 'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached';
/** Key Vault's error for each injected status (`mimic fault`). */
const KV_FAULTS = {
  429: ['Throttled', THROTTLED],
  500: ['InternalServerError', 'The server encountered an internal error'],
  503: ['ServiceUnavailable', 'The service is temporarily unavailable'],
} as const;

/** What Key Vault reports in `x-ms-keyvault-service-version`. */
const SERVICE_VERSION = '1.9.2695.1';

export class KeyVaultDataPlane {
  constructor(
    private readonly vaults: VaultIndex,
    private readonly authn: KvAuthenticator,
    private readonly authz: KvAuthorizer,
    private readonly data: VaultData,
    private readonly sealer: Sealer,
    private readonly handlers: Record<OperationId, KvHandler>,
    private readonly faults?: FaultInjector,
    /** Key Vault's service limits, with `--throttle azure`. */
    private readonly throttle?: AzureThrottle,
  ) {}

  /** Requests addressed to a vault host. */
  matches(req: Request): boolean {
    return req.host.endsWith(VAULT_DNS_SUFFIX) && req.host.length > VAULT_DNS_SUFFIX.length;
  }

  async handle(req: Request, res: ServerResponse): Promise<void> {
    const vault = this.vaults.byHost(req.host);
    const headers: Record<string, string> = {
      'x-ms-request-id': randomUUID(),
      'x-ms-keyvault-service-version': SERVICE_VERSION,
      ...(vault ? { 'x-ms-keyvault-region': vault.location } : {}),
    };
    try {
      if (!vault) throw new KvError(404, 'VaultNotFound', `No vault is named '${req.host.slice(0, req.host.indexOf('.'))}' in this Mimic instance.`);
      const caller = this.authn.authenticate(req);
      const apiVersion = requireDataApiVersion(req.query);
      const route = resolveRoute(req.method, req.path, segments(req.path));
      if (this.throttle) {
        const wait = this.throttle.keyVault(vault.name, vault.resourceId.split('/')[2] ?? '', THROTTLE_CLASS[route.op]);
        if (wait > 0) throw new KvError(429, 'Throttled', THROTTLED, undefined, { 'retry-after': String(wait) });
      }
      if (this.faults?.active && this.injectFault(route.op, res, headers)) return;
      this.authz.check(vault, caller, OPERATIONS[route.op], route.name || undefined);
      const ctx: KvContext = { req, vault, caller, apiVersion, data: this.data, sealer: this.sealer, name: route.name, version: route.version };
      const result = await this.handlers[route.op](ctx);
      if (result.body === undefined) sendEmpty(res, result.status, headers);
      else if (Buffer.isBuffer(result.body)) sendJsonText(res, result.status, result.body, headers);
      else sendJson(res, result.status, result.body, headers);
    } catch (err) {
      if (err instanceof KvError) return sendKvError(res, err, headers);
      throw err;
    }
  }

  /** Answers an injected fault (by op id `secret.get` or action name `getSecret`); true when one was. */
  private injectFault(op: OperationId, res: ServerResponse, headers: Record<string, string>): boolean {
    return this.faults!.strike('keyvault', FAULT_NAMES[op], res, (status, retryAfter) => {
      const [code, message] = KV_FAULTS[status];
      sendKvError(res, new KvError(status, code, `${message} (injected by mimic fault).`), { ...headers, ...retryAfter });
    });
  }

}
