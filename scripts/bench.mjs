// `npm run bench [name ...]`: build, then run every benchmark in bench/ (or those whose file
// name contains one of the given names), one after another so they do not share the cores.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (args) => {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run([join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
const wanted = process.argv.slice(2);
const benches = readdirSync(join(root, 'dist/bench'))
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
if (benches.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ')}`);
  process.exit(2);
}
for (const f of benches) {
  console.log(`\n## ${f}`);
  run([join(root, 'dist/bench', f)]);
}
