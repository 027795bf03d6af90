import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle, TokenBuckets } from '../../src/console/login-throttle.js';

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('TokenBuckets', () => {
  test('allows capacity spends at once, then waits window/capacity for each more', () => {
    const clock = fakeClock();
    const buckets = new TokenBuckets(3, 60_000, clock.now);
    for (let i = 0; i < 3; i++) {
      assert.equal(buckets.waitMs('k'), 0);
      buckets.spend('k');
    }
    assert.equal(buckets.waitMs('k'), 20_000);
    clock.advance(19_999);
    assert.equal(buckets.waitMs('k'), 1);
    clock.advance(1);
    assert.equal(buckets.waitMs('k'), 0);
    assert.equal(buckets.waitMs('other'), 0, 'keys are independent');
  });

  test('refills to capacity and no further', () => {
    const clock = fakeClock();
    const buckets = new TokenBuckets(2, 1000, clock.now);
    buckets.spend('k');
    clock.advance(10_000);
    buckets.spend('k');
    buckets.spend('k');
    assert.ok(buckets.waitMs('k') > 0, 'an hour of quiet does not bank more than capacity');
  });

  test('memory stays bounded: idle buckets go first', () => {
    const clock = fakeClock();
    const buckets = new TokenBuckets(1, 1000, clock.now);
    for (let i = 0; i < 10_050; i++) buckets.spend(`k${i}`);
    assert.ok(buckets.size <= 10_000, `size ${buckets.size}`);
    clock.advance(2000);
    buckets.spend('fresh');
    assert.equal(buckets.size, 1, 'refilled buckets are dropped when the map is over its bound');
  });
});

describe('LoginThrottle', () => {
  test('per user name from one address (any case), and per address for any user', () => {
    const clock = fakeClock();
    const throttle = new LoginThrottle({ perUserAddress: 2, perAddress: 3, perUser: 100, windowMs: 60_000, clock: clock.now });
    throttle.recordFailure('Alice', '10.0.0.1');
    throttle.recordFailure('alice', '10.0.0.1');
    assert.ok(throttle.retryAfterMs('ALICE', '10.0.0.1') > 0, 'the user is limited from that address');
    assert.equal(throttle.retryAfterMs('alice', '10.0.0.2'), 0, 'someone failing from one address does not lock the user out elsewhere');
    assert.equal(throttle.retryAfterMs('bob', '10.0.0.1'), 0);
    throttle.recordFailure('bob', '10.0.0.1');
    assert.ok(throttle.retryAfterMs('dave', '10.0.0.1') > 0, 'three failures limit the address for a fresh user too');
    assert.equal(throttle.retryAfterMs('dave', '10.0.0.9'), 0);
    clock.advance(30_000);
    assert.equal(throttle.retryAfterMs('alice', '10.0.0.1'), 0, 'one attempt earned back after window/capacity');
  });

  test('guessing one user from many addresses hits the per-user limit', () => {
    const clock = fakeClock();
    const throttle = new LoginThrottle({ perUserAddress: 10, perAddress: 30, perUser: 5, windowMs: 60_000, clock: clock.now });
    for (let i = 1; i <= 5; i++) throttle.recordFailure('alice', `10.0.1.${i}`);
    assert.equal(throttle.retryAfterMs('alice', '10.0.2.1'), 12_000, 'from a fresh address too, until window/capacity passes');
    assert.equal(throttle.retryAfterMs('bob', '10.0.1.1'), 0, 'other users are not affected');
  });
});
