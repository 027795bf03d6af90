#!/usr/bin/env node
/**
 * The `lars` command. Each subcommand lives in commands/<name>.ts and is
 * loaded on demand, so a quick client tool does not load the services.
 */
import { readFileSync } from 'node:fs';

const COMMANDS = new Set([
  'up', 'dns', 'reporter', 'agent', 'console', 'dispatch', 'db', 'module', 'route', 'instances', 'user', 'status', 'export', 'import', 'connected', 'token',
  'serve', 'gethost', 'getroute', 'report', 'simulator', 'qps', 'simulate',
]);

/** Edits (insert, delete, substitute) between two words: the distance behind "did you mean". */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** The command a typo most likely meant: within two edits, or one the typed name begins. */
function suggestion(name: string): string | undefined {
  let best: { command: string; distance: number } | undefined;
  for (const command of COMMANDS) {
    const distance = command.startsWith(name) ? 1 : editDistance(name, command);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { command, distance };
  }
  return best?.command;
}

/** package.json's version: found upwards from this module, which runs from src/cli or dist/src/cli. */
function version(): string {
  for (let dir = new URL('./', import.meta.url); dir.pathname !== '/'; dir = new URL('../', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'lars-ts' && pkg.version) return pkg.version;
    } catch {
      // No package.json at this level: look one up.
    }
  }
  return 'unknown';
}

/** Loaded only when printed: the default ports it shows come from the services' config modules. */
async function usage(): Promise<string> {
  return (await import('./usage.js')).USAGE;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`lars ${version()} (node ${process.version})\n`);
    return 0;
  }
  if (!COMMANDS.has(name)) {
    const meant = suggestion(name);
    const hint = meant === undefined ? '' : `; did you mean "${meant}"? (lars ${meant} --help)`;
    process.stderr.write(`lars: unknown command ${JSON.stringify(name)}${hint}\n${await usage()}`);
    return 2;
  }
  // `lars agent` is built as a bundle of its own, errors included (agent-main.ts).
  if (name === 'agent') return (await import('./agent-main.js')).runAgent(rest);
  return (await import('./execute.js')).execute(name, rest, () => import(`./commands/${name}.js`));
}

/**
 * Exits once stdout and stderr have handed over everything written: writes to
 * a pipe are asynchronous, and process.exit() alone would cut a long --json
 * document short.
 */
function exitAfterOutput(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

// Exit explicitly: a failed service start may leave sockets or timers open.
main(process.argv.slice(2)).then(exitAfterOutput, (err) => {
  process.stderr.write(`lars: ${(err as Error).stack ?? err}\n`);
  exitAfterOutput(1);
});
