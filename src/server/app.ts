// Composition root: opens the store, brings up the directory, keys, token service and
// Resource Manager, lets each module register itself, and serves the main HTTPS origin.
// Wiring only: no domain logic here.
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { openStore } from '../store/index.js';
import { StoreUnavailableError, type Store } from '../store/types.js';
import { Sealer } from '../crypto/masterKey.js';
import { ensureTls } from '../crypto/ca.js';
import { ensureTenant } from '../directory/bootstrap.js';
import { Directory } from '../directory/directory.js';
import { KeyRing } from '../sts/signingKeys.js';
import { TokenService } from '../sts/tokens.js';
import { ResourceRegistry } from '../sts/resources.js';
import { TokenEndpoint } from '../sts/tokenEndpoint.js';
import { StsRouter } from '../sts/router.js';
import { ArmService } from '../arm/service.js';
import { ArmRouter } from '../arm/router.js';
import { ResourceTypeRegistry } from '../arm/resourceTypes.js';
import { userAssignedIdentityHooks } from '../arm/userAssignedIdentities.js';
import { sendJson, toRequest, type Handler } from './http.js';
import { FaultInjector } from './faults.js';
import { azureThrottleFor, throttleModeOf, type ThrottleMode } from './throttle.js';
import { tightenDataDir, writeEndpoints, DEFAULT_PORT, type Endpoints } from './config.js';
import { checkMasterKey } from './masterKeyCheck.js';
import type { AppContext, ModuleSetup } from './context.js';
import { MODULES } from './modules.js';
import { AuthzEngine } from '../authz/index.js';
import { NO_USAGE } from '../advisor/usage.js';
import { loadBuiltinRoles } from '../authz/builtinRoles.js';

/** Azure host names served by the main HTTPS origin (the preload module routes them here). */
const MAIN_ORIGIN_HOSTS = ['login.microsoftonline.com', 'login.windows.net', 'management.azure.com', 'management.core.windows.net'];

export interface StartOptions {
  dataDir: string;
  port?: number;
  storeUrl?: string;
  host?: string;
  env?: NodeJS.ProcessEnv;
  /** Refuse tokens of deleted or disabled principals at once (default: valid until they expire, as in Azure). */
  revokeDeletedPrincipals?: boolean;
  /** `azure`: apply Azure's documented request limits (default off, or MIMIC_THROTTLE). */
  throttle?: ThrottleMode;
  /** Modules to set up (default: all of MODULES). */
  modules?: ModuleSetup[];
}

export interface Mimic {
  endpoints: Endpoints;
  context: AppContext;
  store: Store;
  directory: Directory;
  tokens: TokenService;
  keys: KeyRing;
  arm: ArmService;
  close(): Promise<void>;
}

