// Serves the bundled portal (dist/portal, written by scripts/build-portal.mjs): hashed assets
// are immutable for a year, index.html is revalidated every time; the precompressed brotli or
// gzip twin is sent when the browser accepts it. Files are read once and kept in memory.
import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { Request } from '../server/http.js';

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', html: 'text/html; charset=utf-8', json: 'application/json' };
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Variants {
  identity: Buffer;
  br?: Buffer;
  gzip?: Buffer;
}

export class PortalFiles {
  private readonly cache = new Map<string, Variants | null>();
  constructor(readonly dir: string) {}

  get built(): boolean {
    return existsSync(join(this.dir, 'index.html'));
  }

  private load(rel: string): Variants | null {
    let v = this.cache.get(rel);
    if (v !== undefined) return v;
    const file = normalize(join(this.dir, rel));
    v = null;
    if (file.startsWith(this.dir) && existsSync(file)) {
      const opt = (p: string) => (existsSync(p) ? readFileSync(p) : undefined);
      v = { identity: readFileSync(file), br: opt(file + '.br'), gzip: opt(file + '.gz') };
    }
    this.cache.set(rel, v);
    return v;
  }

  /** Serves `/` (the page) or `/portal/assets/...`; false when there is no such file. */
  serve(req: Request, res: ServerResponse): boolean {
    const rel = req.path === '/' || req.path === '/portal' || req.path === '/portal/' ? 'index.html' : req.path.slice('/portal/'.length);
    if (!/^(index\.html|assets\/[A-Za-z0-9._-]+)$/.test(rel)) return false;
    const v = this.load(rel);
    if (!v) return false;
    const accept = req.header('accept-encoding') ?? '';
    const [body, encoding] = v.br && /\bbr\b/.test(accept) ? [v.br, 'br'] : v.gzip && /\bgzip\b/.test(accept) ? [v.gzip, 'gzip'] : [v.identity, undefined];
    const headers: Record<string, string> = {
      'content-type': TYPES[rel.slice(rel.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
      'content-length': String(body.length),
      'cache-control': rel === 'index.html' ? 'no-cache' : IMMUTABLE,
      'x-content-type-options': 'nosniff',
      vary: 'Accept-Encoding',
    };
    if (rel === 'index.html') {
      headers['content-security-policy'] = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
      headers['x-frame-options'] = 'DENY';
    }
    if (encoding) headers['content-encoding'] = encoding;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
}
