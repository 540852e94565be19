// What the authorization handlers share: the services they use and small helpers for
// api-versions, paged lists and audit records of changes.
import type { Store } from '../../store/types.js';
import type { AuthzEngine } from '../../authz/index.js';
import type { Directory } from '../../directory/directory.js';
import type { TenantInfo } from '../../directory/types.js';
import { sendJson, type Request } from '../../server/http.js';
import type { ServerResponse } from 'node:http';
import { ArmError } from '../errors.js';
import type { Caller } from '../model.js';
import type { ArmService } from '../service.js';
import type { AuditLog, AuditRecord } from './audit.js';
import type { RbacAuthorizer } from './authorizer.js';
import type { AuthzFeed } from './engineFeed.js';
import { API_VERSIONS, NAMESPACE } from './model.js';

export interface AuthorizationContext {
  arm: ArmService;
  store: Store;
  engine: AuthzEngine;
  feed: AuthzFeed;
  authorizer: RbacAuthorizer;
  audit: AuditLog;
  directory: Directory;
  tenant: TenantInfo;
  /**
   * Service-specific checks of role-assignment conditions (e.g. storage refuses attributes its
   * gate never supplies): each returns the problems it finds; any problem refuses the assignment.
   */
  conditionValidators: Array<(condition: string) => string[]>;
}

/** Refuses api-versions the resource type was never published with, as ARM does. */
export function requireApiVersion(type: string, apiVersion: string): void {
  const versions = API_VERSIONS[type.toLowerCase()];
  if (!versions || versions.includes(apiVersion)) return;
  throw new ArmError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location 'global' and API version '${apiVersion}' for type '${type}'. The supported api-versions are '${versions.join(', ')}'.`,
  );
}

export const DEFAULT_PAGE_SIZE = 1000;

/** Sends `{value, nextLink?}`, paging with `$skipToken` (an offset into the sorted list). */
export function sendPage(req: Request, res: ServerResponse, items: readonly unknown[], pageSize = DEFAULT_PAGE_SIZE): void {
  const token = req.query.get('$skipToken');
  const start = token && /^\d+$/.test(token) ? Number(token) : 0;
  const page = items.slice(start, start + pageSize);
  const body: Record<string, unknown> = { value: page };
  if (start + pageSize < items.length) {
    const q = new URLSearchParams(req.query);
    q.set('$skipToken', String(start + pageSize));
    body.nextLink = `https://${req.header('host') ?? 'localhost'}${encodeURI(req.path)}?${q.toString()}`;
  }
  sendJson(res, 200, body);
}

export function callerOf(caller: Caller): AuditRecord['caller'] {
  return { objectId: caller.objectId, appId: caller.appId };
}

/**
 * Runs a change and records its outcome. Refusals by the authorizer are already recorded as
 * AccessDenied; other errors are recorded as Failed with their code.
 */
export async function audited<T>(audit: AuditLog, base: Omit<AuditRecord, 'result'>, change: () => Promise<{ result: T; record?: Partial<AuditRecord> }>): Promise<T> {
  try {
    const { result, record } = await change();
    audit.record({ ...base, ...record, result: 'Succeeded' });
    return result;
  } catch (err) {
    if (err instanceof ArmError && !(err.status === 403 && err.code === 'AuthorizationFailed')) {
      audit.record({ ...base, result: 'Failed', reason: err.code, message: err.message });
    }
    throw err;
  }
}

export function unknownType(rest: string[], apiVersion: string): ArmError {
  return new ArmError(400, 'InvalidResourceType', `The resource type '${rest[0] ?? ''}' could not be found in the namespace '${NAMESPACE}' for api version '${apiVersion}'.`);
}

export function methodNotAllowed(req: Request): ArmError {
  return new ArmError(405, 'MethodNotAllowed', `The HTTP method '${req.method}' is not supported for '${req.path}'.`);
}

export function objectBody(body: Record<string, unknown>): Record<string, unknown> {
  const props = body.properties;
  if (typeof props !== 'object' || props === null || Array.isArray(props)) {
    throw new ArmError(400, 'InvalidRequestContent', "The request content must have a 'properties' object.");
  }
  return props as Record<string, unknown>;
}

export function optionalString(props: Record<string, unknown>, name: string): string | undefined {
  const v = props[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ArmError(400, 'InvalidRequestContent', `The property '${name}' must be a string.`, `properties.${name}`);
  return v;
}
