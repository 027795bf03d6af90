/**
 * The counters of a port thread: plain integers bumped on the hot path, handed
 * to the main thread as deltas with each statistics batch, and added there to
 * the agent's metrics (docs/agent.md). A counter is one line of COUNTERS: its
 * name, the metric it goes to and its labels.
 */
import { DROP_REASONS, type DropReason } from '../protocol/datagram.js';
import type { Counter, MetricsRegistry } from '../reactor/metrics.js';

const METRICS = {
  requests: { name: 'lars_agent_requests_total', help: 'UDP requests handled, by kind and port', byPort: true },
  answers: { name: 'lars_agent_gethost_answers_total', help: 'GetHost answers, by retcode', byPort: false },
  events: { name: 'lars_agent_events_total', help: 'other agent events, by kind', byPort: false },
  dropped: { name: 'lars_agent_datagrams_dropped_total', help: 'datagrams dropped, by reason', byPort: false },
} as const;
type MetricName = keyof typeof METRICS;

const COUNTERS = {
  getHost: ['requests', { kind: 'gethost' }],
  report: ['requests', { kind: 'report' }],
  getRoute: ['requests', { kind: 'getroute' }],
  routeStatus: ['requests', { kind: 'route_status' }],
  succ: ['answers', { retcode: 'SUCC' }],
  overload: ['answers', { retcode: 'OVERLOAD' }],
  noexist: ['answers', { retcode: 'NOEXIST' }],
  /** Requests held for dns's first answer of their route, and those of them answered NOEXIST when the wait ended. */
  waited: ['events', { kind: 'waited_for_dns' }],
  waitExpired: ['events', { kind: 'wait_expired' }],
  /** Reports that carried the call's duration (ReportRequest field 5): whether clients send durations. */
  timedReport: ['events', { kind: 'timed_report' }],
  /** Reports for a route or host the port does not have. */
  unknownReports: ['events', { kind: 'unknown_report' }],
  /** Routes whose dns answer named a strategy this agent does not know (counted once per route and name; the default serves). */
  unknownStrategies: ['events', { kind: 'unknown_strategy' }],
  /** Routes without hosts forgotten to stay within max_unknown_routes. */
  unknownRoutesEvicted: ['events', { kind: 'unknown_route_evicted' }],
  /** Receive errors and replies that could not be sent. */
  sendErrors: ['events', { kind: 'socket_error' }],
} as const satisfies Record<string, readonly [MetricName, Readonly<Record<string, string>>]>;

type CounterName = keyof typeof COUNTERS;
const COUNTER_NAMES = Object.keys(COUNTERS) as CounterName[];

/** One port's counts; `dropped` is by DropReason (src/protocol/datagram.ts). */
export type PortCounters = Record<CounterName, number> & { dropped: Record<DropReason, number> };

export function emptyCounters(): PortCounters {
  const counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as Record<CounterName, number>;
  return { ...counters, dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number> };
}

/** True when nothing was counted: a batch that would tell the main thread nothing. */
export function countedNothing(counters: PortCounters): boolean {
  return COUNTER_NAMES.every((name) => counters[name] === 0) && DROP_REASONS.every((reason) => counters.dropped[reason] === 0);
}

/** The counts of a port thread since they were last taken. */
export class PortTally {
  counts = emptyCounters();

  take(): PortCounters {
    const counts = this.counts;
    this.counts = emptyCounters();
    return counts;
  }
}

/** The main thread's side: the agent's metrics, fed with each port's counts. */
export class PortMetrics {
  private readonly metrics: Record<MetricName, Counter>;

  constructor(registry: MetricsRegistry) {
    const entries = Object.entries(METRICS).map(([key, { name, help }]) => [key, registry.counter(name, help)]);
    this.metrics = Object.fromEntries(entries) as Record<MetricName, Counter>;
  }

  add(port: number, counts: PortCounters): void {
    for (const name of COUNTER_NAMES) {
      const [metric, labels] = COUNTERS[name];
      if (counts[name] > 0) this.metrics[metric].inc(counts[name], METRICS[metric].byPort ? { ...labels, port } : labels);
    }
    for (const reason of DROP_REASONS) {
      if (counts.dropped[reason] > 0) this.metrics.dropped.inc(counts.dropped[reason], { reason });
    }
  }
}
