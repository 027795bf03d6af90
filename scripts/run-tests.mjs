// Runs node's test runner over the test files, passed explicitly: on Node 20 a
// glob that matches nothing runs zero tests and still exits 0.
// Usage: node scripts/run-tests.mjs [--compiled] [path-prefix ...]
// --compiled (what `npm test` passes, after building): the `lars` processes
// the tests start run dist/, as `npm start` does, instead of the sources
// through tsx (test/support/cli.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const args = process.argv.slice(2);
const compiled = args.includes('--compiled');
const prefixes = args.filter((a) => a !== '--compiled');
const files = findTests('test')
  .filter((f) => prefixes.length === 0 || prefixes.some((p) => f.startsWith(p)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${prefixes.join(' ') || 'test/'}`);
  process.exit(1);
}
console.log(`${files.length} test files; lars processes run ${compiled ? 'the build in dist/' : 'the sources through tsx'}`);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, LARS_TEST_COMPILED: compiled ? '1' : '0' } },
);
process.exit(result.status ?? 1);
