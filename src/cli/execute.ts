/**
 * Running one loaded subcommand: its --help, its exit code, and how its
 * errors are reported (a UsageError with the forms hint, a CommandError as
 * its message, anything else with its stack). main.ts runs every command
 * through here; agent-main.ts runs `lars agent` through its own copy, which
 * the build bundles with the command so that the bundle's error classes are
 * the ones matched (docs/agent.md, "Memory").
 */
import { CommandError, UsageError } from './args.js';

export interface Command {
  /** Returns the exit code, or nothing for 0. Long-running services resolve when they stop. */
  run(argv: string[]): Promise<number | void>;
  /** True when run() answers --help itself (with more than its lines of the usage). */
  ownHelp?: boolean;
}

/** --help or -h among a command's own arguments (not after --, where they belong to another program). */
function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** Loads and runs the command `name` with its arguments; returns the process's exit code. */
export async function execute(name: string, argv: string[], load: () => Promise<Command>): Promise<number> {
  try {
    const command = await load();
    if (wantsHelp(argv) && !command.ownHelp) {
      process.stdout.write((await import('./usage.js')).commandUsage(name));
      return 0;
    }
    return (await command.run(argv)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`lars ${name}: ${err.message}\n(run lars --help for the forms)\n`);
      return 2;
    }
    const message = err instanceof CommandError ? err.message : (err as Error).stack ?? String(err);
    process.stderr.write(`lars ${name}: ${message}\n`);
    return 1;
  }
}
