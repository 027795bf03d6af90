/**
 * The contract between the lb agent and a load-balancing strategy. One
 * RouteBalancer serves one (modid, cmdid) route. Everything here is pure: no
 * I/O, no timers, no clock reads. Every method that depends on time takes
 * `now`, a monotonic time in milliseconds supplied by the caller.
 *
 * Hosts are identified by (ip, port). `ip` is the IPv4 address as the wire
 * carries it: the signed int32 of HostInfo.ip (128.0.0.0 and above are
 * negative). Inputs are normalised with `ip | 0`, so an unsigned value names
 * the same host; everything a balancer returns carries the int32.
 */
import type { RetCode } from '../protocol/retcode.js';

export const STRATEGY_NAMES = ['lars', 'consistent_hash', 'weighted_round_robin', 'least_request', 'adaptive', 'least_load'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/**
 * Names that run another strategy's balancer (docs/balancer.md, "least_load"):
 * the route runs, and its views show, the strategy aliased.
 */
const STRATEGY_ALIASES = { least_load: 'adaptive' } as const;
/** A strategy with a balancer of its own: what a RouteBalancer runs and the simulator measures. */
export type BalancerName = Exclude<StrategyName, keyof typeof STRATEGY_ALIASES>;
export const BALANCER_NAMES: readonly BalancerName[] = STRATEGY_NAMES.filter((name): name is BalancerName => !(name in STRATEGY_ALIASES));

/** The balancer a strategy name runs: itself, or the strategy it is an alias of. */
export function balancerOf(name: StrategyName): BalancerName {
  return name in STRATEGY_ALIASES ? STRATEGY_ALIASES[name as keyof typeof STRATEGY_ALIASES] : (name as BalancerName);
}

/**
 * Whether a strategy gives hosts shares by their weights. Lars's own keeps
 * every host with weight > 0 alike, and honours 0 only (a drain;
 * docs/balancer.md, "Weight 0 drains a host"); operators are told so when
 * they set another weight.
 */
export function honoursWeights(name: StrategyName): boolean {
  return balancerOf(name) !== 'lars';
}

/** Whether this build knows the strategy: a newer dns or store may name one it does not. */
export function isStrategyName(name: unknown): name is StrategyName {
  return (STRATEGY_NAMES as readonly unknown[]).includes(name);
}

export interface HostAddr {
  readonly ip: number;
  readonly port: number;
}

/** One host of a route as the dns answer (or the console) gives it. */
export interface HostInput {
  readonly ip: number;
  readonly port: number;
  /**
   * Relative weight, default 1 (DEFAULT_HOST_WEIGHT). 0 drains the host in
   * every strategy: no new calls, state kept. Lars's own strategy ignores
   * every other weight.
   */
  readonly weight?: number;
  /**
   * The load score a registered instance reports (HostInfo field 4,
   * docs/registry.md: 0 idle, 1000 at capacity, more when overloaded); null
   * or absent for hosts that report none (configured hosts). A new value for
   * a kept host changes nothing else about it.
   */
  readonly load?: number | null;
}

/** The only outcomes a pick can have. */
export type PickRetCode = typeof RetCode.SUCC | typeof RetCode.OVERLOAD | typeof RetCode.NOEXIST;

/**
 * A pick's answer. Results are shared and frozen (one per host, plus one per
 * failure code) so the hot path allocates nothing: never mutate or keep them
 * as keys.
 */
export interface PickResult {
  readonly retcode: PickRetCode;
  /** Present exactly when retcode is SUCC. */
  readonly host?: HostAddr;
}

/**
 * What a report did to the host, named after the rule that fired (see
 * docs/balancer.md). 'none' means counted without a state change.
 */
export type HealthEvent =
  | 'none'
  | 'unknown_host'
  | 'overload_err_rate'
  | 'overload_contin_err'
  | 'overload_window'
  | 'idle_succ_rate'
  | 'idle_contin_succ'
  | 'idle_overload_timeout'
  | 'window_restart'
  | 'ejected'
  | 'readmitted';

/**
 * A host's balancing state, for status pages and API_GetRoute: the fields
 * every strategy has, then Lars's counters (strategies judged by Lars's
 * rules) or the adaptive strategy's estimates.
 */
export interface HostView {
  readonly ip: number;
  readonly port: number;
  readonly weight: number;
  /** Out of the ordinary picks: overloaded (Lars's rules) or ejected (adaptive). */
  readonly overloaded: boolean;
  /** When the host last became idle (window start), overloaded, ejected or re-admitted, in the caller's ms clock. */
  readonly stateSince: number;
  /** The load score of the last dns answer (HostInput.load); null when the host reports none. */
  readonly reportedLoad: number | null;
  readonly vsucc?: number;
  readonly verr?: number;
  readonly rsucc?: number;
  readonly rerr?: number;
  readonly continSucc?: number;
  readonly continErr?: number;
  /** adaptive: the peak-EWMA latency estimate, ms; null until a report carried a duration. */
  readonly latencyMs?: number | null;
  /** adaptive: recent failure rate (0..1), calls in flight, failures in a row, ejections remembered. */
  readonly failureRate?: number;
  readonly inFlight?: number;
  readonly consecutiveFailures?: number;
  readonly ejections?: number;
}

/** Calls reported for one host since the previous takeStats(), for the reporter. */
export interface HostStats {
  readonly ip: number;
  readonly port: number;
  readonly succ: number;
  readonly err: number;
  /** The host's state when the stats were taken (as of its last report). */
  readonly overload: boolean;
  /** Of succ + err, the calls reported with a duration; their durations summed and the longest, µs (docs/reporter.md, "Call durations"). */
  readonly timed: number;
  readonly durationUs: number;
  readonly maxDurationUs: number;
}

export interface RejectedHost {
  readonly host: HostInput;
  readonly reason: string;
}

/** What setHosts() changed; rejected entries were skipped, the rest applied. */
export interface HostChanges {
  readonly added: number;
  readonly removed: number;
  readonly kept: number;
  readonly rejected: readonly RejectedHost[];
}

export interface RouteBalancer {
  readonly strategy: BalancerName;
  /**
   * Chooses a host. `key` is a request affinity key; strategies that do not
   * hash ignore it. O(1) (Lars), O(log hosts) (ring) or O(hosts) (weighted
   * round robin, least request), allocation-free.
   */
  pick(now: number, key?: string | number): PickResult;
  /**
   * Records one call's outcome. `latencyMs` is the call's duration when the
   * client sent it (ReportRequest field 5, docs/protocol.md), undefined when
   * unknown; strategies that do not weigh latency ignore it. A host not in
   * the route is ignored ('unknown_host').
   */
  report(host: HostAddr, ok: boolean, now: number, latencyMs?: number): HealthEvent;
  /**
   * Replaces the host set: new hosts start idle, vanished ones are removed
   * with their state, the others keep theirs (weights and reported loads are
   * updated).
   */
  setHosts(hosts: readonly HostInput[], now: number): HostChanges;
  hosts(): HostView[];
  /** Per-host call counts since the previous call (hosts with no calls are left out); resets them. */
  takeStats(): HostStats[];
  isEmpty(): boolean;
}
