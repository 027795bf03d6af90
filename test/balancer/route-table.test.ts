import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadBalanceParams } from '../../src/balancer/params.js';
import { QUEUE } from '../../src/balancer/results.js';
import { RouteTable } from '../../src/balancer/route-table.js';
import { STRATEGY_NAMES } from '../../src/balancer/types.js';
import { decodeBody } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { hexBytes } from '../support/net.js';
import { FakeClock, host, hosts, label, params, UNTIMED } from './helpers.js';

function setup(overrides: Partial<LoadBalanceParams> = {}, maxUnknownRoutes?: number) {
  const clock = new FakeClock();
  const pulls: string[] = [];
  const table = new RouteTable({ params: params(overrides), requestRoute: (modid, cmdid) => pulls.push(`${modid}/${cmdid}`), maxUnknownRoutes });
  const pick = (modid = 1, cmdid = 2, key?: string) => label(table.pick(modid, cmdid, clock.now, key));
  return { clock, pulls, table, pick };
}

const hostOf = (table: RouteTable, n: number) => table.routes()[0]?.hosts.find((h) => h.port === host(n).port);

describe('route table: pulling routes', () => {
  test('an unknown route answers NOEXIST, is pulled once, and stays pending until dns answers', () => {
    const { table, pulls, pick } = setup();
    assert.equal(pick(), 'NOEXIST');
    assert.equal(table.state(1, 2), 'pending');
    assert.equal(pick(), 'NOEXIST');
    assert.deepEqual(pulls, ['1/2'], 'one pull in flight, not one per request');
    assert.deepEqual(table.getRoute(1, 2, 0), []);
  });

  test('the request that pulls a pending route gets QUEUE (a NOEXIST); the others, and absent routes, plain NOEXIST', () => {
    const { table, clock, pulls } = setup();
    assert.equal(table.pick(1, 2, clock.now), QUEUE);
    assert.equal(QUEUE.retcode, 3, 'QUEUE is a NOEXIST to whoever does not wait');
    assert.notEqual(table.pick(1, 2, clock.now), QUEUE);
    assert.deepEqual(table.getRoute(1, 2, clock.now), []);
    clock.advance(15_000);
    assert.equal(table.getRoute(1, 2, clock.now), QUEUE, 'an unanswered pull retried by a request queues it again');
    assert.equal(table.getRoute(1, 3, clock.now), QUEUE);
    table.applyDnsAnswer(1, 3, [], clock.now);
    clock.advance(15_000);
    assert.equal(label(table.pick(1, 3, clock.now)), 'NOEXIST', 'an absent route is pulled again but not queued');
    assert.notEqual(table.pick(1, 3, clock.now), QUEUE);
    assert.deepEqual(pulls, ['1/2', '1/2', '1/3', '1/3']);
  });

  test('a dns answer activates the route; picks and reports then work', () => {
    const { table, clock, pick } = setup();
    pick();
    assert.deepEqual(table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now), { outcome: 'updated', changes: { added: 2, removed: 0, kept: 0, rejected: [] } });
    assert.equal(table.state(1, 2), 'active');
    assert.deepEqual([pick(), pick(), pick()], ['h1', 'h2', 'h1']);
    assert.equal(table.report(1, 2, host(1), false, clock.now), 'none');
    assert.equal(table.report(1, 3, host(1), false, clock.now), 'unknown_route');
    assert.equal(table.report(1, 2, host(9), false, clock.now), 'unknown_host');
    assert.deepEqual(table.getRoute(1, 2, clock.now), [host(1), host(2)]);
  });

  test('a route is pulled again once its last answer is update_timeout old; answers (and pushes) reset the clock', () => {
    const { table, clock, pulls, pick } = setup();
    pick();
    table.applyDnsAnswer(1, 2, hosts(1), clock.now);
    clock.advance(14_999);
    pick();
    assert.equal(pulls.length, 1);
    clock.advance(1);
    assert.equal(pick(), 'h1', 'the stale route still answers while it is pulled');
    assert.equal(pulls.length, 2);
    clock.advance(10);
    table.applyDnsAnswer(1, 2, hosts(1), clock.now);
    clock.advance(14_999);
    pick();
    assert.equal(pulls.length, 2);
    assert.equal(table.routes()[0]?.updatedAt, clock.now - 14_999);
  });

  test('an unanswered pull is retried after update_timeout', () => {
    const { clock, pulls, pick } = setup();
    pick();
    clock.advance(14_999);
    pick();
    clock.advance(1);
    pick();
    assert.deepEqual(pulls, ['1/2', '1/2']);
  });

  test('refresh() pulls stale active routes and forgets stale pending or absent ones', () => {
    const { table, clock, pulls, pick } = setup();
    pick(1, 1);
    pick(2, 2);
    pick(3, 3);
    table.applyDnsAnswer(1, 1, hosts(1), clock.now);
    table.applyDnsAnswer(3, 3, [], clock.now);
    pulls.length = 0;
    assert.equal(table.refresh(clock.now + 14_999), 0);
    assert.equal(table.size, 3);
    assert.equal(table.refresh(clock.now + 15_000), 1);
    assert.deepEqual(pulls, ['1/1']);
    assert.deepEqual([table.state(1, 1), table.state(2, 2), table.state(3, 3)], ['active', undefined, undefined]);
  });

  test('pullAll() re-requests every known route (after a dns reconnect)', () => {
    const { table, clock, pulls, pick } = setup();
    pick(1, 1);
    pick(2, 2);
    table.applyDnsAnswer(1, 1, hosts(1), clock.now);
    pulls.length = 0;
    assert.equal(table.pullAll(clock.now), 2);
    assert.deepEqual(pulls.sort(), ['1/1', '2/2']);
  });
});

