// HTTP surface of the Resource Manager: parses paths and api-versions, authenticates, reads
// JSON bodies, and maps ArmService results to Azure's status codes and shapes.
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { BodyTooLargeError, jsonNestingExceeds, MAX_JSON_DEPTH, sendEmpty, sendJson, sendJsonText, segments, type Request } from '../server/http.js';
import type { Directory } from '../directory/directory.js';
import type { TokenService } from '../sts/tokens.js';
import { ArmError, sendArmError } from './errors.js';
import { authenticateArm } from './auth.js';
import type { ArmService } from './service.js';
import { API_VERSION_PATTERN, apiVersionsOf, lookupType, namespaces, typesOf } from './providers.js';
import { locationViews, REGIONS } from './locations.js';
import { operationsOf, servesOperations } from './operationsList.js';
import type { Caller } from './model.js';
import { fullType, resourceTarget, type ResourceId, type ResourceTarget } from './ids.js';
import { internalCaller } from './internalRequest.js';
import { armOperationNames, armRequestKind } from './operationNames.js';
import type { FaultInjector } from '../server/faults.js';
import type { AzureThrottle } from '../server/throttle.js';

export const MAX_ARM_BODY = 4 * 1024 * 1024;

/** Handles `{scope}/providers/{namespace}/...` for extension namespaces such as Microsoft.Authorization. */
export interface ExtensionContext {
  req: Request;
  res: ServerResponse;
  caller: Caller;
  /** The scope before `/providers/{namespace}`, as sent ('/' for the tenant root). */
  scope: string;
  /** Segments after the namespace. */
  rest: string[];
  apiVersion: string;
  body(): Promise<Record<string, unknown>>;
}
/** Returns `false` to decline a path (it is then routed as a resource path). */
export type ExtensionHandler = (ctx: ExtensionContext) => Promise<void | false>;

/** A resource path as routed once: parsing, catalog lookup and id formatting are then skipped. */
interface ResolvedResourcePath {
  apiVersion: string;
  target: ResourceTarget;
}

/** Paths remembered; past this the memo starts over. */
const RESOURCE_PATH_MEMO = 4096;

export class ArmRouter {
  private readonly extensions = new Map<string, ExtensionHandler>();
  /**
   * Resource paths (under no registered extension namespace) that resolved to one resource, by
   * path: clients read the same resources over and over. What a path resolves to depends only on
   * the path, the api-version and the provider catalog, which is fixed.
   */
  private readonly resourcePaths = new Map<string, ResolvedResourcePath>();
  /** Resource Manager's request limits (`--throttle azure`); set by the reliability module. */
  throttle?: AzureThrottle;
  /** Transient faults on request (`mimic fault add --service arm`); set by the reliability module. */
  faults?: FaultInjector;

  constructor(
    private readonly arm: ArmService,
    private readonly tokens: TokenService,
    private readonly directory: Directory,
  ) {}

  registerExtension(namespace: string, handler: ExtensionHandler): void {
    this.extensions.set(namespace.toLowerCase(), handler);
  }

  /** True for the paths this router serves. */
  owns(path: string): boolean {
    const first = path.split('/', 2)[1]?.toLowerCase();
    return first === 'subscriptions' || first === 'tenants' || first === 'providers';
  }

  async handle(req: Request, res: ServerResponse): Promise<void> {
    try {
      await this.route(req, res);
    } catch (err) {
      if (err instanceof ArmError) return sendArmError(res, err);
      throw err;
    }
  }

