/**
 * npm run bench -- quality [lars simulate's flags]
 * The balancing-quality simulator (docs/simulator.md): every scenario with
 * every strategy, the table, the targets, and a chart per scenario in
 * bench/output/quality/ unless --svg says elsewhere.
 */
import { simulate, simulateOptions } from '../src/cli/commands/simulate.js';

export default async function quality(args: string[]): Promise<void> {
  const options = simulateOptions(args);
  await simulate({ ...options, svgDir: options.svgDir ?? 'bench/output/quality' });
}
