import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeastConnectionsPicker } from '../../src/dispatcher/picker.js';

test('the lowest load wins', () => {
  const picker = new LeastConnectionsPicker();
  assert.equal(picker.pick([{ id: 1, load: 5 }, { id: 2, load: 2 }, { id: 3, load: 9 }]), 2);
});

test('equal loads rotate round-robin instead of always taking the lowest id', () => {
  const picker = new LeastConnectionsPicker();
  const idle = [{ id: 1, load: 0 }, { id: 2, load: 0 }, { id: 3, load: 0 }];
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => picker.pick(idle)), [1, 2, 3, 1, 2, 3]);
});

test('the rotation continues after the last choice even when ids come and go', () => {
  const picker = new LeastConnectionsPicker();
  assert.equal(picker.pick([{ id: 5, load: 1 }, { id: 2, load: 0 }]), 2);
  // 2 was chosen last: among the tied, the next id above it wins, then it wraps.
  assert.equal(picker.pick([{ id: 9, load: 3 }, { id: 7, load: 3 }, { id: 1, load: 3 }]), 7);
  assert.equal(picker.pick([{ id: 9, load: 3 }, { id: 7, load: 3 }, { id: 1, load: 3 }]), 9);
  assert.equal(picker.pick([{ id: 9, load: 3 }, { id: 7, load: 3 }, { id: 1, load: 3 }]), 1);
});

test('a lower load beats the round-robin position', () => {
  const picker = new LeastConnectionsPicker();
  assert.equal(picker.pick([{ id: 1, load: 0 }, { id: 2, load: 0 }]), 1);
  assert.equal(picker.pick([{ id: 1, load: 0 }, { id: 2, load: 1 }]), 1);
});

test('no candidates, no choice', () => {
  assert.equal(new LeastConnectionsPicker().pick([]), undefined);
});
