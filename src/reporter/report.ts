/**
 * From a ReportStatusRequest to the rows the store keeps: one per host
 * result, with the wire's signed int32 addresses made unsigned and the
 * report's time settled. Pure: the receive time is passed in.
 */
import type { HostCallResult, ReportStatusRequest } from '../protocol/messages.js';
import { NO_DURATIONS, type StatusRow } from '../store/status.js';

export interface ConvertedReport {
  rows: StatusRow[];
  /** Why each skipped host result was skipped. */
  invalid: string[];
  /** True when the report's ts was replaced by the receive time because it lay too far ahead. */
  skewed: boolean;
}

/**
 * The report's window end: ts as sent; the receive time when ts is 0 (not
 * set), or when it lies more than maxSkewSeconds ahead of the receive time (a
 * host with a wrong clock would otherwise pin its rows as "newest" for good).
 */
export function reportTime(ts: number, receivedAt: number, maxSkewSeconds: number): { ts: number; skewed: boolean } {
  if (ts === 0) return { ts: receivedAt, skewed: false };
  if (maxSkewSeconds > 0 && ts > receivedAt + maxSkewSeconds) return { ts: receivedAt, skewed: true };
  return { ts, skewed: false };
}

/**
 * A result's call durations (docs/reporter.md, "Call durations"), kept
 * within what the columns hold: timed at most the calls counted, the sum a
 * safe integer. A result without timed calls has no durations.
 */
function durationsOf(result: HostCallResult): Pick<StatusRow, 'timed' | 'duration_us' | 'max_duration_us'> {
  const timed = Math.min(result.timed ?? 0, (result.succ >>> 0) + (result.err >>> 0));
  if (!(timed > 0)) return NO_DURATIONS;
  return { timed, duration_us: Math.min(result.durationUs ?? 0, Number.MAX_SAFE_INTEGER), max_duration_us: (result.maxDurationUs ?? 0) >>> 0 };
}

/** receivedAt is unix seconds. */
export function toStatusRows(report: ReportStatusRequest, receivedAt: number, maxSkewSeconds: number): ConvertedReport {
  const { ts, skewed } = reportTime(report.ts >>> 0, receivedAt, maxSkewSeconds);
  const caller = report.caller >>> 0;
  const rows: StatusRow[] = [];
  const invalid: string[] = [];
  for (const result of report.results ?? []) {
    if (!Number.isInteger(result.port) || result.port < 0 || result.port > 65535) {
      invalid.push(`port ${result.port} out of range`);
      continue;
    }
    rows.push({
      modid: report.modid | 0,
      cmdid: report.cmdid | 0,
      ip: result.ip >>> 0,
      port: result.port,
      caller,
      succ: result.succ >>> 0,
      err: result.err >>> 0,
      overload: result.overload ? 1 : 0,
      ...durationsOf(result),
      ts,
    });
  }
  return { rows, invalid, skewed };
}
