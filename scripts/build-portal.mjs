// Bundles the portal (portal/src, Preact + TSX) with esbuild into dist/portal: content-hashed
// assets (served immutable), an index.html that names them (served no-cache), and gzip/brotli
// twins of each file so the server never compresses per request. Run by `npm run build` and
// scripts/test.mjs; the server's tsc build does not see the portal sources.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'dist/portal');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: [join(root, 'portal/src/main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  write: false,
  outdir: 'out',
  legalComments: 'none',
  logLevel: 'warning',
});

const written = {};
const emit = (name, body) => {
  writeFileSync(join(out, name), body);
  writeFileSync(join(out, name + '.gz'), gzipSync(body, { level: 9 }));
  writeFileSync(join(out, name + '.br'), brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
};
for (const f of result.outputFiles) {
  const ext = f.path.endsWith('.css') ? 'css' : 'js';
  const hash = createHash('sha256').update(f.contents).digest('hex').slice(0, 12);
  const name = `assets/app-${hash}.${ext}`;
  emit(name, Buffer.from(f.contents));
  written[ext] = name;
}
const css = readFileSync(join(root, 'portal/src/portal.css'));
const cssName = `assets/portal-${createHash('sha256').update(css).digest('hex').slice(0, 12)}.css`;
emit(cssName, css);

const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mimic portal</title><link rel="stylesheet" href="/portal/${cssName}"></head>
<body><div id="app"></div><script type="module" src="/portal/${written.js}"></script></body></html>
`;
emit('index.html', Buffer.from(html));
writeFileSync(join(out, 'manifest.json'), JSON.stringify({ js: written.js, css: cssName }, null, 2));
console.log(`portal: dist/portal/${written.js}`);
