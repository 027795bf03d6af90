/** The simulator's figures as table rows (docs/simulator.md explains each column). */
import type { RunMetrics } from './metrics.js';
import type { TargetOutcome } from './targets.js';

export const METRIC_COLUMNS = [
  'SCENARIO',
  'STRATEGY',
  'SUCCESS',
  'BAD SHARE',
  'BAD CALLS',
  'P50 MS',
  'P99 MS',
  'P99 X',
  'EJECT S',
  'RECOVER S',
  'RAMP PEAK',
  'HEALTHY MAX/MIN',
  'PEAK/MEAN',
  'OUT',
  'READMITS',
  'HERD',
];

const percent = (v: number | null, digits: number) => (v === null ? null : `${(v * 100).toFixed(digits)}%`);
const fixed = (v: number | null, digits: number) => (v === null || Number.isNaN(v) ? null : v.toFixed(digits));

export function metricsRow(m: RunMetrics): (string | number | null)[] {
  return [
    m.scenario,
    m.strategy,
    percent(m.success, 2),
    percent(m.badShare, 3),
    m.badCalls,
    fixed(m.p50, 1),
    fixed(m.p99, 1),
    fixed(m.p99Ratio, 2),
    fixed(m.ejectS, 1),
    fixed(m.recoverS, 1),
    fixed(m.rampPeak, 2),
    fixed(m.healthyMaxMin, 3),
    fixed(m.loadPeakMean, 3),
    fixed(m.outAvg, 2),
    fixed(m.readmits, 1),
    percent(m.herd, 0),
  ];
}

export const TARGET_COLUMNS = ['', 'SCENARIO', 'STRATEGY', 'FIGURE', 'VALUE', 'TARGET'];

export function targetRow({ target, value, met }: TargetOutcome): string[] {
  const shown = value === null ? 'never' : value === 0 ? '0' : value.toPrecision(4);
  return [met ? 'met' : 'MISSED', target.scenario, target.strategy, target.figure, shown, `${target.at === 'most' ? '<=' : '>='} ${target.limit}`];
}
