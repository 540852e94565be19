// Client access for programs in any language: the forward proxy on a loopback listener (port
// MIMIC_PROXY_PORT, default 8480; a free one with --port 0), published as `listeners.proxy` in
// endpoints.json and printed at start; and the CA bundle (Mimic's CA plus the system roots) in
// the data dir, which `mimic env` names in REQUESTS_CA_BUNDLE, SSL_CERT_FILE and CURL_CA_BUNDLE.
import type { AppContext, ModuleSetup } from '../server/context.js';
import { listen, listenPreferring } from '../server/app.js';
import { RouteTable } from './routes.js';
import { createForwardProxy } from './proxy.js';
import { writeCaBundle } from '../crypto/trustStore.js';
import { createSniRouter } from './sni.js';

export const DEFAULT_PROXY_PORT = 8480;
const LOOPBACK = '127.0.0.1';

export const setupClientAccess: ModuleSetup = async (ctx: AppContext) => {
  await writeCaBundle(ctx.dataDir, ctx.tls.caCertPem);
  // Both read at request time: the main origin's names are routed once it listens.
  const routes = new RouteTable(() => ctx.routes);
  const proxy = createForwardProxy({
    routes,
    localServers: () => ctx.localServers,
    managedIdentityUrl: () => ctx.listeners.managedIdentity,
  });
  const wanted = ctx.requestedPort === 0 ? 0 : Number(ctx.env.MIMIC_PROXY_PORT ?? DEFAULT_PROXY_PORT);
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) throw new Error(`invalid MIMIC_PROXY_PORT '${ctx.env.MIMIC_PROXY_PORT}'`);
  const port = await listenPreferring(proxy.server, wanted, LOOPBACK, 'proxy');
  ctx.listeners.proxy = `http://${LOOPBACK}:${port}`;
  ctx.onClose.push(
    () =>
      new Promise<void>((resolve) => {
        proxy.closeTunnels();
        proxy.server.close(() => resolve());
        proxy.server.closeAllConnections();
      }),
  );

  // Root-only, opt-in: Azure's names on port 443 for clients pointed here by /etc/hosts (`mimic hosts`).
  const httpsPort = ctx.env.MIMIC_HTTPS_PORT;
  if (httpsPort !== undefined && httpsPort !== '') {
    const n = Number(httpsPort);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid MIMIC_HTTPS_PORT '${httpsPort}'`);
    const router = createSniRouter({ routes, localServers: () => ctx.localServers });
    try {
      ctx.listeners.azureNames = `https://${LOOPBACK}:${await listen(router.server, n, LOOPBACK)}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES') throw new Error(`MIMIC_HTTPS_PORT=${n} needs root (or CAP_NET_BIND_SERVICE); the proxy in HTTPS_PROXY needs neither`);
      throw err;
    }
    ctx.onClose.push(() => router.close());
  }
};
