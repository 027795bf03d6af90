import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer } from '../../src/balancer/factory.js';
import { WeightedRoundRobinBalancer } from '../../src/balancer/weighted-round-robin.js';
import type { HostInput } from '../../src/balancer/types.js';
import { FakeClock, host, label, params } from './helpers.js';

const weighted = (...pairs: [number, number][]): HostInput[] => pairs.map(([n, weight]) => ({ ...host(n), weight }));

function picks(balancer: WeightedRoundRobinBalancer, count: number, now = 0): string[] {
  return Array.from({ length: count }, () => label(balancer.pick(now)));
}

/** Fails a host until the Lars rules overload it (contin_err_limit consecutive failures). */
function overload(balancer: WeightedRoundRobinBalancer, n: number, clock: FakeClock): void {
  for (let i = 0; i < params().contin_err_limit; i++) balancer.report(host(n), false, clock.now);
  assert.ok(balancer.hosts().find((h) => h.port === host(n).port)!.overloaded);
}

describe('weighted round robin', () => {
  test('is chosen by strategy name', () => {
    assert.equal(createBalancer('weighted_round_robin', params({ strategy: 'weighted_round_robin' })).strategy, 'weighted_round_robin');
  });

  test('interleaves smoothly: weights 5:1:1 give h1 h1 h2 h1 h3 h1 h1, then repeat', () => {
    const b = new WeightedRoundRobinBalancer(params());
    b.setHosts(weighted([1, 5], [2, 1], [3, 1]), 0);
    const cycle = ['h1', 'h1', 'h2', 'h1', 'h3', 'h1', 'h1'];
    assert.deepEqual(picks(b, 14), [...cycle, ...cycle]);
  });

  test('shares traffic in proportion to weight', () => {
    const b = new WeightedRoundRobinBalancer(params());
    b.setHosts(weighted([1, 3], [2, 1]), 0);
    const counts = new Map<string, number>();
    for (const name of picks(b, 400)) counts.set(name, (counts.get(name) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), { h1: 300, h2: 100 });
  });

  test('weight 0 drains a host without removing it; no host at all, or only drained ones, is NOEXIST', () => {
    const b = new WeightedRoundRobinBalancer(params());
    assert.equal(label(b.pick(0)), 'NOEXIST');
    b.setHosts(weighted([1, 1], [2, 0]), 0);
    assert.deepEqual(new Set(picks(b, 10)), new Set(['h1']));
    assert.equal(b.hosts().length, 2);
    b.setHosts(weighted([1, 0], [2, 0]), 0);
    assert.equal(label(b.pick(0)), 'NOEXIST');
  });

  test('an overloaded host gets only one request in probe_num + 1, as in Lars', () => {
    const clock = new FakeClock();
    const b = new WeightedRoundRobinBalancer(params({ probe_num: 10 }));
    b.setHosts(weighted([1, 1], [2, 1]), clock.now);
    overload(b, 2, clock);
    const sequence = picks(b, 33, clock.now);
    assert.deepEqual(
      sequence.map((name, i) => (name === 'h2' ? i + 1 : 0)).filter(Boolean),
      [11, 22, 33],
      'requests 11, 22 and 33 probe h2',
    );
  });

  test('with every host overloaded, probes take turns and the rest get OVERLOAD', () => {
    const clock = new FakeClock();
    const b = new WeightedRoundRobinBalancer(params({ probe_num: 5 }));
    b.setHosts(weighted([1, 1], [2, 1]), clock.now);
    overload(b, 1, clock);
    overload(b, 2, clock);
    const sequence = picks(b, 24, clock.now);
    assert.deepEqual(
      sequence.filter((name) => name !== 'OVERLOAD'),
      ['h1', 'h2', 'h1', 'h2'],
    );
    assert.equal(sequence.filter((name) => name === 'OVERLOAD').length, 20);
  });

  test('a recovered host rejoins the rotation; a reweighted set starts a fresh cycle', () => {
    const clock = new FakeClock();
    const b = new WeightedRoundRobinBalancer(params());
    b.setHosts(weighted([1, 1], [2, 1]), clock.now);
    overload(b, 2, clock);
    clock.advance(params().overload_timeout * 1000);
    assert.equal(b.report(host(2), true, clock.now), 'idle_overload_timeout');
    assert.deepEqual(new Set(picks(b, 4, clock.now)), new Set(['h1', 'h2']));
    b.setHosts(weighted([1, 2], [2, 1]), clock.now);
    assert.deepEqual(picks(b, 3, clock.now), ['h1', 'h2', 'h1']);
  });
});
