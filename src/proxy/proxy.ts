// Mimic's forward proxy, on loopback: what lets programs in any language reach Azure's own host
// names without root. `mimic env` points HTTPS_PROXY/HTTP_PROXY at it.
//  - CONNECT name:443 for a name Mimic serves (login, management, *.vault.azure.net, storage...)
//    becomes a raw TCP tunnel to the listener serving it: TLS stays end to end between the client
//    and Mimic's certificate, and once tunnelled the proxy only moves bytes.
//  - Plain HTTP to http://169.254.169.254/metadata/identity/... is the IMDS of the resource whose
//    endpoint secret the client presents as its proxy credential (`mimic env --as R` puts it in
//    the proxy URL's userinfo); it is passed to the managed-identity listener under that secret.
//  - Everything else is refused with 403: Mimic never forwards off the machine and never resolves
//    a name it does not serve.
import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, Socket, type Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RouteTable } from './routes.js';

/** The link-local address of Azure's Instance Metadata Service. */
export const IMDS_ADDRESS = '169.254.169.254';
const IMDS_IDENTITY_PREFIX = '/metadata/identity/';
/** Endpoint secrets (see sts/managedIdentity/credentials.ts) are 64 lower-case hex characters. */
const ENDPOINT_SECRET = /^[0-9a-f]{64}$/;
/** Headers that belong to one hop and are not passed on (RFC 9110 7.6.1, plus the proxy's own). */
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export interface ForwardProxyDeps {
  routes: RouteTable;
  /** Listeners in this process by `host:port`: a tunnel to one of them is handed over, not copied. */
  localServers: () => Record<string, NetServer>;
  /** The managed-identity listener (`http://127.0.0.1:PORT`) that serves IMDS under a resource's secret. */
  managedIdentityUrl: () => string | undefined;
}

export interface ForwardProxy {
  server: Server;
  /** Ends every tunnel, handed over or copied (the server no longer tracks them as HTTP connections, but waits for them on close). */
  closeTunnels(): void;
}

export function createForwardProxy(deps: ForwardProxyDeps): ForwardProxy {
  const tunnels = new Set<Duplex>();
  const imdsAgent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server = createServer({ maxHeaderSize: 16 * 1024, keepAliveTimeout: 30_000 }, (req, res) => forwardPlain(deps, imdsAgent, req, res));
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => tunnel(deps, tunnels, req, client, head));
  server.on('close', () => imdsAgent.destroy());
  return {
    server,
    closeTunnels: () => {
      for (const s of tunnels) s.destroy();
      tunnels.clear();
    },
  };
}

/** host and port of a CONNECT authority (`name:443`, `[::1]:443`); undefined when malformed. */
export function parseAuthority(authority: string | undefined): { host: string; port: number } | undefined {
  if (!authority) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/@[\]]+)):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[3]);
  return port > 0 && port <= 65535 ? { host: (m[1] ?? m[2])!, port } : undefined;
}

function refusal(routes: RouteTable, what: string, reason: string): string {
  return (
    `Mimic's proxy refused ${what}: ${reason}\n` +
    `Mimic does not reach the internet. It serves only these Azure names, over HTTPS on port 443: ${routes.patterns().join(', ')}` +
    ` (and plain HTTP to http://${IMDS_ADDRESS}/metadata/identity/ for a program run with \`mimic env --as\`).\n` +
    'To reach other hosts directly, add them to NO_PROXY.\n'
  );
}

