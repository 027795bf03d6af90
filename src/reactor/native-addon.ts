/**
 * Loading the project's own native addons (binding.gyp, built by
 * `npm install`). Each is optional: a missing or unloadable addon is a
 * reason, which the caller logs before it falls back to a slower or less
 * careful path, never a crash.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Loaded<T> = { addon: T } | { reason: string };

const loaded = new Map<string, Loaded<unknown>>();

/** The package root: the first directory upwards from this file (src/reactor or dist/src/reactor) with a package.json. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return dir;
}

/** build/Release/NAME.node of the package, loaded once per process (or worker thread). */
export function loadNativeAddon<T>(name: string): Loaded<T> {
  let result = loaded.get(name);
  if (result === undefined) {
    result = load(name);
    loaded.set(name, result);
  }
  return result as Loaded<T>;
}

function load(name: string): Loaded<unknown> {
  const root = packageRoot();
  if (root === undefined) return { reason: 'package root not found' };
  const relative = join('build', 'Release', `${name}.node`);
  const file = join(root, relative);
  if (!existsSync(file)) return { reason: `${relative} not built (npx node-gyp rebuild)` };
  try {
    return { addon: createRequire(import.meta.url)(file) as unknown };
  } catch (err) {
    return { reason: `${file}: ${(err as Error).message}` };
  }
}
