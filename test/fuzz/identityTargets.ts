// Fuzz targets for the token service, the managed-identity listeners, Microsoft Graph and the
// portal's own routes: requests in text through the real handlers of a whole Mimic, in-process
// (origin.ts), each with its service's error shape and a property about who may get a token.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { OracleFailure, type FuzzTarget } from './engine.js';
import { closeOrigin, ensureOrigin, HTTP_SLOW_MS, HTTP_TOKENS, setupStep, type Answer, type RequestParts } from './origin.js';
import { toRequest, type Handler } from '../../src/server/http.js';
import { PORTAL_DIR } from '../../src/portal/setup.js';
import { PORTAL_HEADER, SESSION_PATH } from '../../src/portal/session.js';

const REQUEST_TOKENS = [...HTTP_TOKENS, '%E0%A4%A', '+', 'Content-Type: application/x-www-form-urlencoded', 'GET ', 'POST ', 'PUT ', 'DELETE ', 'HEAD '];

/** The path as the handlers see it (decoded, slashes collapsed). */
function pathOf(parts: RequestParts): string {
  const raw = Object.assign(new PassThrough(), { url: parts.url, method: parts.method, headers: parts.headers });
  return toRequest(raw as unknown as IncomingMessage).path;
}

function jsonOf(a: Answer, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(a.text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new OracleFailure(`${what}: answered ${a.status} without a JSON object: ${a.text.slice(0, 300)}`);
}

/** Only Graph documents a 501; everywhere else it is a server error like the others. */
function no501(a: Answer, what: string): void {
  if (a.status === 501) throw new OracleFailure(`${what}: answered 501: ${a.text.slice(0, 300)}`);
}

// ---------------------------------------------------------------------------------------------
// The token service: v1 and v2 token endpoints, discovery documents, keys, instance discovery

const TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FUZZ_SUBJECT = 'repo:contoso/app:ref:refs/heads/main';

const STS_TOKENS = [
  ...REQUEST_TOKENS, '/{tenantId}', '/common', '/organizations', '/oauth2/token', '/oauth2/v2.0/token', '/v2.0/.well-known/openid-configuration', '/.well-known/openid-configuration', '/discovery/keys',
  '/discovery/v2.0/keys', '/discovery/instance', 'api-version=1.1', 'authorization_endpoint=', 'grant_type=', 'client_credentials', 'authorization_code', 'refresh_token', 'password',
  'urn:ietf:params:oauth:grant-type:jwt-bearer', 'client_id=', '{adminClientId}', 'client_secret=', '{adminSecret}', 'scope=', 'resource=', 'https%3A%2F%2Fmanagement.azure.com%2F.default',
  'https://management.azure.com/', 'https://vault.azure.net', 'https://storage.azure.com/.default', 'https://graph.microsoft.com/.default', '/.default', 'openid', 'offline_access', 'profile',
  'client_assertion=', '{assertion}', '{uaiClientId}', 'client_assertion_type=', JWT_BEARER, 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9', 'eyJhbGciOiJub25lIn0', '.', 'Authorization: Basic ', 'x-client-SKU: MSAL.Python',
];

const tokenEndpoint: FuzzTarget = {
  name: 'tokenEndpoint',
  coverage: ['/dist/src/sts/tokenEndpoint.js', '/dist/src/sts/router.js', '/dist/src/sts/discovery.js', '/dist/src/sts/resources.js', '/dist/src/sts/jwt.js', '/dist/src/sts/federation/', '/dist/src/server/http.js'],
  dictionary: STS_TOKENS,
  maxLength: 16384,
  slowMs: HTTP_SLOW_MS,
  async setup() {
    // A user-assigned identity trusting a local issuer, and one assertion that issuer signed:
    // `{assertion}` for `{uaiClientId}` is the one valid client assertion an input can carry.
    const o = await ensureOrigin();
    const rg = '/subscriptions/{subscriptionId}/resourceGroups/fuzz';
    const ok = (text: string) => setupStep('tokenEndpoint', text);
    const json = 'content-type: application/json';
    await ok(`PUT ${rg}?api-version=2025-04-01\n${json}\n\n{"location":"eastus"}`);
    const uai = await ok(`PUT ${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fuzz-uai?api-version=2023-01-31\n${json}\n\n{"location":"eastus"}`);
    const issued = await ok(`POST /subscriptions/{subscriptionId}/providers/Mimic.Federation/issuers/fuzz/tokens?api-version=2024-01-01\n${json}\n\n{"subject":"${FUZZ_SUBJECT}","lifetimeSeconds":86400}`);
    await ok(`PUT ${uai.id}/federatedIdentityCredentials/fuzz-fic?api-version=2023-01-31\n${json}\n\n${JSON.stringify({ properties: { issuer: issued.issuer, subject: FUZZ_SUBJECT, audiences: ['api://AzureADTokenExchange'] } })}`);
    Object.assign(o.vars, { assertion: issued.token, uaiClientId: uai.properties.clientId });
    // The seed with the valid assertion must get its token, or the property below tests nothing.
    const check = await o.sendTo(o.handler, `POST /{tenantId}/oauth2/v2.0/token\ncontent-type: application/x-www-form-urlencoded\n\ngrant_type=client_credentials&client_id={uaiClientId}&client_assertion_type=${encodeURIComponent(JWT_BEARER)}&client_assertion={assertion}&scope=https%3A%2F%2Fvault.azure.net%2F.default`, 'login.microsoftonline.com', '');
    if (check.status !== 200) throw new Error(`tokenEndpoint fuzz setup: the valid assertion got ${check.status} ${check.text}`);
  },
  teardown: closeOrigin,
  async run(input) {
    const o = await ensureOrigin();
    const a = await o.sendTo(o.handler, input, 'login.microsoftonline.com', '');
    const what = `${a.parts.method} ${a.parts.url}`;
    no501(a, what);
    const segs = pathOf(a.parts).split('/').filter(Boolean);
    const first = segs[0]?.toLowerCase() ?? '';
    // The token service owns the path (router.ts): this tenant, an alias, or any GUID-shaped tenant
    // (on Entra's host: an input's own Host header may route it to Graph or a vault instead).
    const owned = a.parts.headers.host === 'login.microsoftonline.com' && (first === o.vars.tenantId || TENANT_ALIASES.has(first) || /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(first));
    if (a.status >= 400) {
      if (!owned) return;
      // Entra's error shape, which MSAL and azure-identity parse.
      const b = jsonOf(a, what);
      const ok = typeof b.error === 'string' && typeof b.error_description === 'string' && b.error_description.startsWith('AADSTS') && Array.isArray(b.error_codes) && b.error_codes.every((c) => typeof c === 'number');
      if (!ok) throw new OracleFailure(`${what}: ${a.status} not in Entra's error shape: ${a.text.slice(0, 300)}`);
      return;
    }
    const rest = segs.slice(1).join('/').toLowerCase();
    if (a.status !== 200 || (rest !== 'oauth2/token' && rest !== 'oauth2/v2.0/token') || !a.text.includes('"access_token"')) return;
    // A token only for the administrator's own secret: no mutation of the secret (or the id) gets one.
    const form = new URLSearchParams(a.parts.body.toString('utf8'));
    const assertion = form.get('client_assertion');
    if (assertion) {
      // Only the assertion the issuer signed, for the identity that trusts it.
      if (assertion !== o.vars.assertion) throw new OracleFailure(`${what}: a token for an assertion the issuer did not sign: ${assertion.slice(0, 400)}`);
      if (form.get('client_id') !== o.vars.uaiClientId) throw new OracleFailure(`${what}: a token for client '${form.get('client_id')}' with another identity's assertion`);
      return;
    }
    let secret = form.get('client_secret');
    let clientId = form.get('client_id');
    const basic = /^Basic (.*)$/.exec(a.parts.headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i >= 0) {
        // The token endpoint refuses credentials that do not decode, so a 200 had decodable ones.
        const dec = (v: string) => { try { return decodeURIComponent(v); } catch { return undefined; } };
        clientId ??= dec(decoded.slice(0, i)) ?? null;
        secret ??= dec(decoded.slice(i + 1)) ?? null;
      }
    }
    if (secret !== o.vars.adminSecret || clientId !== o.vars.adminClientId) throw new OracleFailure(`${what}: a token for client '${clientId}' with a secret that is not its own`);
    const token = (jsonOf(a, what).access_token as string | undefined) ?? '';
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as { appid?: string };
    if (claims.appid !== o.vars.adminClientId) throw new OracleFailure(`${what}: the token names appid ${claims.appid}`);
  },
};