function tunnel(deps: ForwardProxyDeps, tunnels: Set<Duplex>, req: IncomingMessage, client: Duplex, head: Buffer): void {
  const routes = deps.routes;
  client.on('error', () => client.destroy());
  const target = parseAuthority(req.url);
  const refuse = (status: number, reason: string) => {
    const body = refusal(routes, `CONNECT ${req.url ?? ''}`, reason);
    client.end(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Forbidden'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };
  if (!target) return refuse(400, 'the CONNECT target must be host:port.');
  const local = routes.lookup(target.host);
  if (!local) return refuse(403, `'${target.host}' is not an Azure name that Mimic serves.`);
  if (target.port !== 443) return refuse(403, `Mimic serves ${target.host} on port 443 only, not ${target.port}.`);

  // The listener is in this process: give it the client's connection, as if the client had
  // connected to it directly (its TLS, timeouts and shutdown apply). Bytes the client sent early
  // go back into the socket, where the listener's TLS layer reads them first.
  const inProcess = deps.localServers()[`${local.host}:${local.port}`];
  if (inProcess && client instanceof Socket) {
    client.removeAllListeners('error');
    // Still counted as this server's connection: tracked so that shutdown does not wait for it.
    tunnels.add(client);
    client.once('close', () => tunnels.delete(client));
    if (head.length > 0) client.unshift(head);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    client.setNoDelay(true);
    inProcess.emit('connection', client);
    return;
  }

  const upstream: Socket = connect({ host: local.host, port: local.port });
  tunnels.add(client);
  const end = () => {
    tunnels.delete(client);
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', end);
  client.on('close', end);
  upstream.on('close', end);
  upstream.once('connect', () => {
    upstream.setNoDelay(true);
    (client as Socket).setNoDelay?.(true);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    // From here on the proxy only copies bytes both ways.
    client.pipe(upstream);
    upstream.pipe(client);
  });
}

/** Plain-HTTP (absolute-form) requests: IMDS's identity endpoint, or a refusal. */
function forwardPlain(deps: ForwardProxyDeps, agent: Agent, req: IncomingMessage, res: ServerResponse): void {
  const sendText = (status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const raw = req.url ?? '';
  if (!/^http:\/\//i.test(raw)) {
    if (/^https:\/\//i.test(raw)) return sendText(400, refusal(deps.routes, `${req.method} ${raw}`, 'HTTPS goes through CONNECT; send this request through the proxy as an https:// URL.'));
    return sendText(400, "This is Mimic's forward proxy: point HTTPS_PROXY and HTTP_PROXY at it (`mimic env` does), do not send requests to it directly.\n");
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return sendText(400, refusal(deps.routes, `${req.method} ${raw}`, 'the URL is malformed.'));
  }
  const isImds = url.hostname === IMDS_ADDRESS && (url.port === '' || url.port === '80');
  if (!isImds || !url.pathname.toLowerCase().startsWith(IMDS_IDENTITY_PREFIX)) {
    const reason = isImds ? `Mimic serves only the identity endpoint of IMDS (${IMDS_IDENTITY_PREFIX}...).` : `plain HTTP to '${url.host}' is not served.`;
    return sendText(403, refusal(deps.routes, `${req.method} ${url.origin}${url.pathname}`, reason));
  }
  const base = deps.managedIdentityUrl();
  if (!base) return sendText(503, "Mimic's managed identity endpoint is not running.\n");
  // The credential names the resource; without a live one, the listener answers as IMDS does
  // for an unknown source. Nothing else identifies the caller.
  const secret = endpointSecretOf(req.headers['proxy-authorization']);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  const upstream = httpRequest(`${base}${secret ? `/${secret}` : ''}${url.pathname}${url.search}`, { method: req.method, headers, agent }, (answer) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    res.writeHead(answer.statusCode ?? 502, out);
    answer.pipe(res);
  });
  upstream.on('error', () => {
    if (!res.headersSent) sendText(502, "Mimic's managed identity endpoint did not answer.\n");
    else res.destroy();
  });
  req.pipe(upstream);
}

/** The endpoint secret in `Proxy-Authorization: Basic base64(user:secret)`, if well-formed. */
export function endpointSecretOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const secret = (colon < 0 ? decoded : decoded.slice(colon + 1)).toLowerCase();
  return ENDPOINT_SECRET.test(secret) ? secret : undefined;
}
