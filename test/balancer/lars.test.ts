import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LarsBalancer } from '../../src/balancer/lars.js';
import type { LoadBalanceParams } from '../../src/balancer/params.js';
import type { HostAddr } from '../../src/balancer/types.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { FakeClock, host, hosts, label, nameOf, params, UNTIMED } from './helpers.js';

function setup(ns: number[], overrides: Partial<LoadBalanceParams> = {}) {
  const clock = new FakeClock();
  const lb = new LarsBalancer(params(overrides));
  lb.setHosts(hosts(...ns), clock.now);
  const picks = (n: number): string[] => Array.from({ length: n }, () => label(lb.pick(clock.now)));
  const fail = (addr: HostAddr, n = 1) => Array.from({ length: n }, () => lb.report(addr, false, clock.now)).at(-1);
  const succeed = (addr: HostAddr, n = 1) => Array.from({ length: n }, () => lb.report(addr, true, clock.now)).at(-1);
  const order = () => {
    const { idle, overload } = lb.listOrder();
    return { idle: idle.map(nameOf), overload: overload.map(nameOf) };
  };
  return { clock, lb, picks, fail, succeed, order };
}

const view = (lb: LarsBalancer, addr: HostAddr) => lb.hosts().find((h) => h.ip === addr.ip && h.port === addr.port);

describe('lars: picking', () => {
  test('an empty route answers NOEXIST', () => {
    const { lb, picks } = setup([]);
    assert.equal(lb.isEmpty(), true);
    assert.deepEqual(picks(2), ['NOEXIST', 'NOEXIST']);
  });

  test('new hosts start idle with vsucc = init_succ_cnt, verr 0', () => {
    const { lb, clock } = setup([1, 2]);
    assert.equal(lb.isEmpty(), false);
    for (const h of lb.hosts()) {
      assert.deepEqual(
        { overloaded: h.overloaded, vsucc: h.vsucc, verr: h.verr, rsucc: h.rsucc, rerr: h.rerr, since: h.stateSince },
        { overloaded: false, vsucc: 180, verr: 0, rsucc: 0, rerr: 0, since: clock.now },
      );
    }
  });

  test('round robin: the head is taken and moved to the tail', () => {
    const { picks, order } = setup([1, 2, 3]);
    assert.deepEqual(order().idle, ['h1', 'h2', 'h3']);
    assert.deepEqual(picks(7), ['h1', 'h2', 'h3', 'h1', 'h2', 'h3', 'h1']);
    assert.deepEqual(order().idle, ['h2', 'h3', 'h1']);
  });

  test('a pick returns the same frozen result object for a host (no allocation per pick)', () => {
    const { lb } = setup([1]);
    const first = lb.pick(0);
    assert.equal(lb.pick(0), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.host));
    assert.deepEqual(first, { retcode: RetCode.SUCC, host: host(1) });
  });

  test('with idle and overloaded hosts, probe_num idle picks come between two probes: requests 11, 22, 33 probe (Lars\'s C++ count)', () => {
    const { picks, fail, order } = setup([1, 2, 3]);
    assert.equal(fail(host(1), 15), 'overload_contin_err');
    assert.deepEqual(order(), { idle: ['h2', 'h3'], overload: ['h1'] });
    const got = picks(33);
    got.forEach((name, i) => assert.equal(name === 'h1', (i + 1) % 11 === 0, `request ${i + 1} got ${name}`));
    assert.deepEqual(got.slice(0, 11), ['h2', 'h3', 'h2', 'h3', 'h2', 'h3', 'h2', 'h3', 'h2', 'h3', 'h1']);
  });

  test('probes go round robin through the overload list', () => {
    const { picks, fail } = setup([1, 2, 3, 4]);
    fail(host(1), 15);
    fail(host(2), 15);
    const probes = picks(44).filter((_, i) => (i + 1) % 11 === 0);
    assert.deepEqual(probes, ['h1', 'h2', 'h1', 'h2']);
  });

  test('every host overloaded: one request in probe_num + 1 gets an overloaded host, the others OVERLOAD', () => {
    const { picks, fail } = setup([1, 2], { probe_num: 4 });
    fail(host(1), 15);
    fail(host(2), 15);
    const O = 'OVERLOAD';
    assert.deepEqual(picks(15), [O, O, O, O, 'h1', O, O, O, O, 'h2', O, O, O, O, 'h1']);
  });

  test('probe_num 1: every other request goes to an overloaded host while there is one', () => {
    const { picks, fail } = setup([1, 2], { probe_num: 1 });
    fail(host(1), 15);
    assert.deepEqual(picks(4), ['h2', 'h1', 'h2', 'h1']);
  });

  test('the probe counter counts only while some host is overloaded and is kept when none is', () => {
    const { picks, fail, succeed } = setup([1, 2, 3]);
    fail(host(1), 15);
    assert.ok(!picks(7).includes('h1'), '7 requests counted');
    assert.equal(succeed(host(1), 6), 'idle_succ_rate');
    picks(25); // nothing overloaded: not counted
    fail(host(1), 15);
    assert.deepEqual(picks(4), ['h2', 'h3', 'h2', 'h1'], 'the 8th to 10th counted requests go idle, the 11th probes');
  });
});

