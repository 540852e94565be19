// The portal's local-administrator sign-in: a browser page cannot hold the administrator's
// client secret, so the page asks this endpoint for a Resource Manager token. Only a request
// from the loopback interface, sent by the portal's own script (a custom header forces a CORS
// preflight, which nothing answers, and any Origin must be this origin) gets one. "View as"
// names another principal: the token is minted for it exactly as its own credential flow would
// (a managed identity's token as its host would get it), so RBAC then judges every call.
import type { ServerResponse } from 'node:http';
import { ArmError } from '../arm/errors.js';
import type { Directory } from '../directory/directory.js';
import type { ServicePrincipal } from '../directory/types.js';
import { BodyTooLargeError, sendJson, type Request } from '../server/http.js';
import { APP_TOKEN_LIFETIME, MANAGED_IDENTITY_TOKEN_LIFETIME, type TokenService } from '../sts/tokens.js';

export const SESSION_PATH = '/_portal/session';
export const PORTAL_HEADER = 'x-mimic-portal';
const ARM_AUDIENCE = 'https://management.azure.com/';
/** A session request names at most one principal. */
const MAX_SESSION_BODY = 4096;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

/** Why this request may not have a session token, or undefined when it may. */
export function refusal(req: Request): string | undefined {
  if (!isLoopback(req.raw.socket.remoteAddress)) return 'The portal session is only served to loopback clients.';
  if (req.header(PORTAL_HEADER) !== '1') return `The portal session needs the '${PORTAL_HEADER}' header.`;
  const origin = req.header('origin');
  if (origin !== undefined && origin !== `https://${req.header('host') ?? ''}`) return 'Cross-origin portal session requests are refused.';
  const site = req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') return 'Cross-site portal session requests are refused.';
  return undefined;
}

const VAULT_AUDIENCE = 'https://vault.azure.net';
const STORAGE_AUDIENCE = 'https://storage.azure.com/';

export function mintFor(tokens: TokenService, sp: ServicePrincipal, resource = ARM_AUDIENCE): string {
  const managed = sp.servicePrincipalType === 'ManagedIdentity';
  return tokens.mint(sp, { resource, lifetimeSeconds: managed ? MANAGED_IDENTITY_TOKEN_LIFETIME : APP_TOKEN_LIFETIME, appidacr: managed ? '2' : '1' }).accessToken;
}

export async function handleSession(req: Request, res: ServerResponse, deps: { tokens: TokenService; directory: Directory; adminObjectId: string; subscriptionId: string; tenantId: string }): Promise<void> {
  if (req.method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed on '${req.path}'.`);
  const why = refusal(req);
  if (why) throw new ArmError(403, 'Forbidden', why);
  let body: { principalId?: unknown } = {};
  let text: string;
  try {
    text = (await req.body(MAX_SESSION_BODY)).toString('utf8');
  } catch (err) {
    // Found by the portalApi fuzz target: an oversized body escaped as a 500.
    if (err instanceof BodyTooLargeError) throw new ArmError(413, 'RequestEntityTooLarge', `The request content size exceeds the maximum size of ${MAX_SESSION_BODY} bytes.`);
    throw err;
  }
  if (text.trim()) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ArmError(400, 'InvalidRequestContent', 'The request body is not valid JSON.');
    }
  }
  const id = typeof body.principalId === 'string' && body.principalId ? body.principalId : deps.adminObjectId;
  if (!GUID.test(id)) throw new ArmError(400, 'InvalidPrincipalId', `The principal ID '${id}' is not valid. Principal IDs must be GUIDs.`);
  const sp = deps.directory.byObject(id);
  if (!sp || !sp.accountEnabled) throw new ArmError(404, 'PrincipalNotFound', `Principal '${id}' does not exist in the directory '${deps.tenantId}'.`);
  sendJson(res, 200, {
    accessToken: mintFor(deps.tokens, sp),
    /** For the Key Vault data plane, reached through `/_vault/{vault}/...`. */
    vaultToken: mintFor(deps.tokens, sp, VAULT_AUDIENCE),
    /** For Blob storage, reached through `/_storage/blob/{account}/...`. */
    storageToken: mintFor(deps.tokens, sp, STORAGE_AUDIENCE),
    principal: { objectId: sp.objectId, displayName: sp.displayName, type: sp.servicePrincipalType, isAdministrator: sp.objectId === deps.adminObjectId },
    tenantId: deps.tenantId,
    subscriptionId: deps.subscriptionId,
  }, { 'cache-control': 'no-store' });
}