  private async route(req: Request, res: ServerResponse): Promise<void> {
    const caller = authenticateArm(req, this.tokens, this.directory);
    if ((this.throttle || this.faults?.active) && this.limitOrFault(req, res, caller)) return;
    const apiVersion = requireApiVersion(req);
    const known = this.resourcePaths.get(req.path);
    if (known !== undefined && known.apiVersion === apiVersion) return this.resource(req, res, caller, known.target, apiVersion);
    const segs = segments(req.path);
    const lower = segs.map((s) => s.toLowerCase());

    const n = lower.length;
    if (n === 3 && lower[0] === 'providers' && lower[2] === 'operations' && servesOperations(segs[1]!)) {
      if (req.method !== 'GET') throw methodNotAllowed(req);
      return sendJson(res, 200, { value: operationsOf(segs[1]!) });
    }
    if (n >= 6 && lower[n - 4] === 'providers' && lower[n - 3] === 'microsoft.resources' && lower[n - 2] === 'tags' && lower[n - 1] === 'default') {
      return this.scopeTags(req, res, caller, '/' + segs.slice(0, n - 4).join('/'));
    }
    if (n >= 12 && lower[n - 4] === 'providers' && lower[n - 3] === 'microsoft.managedidentity' && lower[n - 2] === 'identities' && lower[n - 1] === 'default') {
      if (req.method !== 'GET') throw methodNotAllowed(req);
      return sendJson(res, 200, await this.arm.systemAssignedIdentity(caller, '/' + segs.slice(0, n - 4).join('/')));
    }

    // Extension namespaces, outermost first; a handler that declines leaves the path to the next one.
    for (let ext = 0; ext + 1 < lower.length; ext++) {
      const handler = lower[ext] === 'providers' ? this.extensions.get(lower[ext + 1]!) : undefined;
      if (!handler) continue;
      const scope = '/' + segs.slice(0, ext).join('/');
      if ((await handler({ req, res, caller, scope, rest: segs.slice(ext + 2), apiVersion, body: () => readJson(req) })) !== false) return;
    }

    if (lower[0] === 'tenants' && segs.length === 1) {
      // The spec requires nextLink here; on the last page ARM's RPC guidelines say null, never ""
      // (an empty string sends some clients' pagers round in circles).
      const t = this.arm.tenant.tenantId;
      return sendJson(res, 200, { value: [{ id: `/tenants/${t}`, tenantId: t, countryCode: 'US', displayName: 'Mimic', domains: ['mimic.local'], tenantCategory: 'Home', defaultDomain: 'mimic.local', tenantType: 'AAD' }], nextLink: null });
    }
    if (lower[0] !== 'subscriptions') throw noRoute(req);
    if (segs.length === 1) return sendJson(res, 200, { value: this.arm.subscriptionsVisibleTo(caller), nextLink: null });
    const sub = segs[1]!;
    this.arm.requireSubscription(sub);
    if (segs.length === 2) return sendJson(res, 200, this.arm.subscriptionView());

    if (lower[2] === 'operationresults' && segs.length === 4) {
      // Deletions complete before the 202 is sent; the poll just confirms it.
      return sendEmpty(res, 200);
    }
    if (lower[2] === 'locations' && segs.length === 3) {
      if (req.method !== 'GET') throw methodNotAllowed(req);
      return sendJson(res, 200, { value: locationViews(this.arm.tenant.subscriptionId) });
    }
    if (lower[2] === 'resources' && segs.length === 3) {
      return sendJson(res, 200, { value: await this.arm.listResources(caller, { subscriptionId: sub }) });
    }
    if (lower[2] === 'providers') {
      // Resource provider registration: every provider Mimic knows is registered.
      if (segs.length === 3) return sendJson(res, 200, { value: namespaces().map((ns) => providerView(sub, ns)) });
      if (segs.length === 4 || (segs.length === 5 && lower[4] === 'register' && req.method === 'POST')) {
        const found = lookupType(segs[3]!, []);
        if (!found.namespace) throw new ArmError(404, 'InvalidResourceNamespace', `The resource namespace '${segs[3]}' is invalid.`);
        return sendJson(res, 200, providerView(sub, found.namespace));
      }
      // /subscriptions/{s}/providers/{ns}/{type}: list a type across the subscription.
      if (segs.length >= 5 && segs.length % 2 === 1) {
        const type = checkType(segs[3]!, segs.slice(4), apiVersion);
        return sendJson(res, 200, { value: await this.arm.listResources(caller, { subscriptionId: sub, type }) });
      }
      throw noRoute(req);
    }
    if (lower[2] !== 'resourcegroups') throw noRoute(req);
    if (segs.length === 3) {
      if (req.method !== 'GET') throw methodNotAllowed(req);
      return sendJson(res, 200, { value: await this.arm.listResourceGroups(caller, sub) });
    }
    const rg = segs[3]!;
    if (segs.length === 4) return this.resourceGroup(req, res, caller, sub, rg);
    // Azure also serves a group's deployments without the provider segment (`{group}/deployments/{name}/operations`).
    const groupExtension = lower[4] === 'deployments' ? this.extensions.get('microsoft.resources') : undefined;
    if (groupExtension && (await groupExtension({ req, res, caller, scope: '/' + segs.slice(0, 4).join('/'), rest: segs.slice(4), apiVersion, body: () => readJson(req) })) !== false) return;
    if (lower[4] === 'resources' && segs.length === 5) {
      return sendJson(res, 200, { value: await this.arm.listResources(caller, { subscriptionId: sub, resourceGroup: rg }) });
    }
    if (lower[4] !== 'providers' || segs.length < 7) throw noRoute(req);
    const namespace = segs[5]!;
    const rest = segs.slice(6);
    if (rest.length % 2 === 1) {
      // A list: of a top-level type in the group, or of a child type under its parent.
      const types = rest.filter((_, i) => i % 2 === 0);
      const type = checkType(namespace, types, apiVersion);
      if (req.method !== 'GET') throw methodNotAllowed(req);
      const parentId = rest.length > 1 ? `/subscriptions/${sub}/resourceGroups/${rg}/providers/${namespace}/${rest.slice(0, -1).join('/')}` : undefined;
      if (parentId) await this.arm.findResource(parentId).then((p) => { if (!p) throw new ArmError(404, 'ParentResourceNotFound', `The parent resource '${parentId}' could not be found.`); });
      return sendJson(res, 200, { value: await this.arm.listResources(caller, { subscriptionId: sub, resourceGroup: rg, type, parentId }) });
    }
    const types = rest.filter((_, i) => i % 2 === 0);
    const names = rest.filter((_, i) => i % 2 === 1);
    const canonicalType = checkType(namespace, types, apiVersion);
    const [ns, ...typeSegs] = canonicalType.split('/');
    const r: ResourceId = { subscriptionId: sub, resourceGroup: rg, namespace: ns!, types: typeSegs, names };
    const target = resourceTarget(r);
    if (!lower.some((s, i) => s === 'providers' && this.extensions.has(lower[i + 1] ?? ''))) {
      if (this.resourcePaths.size >= RESOURCE_PATH_MEMO) this.resourcePaths.clear();
      this.resourcePaths.set(req.path, { apiVersion, target });
    }
    return this.resource(req, res, caller, target, apiVersion);
  }

