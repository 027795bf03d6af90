/**
 * Hosts' reported loads (HostInput.load, docs/balancer.md "Reported load"):
 * every strategy keeps them in its views and keeps host state when only loads
 * change; the adaptive strategy scores by them, its own view of failures and
 * latency first; least_load names the adaptive balancer. Manual clock,
 * seeded draws.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer } from '../../src/balancer/factory.js';
import { RouteTable } from '../../src/balancer/route-table.js';
import { STRATEGY_NAMES, type HostInput, type RouteBalancer, type StrategyName } from '../../src/balancer/types.js';
import { decodeBody } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { seededRandom } from '../../src/simulator/random.js';
import { hexBytes } from '../support/net.js';
import { host, hosts, label, nameOf, params } from './helpers.js';

const balancer = (strategy: StrategyName, seed = 7) => createBalancer(strategy, params({ strategy, contin_err_limit: 3 }), seededRandom(seed));

/** Hosts 1..count, host n reporting loads[n - 1] (null: none). */
function loaded(loads: ReadonlyArray<number | null>): HostInput[] {
  return loads.map((load, i) => ({ ...host(i + 1), load }));
}

/**
 * One call every ms from `from` to `to`, each held open for its host's
 * latency, then reported with its duration (the last ones after `to`):
 * calls in flight are part of what the balancer sees. Returns the calls per
 * host name.
 */
function traffic(b: RouteBalancer, from: number, to: number, latencyMs: (name: string) => number, ok: (name: string) => boolean = () => true) {
  const calls: Record<string, number> = {};
  let open: Array<{ at: number; picked: ReturnType<RouteBalancer['pick']>; latency: number }> = [];
  for (let now = from; now < to; now++) {
    for (const call of open) if (call.at <= now) b.report(call.picked.host!, ok(nameOf(call.picked.host!)), call.at, call.latency);
    open = open.filter((call) => call.at > now);
    const picked = b.pick(now);
    const name = label(picked);
    calls[name] = (calls[name] ?? 0) + 1;
    if (picked.host !== undefined) open.push({ at: now + latencyMs(name), picked, latency: latencyMs(name) });
  }
  for (const call of open) b.report(call.picked.host!, ok(nameOf(call.picked.host!)), call.at, call.latency);
  return calls;
}

const share = (calls: Record<string, number>, name: string) => (calls[name] ?? 0) / Object.values(calls).reduce((a, b) => a + b, 0);

describe('reported load: every strategy', () => {
  for (const strategy of STRATEGY_NAMES) {
    test(`${strategy}: views show each host's load (null without); a host set whose loads alone changed keeps every host's state`, () => {
      // Two balancers on the same draws and the same calls: one also gets a load-only push every 100 ms.
      // Equal loads scale every adaptive score alike, so if no state were reset the picks stay the same.
      const quiet = balancer(strategy);
      const pushed = balancer(strategy);
      quiet.setHosts(hosts(1, 2, 3), 0);
      assert.deepEqual(pushed.setHosts(loaded([null, 200, 200]), 0), { added: 3, removed: 0, kept: 0, rejected: [] });
      assert.deepEqual(pushed.hosts().map((h) => h.reportedLoad), [null, 200, 200]);
      const picks = (b: RouteBalancer, from: number, push: boolean) => {
        const names: string[] = [];
        for (let now = from; now < from + 2_000; now++) {
          if (push && now % 100 === 0) {
            const load = 100 + (now % 700);
            assert.deepEqual(b.setHosts(loaded([load, load, load]), now), { added: 0, removed: 0, kept: 3, rejected: [] });
          }
          const picked = b.pick(now, `key-${now % 17}`);
          names.push(label(picked));
          // h3 fails its calls in the first second: Lars's rules overload it, adaptive ejects it.
          if (picked.host !== undefined) b.report(picked.host, !(nameOf(picked.host) === 'h3' && now < from + 1_000), now, 10);
        }
        return names;
      };
      assert.deepEqual(picks(pushed, 0, true), picks(quiet, 0, false));
      const stateOf = (b: RouteBalancer) => b.hosts().map(({ reportedLoad: _, ...state }) => state);
      assert.deepEqual(stateOf(pushed), stateOf(quiet), 'the same host state');
      assert.deepEqual(pushed.takeStats(), quiet.takeStats(), 'and the same calls for the reporter');
      assert.ok(pushed.hosts().every((h) => h.reportedLoad === 100 + (1_900 % 700)), 'the last load pushed is shown');
    });
  }

  test('a load that is not a finite number >= 0 rejects its host', () => {
    const b = balancer('adaptive');
    const changes = b.setHosts([{ ...host(1), load: -1 }, { ...host(2), load: Number.NaN }, { ...host(3), load: 0 }], 0);
    assert.deepEqual(
      changes.rejected.map((r) => r.reason),
      ['load is not a finite number >= 0', 'load is not a finite number >= 0'],
    );
    assert.deepEqual(b.hosts().map((h) => [nameOf(h), h.reportedLoad]), [['h3', 0]]);
  });
});

