// The root-only alternative to the proxy, for clients that read neither proxy variables nor the
// Node preload: with `mimic hosts --apply` mapping Azure's names to 127.0.0.1 in /etc/hosts, one
// listener on port 443 (MIMIC_HTTPS_PORT=443) reads the server name from each TLS ClientHello
// and hands the connection to the in-process listener serving that name. TLS still ends at
// Mimic's certificate; a name Mimic does not serve (or no name) closes the connection.
import { createServer, type Server, type Socket } from 'node:net';
import type { RouteTable } from './routes.js';

/** A ClientHello larger than one TLS record is not expected from the clients Mimic serves. */
const MAX_RECORD = 5 + 16 * 1024;

/**
 * The server name of the ClientHello at the start of `buf`: the name, `null` when the bytes are
 * not a ClientHello or carry no name, `undefined` when more bytes are needed.
 */
export function serverNameOf(buf: Buffer): string | null | undefined {
  if (buf.length < 5) return undefined;
  if (buf[0] !== 0x16) return null; // not a TLS handshake record
  const recordEnd = 5 + buf.readUInt16BE(3);
  if (recordEnd > MAX_RECORD) return null;
  if (buf.length < recordEnd) return undefined;
  let p = 5;
  const need = (n: number) => p + n <= recordEnd;
  if (!need(4) || buf[p] !== 0x01) return null; // ClientHello
  const helloEnd = p + 4 + buf.readUIntBE(p + 1, 3);
  if (helloEnd > recordEnd) return null; // spans records
  p += 4 + 2 + 32; // header, client_version, random
  if (!need(1)) return null;
  p += 1 + buf[p]!; // session_id
  if (!need(2)) return null;
  p += 2 + buf.readUInt16BE(p); // cipher_suites
  if (!need(1)) return null;
  p += 1 + buf[p]!; // compression_methods
  if (!need(2)) return null;
  const extensionsEnd = p + 2 + buf.readUInt16BE(p);
  p += 2;
  if (extensionsEnd > helloEnd) return null;
  while (p + 4 <= extensionsEnd) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (p + len > extensionsEnd) return null;
    if (type === 0) {
      // server_name: list length, then entries of (type, length, name); host_name is type 0.
      let q = p + 2;
      while (q + 3 <= p + len) {
        const nameType = buf[q]!;
        const nameLen = buf.readUInt16BE(q + 1);
        if (q + 3 + nameLen > p + len) return null;
        if (nameType === 0) return buf.toString('latin1', q + 3, q + 3 + nameLen);
        q += 3 + nameLen;
      }
      return null;
    }
    p += len;
  }
  return null;
}

export interface SniRouterDeps {
  routes: RouteTable;
  localServers: () => Record<string, Server>;
}

export interface SniRouter {
  server: Server;
  /** Stops listening and ends every connection it accepted, handed over or not (close waits for them). */
  close(): Promise<void>;
}

export function createSniRouter(deps: SniRouterDeps): SniRouter {
  const accepted = new Set<Socket>();
  const server = createServer((socket: Socket) => {
    accepted.add(socket);
    socket.once('close', () => accepted.delete(socket));
    let seen: Buffer = Buffer.alloc(0);
    const giveUp = () => socket.destroy();
    socket.on('error', giveUp);
    socket.setTimeout(10_000);
    socket.on('timeout', giveUp);
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const name = serverNameOf(seen);
      if (name === undefined) return;
      socket.off('data', onData);
      socket.pause();
      const local = name === null ? undefined : deps.routes.lookup(name);
      const server = local && deps.localServers()[`${local.host}:${local.port}`];
      if (!server) return giveUp();
      socket.setTimeout(0);
      socket.off('timeout', giveUp);
      socket.off('error', giveUp);
      // The TLS layer the listener puts on this socket first reads what is buffered here.
      socket.unshift(seen);
      server.emit('connection', socket);
    };
    socket.on('data', onData);
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of accepted) s.destroy();
      }),
  };
}