  /**
   * Resource Manager's throttling (a token bucket per subscription or tenant, principal and kind
   * of request, whose remaining count every answer reports) and injected faults, for requests
   * from the network (a deployment's own requests are Resource Manager's, not the caller's).
   * True when the request was answered here.
   */
  private limitOrFault(req: Request, res: ServerResponse, caller: Caller): boolean {
    if (internalCaller(req)) return false;
    const segs = segments(req.path);
    if (this.throttle) {
      const kind = armRequestKind(req.method);
      const subscriptionId = segs[0]?.toLowerCase() === 'subscriptions' ? segs[1] : undefined;
      const a = this.throttle.armRequest(subscriptionId, this.arm.tenant.tenantId, caller.objectId, kind);
      if (!a.ok) {
        const where = subscriptionId === undefined ? `tenant '${this.arm.tenant.tenantId}'` : `subscription '${subscriptionId}'`;
        throw new ArmError(429, 'TooManyRequests', `Number of '${kind.slice(0, -1)}' requests for ${where} actor '${caller.objectId}' exceeded. Please try again after '${a.retryAfter}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`, undefined, { 'retry-after': String(a.retryAfter), [a.header]: '0' });
      }
      res.setHeader(a.header, String(a.remaining));
    }
    // Mimic's own namespaces (fault management among them) take no faults.
    if (!this.faults?.active || segs.some((s, i) => i > 0 && segs[i - 1]!.toLowerCase() === 'providers' && s.toLowerCase().startsWith('mimic.'))) return false;
    return this.faults.strike('arm', armOperationNames(req.method, segs), res, (status, retryAfter) => {
      const [code, message] = ARM_FAULTS[status];
      throw new ArmError(status, code, `${message} (injected by mimic fault)`, undefined, retryAfter);
    });
  }

  private async scopeTags(req: Request, res: ServerResponse, caller: Caller, scope: string): Promise<void> {
    switch (req.method) {
      case 'GET':
        return sendJson(res, 200, await this.arm.tags.get(caller, scope));
      case 'PUT':
      case 'PATCH':
        return sendJson(res, 200, await this.arm.tags.change(caller, scope, req.method, await readJson(req)));
      case 'DELETE':
        await this.arm.tags.change(caller, scope, 'DELETE', {});
        return sendEmpty(res, 200);
      default:
        throw methodNotAllowed(req);
    }
  }

  private async resourceGroup(req: Request, res: ServerResponse, caller: Caller, sub: string, rg: string): Promise<void> {
    switch (req.method) {
      case 'GET':
        return sendJson(res, 200, await this.arm.getResourceGroup(caller, sub, rg));
      case 'HEAD':
        return sendEmpty(res, (await this.arm.resourceGroupExists(sub, rg)) ? 204 : 404);
      case 'PUT': {
        const result = await this.arm.putResourceGroup(caller, sub, rg, await readJson(req));
        return sendJson(res, result.status, result.body);
      }
      case 'PATCH':
        return sendJson(res, 200, await this.arm.patchResourceGroup(caller, sub, rg, await readJson(req)));
      case 'DELETE': {
        if (!(await this.arm.deleteResourceGroup(caller, sub, rg))) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
        const location = `https://${req.header('host') ?? 'localhost'}/subscriptions/${sub}/operationresults/${randomUUID()}?api-version=${encodeURIComponent(req.query.get('api-version') ?? '')}`;
        return sendEmpty(res, 202, { location, 'retry-after': '0' });
      }
      default:
        throw methodNotAllowed(req);
    }
  }