export async function startMimic(opts: StartOptions): Promise<Mimic> {
  await tightenDataDir(opts.dataDir);
  const store = await openStore({ dataDir: opts.dataDir, url: opts.storeUrl });
  const onClose: AppContext['onClose'] = [];
  const close = async () => {
    for (const fn of onClose.reverse()) await fn();
    await store.close();
  };
  try {
    const env = opts.env ?? process.env;
    const sealer = await Sealer.open(opts.dataDir, env);
    await checkMasterKey(store, sealer);
    const tenant = await ensureTenant(store, opts.dataDir);
    const [tls, keys, directory] = await Promise.all([
      ensureTls(store, sealer, opts.dataDir, tenant.tenantId),
      KeyRing.load(store, sealer),
      Directory.load(store),
    ]);
    onClose.push(() => keys.close(), () => directory.close());
    const tokens = new TokenService(tenant, keys);
    tokens.trackPrincipals((oid) => directory.byObject(oid));
    if (opts.revokeDeletedPrincipals || env.MIMIC_REVOKE_DELETED_PRINCIPALS === '1') tokens.revokeDeletedPrincipals();
    const resources = new ResourceRegistry();
    const tokenEndpoint = new TokenEndpoint(tokens, directory, resources);
    const sts = new StsRouter(tenant, keys, tokenEndpoint, () => ctx.origin);
    const types = new ResourceTypeRegistry();
    types.register(userAssignedIdentityHooks);
    const arm = new ArmService(store, tenant, types);
    const armRouter = new ArmRouter(arm, tokens, directory);
    const authz = new AuthzEngine();
    for (const role of loadBuiltinRoles()) authz.upsertRoleDefinition(role);
    const requestedPort = opts.port ?? DEFAULT_PORT;
    const ctx: AppContext = {
      dataDir: opts.dataDir,
      requestedPort,
      host: opts.host ?? '127.0.0.1',
      env,
      store,
      sealer,
      tls,
      tenant,
      directory,
      keys,
      tokens,
      resources,
      tokenEndpoint,
      arm,
      armRouter,
      types,
      authz,
      usage: NO_USAGE,
      originRoutes: [],
      listeners: {},
      routes: {},
      localServers: {},
      onClose,
      onReady: [],
      faults: new FaultInjector(),
      throttle: opts.throttle ?? throttleModeOf(env.MIMIC_THROTTLE),
    };
    ctx.throttler = azureThrottleFor(ctx.throttle, env);
    for (const setup of opts.modules ?? MODULES) await setup(ctx);

    const handler: Handler = (req, res) => {
      if (req.path === '/health') return sendJson(res, 200, { status: 'ok' });
      for (const r of ctx.originRoutes) if (r.matches(req)) return r.handle(req, res);
      if (sts.owns(req.path)) return sts.handle(req, res);
      if (armRouter.owns(req.path)) return armRouter.handle(req, res);
      sendJson(res, 404, { error: { code: 'NotFound', message: `No Mimic endpoint at '${req.path}'.` } });
    };
    ctx.handle = handler;
    const server = createServer({ cert: tls.certPem, key: tls.keyPem, keepAliveTimeout: 30_000 }, serve(handler));
    server.headersTimeout = 20_000;
    const port = await listen(server, requestedPort, ctx.host);
    onClose.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const origin = `https://localhost:${port}`;
    ctx.origin = origin;
    for (const h of MAIN_ORIGIN_HOSTS) ctx.routes[h] = `127.0.0.1:${port}`;
    ctx.localServers[`127.0.0.1:${port}`] = server;
    for (const fn of ctx.onReady) await fn(origin);
    const endpoints: Endpoints = {
      pid: process.pid,
      origin,
      armEndpoint: origin,
      authorityHost: origin,
      tenantId: tenant.tenantId,
      subscriptionId: tenant.subscriptionId,
      caCertFile: tls.caCertFile,
      listeners: ctx.listeners,
      routes: ctx.routes,
    };
    await writeEndpoints(opts.dataDir, endpoints);
    return { endpoints, context: ctx, store, directory, tokens, keys, arm, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Seconds a caller is asked to wait when the store is unavailable (a PostgreSQL restart takes a few). */
const STORE_RETRY_AFTER_SECONDS = 2;

/** Adapts a Handler to Node's request listener; an unexpected error answers 500, never crashes. */
export function serve(handler: Handler) {
  return (raw: IncomingMessage, res: ServerResponse) => {
    const failed = (err: unknown) => {
      if (err instanceof StoreUnavailableError) {
        // The database is restarting or out of reach: a transient condition the caller may retry,
        // answered as Azure answers one (503 with Retry-After), not as a fault of the request.
        console.error('mimic: store unavailable on', raw.method, raw.url, '-', (err.cause as Error)?.message ?? err.message);
        if (!res.headersSent) {
          res.setHeader('retry-after', String(STORE_RETRY_AFTER_SECONDS));
          sendJson(res, 503, { error: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable: its database cannot be reached. Retry the request.' } });
        } else res.destroy();
        return;
      }
      console.error('mimic: unhandled error on', raw.method, raw.url, err);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'InternalServerError', message: 'An internal error occurred; see the Mimic log.' } });
      else res.destroy();
    };
    // Handlers may answer synchronously (no promise to wait for) or throw before their first await.
    try {
      const pending = handler(toRequest(raw), res);
      if (pending) pending.catch(failed);
    } catch (err) {
      failed(err);
    }
  };
}

/**
 * For secondary listeners (token endpoints, storage): the preferred port, or any free one when it
 * is taken (say, by a real Azurite on 10000); the URL actually used is published in endpoints.json.
 */
export async function listenPreferring(server: Server | HttpServer, port: number, host: string, what: string): Promise<number> {
  try {
    return await listen(server, port, host);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    console.error(`mimic: port ${port} is in use; the ${what} takes a free port instead`);
    return listen(server, 0, host);
  }
}

export function listen(server: NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
