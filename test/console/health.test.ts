import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeSamples, summarizeHealth, type StatusSample } from '../../src/console/health.js';

const NOW = 1_700_000_000;
const sample = (overrides: Partial<StatusSample> = {}): StatusSample => ({ overload: false, succ: 100, err: 0, reportedAt: NOW - 10, ...overrides });

describe('summarizeHealth', () => {
  test('no samples: none, with zero counts and no report time', () => {
    assert.deepEqual(summarizeHealth([], NOW, 300), { state: 'none', reporting: 0, overloaded: 0, succ: 0, err: 0, lastReportAt: null });
  });

  test('fresh, idle, few errors: ok with summed counts and the newest time', () => {
    const h = summarizeHealth([sample({ err: 5 }), sample({ succ: 50, reportedAt: NOW - 3 })], NOW, 300);
    assert.deepEqual(h, { state: 'ok', reporting: 2, overloaded: 0, succ: 150, err: 5, lastReportAt: NOW - 3 });
  });

  test('some overloaded: degraded; all overloaded: down', () => {
    assert.equal(summarizeHealth([sample(), sample({ overload: true })], NOW, 300).state, 'degraded');
    assert.equal(summarizeHealth([sample({ overload: true }), sample({ overload: true })], NOW, 300).state, 'down');
  });

  test('errors at the threshold (10 %) degrade an otherwise idle route', () => {
    assert.equal(summarizeHealth([sample({ succ: 91, err: 9 })], NOW, 300).state, 'ok');
    assert.equal(summarizeHealth([sample({ succ: 90, err: 10 })], NOW, 300).state, 'degraded');
  });

  test('the newest report older than staleAfter: stale, whatever it said', () => {
    assert.equal(summarizeHealth([sample({ overload: true, reportedAt: NOW - 301 })], NOW, 300).state, 'stale');
    assert.equal(summarizeHealth([sample({ overload: true, reportedAt: NOW - 300 })], NOW, 300).state, 'down');
  });
});

test('mergeSamples: overloaded if any caller says so, counts summed, newest time', () => {
  const merged = mergeSamples([sample({ succ: 1, err: 2, reportedAt: NOW - 50 }), sample({ overload: true, succ: 3, err: 4, reportedAt: NOW - 5 })]);
  assert.deepEqual(merged, { overload: true, succ: 4, err: 6, reportedAt: NOW - 5 });
});
