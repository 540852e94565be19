// Wires the managed-identity subsystem into Mimic: the in-memory host index, endpoint
// secrets, the token cache (dropped per identity on directory changes), the loopback
// listeners of every flavour, the admin extension the CLI uses, and workload identity
// federation.
import { X509Certificate } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AppContext, ModuleSetup } from '../../server/context.js';
import { listenPreferring, serve } from '../../server/app.js';
import { setupFederation } from '../federation/setup.js';
import { HostIndex } from './hosts.js';
import { HostCredentials } from './credentials.js';
import { ManagedIdentityTokenCache } from './tokenCache.js';
import { ManagedIdentityTokens } from './issuer.js';
import { TokenEndpoints } from './endpoints.js';
import { createManagedIdentityServer, createServiceFabricServer, managedIdentityHandler, serviceFabricHandler } from './listener.js';
import { adminApi, ADMIN_NAMESPACE } from './adminApi.js';
import type { EndpointUrls } from './flavours.js';

/** Default ports when the main origin has a fixed port (Container Apps' endpoint port; Service Fabric's token service port). */
export const DEFAULT_MI_PORT = 42356;
export const DEFAULT_SERVICE_FABRIC_PORT = 2377;
const LOOPBACK = '127.0.0.1';

type Server = HttpServer | HttpsServer;

export const setupManagedIdentity: ModuleSetup = async (ctx: AppContext) => {
  const hosts = await HostIndex.load(ctx.store);
  ctx.onClose.push(() => hosts.close());
  const credentials = await HostCredentials.load(ctx.store, hosts);
  ctx.onClose.push(() => credentials.close());

  const cache = new ManagedIdentityTokenCache();
  const stopDirectory = ctx.directory.onPrincipalChange((objectId) => cache.dropPrincipal(objectId));
  ctx.onClose.push(stopDirectory);
  // Tokens signed by a retired key no longer verify: never hand them out again.
  ctx.keys.onKeyRemoved(() => cache.clear());
  const tokens = new ManagedIdentityTokens(ctx.directory, ctx.tokens, ctx.resources, cache);
  const endpoints = new TokenEndpoints(credentials, tokens, ctx.tenant.tenantId, ctx.throttler?.imds, ctx.faults);

  const miHandler = managedIdentityHandler(endpoints);
  const sfHandler = serviceFabricHandler(endpoints);
  ctx.listenerHandlers = { ...ctx.listenerHandlers, managedIdentity: miHandler, serviceFabric: sfHandler };
  const miServer = createManagedIdentityServer(serve(miHandler));
  const miPort = await listenPreferring(miServer, ctx.requestedPort === 0 ? 0 : portSetting(ctx.env.MIMIC_MI_PORT, DEFAULT_MI_PORT), LOOPBACK, 'managed identity endpoint');
  ctx.onClose.push(() => closeServer(miServer));
  const sfServer = createServiceFabricServer(ctx.tls, serve(sfHandler));
  const sfPort = await listenPreferring(sfServer, ctx.requestedPort === 0 ? 0 : portSetting(ctx.env.MIMIC_SF_PORT, DEFAULT_SERVICE_FABRIC_PORT), LOOPBACK, 'Service Fabric token endpoint');
  ctx.onClose.push(() => closeServer(sfServer));

  const urls: EndpointUrls = {
    http: `http://${LOOPBACK}:${miPort}`,
    serviceFabric: `https://localhost:${sfPort}`,
    serviceFabricThumbprint: new X509Certificate(ctx.tls.certPem).fingerprint.replace(/:/g, '').toUpperCase(),
  };
  ctx.listeners.managedIdentity = urls.http;
  ctx.listeners.serviceFabric = urls.serviceFabric;

  ctx.armRouter.registerExtension(
    ADMIN_NAMESPACE,
    adminApi({
      subscriptionId: ctx.tenant.subscriptionId,
      tenantId: ctx.tenant.tenantId,
      hosts,
      credentials,
      tokens,
      // Read at call time: the RBAC module may replace the authorizer after this setup.
      authorizer: () => ctx.arm.authorizer,
      urls: () => urls,
    }),
  );

  await setupFederation(ctx);
};

function portSetting(value: string | undefined, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port setting '${value}'`);
  return n;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
