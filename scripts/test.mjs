// `npm test`: build, make sure PostgreSQL is there for the store-engine tests, run every test.
import { spawnSync, execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

// A clean build: compiled tests of deleted sources must not linger in dist/.
rmSync(join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
// The programmatic API's declarations (package.json `exports` types), as `npm run build` emits them.
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.api.json']);
run(process.execPath, [join(root, 'scripts/build-portal.mjs')]);

if (!process.env.MIMIC_TEST_PG) {
  process.env.MIMIC_TEST_PG = execFileSync('bash', [join(root, 'scripts/pg-setup.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
}

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filter = process.argv.slice(2);
const files = collect(join(root, 'dist/test')).filter((f) => filter.length === 0 || filter.some((x) => f.includes(x))).sort();
run(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files]);