// ---------------------------------------------------------------------------------------------
// Managed-identity listeners: IMDS and Cloud Shell (secret path prefix), App Service (both
// protocols), Machine Learning (secret header) and Service Fabric (its own HTTPS listener)

const MI_FLAVOURS = ['imds', 'appService', 'cloudShell', 'machineLearning', 'serviceFabric'] as const;
/** An input whose request target starts `sf:` goes to the Service Fabric listener. */
const SF_PREFIX = /^(\s*\S*\s+)sf:/;
const MI_TOKENS = [
  ...REQUEST_TOKENS, 'sf:', '/{imdsSecret}', '/{cloudShellSecret}', '/metadata/identity/oauth2/token', '/oauth2/token', '/msi/token', '/msi/auth', 'api-version=2018-02-01', 'api-version=2019-08-01',
  'api-version=2017-09-01', 'api-version=2019-07-01-preview', 'api-version=2025-04-07', 'resource=', 'https://management.azure.com/', 'https%3A%2F%2Fvault.azure.net', 'https://storage.azure.com/',
  'client_id=', 'clientid=', 'object_id=', 'principal_id=', 'msi_res_id=', 'mi_res_id=', '{uaiClientId}', '{uaiPrincipalId}', '{uaiId}', '{vmClientId}', 'token_sha256_to_refresh=',
  'Metadata: true', 'Metadata: false', 'X-IDENTITY-HEADER: {appServiceSecret}', 'secret: {machineLearningSecret}', 'secret: {serviceFabricSecret}', 'secret: {appServiceSecret}',
  'X-Forwarded-For: 10.0.0.1', 'Content-Type: application/x-www-form-urlencoded',
];

