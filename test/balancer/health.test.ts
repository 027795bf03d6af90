/**
 * Lars's rules (docs/balancer.md), rule by rule, on one host's state (HealthRules), with the
 * default parameters unless a test says otherwise.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthRules, type HealthState } from '../../src/balancer/health.js';
import type { LoadBalanceParams } from '../../src/balancer/params.js';
import type { HealthEvent } from '../../src/balancer/types.js';
import { FakeClock, params } from './helpers.js';

function setup(overrides: Partial<LoadBalanceParams> = {}) {
  const clock = new FakeClock();
  const rules = new HealthRules(params(overrides));
  const state = rules.newState(clock.now);
  /** Records `n` results, returning every event in order. */
  const record = (ok: boolean, n = 1): HealthEvent[] => Array.from({ length: n }, () => rules.record(state, ok, clock.now));
  const overloadNow = () => rules.becomeOverloaded(state, clock.now);
  return { clock, rules, state, record, overloadNow };
}

function counts(s: HealthState) {
  const { vsucc, verr, rsucc, rerr, continSucc, continErr } = s;
  return { vsucc, verr, rsucc, rerr, continSucc, continErr };
}

const IDLE_RESET = { vsucc: 180, verr: 0, rsucc: 0, rerr: 0, continSucc: 0, continErr: 0 };
const OVERLOAD_RESET = { vsucc: 0, verr: 5, rsucc: 0, rerr: 0, continSucc: 0, continErr: 0 };

describe('host state: counting', () => {
  test('a new host is idle with vsucc = init_succ_cnt, everything else 0, window starting now', () => {
    const { state, clock } = setup();
    assert.equal(state.overloaded, false);
    assert.deepEqual(counts(state), IDLE_RESET);
    assert.equal(state.since, clock.now);
  });

  test('success increments vsucc, rsucc, contin_succ and zeroes contin_err; failure is the mirror', () => {
    const { state, record } = setup();
    record(false, 2);
    assert.deepEqual(counts(state), { vsucc: 180, verr: 2, rsucc: 0, rerr: 2, continSucc: 0, continErr: 2 });
    record(true, 3);
    assert.deepEqual(counts(state), { vsucc: 183, verr: 2, rsucc: 3, rerr: 2, continSucc: 3, continErr: 0 });
    record(false);
    assert.deepEqual(counts(state), { vsucc: 183, verr: 3, rsucc: 3, rerr: 3, continSucc: 0, continErr: 1 });
  });
});

describe('host state: idle -> overload', () => {
  test('by err_rate: verr/(180+verr) > 0.1 first holds at the 21st failure (20/200 is not > 0.1)', () => {
    const { state, record, clock } = setup({ contin_err_limit: 1000 });
    assert.deepEqual(new Set(record(false, 20)), new Set(['none']));
    assert.equal(state.overloaded, false);
    assert.equal(state.verr, 20);
    clock.advance(7);
    assert.deepEqual(record(false), ['overload_err_rate']);
    assert.equal(state.overloaded, true);
    assert.deepEqual(counts(state), OVERLOAD_RESET);
    assert.equal(state.since, clock.now, 'overload start = now');
  });

  test('by err_rate with defaults, no 15 failures in a row: 14 fail, 1 success, then the 7th failure (21/202 > 0.1)', () => {
    const { state, record } = setup();
    record(false, 14);
    record(true);
    assert.deepEqual(new Set(record(false, 6)), new Set(['none']), '20/201 = 0.0995 is not > 0.1');
    assert.equal(state.continErr, 6);
    assert.deepEqual(record(false), ['overload_err_rate']);
    assert.equal(state.overloaded, true);
  });

  test('by contin_err_limit with defaults: 15 failures in a row, before err_rate (15/195 = 0.077)', () => {
    const { state, record } = setup();
    const events = record(false, 15);
    assert.deepEqual(events.slice(0, 14), Array(14).fill('none'));
    assert.equal(events[14], 'overload_contin_err');
    assert.equal(state.overloaded, true);
    assert.deepEqual(counts(state), OVERLOAD_RESET);
  });

  test('err_rate is checked before contin_err_limit when both hold', () => {
    const { record } = setup({ init_succ_cnt: 0, contin_err_limit: 1 });
    assert.deepEqual(record(false), ['overload_err_rate']);
  });

  test('successes never overload an idle host by the rate rules', () => {
    const { state, record } = setup({ init_succ_cnt: 0, err_rate: 0 });
    record(true, 50);
    assert.equal(state.overloaded, false);
  });
});

