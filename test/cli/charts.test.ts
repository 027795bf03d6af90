import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bar, sparkline } from '../../src/cli/charts.js';

test('bar: full cells, then the nearest eighth; clamped to 0..1', () => {
  assert.equal(bar(1, 4), '████');
  assert.equal(bar(0.5, 4), '██');
  assert.equal(bar(0.3, 4), '█▎', '0.3 of 32 eighths is 9.6, so 10: one cell and two eighths');
  assert.equal(bar(0, 4), '');
  assert.equal(bar(2, 2), '██');
  assert.equal(bar(-1, 2), '');
});

test('sparkline: one character per value, scaled from 0 to the largest', () => {
  assert.equal(sparkline([0, 4, 8]), '▁▅█');
  assert.equal(sparkline([5, 5]), '██');
  assert.equal(sparkline([0, 0, 0]), '▁▁▁');
  assert.equal(sparkline([]), '');
});