describe('reported load: adaptive', () => {
  test('a host reporting 900 (of 1000) gets about half the calls of hosts reporting 100 at equal latency; equal loads share alike', () => {
    const b = balancer('adaptive');
    b.setHosts(loaded([100, 100, 100, 100, 900]), 0);
    const calls = traffic(b, 0, 30_000, () => 10);
    const others = ['h1', 'h2', 'h3', 'h4'].map((name) => share(calls, name));
    assert.ok(share(calls, 'h5') < 0.6 * Math.min(...others), `h5 ${share(calls, 'h5')}, the others ${others.join(' ')}`);
    assert.ok(share(calls, 'h5') > 0.01, `but it still takes calls: ${share(calls, 'h5')}`);

    b.setHosts(loaded([100, 100, 100, 100, 100]), 30_000);
    const even = traffic(b, 30_000, 60_000, () => 10);
    for (const name of ['h1', 'h2', 'h3', 'h4', 'h5']) assert.ok(Math.abs(share(even, name) - 0.2) < 0.03, `${name} ${share(even, name)} once loads are equal`);
  });

  test('hosts that report no load get factor 1: a route of such hosts balances exactly as before', () => {
    const withNulls = balancer('adaptive');
    const without = balancer('adaptive');
    withNulls.setHosts(loaded([null, null, null]), 0);
    without.setHosts(hosts(1, 2, 3), 0);
    assert.deepEqual(traffic(withNulls, 0, 5_000, (name) => (name === 'h1' ? 20 : 10)), traffic(without, 0, 5_000, (name) => (name === 'h1' ? 20 : 10)));
  });

  test('the agent\'s own view wins over a host that lies: reporting 0 while it fails, it is still ejected', () => {
    const b = balancer('adaptive');
    b.setHosts(loaded([500, 500, 500, 500, 0]), 0);
    const events = [1, 2, 3].map((i) => b.report(host(5), false, i, 1));
    assert.deepEqual(events, ['none', 'none', 'ejected']);
    const calls = traffic(b, 10, 150, () => 10);
    assert.equal(calls.h5, undefined, 'no ordinary pick names it while ejected');
  });

  test('a host reporting 0 but answering 10x slower still gets fewer calls than hosts at full load', () => {
    const b = balancer('adaptive');
    b.setHosts(loaded([1000, 1000, 1000, 1000, 0]), 0);
    const calls = traffic(b, 0, 30_000, (name) => (name === 'h5' ? 100 : 10));
    assert.ok(share(calls, 'h5') < 0.05, `the lying slow host's share: ${share(calls, 'h5')}`);
  });

  test('loads above 2000 count as 2000: a host reporting uint32 max keeps a finite score and is still tried', () => {
    const b = balancer('adaptive');
    b.setHosts(loaded([2000, 2000, 0xffffffff]), 0);
    const calls = traffic(b, 0, 30_000, () => 10);
    const others = ['h1', 'h2'].map((name) => share(calls, name));
    assert.ok(Math.abs(share(calls, 'h3') - others[0]!) < 0.05 && Math.abs(share(calls, 'h3') - others[1]!) < 0.05, `h3 ${share(calls, 'h3')} like ${others.join(' ')}`);
  });
});

describe('reported load: the route table and least_load', () => {
  // GetRouteResponse (1, 2): 10.0.0.1:9001 with load 900 (field 4), 10.0.0.2:9002 without.
  const answer = decodeBody(MsgId.GetRouteResponse, hexBytes('08 01 10 02  1a 0b 08 81 80 80 50 10 a9 46 20 84 07  1a 08 08 82 80 80 50 10 aa 46'));

  test('decodeBody\'s hosts fed to the table carry their loads into the route view; a load-only answer keeps the hosts', () => {
    assert.deepEqual(answer.host.map((h) => h.load), [900, null]);
    const table = new RouteTable({ params: params({ strategy: 'adaptive' }), requestRoute: () => {} });
    table.applyDnsAnswer(1, 2, answer.host, 0);
    assert.deepEqual(table.routes()[0]!.hosts.map((h) => h.reportedLoad), [900, null]);
    table.report(1, 2, host(1), false, 1);
    const lighter = table.applyDnsAnswer(1, 2, answer.host.map((h) => ({ ...h, load: 100 })), 2);
    assert.deepEqual(lighter, { outcome: 'updated', changes: { added: 0, removed: 0, kept: 2, rejected: [] } });
    const [h1] = table.routes()[0]!.hosts;
    assert.deepEqual([h1!.reportedLoad, h1!.consecutiveFailures], [100, 1]);
  });

  test('least_load runs the adaptive balancer; a module switching between the two keeps the host state', () => {
    assert.equal(createBalancer('least_load', params()).strategy, 'adaptive');
    const table = new RouteTable({ params: params({ strategy: 'least_load' }), requestRoute: () => {} });
    table.applyDnsAnswer(1, 2, answer.host, 0);
    assert.equal(table.routes()[0]!.strategy, 'adaptive', 'the route view shows the strategy it runs');
    table.report(1, 2, host(2), false, 1);
    for (const named of ['adaptive', 'least_load', undefined]) {
      const outcome = table.applyDnsAnswer(1, 2, answer.host, 2, named);
      assert.equal(outcome.outcome === 'updated' && outcome.strategySwitch, undefined, `named ${named}: no switch`);
    }
    assert.equal(table.routes()[0]!.hosts[1]!.consecutiveFailures, 1);
  });
});
