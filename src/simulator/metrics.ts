/**
 * The figures of one simulated run (docs/simulator.md defines each). Shares
 * are of calls started; a host's fair share is its weight over the route's.
 */
import { BUCKET_MS, type RunRecord } from './engine.js';

export interface RunMetrics {
  readonly scenario: string;
  readonly strategy: string;
  readonly calls: number;
  /** Calls that succeeded at the first attempt, over all calls. */
  readonly success: number;
  /** Share of the calls started during the fault that went to the bad host; null without one. */
  readonly badShare: number | null;
  readonly badCalls: number | null;
  /** The same share from 1 s after the fault began: what the strategy settles at. */
  readonly badShareSettled: number | null;
  /** Latency of successful calls, ms. */
  readonly p50: number;
  readonly p99: number;
  /** p99 over the p99 of the same run without the fault; null when not measured. */
  readonly p99Ratio: number | null;
  /** From the fault's start to the first 100 ms in which the bad host got under 10 % of its fair share; null: never. */
  readonly ejectS: number | null;
  /** From the fault's end to the first second in which the bad host got 80 % of its fair share again; null: never. */
  readonly recoverS: number | null;
  /** The bad host's largest one-second share within 30 s after the fault's end, over its fair share. */
  readonly rampPeak: number | null;
  /** Among the hosts not hurt: largest over smallest calls per unit of weight, over the run. */
  readonly healthyMaxMin: number;
  /** Among the hosts not hurt: per second, largest over mean calls per unit of weight; averaged over the run. */
  readonly loadPeakMean: number;
  /** Hosts each agent kept out of its ordinary picks, on average over time and agents. */
  readonly outAvg: number;
  /** Times an agent took the bad host back, per agent; null without a bad host. */
  readonly readmits: number | null;
  /** The largest share of the agents that took the bad host back within the same second; null without a bad host or with one agent. */
  readonly herd: number | null;
}

const SECOND_BUCKETS = 1000 / BUCKET_MS;
const EJECTED_FRACTION = 0.1;
const RECOVERED_FRACTION = 0.8;
const RAMP_WINDOW_MS = 30_000;

/** The value at quantile q (0..1) of a sorted array (nearest rank). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The p99 of a run's successful calls. */
export function p99Of(record: RunRecord): number {
  return quantile(record.latencies.slice().sort(), 0.99);
}

function sum(values: ArrayLike<number>, from = 0, to = values.length): number {
  let total = 0;
  for (let i = from; i < to; i++) total += values[i]!;
  return total;
}

export function measure(record: RunRecord, baselineP99: number | null): RunMetrics {
  const { scenario, buckets, calls, total, failed } = record;
  const hostCount = scenario.hosts.length;
  const weights = scenario.hosts.map((h) => h.weight);
  const weightSum = sum(weights);
  const hostCalls = (host: number, from: number, to: number): number => {
    let count = 0;
    for (let b = from; b < to; b++) count += calls[b * hostCount + host]!;
    return count;
  };
  const share = (host: number, from: number, to: number): number => {
    const all = sum(total, from, to);
    return all === 0 ? 0 : hostCalls(host, from, to) / all;
  };

  const allCalls = sum(total);
  const latencies = record.latencies.slice().sort();
  const p99 = quantile(latencies, 0.99);
  const healthy = scenario.hosts.map((_, i) => i).filter((i) => i !== scenario.bad);

  let badShare: number | null = null;
  let badCalls: number | null = null;
  let badShareSettled: number | null = null;
  let ejectS: number | null = null;
  let recoverS: number | null = null;
  let rampPeak: number | null = null;
  const bad = scenario.bad;
  if (bad !== null && scenario.fault !== null) {
    const fair = weights[bad]! / weightSum;
    const start = Math.floor(scenario.fault.startMs / BUCKET_MS);
    const end = Math.min(buckets, Math.ceil(scenario.fault.endMs / BUCKET_MS));
    badCalls = hostCalls(bad, start, end);
    badShare = share(bad, start, end);
    badShareSettled = share(bad, Math.min(end, start + SECOND_BUCKETS), end);
    for (let b = start; b < end; b++) {
      if (share(bad, b, b + 1) < EJECTED_FRACTION * fair) {
        ejectS = ((b + 1 - start) * BUCKET_MS) / 1000;
        break;
      }
    }
    if (end < buckets) {
      for (let b = end; b + SECOND_BUCKETS <= buckets; b++) {
        if (share(bad, b, b + SECOND_BUCKETS) >= RECOVERED_FRACTION * fair) {
          recoverS = ((b + SECOND_BUCKETS - end) * BUCKET_MS) / 1000;
          break;
        }
      }
      let peak = 0;
      const rampEnd = Math.min(buckets, end + RAMP_WINDOW_MS / BUCKET_MS);
      for (let b = end; b + SECOND_BUCKETS <= rampEnd; b++) peak = Math.max(peak, share(bad, b, b + SECOND_BUCKETS));
      rampPeak = peak / fair;
    }
  }

  const perWeight = healthy.map((h) => hostCalls(h, 0, buckets) / weights[h]!);
  const healthyMaxMin = Math.max(...perWeight) / Math.min(...perWeight);
  let peakMeanSum = 0;
  let seconds = 0;
  for (let b = 0; b + SECOND_BUCKETS <= buckets; b += SECOND_BUCKETS) {
    const loads = healthy.map((h) => hostCalls(h, b, b + SECOND_BUCKETS) / weights[h]!);
    const mean = sum(loads) / loads.length;
    if (mean === 0) continue;
    peakMeanSum += Math.max(...loads) / mean;
    seconds++;
  }

  let readmits: number | null = null;
  let herd: number | null = null;
  if (bad !== null) readmits = record.readmissions.length / scenario.agents;
  if (bad !== null && scenario.agents > 1) {
    const perSecond = new Map<number, number>();
    for (const at of record.readmissions) {
      const second = Math.floor(at / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    herd = Math.max(0, ...perSecond.values()) / scenario.agents;
  }

  return {
    scenario: scenario.name,
    strategy: record.strategy,
    calls: allCalls,
    success: allCalls === 0 ? 0 : 1 - sum(failed) / allCalls,
    badShare,
    badCalls,
    badShareSettled,
    p50: quantile(latencies, 0.5),
    p99,
    p99Ratio: baselineP99 === null ? null : p99 / baselineP99,
    ejectS,
    recoverS,
    rampPeak,
    healthyMaxMin,
    loadPeakMean: seconds === 0 ? NaN : peakMeanSum / seconds,
    outAvg: sum(record.out) / (buckets * scenario.agents),
    readmits,
    herd,
  };
}

/** Per host, its share of the calls in each window of `windowMs`: the series the charts draw. */
export function shareSeries(record: RunRecord, windowMs: number): Array<{ t: number; host: string; share: number }> {
  const { scenario, buckets, calls, total } = record;
  const hostCount = scenario.hosts.length;
  const step = Math.max(1, Math.round(windowMs / BUCKET_MS));
  const points: Array<{ t: number; host: string; share: number }> = [];
  for (let b = 0; b + step <= buckets; b += step) {
    const all = sum(total, b, b + step);
    scenario.hosts.forEach((model, h) => {
      let count = 0;
      for (let i = b; i < b + step; i++) count += calls[i * hostCount + h]!;
      points.push({ t: ((b + step) * BUCKET_MS) / 1000, host: model.name, share: all === 0 ? 0 : count / all });
    });
  }
  return points;
}
