// Wires Azure RBAC into Mimic: loads role assignments, custom roles and deny assignments into
// the engine and keeps them current from the change feed, makes the bootstrap administrator
// Owner of the subscription, replaces the Resource Manager's permission check with the engine,
// and serves Microsoft.Authorization (plus Mimic's directory administration). Must run before
// every other module so no request is served with the allow-all check.
import type { AppContext, ModuleSetup } from '../../server/context.js';
import { AuditLog, DEFAULT_AUDIT_MAX_ENTRIES } from './audit.js';
import { RbacAuthorizer } from './authorizer.js';
import { ensureBootstrapOwner } from './bootstrap.js';
import type { AuthorizationContext } from './context.js';
import { DIRECTORY_NAMESPACE, handleDirectory } from './directoryApi.js';
import { AuthzFeed } from './engineFeed.js';
import { authorizationExtension } from './extension.js';
import { NAMESPACE } from './model.js';

const modules = new WeakMap<AppContext, AuthorizationContext>();

/** The authorization services of a running instance (for data planes that audit their own refusals). */
export function authorizationOf(ctx: AppContext): AuthorizationContext | undefined {
  return modules.get(ctx);
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
}

export const setupAuthorization: ModuleSetup = async (ctx) => {
  const audit = await AuditLog.open(ctx.store, {
    maxEntries: positiveInt(ctx.env.MIMIC_AUDIT_MAX_ENTRIES, DEFAULT_AUDIT_MAX_ENTRIES),
    ...(ctx.env.MIMIC_AUDIT_TRIM_BATCH ? { trimBatch: positiveInt(ctx.env.MIMIC_AUDIT_TRIM_BATCH, 1) } : {}),
  });
  ctx.onClose.push(() => audit.close());
  const feed = await AuthzFeed.start(ctx.store, ctx.authz);
  ctx.onClose.push(() => feed.close());
  const admin = ctx.tenant.adminObjectId.toLowerCase();
  await ensureBootstrapOwner(ctx.store, ctx.tenant, [...feed.assignments.values()].some((a) => a.principalId.toLowerCase() === admin));
  const authorizer = new RbacAuthorizer(ctx.authz, audit, ctx.usage);
  ctx.arm.authorizer = authorizer;
  const services: AuthorizationContext = {
    arm: ctx.arm,
    store: ctx.store,
    engine: ctx.authz,
    feed,
    authorizer,
    audit,
    directory: ctx.directory,
    tenant: ctx.tenant,
    conditionValidators: [],
  };
  modules.set(ctx, services);
  ctx.armRouter.registerExtension(NAMESPACE, authorizationExtension(services));
  ctx.armRouter.registerExtension(DIRECTORY_NAMESPACE, (x) => handleDirectory(services, x));
};
