// The request handling every flavour shares: method, headers, the secret that names the
// resource, query (or Cloud Shell's form body), api-version, the identity selector, then
// the token or the flavour's error.
import type { ServerResponse } from 'node:http';
import { BodyTooLargeError, type Request } from '../../server/http.js';
import type { HostCredentials } from './credentials.js';
import { ALL_SELECTOR_PARAMS, FLAVOURS, type FlavourSpec, type ServedFlavour } from './flavours.js';
import type { HostRecord } from './hosts.js';
import type { AcquireOptions, ManagedIdentityTokens, TokenOutcome } from './issuer.js';
import { failureError, invalidRequest, MiError, sendDatedToken, sendMiError, sendToken } from './protocol.js';
import type { IdentitySelector } from './selection.js';
import { sendJson } from '../../server/http.js';
import type { RateLimiter } from '../../server/throttle.js';
import type { FaultInjector } from '../../server/faults.js';

/** The managed-identity endpoints' one operation, for `mimic fault --service imds`. */
const FAULT_NAMES = ['token'] as const;
/** The error each injected status gets, in the endpoints' `{error, error_description}` shape. */
const FAULT_ERRORS = {
  429: 'too_many_requests',
  500: 'server_error',
  503: 'temporarily_unavailable',
} as const;

/** Longest resource URI accepted; longer values are not application ID URIs. */
const MAX_RESOURCE_LENGTH = 2048;
const MAX_FORM_BYTES = 8 * 1024;

/** Query strings remembered per flavour; past this the memo starts over. */
const QUERY_MEMO = 1024;

export class TokenEndpoints {
  /** Checked query strings per protocol (App Service has two on one path). */
  private readonly parsedQueries = new Map<FlavourSpec, Map<string, TokenRequest>>();

  constructor(
    private readonly credentials: HostCredentials,
    private readonly tokens: ManagedIdentityTokens,
    private readonly tenantId: string,
    /** IMDS's per-VM limits, when Mimic runs with `--throttle azure`. */
    private readonly imdsLimiter?: RateLimiter,
    /** Transient faults on request (`mimic fault add --service imds`). */
    private readonly faults?: FaultInjector,
  ) {}

  /**
   * Serves one token request. `secretFromPath` is the resource prefix of the IMDS and Cloud
   * Shell paths; the other flavours carry their secret in a header. A cached token is answered
   * synchronously; only a form body or a signature is waited for.
   */
  handle(flavour: ServedFlavour, req: Request, res: ServerResponse, secretFromPath?: string): Promise<void> | void {
    return this.handleSpec(FLAVOURS[flavour], req, res, secretFromPath);
  }

