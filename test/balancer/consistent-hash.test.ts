import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsistentHashBalancer } from '../../src/balancer/consistent-hash.js';
import { createBalancer } from '../../src/balancer/factory.js';
import type { LoadBalanceParams } from '../../src/balancer/params.js';
import type { HostAddr, HostInput } from '../../src/balancer/types.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { host, hosts, label, params, UNTIMED } from './helpers.js';

const KEYS = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
const TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

function ring(inputs: HostInput[], overrides: Partial<LoadBalanceParams> = {}): ConsistentHashBalancer {
  const lb = new ConsistentHashBalancer(params({ strategy: 'consistent_hash', ...overrides }));
  lb.setHosts(inputs, 0);
  return lb;
}

/** key -> host label for every key. */
function assignment(lb: ConsistentHashBalancer, keys: readonly (string | number)[] = KEYS): Map<string | number, string> {
  return new Map(keys.map((k) => [k, label(lb.pick(0, k))]));
}

function tally(labels: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts;
}

function overload(lb: ConsistentHashBalancer, addr: HostAddr): void {
  for (let i = 0; i < 15; i++) lb.report(addr, false, 0);
}

describe('consistent hash: placement', () => {
  test('the factory builds it; an empty ring answers NOEXIST', () => {
    const lb = createBalancer('consistent_hash', params());
    assert.equal(lb.strategy, 'consistent_hash');
    assert.equal(lb.isEmpty(), true);
    assert.equal(lb.pick(0, 'k').retcode, RetCode.NOEXIST);
  });

  test('a key always goes to the same host, and every agent agrees whatever order dns lists the hosts in', () => {
    const a = ring(hosts(...TEN));
    const b = ring(hosts(...[...TEN].reverse()));
    const first = assignment(a);
    assert.deepEqual(assignment(a), first);
    assert.deepEqual(assignment(b), first);
  });

  test('keys spread evenly: every one of 10 hosts gets within 20% of a tenth', () => {
    const counts = tally(assignment(ring(hosts(...TEN))).values());
    assert.equal(counts.size, 10);
    for (const [name, n] of counts) assert.ok(Math.abs(n / 2000 - 1) < 0.2, `${name} got ${n} of 20000`);
  });

  test('integer keys hash without strings and spread as well', () => {
    const numbers = Array.from({ length: 20_000 }, (_, i) => i * 7919);
    const counts = tally(assignment(ring(hosts(...TEN)), numbers).values());
    for (const [name, n] of counts) assert.ok(Math.abs(n / 2000 - 1) < 0.2, `${name} got ${n}`);
    const lb = ring(hosts(...TEN));
    assert.equal(label(lb.pick(0, 2 ** 40 + 3)), label(lb.pick(0, 2 ** 40 + 3)));
  });

  test('requests without a key spread over all hosts', () => {
    const lb = ring(hosts(...TEN));
    const counts = tally(Array.from({ length: 20_000 }, () => label(lb.pick(0))));
    for (const [name, n] of counts) assert.ok(Math.abs(n / 2000 - 1) < 0.2, `${name} got ${n}`);
  });

  test('adding 1 host to 10 moves about 1/11 of the keys, all of them to the new host', () => {
    const before = assignment(ring(hosts(...TEN)));
    const after = assignment(ring(hosts(...TEN, 11)));
    const moved = KEYS.filter((k) => before.get(k) !== after.get(k));
    const fraction = moved.length / KEYS.length;
    assert.ok(fraction > 0.06 && fraction < 0.12, `moved ${(fraction * 100).toFixed(1)}% (1/11 = 9.1%)`);
    assert.ok(moved.every((k) => after.get(k) === 'h11'));
  });

  test('removing a host moves only its own keys', () => {
    const lb = ring(hosts(...TEN));
    const before = assignment(lb);
    lb.setHosts(hosts(1, 2, 3, 4, 5, 6, 7, 8, 9), 0);
    const after = assignment(lb);
    for (const k of KEYS) if (before.get(k) !== 'h10') assert.equal(after.get(k), before.get(k));
    assert.ok(![...after.values()].includes('h10'));
  });

  test('weights: a weight-3 host owns 3x the points and about 3x the keys; weight 0 drains a host', () => {
    const lb = ring([{ ...host(1), weight: 3 }, host(2), host(3), { ...host(4), weight: 0 }]);
    const points = new Map(lb.ringPoints().map((p) => [p.port, p.points]));
    assert.deepEqual([points.get(host(1).port), points.get(host(2).port), points.get(host(4).port)], [300, 100, undefined]);
    const counts = tally(assignment(lb).values());
    const ratio = counts.get('h1')! / ((counts.get('h2')! + counts.get('h3')!) / 2);
    assert.ok(ratio > 2.4 && ratio < 3.6, `weight-3 host got ${ratio.toFixed(2)}x`);
    assert.equal(counts.get('h4'), undefined);
  });

  test('a weight change rebuilds the ring but keeps the host state', () => {
    const lb = ring(hosts(1, 2));
    overload(lb, host(1));
    lb.setHosts([{ ...host(1), weight: 2 }, host(2)], 0);
    assert.equal(lb.ringPoints().find((p) => p.port === host(1).port)?.points, 200);
    assert.equal(lb.hosts().find((h) => h.port === host(1).port)?.overloaded, true);
  });
});

