/**
 * Where the processes that managed mode starts live. Resolved next to this
 * module with its own extension, so the same code spawns src/**.ts under tsx
 * and dist/src/**.js in the build; the children reuse this process's
 * execArgv (e.g. `--import tsx`).
 */
import { extname, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const extension = extname(here);

export const CLI_ENTRY = join(dirname(here), '..', 'cli', `main${extension}`);
export const ECHO_WORKER_ENTRY = join(dirname(here), `echo-worker${extension}`);

/** argv (executable first) running a Node entry point the way this process runs. */
export function nodeCommand(entry: string, ...args: string[]): string[] {
  return [process.execPath, ...process.execArgv, entry, ...args];
}

/** argv running `lars ARGS...` with this installation. */
export function larsCommand(...args: string[]): string[] {
  return nodeCommand(CLI_ENTRY, ...args);
}
