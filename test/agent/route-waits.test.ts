/**
 * The agent's wait policy (src/agent/route-waits.ts) without sockets, on fake
 * timers: who is held, who is answered at once, and when the held are let go.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WAITERS_PER_ROUTE, MAX_WAITING_ROUTES, RouteWaits } from '../../src/agent/route-waits.js';
import { FakeTimers } from './helpers.js';

function setup(waitMs = 200) {
  const timers = new FakeTimers();
  const released: { route: string; waiters: string[]; expired: boolean }[] = [];
  const waits = new RouteWaits<string>({
    waitMs,
    timers,
    release: ({ modid, cmdid }, waiters, expired) => released.push({ route: `${modid}/${cmdid}`, waiters: [...waiters], expired }),
  });
  return { timers, released, waits };
}

describe('route waits', () => {
  test('the request that queued a route is held with those that follow; dns answering releases them, not expired', () => {
    const { timers, released, waits } = setup();
    assert.equal(waits.hold(1, 2, true, 'a'), true);
    assert.equal(waits.hold(1, 2, false, 'b'), true, 'a later request joins the wait');
    assert.equal(waits.held, 2);
    waits.answered(1, 2);
    assert.deepEqual(released, [{ route: '1/2', waiters: ['a', 'b'], expired: false }]);
    assert.equal(timers.armed, 0, 'the timer is cleared');
    waits.answered(1, 2);
    assert.equal(released.length, 1, 'an answer with nothing held releases nothing');
  });

  test('a request that did not queue its route and finds nothing held is answered at once', () => {
    const { waits } = setup();
    assert.equal(waits.hold(1, 2, false, 'a'), false);
    assert.equal(waits.held, 0);
  });

  test('when route_wait_ms runs out the held requests are released as expired', () => {
    const { timers, released, waits } = setup(200);
    waits.hold(1, 2, true, 'a');
    timers.advance(199);
    assert.deepEqual(released, []);
    timers.advance(1);
    assert.deepEqual(released, [{ route: '1/2', waiters: ['a'], expired: true }]);
    waits.answered(1, 2);
    assert.equal(released.length, 1);
  });

  test('route_wait_ms 0 holds nothing', () => {
    const { waits } = setup(0);
    assert.equal(waits.hold(1, 2, true, 'a'), false);
  });

  test('dns going down releases everything as expired, and nothing is held until it is back', () => {
    const { released, waits } = setup();
    waits.hold(1, 2, true, 'a');
    waits.hold(2, 2, true, 'b');
    waits.setDnsUp(false);
    assert.deepEqual(released.map((r) => [r.route, r.expired]), [['1/2', true], ['2/2', true]]);
    assert.equal(waits.hold(3, 2, true, 'c'), false);
    waits.setDnsUp(true);
    assert.equal(waits.hold(3, 2, true, 'c'), true);
  });

  test('releaseAll (the port stops) answers every held request as expired', () => {
    const { released, waits } = setup();
    waits.hold(1, 2, true, 'a');
    waits.releaseAll();
    assert.deepEqual(released, [{ route: '1/2', waiters: ['a'], expired: true }]);
  });

  test(`at most ${MAX_WAITERS_PER_ROUTE} requests per route and ${MAX_WAITING_ROUTES} routes are held`, () => {
    const { waits } = setup();
    for (let i = 0; i < MAX_WAITERS_PER_ROUTE; i++) assert.equal(waits.hold(0, 0, i === 0, `r${i}`), true);
    assert.equal(waits.hold(0, 0, false, 'one too many'), false);
    for (let route = 1; route < MAX_WAITING_ROUTES; route++) assert.equal(waits.hold(route, 0, true, 'x'), true);
    assert.equal(waits.hold(MAX_WAITING_ROUTES, 0, true, 'one route too many'), false);
    assert.equal(waits.held, MAX_WAITERS_PER_ROUTE + MAX_WAITING_ROUTES - 1);
  });
});
