/**
 * The [reporter] config section. db_thread_cnt keeps Lars's name and meaning
 * (how many writers drain the queue into the store at once).
 */
import { defineSection, int, reactorSection, type ConfigInput, type FieldValues } from '../reactor/config.js';

/** Lars's reporter port. */
export const DEFAULT_REPORTER_PORT = 7779;
export const DEFAULT_REPORTER_ADMIN_PORT = 17779;

export const reporterSection = defineSection(
  'reporter',
  {
    /** Concurrent batch writers (Lars: db_thread_cnt). SQLite always uses 1: it has a single writer. */
    db_thread_cnt: int({ default: 3, min: 1, max: 64 }),
    /** Host results held at most (waiting and being written); past it the oldest batch is dropped. */
    queue_max_results: int({ default: 200_000, min: 1 }),
    /** Share of queue_max_results one connection may hold, so one peer cannot push the others' results out. */
    peer_queue_share_pct: int({ default: 25, min: 1, max: 100 }),
    /** Host results per batch, i.e. per transaction. */
    batch_max_results: int({ default: 2000, min: 1, max: 100_000 }),
    /** How long a batch that is not full waits for more results before it is written. */
    batch_delay_ms: int({ default: 100, min: 0, max: 60_000 }),
    /** call_series rows whose window ended longer ago than this are pruned. */
    series_retention_hours: int({ default: 168, min: 1 }),
    /** How often pruning runs. */
    prune_interval_s: int({ default: 600, min: 1 }),
    /** Retry backoff after a failed write (full jitter): ceiling of the first and of every delay. */
    retry_initial_ms: int({ default: 100, min: 1 }),
    retry_max_ms: int({ default: 5000, min: 1 }),
    /** On shutdown, how long to keep trying to write what is queued before dropping it. */
    flush_timeout_ms: int({ default: 10_000, min: 0 }),
    /** A report stamped further than this in the future gets the receive time instead; 0 accepts any time. */
    max_clock_skew_s: int({ default: 300, min: 0 }),
    /** A report with more host results than this is refused whole (one peer's giant frame must not flood the queue). */
    max_results_per_report: int({ default: 10_000, min: 1 }),
    /** Host results one peer address may add per second (bursts of twice that); more are refused, so one peer cannot push the others' out. */
    peer_results_per_second: int({ default: 20_000, min: 1 }),
  },
  (values) => {
    const problems: string[] = [];
    if (values.retry_max_ms < values.retry_initial_ms) {
      problems.push(`retry_max_ms (${values.retry_max_ms}) must be >= retry_initial_ms (${values.retry_initial_ms})`);
    }
    // Every writer may hold a batch in flight and one more must fit, or new reports could never be queued.
    const needed = values.batch_max_results * (values.db_thread_cnt + 1);
    if (values.queue_max_results < needed) {
      problems.push(`queue_max_results (${values.queue_max_results}) must be >= batch_max_results * (db_thread_cnt + 1) = ${needed}`);
    }
    return problems;
  },
);

export type ReporterConfig = FieldValues<typeof reporterSection.fields>;

/** Host results one connection may hold in the queue (peer_queue_share_pct of queue_max_results, at least 1). */
export function peerMaxResults(config: ReporterConfig): number {
  return Math.max(1, Math.floor((config.queue_max_results * config.peer_queue_share_pct) / 100));
}

/** Every section startReporter reads: its own and the TCP server limits. */
export const REPORTER_CONFIG_SECTIONS = [reporterSection, reactorSection] as const;

/** What startReporter reads of its options: one entry per section, some values or all. */
export type ReporterConfigInput = ConfigInput<typeof REPORTER_CONFIG_SECTIONS>;