describe('route table: the cap on unknown routes', () => {
  test('past maxUnknownRoutes the oldest pending or absent route is forgotten; active routes never count', () => {
    const { table, clock, pulls, pick } = setup({}, 2);
    pick(1, 1);
    table.applyDnsAnswer(1, 1, hosts(1), clock.now);
    pick(7, 1);
    pick(7, 2);
    table.applyDnsAnswer(7, 2, [], clock.now);
    assert.equal(table.takeEvicted(), 0);
    assert.deepEqual([table.state(1, 1), table.state(7, 1), table.state(7, 2)], ['active', 'pending', 'absent']);

    pick(7, 3);
    assert.equal(table.state(7, 1), undefined, 'the oldest unknown one went');
    assert.deepEqual([table.state(1, 1), table.state(7, 2), table.state(7, 3)], ['active', 'absent', 'pending']);
    assert.equal(table.takeEvicted(), 1);
    assert.equal(table.takeEvicted(), 0, 'counted once');
    assert.equal(table.size, 3);

    table.applyDnsAnswer(7, 2, [], clock.now);
    pick(7, 4);
    assert.equal(table.state(7, 3), undefined, 'an absent route answered again counts as the newest');
    assert.equal(table.state(7, 2), 'absent');

    table.applyDnsAnswer(7, 3, hosts(3), clock.now);
    assert.equal(table.state(7, 3), 'active', 'an answer with hosts for a forgotten route creates it');
    assert.equal(table.state(7, 2), 'absent', 'and takes no room from the unknown ones');
    assert.equal(pick(7, 1), 'NOEXIST');
    assert.equal(pulls.filter((p) => p === '7/1').length, 2, 'a forgotten route is pulled again on its next use');
  });
});

describe('route table: dns answers', () => {
  test('new hosts are added idle, vanished ones removed with their state, existing ones keep theirs', () => {
    const { table, clock } = setup();
    table.applyDnsAnswer(1, 2, hosts(1, 2, 3), clock.now);
    for (let i = 0; i < 15; i++) table.report(1, 2, host(2), false, clock.now);
    table.report(1, 2, host(3), true, clock.now);
    const outcome = table.applyDnsAnswer(1, 2, hosts(2, 3, 4), clock.now);
    assert.deepEqual(outcome, { outcome: 'updated', changes: { added: 1, removed: 1, kept: 2, rejected: [] } });
    assert.equal(hostOf(table, 2)?.overloaded, true);
    assert.equal(hostOf(table, 3)?.vsucc, 181);
    assert.equal(hostOf(table, 4)?.vsucc, 180);
    assert.equal(hostOf(table, 1), undefined);
    table.applyDnsAnswer(1, 2, hosts(1, 2, 3, 4), clock.now);
    assert.equal(hostOf(table, 1)?.vsucc, 180, 'a host that comes back starts afresh');
  });

  test('an empty answer drops the route: NOEXIST, host state gone, pulled again only after update_timeout', () => {
    const { table, clock, pulls, pick } = setup();
    pick();
    table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now);
    for (let i = 0; i < 15; i++) table.report(1, 2, host(1), false, clock.now);
    assert.deepEqual(table.applyDnsAnswer(1, 2, [], clock.now), { outcome: 'dropped', changes: null });
    assert.equal(table.state(1, 2), 'absent');
    assert.equal(pick(), 'NOEXIST');
    assert.deepEqual(table.routes()[0]?.hosts, []);
    assert.equal(table.report(1, 2, host(1), true, clock.now), 'unknown_route');
    assert.equal(pulls.length, 1, 'no pull per request for a dropped route');
    clock.advance(15_000);
    pick();
    assert.equal(pulls.length, 2);
    table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now);
    assert.equal(hostOf(table, 1)?.overloaded, false, 'the route comes back with fresh host state');
  });

  test('an answer whose hosts are all invalid drops the route too; an empty answer for an unknown route is ignored', () => {
    const { table, clock } = setup();
    table.applyDnsAnswer(1, 2, hosts(1), clock.now);
    const outcome = table.applyDnsAnswer(1, 2, [{ ip: 1, port: 0 }], clock.now);
    assert.equal(outcome.outcome, 'dropped');
    assert.equal(table.state(1, 2), 'absent');
    assert.deepEqual(table.applyDnsAnswer(5, 5, [], clock.now), { outcome: 'ignored' });
    assert.equal(table.state(5, 5), undefined);
  });

  test('a push for a route never asked for creates it', () => {
    const { table, clock, pulls } = setup();
    table.applyDnsAnswer(7, 8, hosts(1), clock.now);
    assert.equal(table.state(7, 8), 'active');
    assert.deepEqual(pulls, []);
  });
});

