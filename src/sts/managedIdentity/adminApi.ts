// Mimic's own Resource Manager extension for running code as a resource, called by the CLI
// with an administrator's token like any ARM request:
//   POST /subscriptions/{s}/providers/Mimic.ManagedIdentity/hostCredentials  {host, flavour?}
//     issues a new endpoint secret for the resource and returns the environment its code gets;
//   POST /subscriptions/{s}/providers/Mimic.ManagedIdentity/tokens  {host, resource, clientId?|objectId?|resourceId?}
//     the token the resource's identity would get (`mimic token --as`).
// Both need write access to the resource: whoever can deploy code to it can use its identity.
import { ArmError } from '../../arm/errors.js';
import { hostTypeOf, GENERIC_HOST } from '../../arm/hostTypes.js';
import type { Authorizer } from '../../arm/service.js';
import type { ExtensionContext, ExtensionHandler } from '../../arm/router.js';
import { sendJson } from '../../server/http.js';
import type { HostCredentials } from './credentials.js';
import { decideFlavour, flavourEnvironment, isServedFlavour, type EndpointUrls, type ServedFlavour } from './flavours.js';
import type { HostIndex, HostRecord } from './hosts.js';
import type { IdentityFailure, ManagedIdentityTokens } from './issuer.js';
import { failureError, tokenBody } from './protocol.js';
import type { AssignedIdentity } from './selection.js';

export const ADMIN_NAMESPACE = 'Mimic.ManagedIdentity';

export interface AdminApiDeps {
  subscriptionId: string;
  tenantId: string;
  hosts: HostIndex;
  credentials: HostCredentials;
  tokens: ManagedIdentityTokens;
  authorizer: () => Authorizer;
  urls: () => EndpointUrls;
}

export interface HostCredentialsResult {
  resourceId: string;
  name: string;
  type: string;
  kind?: string;
  hostType: string;
  flavour: ServedFlavour;
  environment: Record<string, string>;
  notes: string[];
  identities: Array<{ type: string; resourceId: string; principalId: string; clientId: string }>;
}

