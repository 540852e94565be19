// Child process for crash.test.ts: writes keys as fast as it can and prints each
// key only after apply() has resolved, until it is killed.
// Usage: node crash-child.js <dataDir> [postgresUrl]. Without arguments it exits at
// once, so a test runner that picks up every file under test/ finds nothing to do.

import { openStore } from '../../src/store/index.js';

const [dataDir, url] = process.argv.slice(2);
if (dataDir !== undefined) {
  const store = await openStore(url ? { dataDir, url } : { dataDir });
  process.stdout.write('ready\n');
  // Bounded in count and time in case the parent never kills us.
  const deadline = Date.now() + 20_000;
  for (let i = 0; i < 200_000 && Date.now() < deadline; i++) {
    const key = `key${String(i).padStart(7, '0')}`;
    await store.apply([
      { op: 'put', kind: 'crash', key, value: { i, pad: 'p'.repeat(i % 700) } },
      { op: 'put', kind: 'crash-meta', key: 'last', value: i },
    ]);
    process.stdout.write(`${key}\n`);
  }
  await store.close();
}