describe('route table: decoded dns answers', () => {
  // GetRouteResponse (1, 2): 10.0.0.1:9001 without field 3, 10.0.0.2:9002 with weight 3, 10.0.0.3:9003 with weight 0.
  const answer = decodeBody(
    MsgId.GetRouteResponse,
    hexBytes('08 01 10 02  1a 08 08 81 80 80 50 10 a9 46  1a 0a 08 82 80 80 50 10 aa 46 18 03  1a 0a 08 83 80 80 50 10 ab 46 18 00'),
  );

  for (const strategy of STRATEGY_NAMES) {
    test(`decodeBody's hosts fed straight to the table pick hosts (${strategy}); weights are as sent, absent meaning 1`, () => {
      const { table, clock, pick } = setup({ strategy });
      table.applyDnsAnswer(1, 2, answer.host, clock.now);
      const picked = new Set(Array.from({ length: 40 }, (_, i) => pick(1, 2, `key-${i}`)));
      assert.deepEqual([...picked].sort(), ['h1', 'h2'], 'h3 has weight 0: drained');
      assert.deepEqual(table.routes()[0]?.hosts.map((h) => h.weight), [1, 3, 0]);
    });
  }
});

describe('route table: strategies and stats', () => {
  test('the strategy comes from params; keys reach the balancer', () => {
    const { table, clock, pick } = setup({ strategy: 'consistent_hash' });
    table.applyDnsAnswer(1, 2, hosts(1, 2, 3, 4, 5), clock.now);
    const first = pick(1, 2, 'session-42');
    for (let i = 0; i < 5; i++) assert.equal(pick(1, 2, 'session-42'), first);
  });

  test("each route runs the strategy its answer names, or params.strategy without one", () => {
    const { table, clock } = setup({ strategy: 'weighted_round_robin' });
    table.applyDnsAnswer(1, 2, hosts(1), clock.now);
    table.applyDnsAnswer(9, 2, hosts(1), clock.now, 'consistent_hash');
    table.applyDnsAnswer(8, 2, hosts(1), clock.now, 'lars');
    assert.deepEqual(
      table.routes().map((r) => [r.modid, r.strategy]),
      [
        [1, 'weighted_round_robin'],
        [9, 'consistent_hash'],
        [8, 'lars'],
      ],
    );
  });

  test('a new strategy for an active route: a fresh balancer with the same hosts, no host state carried; an unchanged one keeps its balancer', () => {
    const { table, clock, pick } = setup({ contin_err_limit: 2 });
    table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now);
    for (let i = 0; i < 2; i++) table.report(1, 2, host(1), false, clock.now);
    assert.equal(hostOf(table, 1)?.overloaded, true);

    const same = table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now, 'lars');
    assert.equal(same.outcome === 'updated' && same.strategySwitch, undefined, 'naming the strategy it runs switches nothing');
    assert.equal(hostOf(table, 1)?.overloaded, true, 'and keeps the host state');

    const switched = table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now, 'least_request');
    assert.deepEqual(switched, {
      outcome: 'updated',
      changes: { added: 2, removed: 0, kept: 0, rejected: [] },
      strategySwitch: { from: 'lars', to: 'least_request' },
    });
    assert.equal(table.routes()[0]?.strategy, 'least_request');
    assert.equal(hostOf(table, 1)?.overloaded, false, 'host state is per strategy: it starts afresh');
    assert.deepEqual(new Set([pick(), pick()]), new Set(['h1', 'h2']));

    const back = table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now);
    assert.deepEqual(back.outcome === 'updated' && back.strategySwitch, { from: 'least_request', to: 'lars' }, 'no name: back to params.strategy');
  });

  test("calls counted by the replaced balancer are reported with the route's next stats, once per host", () => {
    const { table, clock } = setup();
    table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now);
    table.report(1, 2, host(1), true, clock.now);
    table.report(1, 2, host(2), false, clock.now);
    table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now, 'weighted_round_robin');
    table.report(1, 2, host(1), true, clock.now);
    table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now, 'consistent_hash');
    table.report(1, 2, host(1), false, clock.now);
    const [stats] = table.takeStats();
    assert.deepEqual(
      stats?.hosts.sort((a, b) => a.port - b.port),
      [
        { ...host(1), succ: 2, err: 1, overload: false, ...UNTIMED },
        { ...host(2), succ: 0, err: 1, overload: false, ...UNTIMED },
      ],
    );
    assert.deepEqual(table.takeStats(), []);
    table.applyDnsAnswer(1, 2, hosts(1), clock.now, 'lars');
    table.report(1, 2, host(1), true, clock.now);
    table.applyDnsAnswer(1, 2, hosts(1), clock.now, 'least_request');
    table.applyDnsAnswer(1, 2, [], clock.now);
    assert.deepEqual(table.takeStats(), [{ modid: 1, cmdid: 2, hosts: [{ ...host(1), succ: 1, err: 0, overload: false, ...UNTIMED }] }], 'a route dropped after a switch reports them too');
  });

  test('call durations are summed per host across a replaced balancer, the longest kept; untimed calls add none', () => {
    const { table, clock } = setup();
    table.applyDnsAnswer(1, 2, hosts(1), clock.now);
    table.report(1, 2, host(1), true, clock.now, 2.5);
    table.report(1, 2, host(1), false, clock.now, 40);
    table.applyDnsAnswer(1, 2, hosts(1), clock.now, 'adaptive');
    table.report(1, 2, host(1), true, clock.now, 7.25);
    table.report(1, 2, host(1), true, clock.now);
    assert.deepEqual(table.takeStats(), [
      { modid: 1, cmdid: 2, hosts: [{ ...host(1), succ: 3, err: 1, overload: false, timed: 3, durationUs: 2500 + 40_000 + 7250, maxDurationUs: 40_000 }] },
    ]);
    table.report(1, 2, host(1), true, clock.now);
    assert.deepEqual(table.takeStats()[0]?.hosts, [{ ...host(1), succ: 1, err: 0, overload: false, ...UNTIMED }], 'a take starts the durations again');
  });

  test('a strategy this build does not know runs params.strategy, and is reported on the first answer that names it only', () => {
    const { table, clock } = setup({ strategy: 'consistent_hash' });
    const unknown = (answer: ReturnType<RouteTable['applyDnsAnswer']>) => (answer.outcome === 'updated' ? answer.unknownStrategy : 'not updated');
    assert.equal(unknown(table.applyDnsAnswer(1, 2, hosts(1), clock.now, 'adaptive_v9')), 'adaptive_v9');
    assert.equal(table.routes()[0]?.strategy, 'consistent_hash');
    assert.equal(unknown(table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now, 'adaptive_v9')), undefined, 'the same name again: not again');
    assert.equal(unknown(table.applyDnsAnswer(1, 3, hosts(1), clock.now, 'adaptive_v9')), 'adaptive_v9', 'once per route');
    assert.equal(unknown(table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now, 'lars')), undefined);
    assert.equal(unknown(table.applyDnsAnswer(1, 2, hosts(1, 2), clock.now, '')), '', 'an empty name is no name this build knows');
    table.applyDnsAnswer(1, 2, [], clock.now);
    assert.equal(unknown(table.applyDnsAnswer(1, 2, hosts(1), clock.now, '')), '', 'a route that comes back after being dropped starts over');
  });

  test('takeStats groups host counts per route and includes a dropped route once', () => {
    const { table, clock } = setup();
    table.applyDnsAnswer(1, 2, hosts(1), clock.now);
    table.applyDnsAnswer(3, 4, hosts(2), clock.now);
    table.applyDnsAnswer(5, 6, hosts(3), clock.now);
    table.report(1, 2, host(1), true, clock.now);
    table.report(3, 4, host(2), false, clock.now);
    table.applyDnsAnswer(3, 4, [], clock.now);
    const stats = table.takeStats().sort((a, b) => a.modid - b.modid);
    assert.deepEqual(stats, [
      { modid: 1, cmdid: 2, hosts: [{ ...host(1), succ: 1, err: 0, overload: false, ...UNTIMED }] },
      { modid: 3, cmdid: 4, hosts: [{ ...host(2), succ: 0, err: 1, overload: false, ...UNTIMED }] },
    ]);
    assert.deepEqual(table.takeStats(), []);
  });
});
