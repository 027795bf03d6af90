/**
 * The load a registered server reports with each renewal (docs/registry.md):
 * its score is the event loop's utilisation since the last renewal, its CPU
 * share the process's CPU time per wall time over the same interval.
 */
import { performance } from 'node:perf_hooks';
import type { InstanceLoad } from '../protocol/messages.js';

/** What the process has used so far, as cumulative figures. */
export interface UsageSample {
  /** Event-loop time spent active and idle, ms (performance.eventLoopUtilization()). */
  loopActiveMs: number;
  loopIdleMs: number;
  /** User plus system CPU time, µs (process.cpuUsage()). */
  cpuUs: number;
  /** Monotonic wall time, ms. */
  atMs: number;
}

/** Calls being served and open connections, as the server counts them. */
export interface LoadCounts {
  inFlight: number;
  connections: number;
}

const UINT32_MAX = 0xffffffff;

function permille(part: number, whole: number): number {
  if (!(whole > 0) || !(part > 0)) return 0;
  return Math.min(Math.round((1000 * part) / whole), UINT32_MAX);
}

/** The load over the interval between two samples. */
export function loadBetween(previous: UsageSample, current: UsageSample, counts: LoadCounts): InstanceLoad {
  const active = current.loopActiveMs - previous.loopActiveMs;
  const idle = current.loopIdleMs - previous.loopIdleMs;
  return {
    inFlight: Math.max(0, Math.min(counts.inFlight, UINT32_MAX)),
    connections: Math.max(0, Math.min(counts.connections, UINT32_MAX)),
    cpuPermille: permille(current.cpuUs - previous.cpuUs, (current.atMs - previous.atMs) * 1000),
    score: permille(active, active + idle),
  };
}

export function sampleUsage(): UsageSample {
  const loop = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  return { loopActiveMs: loop.active, loopIdleMs: loop.idle, cpuUs: cpu.user + cpu.system, atMs: performance.now() };
}

/**
 * The default load source: each call reports the interval since the previous
 * one (the first, since it was made), with the counts the server gives.
 */
export function processLoad(counts: () => LoadCounts, sample: () => UsageSample = sampleUsage): () => InstanceLoad {
  let previous = sample();
  return () => {
    const current = sample();
    const load = loadBetween(previous, current, counts());
    previous = current;
    return load;
  };
}
