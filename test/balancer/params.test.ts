import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOADBALANCE_PARAMS, LoadBalanceParamsError, validateLoadBalanceParams } from '../../src/balancer/params.js';

describe('[loadbalance] params', () => {
  test('defaults are Lars defaults, timeouts in seconds', () => {
    assert.deepEqual(validateLoadBalanceParams(), {
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
      eject_consecutive: 3,
      eject_base: 30,
      eject_max: 300,
      max_ejected_percent: 20,
      probe_interval: 2,
      probe_share: 0.00025,
      probe_interval_max: 30,
      slow_start: 2,
      decay_time: 10,
    });
    assert.ok(Object.isFrozen(DEFAULT_LOADBALANCE_PARAMS));
  });

  test('overrides apply; strings from a config file are parsed; undefined keeps the default', () => {
    const p = validateLoadBalanceParams({ probe_num: '20', err_rate: ' 0.25 ', idle_timeout: 0.5, succ_rate: undefined, strategy: 'consistent_hash' });
    assert.equal(p.probe_num, 20);
    assert.equal(p.err_rate, 0.25);
    assert.equal(p.idle_timeout, 0.5);
    assert.equal(p.succ_rate, 0.5);
    assert.equal(p.strategy, 'consistent_hash');
  });

  test('range boundaries are accepted', () => {
    const p = validateLoadBalanceParams({ err_rate: 0, succ_rate: 1, probe_num: 1, init_succ_cnt: 0, init_err_cnt: 0, hash_vnodes: 10_000 });
    assert.equal(p.err_rate, 0);
    assert.equal(p.succ_rate, 1);
    assert.equal(p.probe_num, 1);
  });

  const bad: Array<[Record<string, unknown>, string]> = [
    [{ err_rate: 2 }, '[loadbalance] err_rate: expected a number between 0 and 1, got 2'],
    [{ window_err_rate: -0.1 }, '[loadbalance] window_err_rate: expected a number between 0 and 1, got -0.1'],
    [{ probe_num: 0 }, '[loadbalance] probe_num: expected an integer >= 1, got 0'],
    [{ probe_num: 1.5 }, '[loadbalance] probe_num: expected an integer >= 1, got 1.5'],
    [{ init_succ_cnt: -1 }, '[loadbalance] init_succ_cnt: expected an integer >= 0, got -1'],
    [{ contin_err_limit: '0' }, '[loadbalance] contin_err_limit: expected an integer >= 1, got "0"'],
    [{ idle_timeout: 0 }, '[loadbalance] idle_timeout: expected a number > 0, got 0'],
    [{ overload_timeout: Infinity }, '[loadbalance] overload_timeout: expected a number > 0, got Infinity'],
    [{ update_timeout: 'soon' }, '[loadbalance] update_timeout: expected a number > 0, got "soon"'],
    [{ succ_rate: '' }, '[loadbalance] succ_rate: expected a number between 0 and 1, got ""'],
    [{ err_rate: true }, '[loadbalance] err_rate: expected a number between 0 and 1, got true'],
    [{ hash_vnodes: 0 }, '[loadbalance] hash_vnodes: expected an integer between 1 and 10000, got 0'],
    [{ strategy: 'random' }, '[loadbalance] strategy: expected one of lars, consistent_hash, weighted_round_robin, least_request, adaptive, least_load, got "random"'],
  ];
  for (const [input, message] of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => validateLoadBalanceParams(input), (err) => err instanceof LoadBalanceParamsError && err.message === message && err.problems.length === 1);
    });
  }

  test('every bad key is named at once, each in its own problem line', () => {
    assert.throws(
      () => validateLoadBalanceParams({ probe_num: 0, err_rate: 2 }),
      (err) => err instanceof LoadBalanceParamsError && err.problems.length === 2 && err.problems[1] === '[loadbalance] err_rate: expected a number between 0 and 1, got 2',
    );
  });

  test('a misspelt key is an error, not a silent default', () => {
    assert.throws(() => validateLoadBalanceParams({ err_rat: 0.2 }), /^LoadBalanceParamsError: \[loadbalance\] err_rat: unknown key; known keys: probe_num, /);
  });
});
