/**
 * `lars agent` as main.ts runs it. The build (scripts/bundle-agent.mjs)
 * replaces this module in dist with a bundle of it and everything it
 * imports (in a few chunks), so the process that runs on every host loads
 * five modules of ours instead of about seventy: the loader's own work for
 * each import is what otherwise costs the idle agent ~6.5 MB (docs/agent.md,
 * "Memory"). The bundle carries its own copy of execute.ts and args.ts, so
 * the errors it matches are its own classes.
 */
import * as agent from './commands/agent.js';
import { execute } from './execute.js';

export function runAgent(argv: string[]): Promise<number> {
  return execute('agent', argv, async () => agent);
}
