// Mimic's own directory administration under `/providers/Mimic.Directory` (what Microsoft
// Graph does in Azure, reduced to what RBAC work needs): app registrations with client secrets
// (`az ad sp create-for-rbac`-style) and a read-only list of service principals so tools can
// turn identity names into principal ids. Only the tenant's bootstrap administrator may use it,
// as only directory administrators may manage applications in Entra ID.
import { randomUUID } from 'node:crypto';
import { hashSecret, randomSecret } from '../../crypto/masterKey.js';
import { PRINCIPALS, type ServicePrincipal } from '../../directory/types.js';
import { sendEmpty, sendJson } from '../../server/http.js';
import { ArmError } from '../errors.js';
import type { Caller } from '../model.js';
import type { ExtensionContext } from '../router.js';
import { audited, callerOf, methodNotAllowed, type AuthorizationContext } from './context.js';

export const DIRECTORY_NAMESPACE = 'Mimic.Directory';
const SECRET_LIFETIME_MS = 365 * 24 * 3600 * 1000;
const MAX_DISPLAY_NAME = 256;

export interface PrincipalSummary {
  objectId: string;
  appId: string;
  displayName: string;
  servicePrincipalType: string;
  managedIdentityResourceId: string | null;
  isSystemAssigned: boolean;
  accountEnabled: boolean;
}

export function summary(sp: ServicePrincipal): PrincipalSummary {
  return {
    objectId: sp.objectId,
    appId: sp.appId,
    displayName: sp.displayName,
    servicePrincipalType: sp.servicePrincipalType,
    managedIdentityResourceId: sp.managedIdentityResourceId ?? null,
    isSystemAssigned: sp.isSystemAssigned === true,
    accountEnabled: sp.accountEnabled,
  };
}

function requireDirectoryAdmin(ctx: AuthorizationContext, caller: Caller): void {
  if (caller.objectId.toLowerCase() === ctx.tenant.adminObjectId.toLowerCase()) return;
  throw new ArmError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation: only the tenant administrator manages the directory.');
}

export async function handleDirectory(ctx: AuthorizationContext, x: ExtensionContext): Promise<void> {
  if (x.scope !== '/') throw new ArmError(400, 'InvalidScope', `${DIRECTORY_NAMESPACE} lives at the tenant root: '/providers/${DIRECTORY_NAMESPACE}/...'.`);
  requireDirectoryAdmin(ctx, x.caller);
  const [collection, id, action] = [x.rest[0]?.toLowerCase(), x.rest[1], x.rest[2]?.toLowerCase()];
  if (collection === 'serviceprincipals' && x.rest.length === 1 && x.req.method === 'GET') {
    return sendJson(x.res, 200, { value: [...ctx.directory.all()].map(summary) });
  }
  if (collection !== 'applications') throw new ArmError(404, 'InvalidResourceType', `The resource path '${x.req.path}' is not a valid ${DIRECTORY_NAMESPACE} path.`);
  if (x.rest.length === 1) {
    if (x.req.method === 'GET') return sendJson(x.res, 200, { value: [...ctx.directory.all()].filter((sp) => sp.servicePrincipalType === 'Application').map(summary) });
    if (x.req.method === 'POST') return sendJson(x.res, 201, await createApplication(ctx, x.caller, await x.body()));
    throw methodNotAllowed(x.req);
  }
  const app = ctx.directory.byApp(id!) ?? ctx.directory.byObject(id!);
  if (!app || app.servicePrincipalType !== 'Application') throw new ArmError(404, 'Request_ResourceNotFound', `The application '${id}' does not exist.`);
  if (x.rest.length === 3 && action === 'addpassword' && x.req.method === 'POST') {
    return sendJson(x.res, 200, await addPassword(ctx, x.caller, app));
  }
  if (x.rest.length !== 2) throw methodNotAllowed(x.req);
  switch (x.req.method) {
    case 'GET':
      return sendJson(x.res, 200, summary(app));
    case 'DELETE':
      if (app.objectId === ctx.tenant.adminObjectId) throw new ArmError(400, 'Request_BadRequest', 'The bootstrap administrator cannot be deleted.');
      await audited(ctx.audit, { category: 'Application', operation: 'Mimic.Directory/applications/delete', caller: callerOf(x.caller), scope: '/', target: app.appId, principalId: app.objectId }, async () => {
        // Role assignments of the principal stay, orphaned, as in Azure.
        await ctx.store.apply([{ op: 'delete', kind: PRINCIPALS, key: app.objectId }]);
        return { result: undefined };
      });
      return sendEmpty(x.res, 204);
    default:
      throw methodNotAllowed(x.req);
  }
}

function newCredential(): { secret: string; credential: NonNullable<ServicePrincipal['passwordCredentials']>[number] } {
  const secret = randomSecret();
  return { secret, credential: { keyId: randomUUID(), hash: hashSecret(secret), hint: secret.slice(0, 3), endDateTime: new Date(Date.now() + SECRET_LIFETIME_MS).toISOString() } };
}

async function createApplication(ctx: AuthorizationContext, caller: Caller, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const displayName = typeof body.displayName === 'string' ? body.displayName.trim() : '';
  if (!displayName || displayName.length > MAX_DISPLAY_NAME) throw new ArmError(400, 'Request_BadRequest', `'displayName' is required (1 to ${MAX_DISPLAY_NAME} characters).`);
  const { secret, credential } = newCredential();
  const sp: ServicePrincipal = {
    objectId: randomUUID(),
    appId: randomUUID(),
    displayName,
    servicePrincipalType: 'Application',
    accountEnabled: true,
    passwordCredentials: [credential],
    createdDateTime: new Date().toISOString(),
  };
  return audited(ctx.audit, { category: 'Application', operation: 'Mimic.Directory/applications/write', caller: callerOf(caller), scope: '/', target: sp.appId, principalId: sp.objectId }, async () => {
    await ctx.store.apply([{ op: 'put', kind: PRINCIPALS, key: sp.objectId, value: sp, ifAbsent: true }]);
    // The clear secret is shown once, like `az ad sp create-for-rbac`.
    return { result: { ...summary(sp), password: secret, passwordEndDateTime: credential.endDateTime, tenant: ctx.tenant.tenantId } };
  });
}

async function addPassword(ctx: AuthorizationContext, caller: Caller, app: ServicePrincipal): Promise<Record<string, unknown>> {
  const { secret, credential } = newCredential();
  return audited(ctx.audit, { category: 'Application', operation: 'Mimic.Directory/applications/addPassword/action', caller: callerOf(caller), scope: '/', target: app.appId, principalId: app.objectId }, async () => {
    const entry = await ctx.store.get<ServicePrincipal>(PRINCIPALS, app.objectId);
    if (!entry) throw new ArmError(404, 'Request_ResourceNotFound', `The application '${app.appId}' does not exist.`);
    const updated: ServicePrincipal = { ...entry.value, passwordCredentials: [...(entry.value.passwordCredentials ?? []), credential] };
    await ctx.store.apply([{ op: 'put', kind: PRINCIPALS, key: app.objectId, value: updated, ifVersion: entry.version }]);
    return { result: { appId: app.appId, keyId: credential.keyId, password: secret, endDateTime: credential.endDateTime } };
  });
}