describe('lars: transitions move hosts between the lists', () => {
  test('an overloaded host joins the tail of the overload list; a recovered one the tail of the idle list', () => {
    const { fail, succeed, order } = setup([1, 2, 3]);
    fail(host(2), 15);
    fail(host(1), 15);
    assert.deepEqual(order(), { idle: ['h3'], overload: ['h2', 'h1'] });
    assert.equal(succeed(host(2), 6), 'idle_succ_rate');
    assert.deepEqual(order(), { idle: ['h3', 'h2'], overload: ['h1'] });
  });

  test('overload_timeout: the first report after it moves the host back to idle even if the call failed', () => {
    const { clock, fail, order, lb } = setup([1, 2]);
    fail(host(1), 15);
    clock.advance(14_999);
    assert.equal(fail(host(1)), 'none');
    clock.advance(1);
    assert.equal(fail(host(1)), 'idle_overload_timeout');
    assert.deepEqual(order(), { idle: ['h2', 'h1'], overload: [] });
    assert.equal(view(lb, host(1))?.vsucc, 180);
  });

  test('idle window: overload when the window error rate is reached, else a restart that keeps the list', () => {
    const { clock, fail, succeed, order } = setup([1, 2]);
    for (let i = 0; i < 3; i++) {
      fail(host(1), 3);
      succeed(host(1));
    }
    clock.advance(15_000);
    assert.equal(succeed(host(2)), 'window_restart', 'h2: 0 errors of 1 call');
    assert.equal(fail(host(1)), 'overload_window', 'h1: 10 errors of 13 calls >= 0.7; 10/193 < err_rate; 1 in a row');
    assert.deepEqual(order(), { idle: ['h2'], overload: ['h1'] });
  });

  test('a report for a host not in the route is ignored', () => {
    const { lb, order } = setup([1, 2]);
    const before = lb.hosts();
    assert.equal(lb.report(host(9), false, 0), 'unknown_host');
    assert.equal(lb.report({ ip: host(1).ip, port: 70_000 }, false, 0), 'unknown_host', 'an invalid port cannot alias another host');
    assert.deepEqual(lb.hosts(), before);
    assert.deepEqual(order(), { idle: ['h1', 'h2'], overload: [] });
    assert.deepEqual(lb.takeStats(), []);
  });
});

