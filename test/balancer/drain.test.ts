/**
 * Weight 0 drains a host, in every strategy (docs/balancer.md): no new calls,
 * probes included, while it stays in the route with its state; reports for
 * calls it already had still count. A route whose hosts are all drained
 * answers NOEXIST.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer } from '../../src/balancer/factory.js';
import { STRATEGY_NAMES, type HostInput, type RouteBalancer } from '../../src/balancer/types.js';
import { host, label, params } from './helpers.js';

const weighted = (...pairs: [number, number][]): HostInput[] => pairs.map(([n, weight]) => ({ ...host(n), weight }));
const view = (lb: RouteBalancer, n: number) => lb.hosts().find((h) => h.port === host(n).port);

/** Names of `count` picks at `now`, with a different affinity key each (the ring spreads them; the others ignore keys). */
function picks(lb: RouteBalancer, count: number, now = 0): string[] {
  return Array.from({ length: count }, (_, i) => label(lb.pick(now, `key-${i}`)));
}

/** Late enough for every strategy's probe: the adaptive one probes by time (probe_interval_max, 30 s). */
const PROBE_DUE_MS = 31_000;

/** Fails a host until its strategy takes it out (Lars's rules overload it, adaptive ejects it). */
function overload(lb: RouteBalancer, n: number): void {
  for (let i = 0; i < params().contin_err_limit; i++) lb.report(host(n), false, 0);
  assert.equal(view(lb, n)?.overloaded, true);
}

for (const strategy of STRATEGY_NAMES) {
  describe(`weight 0 drains a host: ${strategy}`, () => {
    const balancer = () => createBalancer(strategy, params({ strategy, probe_num: 2 }));

    test('a drained host gets no call; it stays in the route, and reports for it still count', () => {
      const lb = balancer();
      lb.setHosts(weighted([1, 1], [2, 0], [3, 1]), 0);
      assert.deepEqual(new Set(picks(lb, 200)), new Set(['h1', 'h3']));
      assert.deepEqual(lb.hosts().map((h) => [h.port - 9000, h.weight]), [[1, 1], [2, 0], [3, 1]]);
      assert.equal(lb.report(host(2), true, 0), 'none');
      assert.ok(lb.takeStats().some((s) => s.port === host(2).port && s.succ === 1));
    });

    test('an overloaded drained host is never probed', () => {
      const lb = balancer();
      lb.setHosts(weighted([1, 1], [2, 1]), 0);
      overload(lb, 2);
      assert.ok(picks(lb, 20, PROBE_DUE_MS).includes('h2'), 'probed while it takes calls');
      lb.setHosts(weighted([1, 1], [2, 0]), 0);
      assert.deepEqual(new Set(picks(lb, 200, 2 * PROBE_DUE_MS)), new Set(['h1']));
    });

    test('draining and restoring a host keeps its state; restored, it takes calls again', () => {
      const lb = balancer();
      lb.setHosts(weighted([1, 1], [2, 1]), 0);
      lb.report(host(2), true, 0);
      const before = view(lb, 2)!;
      lb.setHosts(weighted([1, 1], [2, 0]), 0);
      lb.setHosts(weighted([1, 1], [2, 1]), 0);
      assert.deepEqual({ ...view(lb, 2)! }, { ...before });
      assert.ok(picks(lb, 50).includes('h2'));
    });

    test('with every host drained the route answers NOEXIST', () => {
      const lb = balancer();
      lb.setHosts(weighted([1, 0], [2, 0]), 0);
      assert.deepEqual(new Set(picks(lb, 20)), new Set(['NOEXIST']));
      assert.equal(lb.isEmpty(), false);
      lb.setHosts(weighted([1, 0], [2, 3]), 0);
      assert.deepEqual(new Set(picks(lb, 20)), new Set(['h2']));
    });
  });
}
