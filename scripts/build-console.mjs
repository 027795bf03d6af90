// Copies the console's front end (plain ES modules, CSS, icons) beside the
// compiled server, where src/console/static.ts looks for it. There is no
// bundling step: browsers load the modules as they are.
// Usage: node scripts/build-console.mjs [OUT_DIR]   (default dist/src/console/web)
import { cpSync, existsSync, rmSync } from 'node:fs';
import { basename } from 'node:path';

const source = 'src/console/web';
const target = process.argv[2] ?? 'dist/src/console/web';
if (!existsSync(`${source}/index.html`)) {
  console.error(`build-console: ${source}/index.html is missing`);
  process.exit(1);
}
rmSync(target, { recursive: true, force: true });
// tsconfig.json and the .d.ts files only type-check the browser code; they are not served.
cpSync(source, target, { recursive: true, filter: (path) => basename(path) !== 'tsconfig.json' && !path.endsWith('.d.ts') });
console.log(`build-console: ${source} -> ${target}`);
