import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlightCounter } from '../../src/balancer/in-flight.js';

describe('InFlightCounter', () => {
  test('counts calls begun and not ended; an end with nothing in flight is ignored', () => {
    const calls = new InFlightCounter(800);
    for (let i = 0; i < 3; i++) calls.begin(0);
    assert.equal(calls.count(0), 3);
    calls.end(1);
    assert.equal(calls.count(1), 2);
    calls.end(2);
    calls.end(3);
    calls.end(4);
    assert.equal(calls.count(4), 0);
    calls.begin(5);
    assert.equal(calls.count(5), 1, 'the extra end did not bank a credit');
  });

  test('a call that is never reported stops counting once the timeout has passed', () => {
    const calls = new InFlightCounter(800); // buckets of 100 ms
    calls.begin(0);
    assert.equal(calls.count(799), 1);
    assert.equal(calls.count(800), 0);
    calls.begin(850);
    assert.equal(calls.count(1500), 1, 'between 7/8 of the timeout and the timeout');
    assert.equal(calls.count(1600), 0);
  });

  test('a report ends the oldest call still counted', () => {
    const calls = new InFlightCounter(800);
    calls.begin(0);
    calls.begin(500);
    calls.end(600);
    assert.equal(calls.count(800), 1, 'the call of t=500 is left, so the expiry of t=0 removes nothing');
    assert.equal(calls.count(1300), 0);
  });

  test('a long quiet spell clears everything at once', () => {
    const calls = new InFlightCounter(800);
    for (let t = 0; t < 800; t += 50) calls.begin(t);
    assert.equal(calls.count(799), 16);
    assert.equal(calls.count(10_000), 0);
    calls.begin(10_001);
    assert.equal(calls.count(10_001), 1);
  });
});
