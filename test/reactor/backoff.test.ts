import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/reactor/backoff.js';
import { seededRandom } from '../support/net.js';

describe('Backoff', () => {
  test('the ceiling doubles per failure up to maxMs; delays are the ceiling times the random draw', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.5 });
    const delays = Array.from({ length: 6 }, () => backoff.next());
    assert.deepEqual(delays, [50, 100, 200, 400, 500, 500]);
    assert.equal(backoff.attempts, 6);
    assert.equal(backoff.ceiling(), 1000);
  });

  test('reset() starts over from initialMs', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, random: () => 0.999 });
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    assert.equal(backoff.attempts, 0);
    assert.equal(backoff.next(), 99);
  });

  test('full jitter: delays spread over [0, ceiling) and never exceed maxMs', () => {
    const backoff = new Backoff({ initialMs: 50, maxMs: 800, multiplier: 3, random: seededRandom(3) });
    const delays: number[] = [];
    for (let i = 0; i < 200; i++) {
      const ceiling = backoff.ceiling();
      const delay = backoff.next();
      assert.ok(delay >= 0 && delay < ceiling && delay < 800, `delay ${delay} within [0, ${ceiling})`);
      delays.push(delay);
    }
    const late = delays.slice(10);
    assert.ok(Math.min(...late) < 200 && Math.max(...late) > 600, 'capped delays still spread out');
  });

  test('huge attempt counts stay capped', () => {
    const backoff = new Backoff({ initialMs: 1, maxMs: 30_000, random: () => 0.999999 });
    for (let i = 0; i < 5000; i++) backoff.next();
    assert.equal(backoff.next(), 29_999);
  });

  test('nonsense options are refused', () => {
    assert.throws(() => new Backoff({ initialMs: 0, maxMs: 10 }), /initialMs must be > 0/);
    assert.throws(() => new Backoff({ initialMs: 100, maxMs: 10 }), /maxMs must be >= initialMs/);
  });
});