describe('lars: host set updates', () => {
  test('new hosts join idle at the tail, vanished ones leave either list, existing ones keep their state', () => {
    const { lb, clock, fail, order } = setup([1, 2, 3]);
    fail(host(2), 15);
    fail(host(3), 3);
    clock.advance(500);
    const changes = lb.setHosts(hosts(3, 2, 4), clock.now);
    assert.deepEqual(changes, { added: 1, removed: 1, kept: 2, rejected: [] });
    assert.deepEqual(order(), { idle: ['h3', 'h4'], overload: ['h2'] });
    assert.equal(view(lb, host(3))?.continErr, 3, 'h3 kept its counts');
    assert.equal(view(lb, host(2))?.overloaded, true, 'h2 kept its state');
    assert.equal(view(lb, host(4))?.stateSince, clock.now, 'h4 starts its window now');
    lb.setHosts(hosts(3, 4), clock.now);
    assert.deepEqual(order(), { idle: ['h3', 'h4'], overload: [] });
    lb.setHosts(hosts(2, 3, 4), clock.now);
    assert.equal(view(lb, host(2))?.overloaded, false, 'a host that comes back starts afresh');
  });

  test('removing the only overloaded host stops the probes', () => {
    const { lb, fail, picks } = setup([1, 2]);
    fail(host(1), 15);
    lb.setHosts(hosts(2), 0);
    assert.deepEqual(new Set(picks(20)), new Set(['h2']));
  });

  test('invalid and duplicate entries are rejected and skipped; the rest applies', () => {
    const { lb, order } = setup([]);
    const changes = lb.setHosts(
      [host(1), { ip: 1.5, port: 80 }, { ip: 1, port: 0 }, { ip: 1, port: 80, weight: -1 }, { ...host(1), weight: 3 }, host(2)],
      0,
    );
    assert.equal(changes.added, 2);
    assert.deepEqual(
      changes.rejected.map((r) => r.reason),
      ['ip is not a 32-bit integer', 'port is not an integer in 1..65535', 'weight is not a finite number >= 0', 'duplicate ip:port'],
    );
    assert.deepEqual(order().idle, ['h1', 'h2']);
  });

  test('ips are the wire int32: an unsigned input names the same host and comes back signed', () => {
    const { lb } = setup([]);
    const high = host(201); // 200.1.0.1
    assert.ok(high.ip < 0);
    lb.setHosts([{ ip: high.ip >>> 0, port: high.port }], 0);
    assert.deepEqual(lb.pick(0).host, high);
    assert.equal(lb.report(high, false, 0), 'none');
    assert.equal(lb.report({ ip: high.ip >>> 0, port: high.port }, false, 0), 'none');
    assert.equal(view(lb, high)?.verr, 2);
  });

  test('weights are kept in the view but Lars ignores them when picking', () => {
    const { lb, picks } = setup([]);
    lb.setHosts([{ ...host(1), weight: 5 }, host(2)], 0);
    assert.equal(view(lb, host(1))?.weight, 5);
    assert.deepEqual(picks(4), ['h1', 'h2', 'h1', 'h2']);
  });
});

describe('lars: statistics for the reporter', () => {
  test('takeStats returns counts since the previous take, with the overload flag, and resets them', () => {
    const { lb, fail, succeed } = setup([1, 2, 3]);
    succeed(host(1), 4);
    fail(host(1));
    fail(host(2), 15);
    const stats = lb.takeStats().sort((a, b) => a.port - b.port);
    assert.deepEqual(stats, [
      { ...host(1), succ: 4, err: 1, overload: false, ...UNTIMED },
      { ...host(2), succ: 0, err: 15, overload: true, ...UNTIMED },
    ]);
    assert.deepEqual(lb.takeStats(), [], 'nothing new');
    succeed(host(3));
    assert.deepEqual(lb.takeStats(), [{ ...host(3), succ: 1, err: 0, overload: false, ...UNTIMED }]);
  });

  test('a removed host has its last counts delivered once by the next take', () => {
    const { lb, fail } = setup([1, 2]);
    fail(host(1), 2);
    lb.setHosts(hosts(2), 0);
    assert.deepEqual(lb.takeStats(), [{ ...host(1), succ: 0, err: 2, overload: false, ...UNTIMED }]);
    assert.deepEqual(lb.takeStats(), []);
  });
});
