// Preloaded (NODE_OPTIONS=--require) into Node programs that `mimic env` / `mimic run` set up:
// TLS connections to Azure's public host names on port 443 go to the local Mimic listener
// instead, keeping the original name for SNI and certificate checks (Mimic's certificate
// carries those names, issued by the CA in NODE_EXTRA_CA_CERTS). Nothing else is touched.
/* eslint-disable @typescript-eslint/no-require-imports */
import tls = require('node:tls');
import fs = require('node:fs');
import path = require('node:path');
import nodeModule = require('node:module');

interface Route {
  suffix: boolean;
  name: string;
  host: string;
  port: number;
}

function loadRoutes(): Route[] {
  const dataDir = process.env.MIMIC_DATA_DIR;
  if (!dataDir) return [];
  try {
    const endpoints = JSON.parse(fs.readFileSync(path.join(dataDir, 'endpoints.json'), 'utf8')) as { routes?: Record<string, string> };
    return Object.entries(endpoints.routes ?? {}).map(([pattern, target]) => {
      const i = target.lastIndexOf(':');
      return {
        suffix: pattern.startsWith('*.'),
        name: pattern.startsWith('*.') ? pattern.slice(1).toLowerCase() : pattern.toLowerCase(),
        host: target.slice(0, i),
        port: Number(target.slice(i + 1)),
      };
    });
  } catch {
    return [];
  }
}

const routes = loadRoutes();

function routeFor(host: string | undefined, port: number | undefined): Route | undefined {
  if (!host || (port !== undefined && port !== 443)) return undefined;
  const h = host.toLowerCase().replace(/\.$/, '');
  return routes.find((r) => (r.suffix ? h.endsWith(r.name) && h.length > r.name.length : h === r.name));
}

type ConnectArgs = unknown[];

function normalize(args: ConnectArgs): { options: tls.ConnectionOptions; callback?: () => void } {
  const callback = typeof args[args.length - 1] === 'function' ? (args[args.length - 1] as () => void) : undefined;
  const rest = callback ? args.slice(0, -1) : args;
  if (typeof rest[0] === 'object' && rest[0] !== null) return { options: { ...(rest[0] as tls.ConnectionOptions) }, callback };
  const options: tls.ConnectionOptions = typeof rest[2] === 'object' && rest[2] !== null ? { ...(rest[2] as tls.ConnectionOptions) } : typeof rest[1] === 'object' && rest[1] !== null ? { ...(rest[1] as tls.ConnectionOptions) } : {};
  if (typeof rest[0] === 'number' || typeof rest[0] === 'string') options.port = Number(rest[0]);
  if (typeof rest[1] === 'string') options.host = rest[1];
  return { options, callback };
}

if (routes.length > 0) {
  const original = tls.connect;
  const patched = function connect(this: unknown, ...args: ConnectArgs): tls.TLSSocket {
    const { options, callback } = normalize(args);
    const port = options.port === undefined ? 443 : Number(options.port);
    const route = routeFor(options.host ?? options.servername, port);
    if (!route) return (original as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
    const servername = options.servername || options.host;
    return (original as (...a: unknown[]) => tls.TLSSocket).call(this, { ...options, host: route.host, port: route.port, servername }, callback);
  };
  (tls as { connect: typeof tls.connect }).connect = patched as typeof tls.connect;
  // ESM `import { connect } from 'node:tls'` bindings follow the patched function too.
  nodeModule.syncBuiltinESMExports();
}
