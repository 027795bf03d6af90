/**
 * The `[loadbalance]` parameters. Key names, units (seconds) and defaults
 * are Lars's so an existing lb_agent.conf section carries over; `strategy`
 * and the keys after update_timeout are our extensions (docs/balancer.md). The rules are the config loader's own field rules (pure), so the
 * agent's [loadbalance] section is these fields and nothing else.
 */
import { float, int, oneOf, readFields, type FieldValues } from '../reactor/fields.js';
import { STRATEGY_NAMES } from './types.js';

const count = (min: number, fallback: number) => int({ default: fallback, min });
const rate = (fallback: number) => float({ default: fallback, min: 0, max: 1 });
const seconds = (fallback: number) => float({ default: fallback, min: 0, minExclusive: true });

export const LOADBALANCE_FIELDS = {
  /** While some host is overloaded, probe_num ordinary picks come between two probes of an overloaded host (one request in probe_num + 1). */
  probe_num: count(1, 10),
  /** vsucc of a host that becomes idle. */
  init_succ_cnt: count(0, 180),
  /** verr of a host that becomes overloaded. */
  init_err_cnt: count(0, 5),
  /** An idle host overloads when verr/(vsucc+verr) > err_rate after a failure. */
  err_rate: rate(0.1),
  /** An overloaded host recovers when vsucc/(vsucc+verr) > succ_rate after a success. */
  succ_rate: rate(0.5),
  contin_err_limit: count(1, 15),
  contin_succ_limit: count(1, 15),
  /** At the end of an idle window the host overloads when rerr/(rsucc+rerr) >= window_err_rate. */
  window_err_rate: rate(0.7),
  /** Seconds. Length of an idle host's window. */
  idle_timeout: seconds(15),
  /** Seconds. An overloaded host goes back to idle on its first report after this long. */
  overload_timeout: seconds(15),
  /** Seconds. A route is pulled from dns again when its last answer is this old. */
  update_timeout: seconds(15),
  /** Which RouteBalancer the agent builds for each route. */
  strategy: oneOf(STRATEGY_NAMES, { default: 'lars' }),
  /** consistent_hash: ring points per unit of weight. More than 10k buys no balance and costs memory. */
  hash_vnodes: int({ default: 100, min: 1, max: 10_000 }),
  /** consistent_hash: below this healthy fraction, health is ignored (all hosts take traffic). */
  hash_panic_threshold: rate(0.5),
  /** Seconds. least_request, adaptive: a handed-out host not reported within this stops counting as in flight. */
  inflight_timeout: seconds(10),
  /** adaptive: failures in a row that eject a host while the route's other hosts succeed (more when they fail too). */
  eject_consecutive: count(1, 3),
  /** Seconds. adaptive: a host ejected a second time must pass probes this long before it is re-admitted; doubles with each further ejection. */
  eject_base: seconds(30),
  /** Seconds. adaptive: the longest such probation; and each eject_max a host serves without an ejection forgets one ejection. */
  eject_max: seconds(300),
  /** adaptive: at most this percentage of a route's hosts are ejected at once (at least one, never all). */
  max_ejected_percent: float({ default: 20, min: 0, max: 100 }),
  /** Seconds. adaptive: the shortest time between two probes of an ejected host that keeps failing (the first comes after an eighth of it, then doubling). */
  probe_interval: seconds(2),
  /** adaptive: at most this fraction of a route's calls probe an ejected host... */
  probe_share: float({ default: 0.00025, min: 0, max: 1, minExclusive: true }),
  /** Seconds. adaptive: ...but an ejected host is probed at least this often, however little the traffic. */
  probe_interval_max: seconds(30),
  /** Seconds. adaptive: a re-admitted or newly added host's share ramps up over this long (0: at once). */
  slow_start: float({ default: 2, min: 0 }),
  /** Seconds. adaptive: time constant of the latency and failure-rate estimates. */
  decay_time: seconds(10),
};

export type LoadBalanceParams = FieldValues<typeof LOADBALANCE_FIELDS>;

/** Bad [loadbalance] values given by code; `problems` has one line per key. */
export class LoadBalanceParamsError extends RangeError {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'LoadBalanceParamsError';
  }
}

/**
 * Fills the defaults in and checks every value (text as a config file gives
 * it, or numbers). Throws a LoadBalanceParamsError naming every bad or unknown
 * key, since a misspelt key would otherwise silently keep its default.
 */
export function validateLoadBalanceParams(input: Readonly<Record<string, unknown>> = {}): LoadBalanceParams {
  const { values, problems } = readFields(LOADBALANCE_FIELDS, input);
  if (problems.length > 0) throw new LoadBalanceParamsError(problems.map((problem) => `[loadbalance] ${problem}`));
  return values;
}

export const DEFAULT_LOADBALANCE_PARAMS: LoadBalanceParams = Object.freeze(validateLoadBalanceParams());
