/**
 * Balancing quality over a set of scenarios and strategies (docs/simulator.md):
 * one seeded run per pair, measured, plus the per-host share series the
 * charts draw. Pure apart from the optional progress callback.
 */
import { DEFAULT_LOADBALANCE_PARAMS, type LoadBalanceParams } from '../balancer/params.js';
import type { StrategyName } from '../balancer/types.js';
import { runScenario } from './engine.js';
import { measure, p99Of, shareSeries, type RunMetrics } from './metrics.js';
import { withoutFault, type Scenario } from './scenarios.js';

export const DEFAULT_SEED = 1;

export interface SharePoint {
  readonly t: number;
  readonly host: string;
  readonly strategy: string;
  readonly share: number;
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly metrics: RunMetrics[];
  /** Each host's share of the calls over time, per strategy. */
  readonly shares: SharePoint[];
}

export interface QualityOptions {
  readonly scenarios: readonly Scenario[];
  readonly strategies: readonly StrategyName[];
  readonly seed?: number;
  readonly params?: LoadBalanceParams;
  /** Called before each run, with its place in the whole. */
  readonly onRun?: (scenario: string, strategy: string, index: number, count: number) => void;
}

/** Chart resolution: one point per second, per two seconds for runs over 200 s. */
function chartWindowMs(scenario: Scenario): number {
  return scenario.durationMs > 200_000 ? 2000 : 1000;
}

export function runQuality({ scenarios, strategies, seed = DEFAULT_SEED, params = DEFAULT_LOADBALANCE_PARAMS, onRun }: QualityOptions): ScenarioResult[] {
  const count = scenarios.length * strategies.length;
  let index = 0;
  return scenarios.map((scenario) => {
    const metrics: RunMetrics[] = [];
    const shares: SharePoint[] = [];
    for (const strategy of strategies) {
      onRun?.(scenario.name, strategy, index++, count);
      const record = runScenario(scenario, strategy, { params, seed });
      const baseline = scenario.baseline ? p99Of(runScenario(withoutFault(scenario), strategy, { params, seed })) : null;
      metrics.push(measure(record, baseline));
      for (const point of shareSeries(record, chartWindowMs(scenario))) shares.push({ ...point, strategy });
    }
    return { scenario, metrics, shares };
  });
}
