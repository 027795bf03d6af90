/**
 * The `[loadbalance]` config section. Key names, units (seconds) and defaults
 * are Lars's so an existing lb_agent.conf section carries over; `strategy`,
 * `hash_vnodes`, `hash_panic_threshold` and `inflight_timeout` are our
 * extensions.
 */
import { STRATEGY_NAMES, type StrategyName } from './types.js';

export interface LoadBalanceParams {
  /** Every probe_num-th request made while some host is overloaded goes to an overloaded host. */
  probe_num: number;
  /** vsucc of a host that becomes idle. */
  init_succ_cnt: number;
  /** verr of a host that becomes overloaded. */
  init_err_cnt: number;
  /** An idle host overloads when verr/(vsucc+verr) > err_rate after a failure. */
  err_rate: number;
  /** An overloaded host recovers when vsucc/(vsucc+verr) > succ_rate after a success. */
  succ_rate: number;
  contin_err_limit: number;
  contin_succ_limit: number;
  /** At the end of an idle window the host overloads when rerr/(rsucc+rerr) >= window_err_rate. */
  window_err_rate: number;
  /** Seconds. Length of an idle host's window. */
  idle_timeout: number;
  /** Seconds. An overloaded host goes back to idle on its first report after this long. */
  overload_timeout: number;
  /** Seconds. A route is pulled from dns again when its last answer is this old. */
  update_timeout: number;
  /** Which RouteBalancer the agent builds for each route. */
  strategy: StrategyName;
  /** consistent_hash: ring points per unit of weight. */
  hash_vnodes: number;
  /** consistent_hash: below this healthy fraction, health is ignored (all hosts take traffic). */
  hash_panic_threshold: number;
  /** Seconds. least_request: a handed-out host not reported within this stops counting as in flight. */
  inflight_timeout: number;
}

export const DEFAULT_LOADBALANCE_PARAMS: Readonly<LoadBalanceParams> = Object.freeze({
  probe_num: 10,
  init_succ_cnt: 180,
  init_err_cnt: 5,
  err_rate: 0.1,
  succ_rate: 0.5,
  contin_err_limit: 15,
  contin_succ_limit: 15,
  window_err_rate: 0.7,
  idle_timeout: 15,
  overload_timeout: 15,
  update_timeout: 15,
  strategy: 'lars',
  hash_vnodes: 100,
  hash_panic_threshold: 0.5,
  inflight_timeout: 10,
});

type NumericKey = Exclude<keyof LoadBalanceParams, 'strategy'>;

interface NumberRule {
  integer: boolean;
  min: number;
  /** Inclusive upper bound; Infinity for none. */
  max: number;
  /** When true the value must be strictly greater than min. */
  minExclusive?: boolean;
}

const COUNT_FROM_0: NumberRule = { integer: true, min: 0, max: Infinity };
const COUNT_FROM_1: NumberRule = { integer: true, min: 1, max: Infinity };
const RATE: NumberRule = { integer: false, min: 0, max: 1 };
const SECONDS: NumberRule = { integer: false, min: 0, max: Infinity, minExclusive: true };

const NUMBER_RULES: Record<NumericKey, NumberRule> = {
  probe_num: COUNT_FROM_1,
  init_succ_cnt: COUNT_FROM_0,
  init_err_cnt: COUNT_FROM_0,
  err_rate: RATE,
  succ_rate: RATE,
  contin_err_limit: COUNT_FROM_1,
  contin_succ_limit: COUNT_FROM_1,
  window_err_rate: RATE,
  idle_timeout: SECONDS,
  overload_timeout: SECONDS,
  update_timeout: SECONDS,
  // More than 10k points per unit of weight buys no balance and costs memory.
  hash_vnodes: { integer: true, min: 1, max: 10_000 },
  hash_panic_threshold: RATE,
  inflight_timeout: SECONDS,
};

function describeRule(rule: NumberRule): string {
  if (rule.max !== Infinity) return `between ${rule.min} and ${rule.max}`;
  const kind = rule.integer ? 'an integer' : 'a number';
  return `${kind} ${rule.minExclusive ? '>' : '>='} ${rule.min}`;
}

/** Strings quoted (so an empty one shows), everything else as JS prints it (Infinity, true). */
function show(raw: unknown): string {
  return typeof raw === 'string' ? JSON.stringify(raw) : String(raw);
}

function fail(key: string, message: string): never {
  throw new Error(`[loadbalance] ${key} ${message}`);
}

/** Config files give strings; code gives numbers. Both are accepted, anything else is an error. */
function toNumber(key: string, raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '') {
    const value = Number(raw);
    if (!Number.isNaN(value)) return value;
  }
  return fail(key, `must be a number, got ${show(raw)}`);
}

function checkNumber(key: NumericKey, raw: unknown): number {
  const value = toNumber(key, raw);
  const rule = NUMBER_RULES[key];
  const inRange =
    Number.isFinite(value) &&
    (rule.minExclusive ? value > rule.min : value >= rule.min) &&
    value <= rule.max &&
    (!rule.integer || Number.isInteger(value));
  if (!inRange) {
    const integerNote = rule.integer && rule.max !== Infinity ? ' (integer)' : '';
    fail(key, `must be ${describeRule(rule)}${integerNote}, got ${show(raw)}`);
  }
  return value;
}

function checkStrategy(raw: unknown): StrategyName {
  const name = STRATEGY_NAMES.find((s) => s === raw);
  return name ?? fail('strategy', `must be one of ${STRATEGY_NAMES.join(', ')}, got ${show(raw)}`);
}

function isNumericKey(key: string): key is NumericKey {
  return Object.hasOwn(NUMBER_RULES, key);
}

/**
 * Fills the defaults in and checks every value. Throws an Error naming the
 * first bad key; unknown keys are errors too, since a misspelt key would
 * otherwise silently keep its default.
 */
export function validateLoadBalanceParams(input: Readonly<Record<string, unknown>> = {}): LoadBalanceParams {
  const params: LoadBalanceParams = { ...DEFAULT_LOADBALANCE_PARAMS };
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    if (key === 'strategy') params.strategy = checkStrategy(raw);
    else if (isNumericKey(key)) params[key] = checkNumber(key, raw);
    else fail(JSON.stringify(key), `is not a known key (known: ${Object.keys(DEFAULT_LOADBALANCE_PARAMS).join(', ')})`);
  }
  return params;
}
