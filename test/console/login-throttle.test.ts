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
  test('per user (any case, any address) and per address (any user)', () => {
    const clock = fakeClock();
    const throttle = new LoginThrottle({ perUser: 2, perAddress: 3, windowMs: 60_000, clock: clock.now });
    throttle.recordFailure('Alice', '10.0.0.1');
    throttle.recordFailure('alice', '10.0.0.2');
    assert.ok(throttle.retryAfterMs('ALICE', '10.0.0.3') > 0, 'the user is limited from a fresh address too');
    assert.equal(throttle.retryAfterMs('bob', '10.0.0.1'), 0);
    throttle.recordFailure('bob', '10.0.0.1');
    throttle.recordFailure('carol', '10.0.0.1');
    assert.ok(throttle.retryAfterMs('dave', '10.0.0.1') > 0, 'the address is limited for a fresh user too');
    assert.equal(throttle.retryAfterMs('dave', '10.0.0.9'), 0);
    clock.advance(30_000);
    assert.equal(throttle.retryAfterMs('alice', '10.0.0.9'), 0, 'one attempt earned back after window/capacity');
  });
});