  /** As `handle`, for a protocol given by its spec (e.g. App Service's 2017-09-01 one). */
  handleSpec(spec: FlavourSpec, req: Request, res: ServerResponse, secretFromPath?: string): Promise<void> | void {
    const flavour = spec.flavour;
    const failed = (err: unknown) => {
      if (err instanceof MiError) return sendMiError(res, flavour, err);
      throw err;
    };
    try {
      const pending = this.serve(spec, req, res, secretFromPath);
      if (pending) return pending.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  private serve(spec: FlavourSpec, req: Request, res: ServerResponse, secretFromPath?: string): Promise<void> | void {
    if (spec.refusesForwarded && req.raw.headers['x-forwarded-for'] !== undefined) {
      throw invalidRequest('Request contains X-Forwarded-For header; requests through a proxy are refused');
    }
    if (spec.requiresMetadata && req.header('metadata') !== 'true') throw invalidRequest('Required metadata header not specified');
    if (req.method !== spec.method) throw new MiError(405, 'invalid_request', `The HTTP method '${req.method}' is not allowed; use ${spec.method}.`);

    const host = this.hostOf(spec, req, secretFromPath);
    if (this.imdsLimiter && spec.flavour === 'imds') {
      const admission = this.imdsLimiter.enter(host.key);
      if (!admission.ok) {
        // IMDS's throttle answer: 429 with the time to wait.
        return sendJson(res, 429, { error: 'too_many_requests', error_description: 'Too many requests: the IMDS throttle limit of this VM was reached; retry after the given time.' }, { 'retry-after': String(admission.retryAfter) });
      }
      res.once('close', admission.done);
    }
    if (this.faults?.active && this.injectFault(spec, res)) return;
    if (spec.method === 'POST') return formParams(req).then((params) => this.answer(spec, res, host, tokenRequestOf(spec, params)));
    return this.answer(spec, res, host, this.queryRequest(spec, req.search, req.query));
  }

  /** Answers an injected fault in the flavour's error shape; true when one was. */
  private injectFault(spec: FlavourSpec, res: ServerResponse): boolean {
    return this.faults!.strike('imds', FAULT_NAMES, res, (status, retryAfter) =>
      sendMiError(res, spec.flavour, new MiError(status, FAULT_ERRORS[status], `The managed identity endpoint is temporarily unavailable (injected by mimic fault); retry after ${retryAfter['retry-after']} s.`), retryAfter),
    );
  }


  /** The checked token request of a query string; clients repeat theirs, so it is worked out once. */
  private queryRequest(spec: FlavourSpec, search: string, query: URLSearchParams): TokenRequest {
    let memo = this.parsedQueries.get(spec);
    if (memo === undefined) this.parsedQueries.set(spec, (memo = new Map()));
    let parsed = memo.get(search);
    if (parsed === undefined) {
      parsed = tokenRequestOf(spec, query);
      if (memo.size >= QUERY_MEMO) memo.clear();
      memo.set(search, parsed);
    }
    return parsed;
  }

  private answer(spec: FlavourSpec, res: ServerResponse, host: HostRecord, t: TokenRequest): Promise<void> | void {
    const cached = this.tokens.cachedOutcome(host, t.selector, t.resource, t.options);
    if (cached) return this.send(spec, res, cached);
    return this.tokens.acquire(host, t.selector, t.resource, t.options).then((outcome) => this.send(spec, res, outcome));
  }

  private send(spec: FlavourSpec, res: ServerResponse, outcome: TokenOutcome): void {
    if (!outcome.ok) throw failureError(spec.flavour, outcome.failure, this.tenantId);
    if (spec.expiresOnAsDate) return sendDatedToken(res, outcome.entry);
    sendToken(res, outcome.entry, Math.floor(Date.now() / 1000));
  }

  private hostOf(spec: FlavourSpec, req: Request, secretFromPath?: string): HostRecord {
    if (!spec.secretHeader) {
      const host = secretFromPath ? this.credentials.resolve(secretFromPath, spec.flavour) : undefined;
      // The path prefix is what names the resource; an unknown one is an unknown source.
      if (!host) throw new MiError(401, 'unknown_source', 'Unknown Source: no resource is served under this path (get a current endpoint with `mimic env --as`)');
      return host;
    }
    const secret = req.header(spec.secretHeader);
    if (!secret) throw invalidRequest(`Required header '${spec.secretHeader}' not specified`);
    const host = this.credentials.resolve(secret, spec.flavour);
    if (!host) throw new MiError(401, 'unauthorized_client', `The '${spec.secretHeader}' header does not match this endpoint's secret (secrets rotate when the resource's identities change)`);
    return host;
  }
}

const NO_SELECTION: IdentitySelector = Object.freeze({});

/** What a token request asks for, once its parameters have been checked. */
interface TokenRequest {
  resource: string;
  selector: IdentitySelector;
  options: AcquireOptions;
}

/** Checks the parameters as the flavour's service does (duplicates, api-version, resource, selector). */
function tokenRequestOf(spec: FlavourSpec, params: URLSearchParams): TokenRequest {
  const names = [...params.keys()];
  for (let i = 1; i < names.length; i++) {
    if (names.indexOf(names[i]!) < i) throw invalidRequest(`The request includes the parameter '${names[i]}' more than once.`);
  }
  if (spec.apiVersions) {
    const v = params.get('api-version');
    if (!v) throw invalidRequest("Required query variable 'api-version' is missing");
    if (!spec.apiVersions.has(v)) throw invalidRequest(`Invalid api-version '${v}'. Supported versions: ${[...spec.apiVersions].join(', ')}`);
  }
  const resource = params.get('resource');
  if (!resource) throw invalidRequest("Required query variable 'resource' is missing");
  if (resource.length > MAX_RESOURCE_LENGTH) throw invalidRequest("The query variable 'resource' is too long");
  return { resource, selector: selectorOf(spec, params), options: { refreshSha256: params.get('token_sha256_to_refresh') ?? undefined } };
}

function selectorOf(spec: FlavourSpec, params: URLSearchParams): IdentitySelector {
  // Most requests name no identity (system-assigned, or the only user-assigned one).
  if (!ALL_SELECTOR_PARAMS.some((n) => params.has(n))) return NO_SELECTION;
  const pick = (names: readonly string[]) => {
    const given = names.filter((n) => params.has(n));
    if (given.length > 1) throw invalidRequest(`Give only one of ${given.join(', ')}.`);
    // An empty value means "not chosen": the ML SDK sends `clientid=` when the host names no default.
    return given.length ? params.get(given[0]!) || undefined : undefined;
  };
  const supported = [...spec.clientIdParams, ...spec.objectIdParams, ...spec.resourceIdParams];
  const unsupported = ALL_SELECTOR_PARAMS.filter((n) => !supported.includes(n) && params.get(n));
  if (unsupported.length > 0) {
    throw invalidRequest(
      supported.length === 0
        ? `This endpoint does not support user-assigned identities ('${unsupported[0]}' given).`
        : `Unsupported parameter '${unsupported[0]}'; this endpoint selects an identity with ${supported.join(', ')}.`,
    );
  }
  const selector: IdentitySelector = { clientId: pick(spec.clientIdParams), objectId: pick(spec.objectIdParams), resourceId: pick(spec.resourceIdParams) };
  const count = [selector.clientId, selector.objectId, selector.resourceId].filter((v) => v !== undefined).length;
  if (count > 1) throw invalidRequest('Give only one of client id, object id or resource id of the identity.');
  return selector;
}

async function formParams(req: Request): Promise<URLSearchParams> {
  let body: Buffer;
  try {
    body = await req.body(MAX_FORM_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new MiError(413, 'invalid_request', 'The request body is too large.');
    throw err;
  }
  const type = (req.header('content-type') ?? '').toLowerCase();
  if (body.length > 0 && !type.startsWith('application/x-www-form-urlencoded')) {
    throw new MiError(415, 'invalid_request', "The request body must be 'application/x-www-form-urlencoded'.");
  }
  // Parameters may come in the body or the query string, not in both.
  const form = new URLSearchParams(body.toString('utf8'));
  for (const [k, v] of req.query) form.append(k, v);
  return form;
}