export function adminApi(deps: AdminApiDeps): ExtensionHandler {
  return async (ctx: ExtensionContext) => {
    if (ctx.scope.toLowerCase() !== `/subscriptions/${deps.subscriptionId}`) {
      throw new ArmError(404, 'InvalidResourceType', `${ADMIN_NAMESPACE} operations live at /subscriptions/${deps.subscriptionId}/providers/${ADMIN_NAMESPACE}.`);
    }
    const op = ctx.rest.join('/').toLowerCase();
    if (op !== 'hostcredentials' && op !== 'tokens') throw new ArmError(404, 'InvalidResourceType', `Unknown operation '${ctx.rest.join('/')}' in ${ADMIN_NAMESPACE}.`);
    if (ctx.req.method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', `Use POST for ${ADMIN_NAMESPACE}/${ctx.rest.join('/')}.`);
    const body = await ctx.body();
    const host = resolveHost(deps.hosts, stringField(body, 'host', true)!);
    deps.authorizer().check(ctx.caller, `${host.type}/write`, host.id);
    if (op === 'hostcredentials') return sendJson(ctx.res, 200, await issueHostCredentials(deps, host, body, ctx.caller.objectId));
    return sendJson(ctx.res, 200, await tokenFor(deps, host, body));
  };
}

async function issueHostCredentials(deps: AdminApiDeps, host: HostRecord, body: Record<string, unknown>, issuedBy: string): Promise<HostCredentialsResult> {
  const requested = stringField(body, 'flavour', false);
  if (requested !== undefined && !isServedFlavour(requested)) {
    throw new ArmError(400, 'InvalidFlavour', `Unknown flavour '${requested}'. Use one of imds, appService, cloudShell, machineLearning, serviceFabric.`);
  }
  const hostType = hostTypeOf(host.type, host.kind);
  const decision = decideFlavour(hostType.flavour, hostType.name, requested);
  if (!decision.flavour) throw new ArmError(400, 'ManagedIdentityEndpointNotAvailable', decision.reason);
  const identities = deps.tokens.identitiesOf(host);
  const notes = decision.note ? [decision.note] : [];
  if (identities.length === 0) notes.push(`${host.name} has no managed identity yet: token requests fail with "identity not found" until one is enabled.`);
  const secret = await deps.credentials.issue(host, decision.flavour, issuedBy);
  return {
    resourceId: host.id,
    name: host.name,
    type: host.type,
    ...(host.kind ? { kind: host.kind } : {}),
    hostType: hostType === GENERIC_HOST ? `${host.type} (generic)` : hostType.name,
    flavour: decision.flavour,
    environment: flavourEnvironment(decision.flavour, deps.urls(), secret, defaultClientId(identities), host.name),
    notes,
    identities: identities.map((i) => ({ type: i.type, resourceId: i.resourceId, principalId: i.principal.objectId, clientId: i.principal.appId })),
  };
}

/** The identity a Machine Learning host names in DEFAULT_IDENTITY_CLIENT_ID: system-assigned, else the only user-assigned. */
function defaultClientId(identities: AssignedIdentity[]): string | undefined {
  const system = identities.find((i) => i.type === 'SystemAssigned');
  if (system) return system.principal.appId;
  const users = identities.filter((i) => i.type === 'UserAssigned');
  return users.length === 1 ? users[0]!.principal.appId : undefined;
}

const FAILURE_CODES: Record<IdentityFailure['kind'], string> = {
  noIdentity: 'IdentityNotFound',
  identityNotFound: 'IdentityNotFound',
  multipleUserAssigned: 'MultipleUserAssignedIdentities',
  unknownResource: 'InvalidResource',
  disabled: 'IdentityDisabled',
};

async function tokenFor(deps: AdminApiDeps, host: HostRecord, body: Record<string, unknown>): Promise<unknown> {
  const resource = stringField(body, 'resource', true)!;
  const selector = { clientId: stringField(body, 'clientId', false), objectId: stringField(body, 'objectId', false), resourceId: stringField(body, 'resourceId', false) };
  if ([selector.clientId, selector.objectId, selector.resourceId].filter(Boolean).length > 1) {
    throw new ArmError(400, 'InvalidRequestContent', 'Give only one of clientId, objectId or resourceId.');
  }
  const outcome = await deps.tokens.acquire(host, selector, resource);
  if (!outcome.ok) {
    const err = failureError('imds', outcome.failure, deps.tenantId);
    throw new ArmError(400, FAILURE_CODES[outcome.failure.kind], err.description);
  }
  return JSON.parse(tokenBody(outcome.entry, Math.floor(Date.now() / 1000)));
}

/** A resource by id, or by name when exactly one resource that can carry an identity has it. */
export function resolveHost(hosts: HostIndex, ref: string): HostRecord {
  if (ref.startsWith('/')) {
    const host = hosts.byId(ref);
    if (!host) throw new ArmError(404, 'ResourceNotFound', `The resource '${ref}' was not found.`);
    return host;
  }
  const candidates = hosts.byName(ref).filter((h) => h.identity || hostTypeOf(h.type, h.kind) !== GENERIC_HOST);
  if (candidates.length === 0) throw new ArmError(404, 'ResourceNotFound', `No resource named '${ref}' was found; give its resource id.`);
  if (candidates.length > 1) {
    throw new ArmError(409, 'AmbiguousResourceName', `Several resources are named '${ref}'; give the resource id of one of: ${candidates.map((c) => c.id).join(', ')}`);
  }
  return candidates[0]!;
}

function stringField(body: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw new ArmError(400, 'InvalidRequestContent', `The property '${name}' is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw new ArmError(400, 'InvalidRequestContent', `The property '${name}' must be a string.`);
  return v;
}