let miHosts: { clientIds: Set<string>; secrets: Record<(typeof MI_FLAVOURS)[number], string> } | undefined;

/** The secret a 200 must have been sent with, for the endpoint the path names. */
function miSecretSent(parts: RequestParts, path: string, serviceFabric: boolean): { flavour: (typeof MI_FLAVOURS)[number]; sent: string[] } | undefined {
  const p = (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path).toLowerCase();
  const h = parts.headers;
  if (serviceFabric) return { flavour: 'serviceFabric', sent: [h.secret ?? ''] };
  if (p === '/msi/token') return { flavour: 'appService', sent: [h['x-identity-header'] ?? '', h.secret ?? ''] };
  if (p === '/msi/auth') return { flavour: 'machineLearning', sent: [h.secret ?? ''] };
  const first = p.split('/')[1] ?? '';
  if (p.endsWith('/metadata/identity/oauth2/token')) return { flavour: 'imds', sent: [first] };
  if (p.endsWith('/oauth2/token')) return { flavour: 'cloudShell', sent: [first] };
  return undefined;
}

const managedIdentity: FuzzTarget = {
  name: 'managedIdentity',
  coverage: ['/dist/src/sts/managedIdentity/', '/dist/src/server/http.js'],
  dictionary: MI_TOKENS,
  maxLength: 8192,
  slowMs: HTTP_SLOW_MS,
  async setup() {
    const o = await ensureOrigin();
    const rg = '/subscriptions/{subscriptionId}/resourceGroups/fuzz';
    const ok = (text: string) => setupStep('managedIdentity', text);
    await ok(`PUT ${rg}?api-version=2025-04-01\ncontent-type: application/json\n\n{"location":"eastus"}`);
    const uai = await ok(`PUT ${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fuzz-uai?api-version=2023-01-31\ncontent-type: application/json\n\n{"location":"eastus"}`);
    const vm = await ok(`PUT ${rg}/providers/Microsoft.Compute/virtualMachines/fuzz-vm?api-version=2024-07-01\ncontent-type: application/json\n\n${JSON.stringify({ location: 'eastus', identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uai.id]: {} } } })}`);
    const secrets = {} as Record<(typeof MI_FLAVOURS)[number], string>;
    let clientIds = new Set<string>();
    for (const flavour of MI_FLAVOURS) {
      const r = await ok(`POST /subscriptions/{subscriptionId}/providers/Mimic.ManagedIdentity/hostCredentials?api-version=2024-01-01\ncontent-type: application/json\n\n${JSON.stringify({ host: vm.id, flavour })}`);
      const env = r.environment as Record<string, string>;
      const secret = env.IDENTITY_HEADER ?? env.MSI_SECRET ?? /\/([0-9a-f]{64})(\/|$)/.exec(env.AZURE_POD_IDENTITY_AUTHORITY_HOST ?? env.MSI_ENDPOINT ?? '')?.[1];
      if (!secret) throw new Error(`managedIdentity fuzz setup: no secret in ${JSON.stringify(env)}`);
      secrets[flavour] = secret;
      clientIds = new Set((r.identities as Array<{ clientId: string }>).map((i) => i.clientId));
    }
    miHosts = { clientIds, secrets };
    Object.assign(o.vars, {
      imdsSecret: secrets.imds, appServiceSecret: secrets.appService, cloudShellSecret: secrets.cloudShell, machineLearningSecret: secrets.machineLearning, serviceFabricSecret: secrets.serviceFabric,
      uaiId: uai.id, uaiClientId: uai.properties.clientId, uaiPrincipalId: uai.properties.principalId, vmPrincipalId: vm.identity.principalId,
    });
  },
  teardown: closeOrigin,
  async run(input) {
    const o = await ensureOrigin();
    const handlers = o.mimic.context.listenerHandlers!;
    const sf = SF_PREFIX.test(input);
    const handler: Handler = sf ? handlers.serviceFabric! : handlers.managedIdentity!;
    const a = await o.sendTo(handler, sf ? input.replace(SF_PREFIX, '$1') : input, sf ? 'localhost:2377' : '127.0.0.1:42356', '');
    const what = `${sf ? 'sf:' : ''}${a.parts.method} ${a.parts.url}`;
    no501(a, what);
    const path = pathOf(a.parts);
    const b = jsonOf(a, what);
    const endpoint = miSecretSent(a.parts, path, sf);
    if (a.status >= 400) {
      if (typeof b.error !== 'string' || typeof b.error_description !== 'string') throw new OracleFailure(`${what}: ${a.status} without {error, error_description}: ${a.text.slice(0, 300)}`);
      // App Service's own fields on its path (not on an unknown path's 404).
      if (endpoint?.flavour === 'appService' && a.status !== 404 && (b.statusCode !== a.status || typeof b.message !== 'string')) throw new OracleFailure(`${what}: App Service error without statusCode/message: ${a.text.slice(0, 300)}`);
      return;
    }
    if (a.status !== 200) return;
    // A token only with the secret issued for that endpoint's flavour, for an identity the VM carries.
    const { secrets, clientIds } = miHosts!;
    if (!endpoint || !endpoint.sent.includes(secrets[endpoint.flavour])) throw new OracleFailure(`${what}: a token without the ${endpoint?.flavour ?? '(no endpoint)'} secret`);
    if (typeof b.access_token !== 'string' || !clientIds.has(b.client_id as string)) throw new OracleFailure(`${what}: a token for client '${b.client_id}', not an identity of the VM`);
  },
};

