/**
 * lars simulate [--scenario NAME[,NAME...]] [--strategy NAME[,NAME...]] [--seed N] [--svg DIR] [--json]
 *
 * The balancing-quality simulator (docs/simulator.md): every scenario with
 * every strategy by default, on a virtual clock, seeded. Prints one table and
 * the targets the strategies are held to; --svg writes a chart per scenario;
 * --json prints the metrics, targets and chart series as one document.
 * Progress goes to stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BALANCER_NAMES, type StrategyName } from '../../balancer/types.js';
import { renderChart } from '../../simulator/charts.js';
import { DEFAULT_SEED, runQuality } from '../../simulator/quality.js';
import { SCENARIOS, SCENARIO_NAMES, type Scenario } from '../../simulator/scenarios.js';
import { METRIC_COLUMNS, TARGET_COLUMNS, metricsRow, targetRow } from '../../simulator/table.js';
import { checkTargets } from '../../simulator/targets.js';
import { UsageError, parseCommand, parseIntArg, printJson, printTable } from '../args.js';

const FORMS = 'lars simulate [--scenario NAME[,NAME...]] [--strategy NAME[,NAME...]] [--seed N] [--svg DIR] [--json]';

const OPTIONS = {
  scenario: { type: 'string' },
  strategy: { type: 'string' },
  seed: { type: 'string' },
  svg: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** A comma-separated list of names out of `known`, or all of them when absent. */
function chosen<T extends string>(flag: string, text: string | undefined, known: readonly T[]): T[] {
  if (text === undefined) return [...known];
  const names = text.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(known as readonly string[]).includes(name)) throw new UsageError(`unknown ${flag} ${JSON.stringify(name)}: one of ${known.join(', ')}`);
  }
  return names as T[];
}

export interface SimulateOptions {
  scenarios: Scenario[];
  strategies: StrategyName[];
  seed: number;
  svgDir?: string;
  json: boolean;
}

export function simulateOptions(argv: string[]): SimulateOptions {
  const { values, positionals } = parseCommand(argv, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}: ${FORMS}`);
  const names = chosen('scenario', values.scenario, SCENARIO_NAMES);
  return {
    scenarios: SCENARIOS.filter((s) => names.includes(s.name)),
    strategies: chosen('strategy', values.strategy, BALANCER_NAMES),
    seed: values.seed === undefined ? DEFAULT_SEED : parseIntArg('--seed', values.seed, 0, 2 ** 31 - 1),
    ...(values.svg === undefined ? {} : { svgDir: values.svg }),
    json: values.json ?? false,
  };
}

/** Runs the simulator as the options say and prints the figures; a missed target is a figure, not an error. */
export async function simulate({ scenarios, strategies, seed, svgDir, json }: SimulateOptions): Promise<void> {
  const started = performance.now();
  const results = runQuality({
    scenarios,
    strategies,
    seed,
    onRun: (scenario, strategy, index, count) => process.stderr.write(`simulate: [${index + 1}/${count}] ${scenario} / ${strategy}\n`),
  });
  const metrics = results.flatMap((r) => r.metrics);
  const targets = checkTargets(metrics);
  const charts: string[] = [];
  if (svgDir !== undefined) {
    mkdirSync(svgDir, { recursive: true });
    for (const result of results) {
      const file = join(svgDir, `${result.scenario.name}.svg`);
      writeFileSync(file, await renderChart(result));
      charts.push(file);
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (json) {
    const targetsShown = targets.map(({ target: { scenario, strategy, figure, at, limit }, value, met }) => ({ scenario, strategy, figure, at, limit, value, met }));
    const shares = results.map((r) => ({ scenario: r.scenario.name, points: r.shares }));
    printJson({ seed, metrics, targets: targetsShown, charts, shares });
  } else {
    process.stdout.write(`seed ${seed}; ${metrics.length} runs in ${seconds} s of wall time\n`);
    printTable(METRIC_COLUMNS, metrics.map(metricsRow));
    if (targets.length > 0) {
      process.stdout.write('\n');
      printTable(TARGET_COLUMNS, targets.map(targetRow));
    }
    for (const file of charts) process.stdout.write(`chart: ${file}\n`);
  }
}

export async function run(argv: string[]): Promise<void> {
  await simulate(simulateOptions(argv));
}