describe('host state: overload -> idle', () => {
  test('by succ_rate: from vsucc 0 / verr 5, the 6th success makes 6/11 > 0.5 (5/10 is not)', () => {
    const { state, record, overloadNow, clock } = setup();
    overloadNow();
    assert.deepEqual(record(true, 5), Array(5).fill('none'));
    assert.equal(state.overloaded, true);
    clock.advance(3);
    assert.deepEqual(record(true), ['idle_succ_rate']);
    assert.equal(state.overloaded, false);
    assert.deepEqual(counts(state), IDLE_RESET);
    assert.equal(state.since, clock.now, 'window start = now');
  });

  test('by contin_succ_limit: after 20 failures (verr 25), the 15th success in a row recovers at 15/40', () => {
    const { state, record, overloadNow } = setup();
    overloadNow();
    assert.deepEqual(new Set(record(false, 20)), new Set(['none']), 'failures never move an overloaded host by the rate rules');
    assert.deepEqual(record(true, 14), Array(14).fill('none'));
    assert.deepEqual(record(true), ['idle_contin_succ']);
    assert.deepEqual(counts(state), IDLE_RESET);
  });

  test('succ_rate is checked before contin_succ_limit when both hold', () => {
    const { record, overloadNow } = setup({ init_err_cnt: 0, contin_succ_limit: 1 });
    overloadNow();
    assert.deepEqual(record(true), ['idle_succ_rate']);
  });
});

describe('host state: windows', () => {
  test('idle window: at idle_timeout with rerr/(rsucc+rerr) >= window_err_rate (7/10, exactly 0.7) -> overload', () => {
    const { state, record, clock } = setup();
    // 2 successes, 6 failures, interleaved so neither err_rate nor contin_err_limit fires.
    for (const ok of [true, false, false, true, false, false, false, false]) record(ok);
    clock.advance(14_999);
    assert.deepEqual(record(true), ['none'], 'window not yet idle_timeout old');
    clock.advance(1);
    assert.deepEqual(record(false), ['overload_window'], 'rerr 7 / 10 real calls; 7/190 < err_rate; 1 failure in a row');
    assert.equal(state.overloaded, true);
    assert.deepEqual(counts(state), OVERLOAD_RESET);
    assert.equal(state.since, clock.now);
  });

  test('idle window below window_err_rate (6/10): the window restarts with every count reset', () => {
    const { state, record, clock } = setup();
    for (const ok of [true, false, false, true, false, false, true, false, false]) record(ok);
    const windowStart = state.since;
    clock.advance(15_000);
    assert.deepEqual(record(true), ['window_restart'], '6 errors of 10 = 0.6 < 0.7');
    assert.equal(state.overloaded, false);
    assert.deepEqual(counts(state), IDLE_RESET, 'the reporting call is not carried into the new window');
    assert.equal(state.since, windowStart + 15_000);
    clock.advance(14_999);
    assert.deepEqual(record(false), ['none'], 'the new window runs from the restart');
  });

  test('the window check runs after the rate checks: a failure that trips err_rate at window end is reported as err_rate', () => {
    const { record, clock } = setup({ contin_err_limit: 1000 });
    record(false, 20);
    clock.advance(15_000);
    assert.deepEqual(record(false), ['overload_err_rate']);
  });

  test('a failure at window end that trips no rate rule falls through to the window rule', () => {
    const { record, clock } = setup();
    record(false, 10);
    clock.advance(15_000);
    assert.deepEqual(record(false), ['overload_window'], '11/11 real errors >= 0.7, but 11/191 < 0.1 and 11 < 15 in a row');
  });

  test('overload_timeout: the first report (even a failure) at overload start + overload_timeout returns the host to idle', () => {
    const { state, record, overloadNow, clock } = setup();
    overloadNow();
    const start = clock.now;
    clock.advance(14_999);
    assert.deepEqual(record(false), ['none']);
    assert.equal(state.overloaded, true);
    clock.advance(1);
    assert.deepEqual(record(false), ['idle_overload_timeout']);
    assert.equal(state.overloaded, false);
    assert.deepEqual(counts(state), IDLE_RESET);
    assert.equal(state.since, start + 15_000);
  });

  test('overload_timeout is checked after the rate rules: a recovering success is reported as succ_rate', () => {
    const { record, overloadNow, clock } = setup();
    overloadNow();
    record(true, 5);
    clock.advance(20_000);
    assert.deepEqual(record(true), ['idle_succ_rate']);
  });

  test('timeouts may be fractions of a second', () => {
    const { state, record, overloadNow, clock } = setup({ overload_timeout: 0.25 });
    overloadNow();
    clock.advance(249);
    record(false);
    assert.equal(state.overloaded, true);
    clock.advance(1);
    assert.deepEqual(record(false), ['idle_overload_timeout']);
  });
});
