/**
 * Health summaries from the latest call status, for people. The same rule
 * serves two levels: a route from its hosts, and a host from its callers
 * (each caller's agent reports what it sees of the host).
 */
import type { StatusSample } from '../store/status.js';

export type { StatusSample };

export type HealthState = 'none' | 'ok' | 'degraded' | 'down' | 'stale';

export interface HealthSummary {
  state: HealthState;
  /** Samples (hosts or callers) with a report. */
  reporting: number;
  overloaded: number;
  succ: number;
  err: number;
  /** Unix seconds; null without any report. */
  lastReportAt: number | null;
}

/** Error share of the latest windows at or above which a healthy-looking route is "degraded" (Lars's default err_rate). */
export const DEGRADED_ERROR_RATE = 0.1;

/**
 * none: nothing reported; stale: the newest report is older than staleAfter
 * seconds (the rest would be old news); down: every sample overloaded;
 * degraded: some overloaded, or errors at or above DEGRADED_ERROR_RATE; ok otherwise.
 */
export function summarizeHealth(samples: readonly StatusSample[], now: number, staleAfter: number): HealthSummary {
  let overloaded = 0;
  let succ = 0;
  let err = 0;
  let lastReportAt: number | null = null;
  for (const s of samples) {
    if (s.overload) overloaded += 1;
    succ += s.succ;
    err += s.err;
    lastReportAt = Math.max(lastReportAt ?? s.reportedAt, s.reportedAt);
  }
  const summary = { reporting: samples.length, overloaded, succ, err, lastReportAt };
  if (lastReportAt === null) return { state: 'none', ...summary };
  if (now - lastReportAt > staleAfter) return { state: 'stale', ...summary };
  if (overloaded === samples.length) return { state: 'down', ...summary };
  if (overloaded > 0 || (succ + err > 0 && err / (succ + err) >= DEGRADED_ERROR_RATE)) return { state: 'degraded', ...summary };
  return { state: 'ok', ...summary };
}

/** Folds several callers' samples of one host into one: overloaded if any caller says so. */
export function mergeSamples(samples: readonly StatusSample[]): StatusSample {
  return {
    overload: samples.some((s) => s.overload),
    succ: samples.reduce((n, s) => n + s.succ, 0),
    err: samples.reduce((n, s) => n + s.err, 0),
    reportedAt: Math.max(...samples.map((s) => s.reportedAt)),
  };
}