describe('consistent hash: health (Lars rules per host)', () => {
  test("an overloaded host's keys go to the next healthy host clockwise; other keys stay; one in 11 is a probe", () => {
    const lb = ring(hosts(...TEN));
    const before = assignment(lb);
    overload(lb, host(3));
    const ownKeys = KEYS.filter((k) => before.get(k) === 'h3');
    const after = ownKeys.map((k) => label(lb.pick(0, k)));
    after.forEach((name, i) => assert.equal(name === 'h3', (i + 1) % 11 === 0, `request ${i + 1} for a key of h3 got ${name}`));
    for (const k of KEYS) if (before.get(k) !== 'h3') assert.equal(label(lb.pick(0, k)), before.get(k));
    const again = ownKeys.map((k) => label(lb.pick(0, k)));
    const bothFellBack = ownKeys.map((_, i) => i).filter((i) => after[i] !== 'h3' && again[i] !== 'h3');
    assert.ok(bothFellBack.length > ownKeys.length * 0.7);
    for (const i of bothFellBack) assert.equal(again[i], after[i], `the fallback host of ${ownKeys[i]} is stable`);
  });

  test('a recovered host gets its keys back', () => {
    const lb = ring(hosts(...TEN));
    const before = assignment(lb);
    overload(lb, host(3));
    for (let i = 0; i < 6; i++) lb.report(host(3), true, 0);
    assert.deepEqual(assignment(lb), before);
  });

  test('panic: below hash_panic_threshold healthy hosts, keys go to their owners regardless of health', () => {
    const lb = ring(hosts(1, 2, 3, 4));
    const before = assignment(lb);
    overload(lb, host(1));
    overload(lb, host(2));
    const ofOverloaded = KEYS.filter((k) => before.get(k) === 'h1' || before.get(k) === 'h2').length;
    const toOverloaded = [...assignment(lb).values()].filter((n) => n === 'h1' || n === 'h2').length;
    assert.equal(toOverloaded, Math.floor(ofOverloaded / 11), '2 of 4 healthy is not below 0.5: only probes reach h1, h2');
    overload(lb, host(3));
    assert.deepEqual(assignment(lb), before, '1 of 4 healthy < 0.5: panic');
  });

  test('without panic, every host overloaded: OVERLOAD except one request in probe_num + 1', () => {
    const lb = ring(hosts(1, 2), { hash_panic_threshold: 0, probe_num: 5 });
    overload(lb, host(1));
    overload(lb, host(2));
    const results = Array.from({ length: 24 }, (_, i) => lb.pick(0, `k${i}`).retcode);
    results.forEach((code, i) => assert.equal(code, (i + 1) % 6 === 0 ? RetCode.SUCC : RetCode.OVERLOAD));
  });

  test('reports for unknown hosts are ignored; stats are per host since the last take', () => {
    const lb = ring(hosts(1, 2));
    assert.equal(lb.report(host(7), true, 0), 'unknown_host');
    lb.report(host(1), true, 0);
    lb.report(host(1), false, 0);
    assert.deepEqual(lb.takeStats(), [{ ...host(1), succ: 1, err: 1, overload: false, ...UNTIMED }]);
    assert.deepEqual(lb.takeStats(), []);
  });
});