  private async resource(req: Request, res: ServerResponse, caller: Caller, target: ResourceTarget, apiVersion: string): Promise<void> {
    const r = target.r;
    switch (req.method) {
      case 'GET':
        return sendJsonText(res, 200, await this.arm.getResourceJson(caller, target));
      case 'PUT':
      case 'PATCH': {
        const optional = req.method === 'PUT' && this.arm.bodyOptional(fullType(r));
        const result = await this.arm.putResource(caller, r, await readJson(req, optional), req.method === 'PUT' ? 'put' : 'patch', { apiVersion });
        return sendJson(res, req.method === 'PUT' ? result.status : 200, result.body);
      }
      case 'DELETE':
        return sendEmpty(res, this.arm.deleteStatus(fullType(r), await this.arm.deleteResource(caller, r)));
      default:
        throw methodNotAllowed(req);
    }
  }
}

/** Resource Manager's error for each injected status. */
const ARM_FAULTS = {
  429: ['TooManyRequests', 'The request was throttled; retry after the time given in Retry-After'],
  500: ['InternalServerError', 'The server encountered an internal error; retry the request'],
  503: ['ServiceUnavailable', 'The service is temporarily unavailable; retry after the time given in Retry-After'],
} as const;

function requireApiVersion(req: Request): string {
  const v = req.query.get('api-version');
  if (!v) throw new ArmError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
  if (!API_VERSION_PATTERN.test(v)) {
    throw new ArmError(400, 'InvalidApiVersionParameter', `The api-version '${v}' is invalid. The supported versions are dates such as '2024-11-30' or '2025-04-01', optionally with a '-preview' suffix.`);
  }
  return v;
}

/** Resolves a namespace and type path against the provider catalog, with Azure's errors. */
function checkType(namespace: string, types: string[], apiVersion: string): string {
  const found = lookupType(namespace, types);
  if (!found.namespace) {
    throw new ArmError(400, 'InvalidResourceNamespace', `The resource namespace '${namespace}' is invalid.`);
  }
  if (!found.type) {
    throw new ArmError(400, 'InvalidResourceType', `The resource type '${types.join('/')}' could not be found in the namespace '${found.namespace}' for api version '${apiVersion}'.`);
  }
  if (found.versions && !found.versions.includes(apiVersion)) {
    throw new ArmError(400, 'NoRegisteredProviderFound', `No registered resource provider found for location 'global' and API version '${apiVersion}' for type '${found.type}'. The supported api-versions are '${found.versions.join(', ')}'.`);
  }
  return `${found.namespace}/${found.type}`;
}

async function readJson(req: Request, optional = false): Promise<Record<string, unknown>> {
  let raw: Buffer;
  try {
    raw = await req.body(MAX_ARM_BODY);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new ArmError(413, 'RequestEntityTooLarge', `The request content size exceeds the maximum size of ${MAX_ARM_BODY} bytes.`);
    throw err;
  }
  if (raw.length === 0 && optional) return {};
  if (raw.length === 0) throw new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized: the body is empty.');
  const contentType = (req.header('content-type') ?? '').toLowerCase();
  if (contentType && !contentType.startsWith('application/json') && !contentType.includes('+json')) {
    throw new ArmError(415, 'UnsupportedMediaType', `The content media type '${contentType}' is not supported. Only 'application/json' is supported.`);
  }
  const text = raw.toString('utf8');
  if (jsonNestingExceeds(text)) {
    throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: 'objects and arrays are nested deeper than ${MAX_JSON_DEPTH} levels'.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${(err as Error).message}'.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized: a JSON object is expected.');
  }
  return value as Record<string, unknown>;
}

/** Every region Mimic lists, by display name as provider GETs spell them. */
const PROVIDER_LOCATIONS = REGIONS.map((r) => r.displayName);

function providerView(sub: string, namespace: string): Record<string, unknown> {
  return {
    id: `/subscriptions/${sub}/providers/${namespace}`,
    namespace,
    registrationState: 'Registered',
    registrationPolicy: 'RegistrationRequired',
    resourceTypes: typesOf(namespace).map((resourceType) => ({ resourceType, locations: PROVIDER_LOCATIONS, apiVersions: apiVersionsOf(namespace, resourceType), capabilities: 'SupportsTags, SupportsLocation' })),
  };
}

function noRoute(req: Request): ArmError {
  return new ArmError(404, 'InvalidResourceType', `The resource path '${req.path}' is not a valid Resource Manager path.`);
}

function methodNotAllowed(req: Request): ArmError {
  return new ArmError(405, 'MethodNotAllowed', `The HTTP method '${req.method}' is not supported for '${req.path}'.`);
}
