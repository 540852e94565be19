// The baseline peer of the benchmarks: a bare Node HTTP(S) server that answers every request
// with fixed bytes. Run as a child process: node bareServer.js <http|https> <bodyFile> <contentType> [certFile keyFile]
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

const [mode, bodyFile, contentType, certFile, keyFile] = process.argv.slice(2);
const body = readFileSync(bodyFile!);
const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': contentType!, 'content-length': body.length });
    res.end(body);
  });
};
const server = mode === 'https' ? https.createServer({ cert: readFileSync(certFile!), key: readFileSync(keyFile!) }, handler) : http.createServer(handler);
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
