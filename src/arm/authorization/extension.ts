// Dispatches `{scope}/providers/Microsoft.Authorization/{type}[/...]` to its handler.
import type { ExtensionContext } from '../router.js';
import { handleCheckAccess, handlePermissions } from './access.js';
import { handleAuditEvents } from './auditApi.js';
import { unknownType, type AuthorizationContext } from './context.js';
import { handleDenyAssignments } from './denyAssignments.js';
import { handleRoleAssignments } from './roleAssignments.js';
import { handleRoleDefinitions } from './roleDefinitions.js';

type TypeHandler = (ctx: AuthorizationContext, x: ExtensionContext) => Promise<void>;

const HANDLERS: Record<string, TypeHandler> = {
  roleassignments: handleRoleAssignments,
  roledefinitions: handleRoleDefinitions,
  denyassignments: handleDenyAssignments,
  permissions: handlePermissions,
  checkaccess: handleCheckAccess,
  auditevents: handleAuditEvents,
};

export function authorizationExtension(ctx: AuthorizationContext) {
  return async (x: ExtensionContext): Promise<void> => {
    const handler = HANDLERS[x.rest[0]?.toLowerCase() ?? ''];
    if (!handler) throw unknownType(x.rest, x.apiVersion);
    return handler(ctx, x);
  };
}
