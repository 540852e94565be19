// The managed-identity listeners, on loopback only. One plain-HTTP listener (as the local
// endpoints are in Azure) serves IMDS and Cloud Shell under each resource's secret path
// prefix, and App Service and Machine Learning at fixed paths with a secret header. Service
// Fabric's token service is HTTPS in Azure (its certificate pinned by thumbprint), so it
// gets an HTTPS listener with Mimic's server certificate.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { sendJson, type Handler, type Request } from '../../server/http.js';
import { APP_SERVICE_2017, PATHS } from './flavours.js';
import type { TokenEndpoints } from './endpoints.js';

/** Headers larger than this are refused with 431 before any handler runs. */
export const MAX_HEADER_BYTES = 8 * 1024;
const SECRET_SEGMENT = /^[0-9a-f]{64}$/;

function notFound(res: ServerResponse, path: string): void {
  sendJson(res, 404, { error: 'not_found', error_description: `No managed identity endpoint at '${path}'.` });
}

/** Routes the plain-HTTP listener's paths to the flavours. */
export function managedIdentityHandler(endpoints: TokenEndpoints): Handler {
  return (req: Request, res: ServerResponse) => {
    const path = req.path.length > 1 && req.path.endsWith('/') ? req.path.slice(0, -1) : req.path;
    const lower = path.toLowerCase();
    if (lower === PATHS.appService) {
      // One path, two protocols: the api-version says which (and so which secret header).
      if (req.query.get('api-version') === '2017-09-01') return endpoints.handleSpec(APP_SERVICE_2017, req, res);
      return endpoints.handle('appService', req, res);
    }
    if (lower === PATHS.machineLearning) return endpoints.handle('machineLearning', req, res);
    // `/{secret}/rest...`: the first segment names the resource (paths arrive with slashes collapsed).
    const cut = path.indexOf('/', 1);
    const first = cut < 0 ? path.slice(1) : path.slice(1, cut);
    const rest = cut < 0 ? '/' : lower.slice(cut);
    if (rest === PATHS.imds) return endpoints.handle('imds', req, res, SECRET_SEGMENT.test(first) ? first : undefined);
    if (rest === PATHS.cloudShell) return endpoints.handle('cloudShell', req, res, SECRET_SEGMENT.test(first) ? first : undefined);
    // A bare IMDS path cannot say which resource is asking: answer as IMDS does for an unknown source.
    if (lower === PATHS.imds) return endpoints.handle('imds', req, res, undefined);
    notFound(res, req.path);
  };
}

export function serviceFabricHandler(endpoints: TokenEndpoints): Handler {
  return (req: Request, res: ServerResponse) => {
    const path = req.path.length > 1 && req.path.endsWith('/') ? req.path.slice(0, -1) : req.path;
    if (path.toLowerCase() === PATHS.serviceFabric) return endpoints.handle('serviceFabric', req, res);
    notFound(res, req.path);
  };
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export function createManagedIdentityServer(listener: Listener): Server {
  const server = createHttpServer({ maxHeaderSize: MAX_HEADER_BYTES, keepAliveTimeout: 30_000 }, listener);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}

export function createServiceFabricServer(tls: { certPem: string; keyPem: string }, listener: Listener): HttpsServer {
  const server = createHttpsServer({ cert: tls.certPem, key: tls.keyPem, maxHeaderSize: MAX_HEADER_BYTES, keepAliveTimeout: 30_000 }, listener);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}
