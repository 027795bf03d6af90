import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer } from '../../src/balancer/factory.js';
import { LeastRequestBalancer } from '../../src/balancer/least-request.js';
import type { HostInput } from '../../src/balancer/types.js';
import { FakeClock, host, hosts, label, params } from './helpers.js';

const weighted = (...pairs: [number, number][]): HostInput[] => pairs.map(([n, weight]) => ({ ...host(n), weight }));

function tally(names: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** Fails a host until the Lars rules overload it (contin_err_limit consecutive failures). */
function overload(balancer: LeastRequestBalancer, n: number, now: number): void {
  for (let i = 0; i < params().contin_err_limit; i++) balancer.report(host(n), false, now);
  assert.ok(balancer.hosts().find((h) => h.port === host(n).port)!.overloaded);
}

describe('least request', () => {
  test('is chosen by strategy name; inflight_timeout must be positive', () => {
    assert.equal(createBalancer('least_request', params({ strategy: 'least_request' })).strategy, 'least_request');
    assert.throws(() => params({ inflight_timeout: 0 }), /\[loadbalance\] inflight_timeout: expected a number > 0, got 0/);
  });

  test('with every call reported before the next pick, it is round robin', () => {
    const b = new LeastRequestBalancer(params());
    b.setHosts(hosts(1, 2, 3), 0);
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const picked = b.pick(i);
      names.push(label(picked));
      b.report(picked.host!, true, i);
    }
    assert.deepEqual(names, ['h1', 'h2', 'h3', 'h1', 'h2', 'h3']);
  });

  test('a slow host (its calls still open) gets no new call while others have fewer in flight', () => {
    const b = new LeastRequestBalancer(params());
    b.setHosts(hosts(1, 2, 3), 0);
    const first = [b.pick(0), b.pick(0), b.pick(0)];
    assert.deepEqual(first.map(label), ['h1', 'h2', 'h3']);
    // h2 and h3 answer at once; h1 is slow and keeps its call open.
    b.report(host(2), true, 1);
    b.report(host(3), true, 1);
    const next: string[] = [];
    for (let i = 0; i < 10; i++) {
      const picked = b.pick(2);
      next.push(label(picked));
      b.report(picked.host!, true, 2);
    }
    assert.equal(next.includes('h1'), false, `h1 skipped: ${next.join(' ')}`);
    assert.deepEqual(tally(next), { h2: 5, h3: 5 });
    b.report(host(1), false, 3);
    assert.equal(label(b.pick(3)), 'h1', 'once h1 answers it is least loaded again (ties take turns)');
  });

  test('calls in flight are compared per unit of weight; weight 0 drains a host', () => {
    const b = new LeastRequestBalancer(params());
    b.setHosts(weighted([1, 2], [2, 1], [3, 0]), 0);
    const names = Array.from({ length: 30 }, () => label(b.pick(0)));
    assert.deepEqual(tally(names), { h1: 20, h2: 10 });
    assert.equal(b.hosts().length, 3);
  });

  test('calls never reported stop counting after inflight_timeout', () => {
    const clock = new FakeClock(0);
    const b = new LeastRequestBalancer(params({ inflight_timeout: 2 }));
    b.setHosts(hosts(1, 2), clock.now);
    for (let i = 0; i < 10; i++) b.pick(clock.now); // 5 each, none reported
    b.report(host(2), true, clock.now);
    b.report(host(2), true, clock.now);
    assert.deepEqual(tally(Array.from({ length: 2 }, () => label(b.pick(clock.now)))), { h2: 2 }, 'h2 has 3 in flight, h1 5');
    clock.advance(2000);
    const later: string[] = [];
    for (let i = 0; i < 4; i++) {
      const picked = b.pick(clock.now);
      later.push(label(picked));
      b.report(picked.host!, true, clock.now);
    }
    assert.deepEqual(tally(later), { h1: 2, h2: 2 }, 'the stale counts are gone: round robin again');
  });

  test('an overloaded host gets only probes (one request in probe_num + 1); all overloaded gives OVERLOAD between probes', () => {
    const b = new LeastRequestBalancer(params({ probe_num: 5 }));
    b.setHosts(hosts(1, 2), 0);
    overload(b, 2, 0);
    const sequence = Array.from({ length: 12 }, () => {
      const picked = b.pick(0);
      if (picked.host) b.report(picked.host, true, 0);
      return label(picked);
    });
    assert.deepEqual(sequence.map((name, i) => (name === 'h2' ? i + 1 : 0)).filter(Boolean), [6, 12]);
    const all = new LeastRequestBalancer(params({ probe_num: 5 }));
    all.setHosts(hosts(1, 2), 0);
    overload(all, 1, 0);
    overload(all, 2, 0);
    const answers = Array.from({ length: 12 }, () => label(all.pick(0)));
    assert.deepEqual(answers.filter((name) => name !== 'OVERLOAD'), ['h1', 'h2']);
  });

  test('no hosts is NOEXIST; a report for a host not in the route is ignored', () => {
    const b = new LeastRequestBalancer(params());
    assert.equal(label(b.pick(0)), 'NOEXIST');
    b.setHosts(hosts(1), 0);
    assert.equal(b.report(host(9), true, 0), 'unknown_host');
    assert.equal(label(b.pick(0)), 'h1');
  });
});