// ---------------------------------------------------------------------------------------------
// Microsoft Graph (and Azure AD Graph) with a Graph-audience token

const GRAPH_TOKENS = [
  ...REQUEST_TOKENS, '/v1.0', '/beta', '/me', '/servicePrincipals', '/servicePrincipals/{adminObjectId}', '/directoryObjects/getByIds', '/users', '/applications', '/groups', '$filter=', '$select=',
  '$top=', "appId eq '", "servicePrincipalNames/any(c:c eq '", "displayName eq '", "startswith(displayName,'", "id eq '", '{adminClientId}', '{adminObjectId}', "'", ' and ', ' or ',
  '"ids"', '"types"', '"servicePrincipal"', '"user"', '["{adminObjectId}"]', 'Host: graph.windows.net', 'Authorization: Bearer {armToken}', 'Authorization: Bearer {graphToken}',
  'ConsistencyLevel: eventual', 'client-request-id: fuzz',
];

const graph: FuzzTarget = {
  name: 'graph',
  coverage: ['/dist/src/graph/', '/dist/src/sts/jwt.js', '/dist/src/sts/tokens.js'],
  dictionary: GRAPH_TOKENS,
  json: true,
  maxLength: 8192,
  slowMs: HTTP_SLOW_MS,
  teardown: closeOrigin,
  async run(input) {
    const o = await ensureOrigin();
    const a = await o.sendTo(o.handler, input, 'graph.microsoft.com', `Bearer ${o.vars.graphToken}`);
    const what = `${a.parts.method} ${a.parts.url}`;
    const host = (a.parts.headers.host ?? '').toLowerCase().replace(/:443$/, '').replace(/\.$/, '');
    if (host === 'graph.windows.net') {
      if (a.status !== 501 || !(jsonOf(a, what)['odata.error'] as { code?: string } | undefined)?.code) throw new OracleFailure(`${what}: Azure AD Graph answered ${a.status}: ${a.text.slice(0, 300)}`);
      return;
    }
    if (host !== 'graph.microsoft.com') return no501(a, what);
    const b = jsonOf(a, what);
    if (a.status >= 400) {
      const e = b.error as { code?: unknown; message?: unknown } | undefined;
      if (typeof e?.code !== 'string' || typeof e.message !== 'string') throw new OracleFailure(`${what}: ${a.status} not in Graph's error shape: ${a.text.slice(0, 300)}`);
      if (a.status === 501 && e.code !== 'NotImplemented') throw new OracleFailure(`${what}: 501 other than NotImplemented: ${e.code}`);
      if (a.status === 401 && !a.headers['www-authenticate']) throw new OracleFailure(`${what}: 401 without a challenge`);
      return;
    }
    if (a.status === 200 && typeof b['@odata.context'] !== 'string') throw new OracleFailure(`${what}: 200 without @odata.context`);
  },
};

