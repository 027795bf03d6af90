/**
 * `npm run bench -- NAME [ARGS]` runs bench/NAME.ts, whose default export takes
 * the remaining arguments. Each benchmark prints its own figures.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
// A benchmark is bench/NAME.ts; NAME-PART.ts files are its helpers.
const available = readdirSync(here)
  .filter((f) => /^[a-z]+\.ts$/.test(f) && !['run.ts', 'stats.ts'].includes(f))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME [ARGS]\nbenchmarks: ${available.join(', ')}`);
  process.exit(2);
}
const bench = (await import(`./${name}.ts`)) as { default: (args: string[]) => Promise<void> };
console.log(`# bench ${name} — ${new Date().toISOString()} — node ${process.version}`);
await bench.default(args);
