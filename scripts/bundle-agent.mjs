// Bundles, in place in dist, the two modules that start an agent process of
// their own: `lars agent` (src/cli/agent-main.ts) and a port thread
// (src/agent/port-thread.ts, [agent] threads = 3). Each becomes one module
// with all of the project's code it imports, plus the chunks it shares, so
// an agent loads five modules instead of about seventy (docs/agent.md,
// "Memory"); whitespace and syntax are minified (names are kept, and the
// source maps lead back to src/). The one package it
// uses, ini, is bundled too: importing a CommonJS package from an ES module
// would load node's CommonJS export scanner. Run by `npm run build` after tsc.
// Usage: node scripts/bundle-agent.mjs
import { readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const OUT_DIR = 'dist/src';
const ENTRIES = [`${OUT_DIR}/cli/agent-main.js`, `${OUT_DIR}/agent/port-thread.js`];

/** usage.js (loaded only for --help) imports every service's defaults: it stays a module of its own. */
const keepUsageSeparate = {
  name: 'keep-usage-separate',
  setup(bundler) {
    bundler.onResolve({ filter: /^\.\/usage\.js$/ }, ({ path }) => ({ path, external: true }));
  },
};

// One build with code splitting: what the entries load only on demand (the
// port-thread handle and node:worker_threads with it, for threads = 3) stays
// in a chunk loaded on demand, and code both entries share sits in a chunk of
// its own, loaded once. Chunks go to dist/src/cli/, one level below the
// source root like every module, so paths relative to import.meta.url keep
// resolving (port-thread-handle.ts).
const CHUNK_DIR = 'cli';
const CHUNK_PREFIX = 'agent-chunk-';
// Chunk names carry a hash of their content: the last build's would stay beside the new ones.
for (const name of readdirSync(`${OUT_DIR}/${CHUNK_DIR}`)) if (name.startsWith(CHUNK_PREFIX)) rmSync(`${OUT_DIR}/${CHUNK_DIR}/${name}`);

await build({
  entryPoints: ENTRIES,
  outdir: OUT_DIR,
  outbase: OUT_DIR,
  chunkNames: `${CHUNK_DIR}/${CHUNK_PREFIX}[hash]`,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [keepUsageSeparate],
  logLevel: 'warning',
});
console.log(`bundle-agent: ${ENTRIES.join(', ')}`);