// ---------------------------------------------------------------------------------------------
// The portal's routes: its sign-in (`/_portal/session`, "view as") and its static files

/** SHA-256 of every file the portal may serve (identity and precompressed twins). */
function portalDigests(dir: string): Set<string> {
  const out = new Set<string>();
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) for (const d of portalDigests(p)) out.add(d);
    else out.add(createHash('sha256').update(readFileSync(p)).digest('hex'));
  }
  return out;
}
let portalFiles: Set<string> | undefined;

const PORTAL_TOKENS = [
  ...REQUEST_TOKENS, SESSION_PATH, '/portal', '/portal/', '/portal/assets/', 'index.html', '/portal/index.html', `${PORTAL_HEADER}: 1`, `${PORTAL_HEADER}: 0`, 'Origin: https://localhost',
  'Origin: https://evil.example', 'Origin: null', 'Sec-Fetch-Site: same-origin', 'Sec-Fetch-Site: cross-site', 'Sec-Fetch-Site: same-site', 'Host: localhost', 'Host: 127.0.0.1', 'Host: [::1]',
  'Host: management.azure.com', 'Accept-Encoding: br', 'Accept-Encoding: gzip', '"principalId"', '"{adminObjectId}"', '"{vmPrincipalId}"', '00000000-0000-0000-0000-000000000000',
];

const portalApi: FuzzTarget = {
  name: 'portalApi',
  coverage: ['/dist/src/portal/'],
  dictionary: PORTAL_TOKENS,
  json: true,
  maxLength: 8192,
  slowMs: HTTP_SLOW_MS,
  async setup() {
    portalFiles = portalDigests(PORTAL_DIR);
  },
  teardown: closeOrigin,
  async run(input) {
    const o = await ensureOrigin();
    const a = await o.sendTo(o.handler, input, 'localhost', '');
    const what = `${a.parts.method} ${a.parts.url}`;
    no501(a, what);
    const h = a.parts.headers;
    const host = (h.host ?? '').toLowerCase();
    if (!/^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host)) return;
    const path = pathOf(a.parts);
    if (path === SESSION_PATH) {
      if (a.status >= 400) {
        const e = jsonOf(a, what).error as { code?: unknown; message?: unknown } | undefined;
        if (typeof e?.code !== 'string' || typeof e.message !== 'string') throw new OracleFailure(`${what}: ${a.status} not in ARM's error shape: ${a.text.slice(0, 300)}`);
      }
      if (a.status !== 200) return;
      // A session only for the portal's own script: its header, and no foreign Origin or site.
      const origin = h.origin;
      const site = h['sec-fetch-site'];
      if (a.parts.method !== 'POST' || h[PORTAL_HEADER] !== '1' || (origin !== undefined && origin !== `https://${h.host}`) || (site !== undefined && site !== 'same-origin')) {
        throw new OracleFailure(`${what}: a session without the portal header or from another origin/site: ${JSON.stringify(h)}`);
      }
      return;
    }
    // Anything served under the portal's paths is one of its own files.
    const portalPath = path === '/' || path === '/portal' || path.startsWith('/portal/');
    if (portalPath && a.status === 200 && !(a.parts.method === 'HEAD' && a.text === '') && !portalFiles!.has(createHash('sha256').update(Buffer.from(a.text, 'utf8')).digest('hex'))) {
      // Binary twins do not survive a utf8 round trip; compare on the served length instead.
      const served = Number(a.headers['content-length']);
      if (!(served > 0) || a.headers['content-encoding'] === undefined) throw new OracleFailure(`${what}: served something that is not a portal file (${a.text.length} chars)`);
    }
  },
};

export const IDENTITY_TARGETS: Record<string, FuzzTarget> = Object.fromEntries([tokenEndpoint, managedIdentity, graph, portalApi].map((t) => [t.name, t]));
