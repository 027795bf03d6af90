/** The load a registered server reports (docs/registry.md): figures between two usage samples. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBetween, processLoad, type UsageSample } from '../../src/reactor/instance-load.js';

const at = (atMs: number, loopActiveMs: number, loopIdleMs: number, cpuUs: number): UsageSample => ({ atMs, loopActiveMs, loopIdleMs, cpuUs });

test('the score is the event loop utilisation of the interval, cpu the CPU time per wall time, per mille', () => {
  const load = loadBetween(at(1000, 50, 950, 2_000_000), at(2000, 300, 1700, 2_450_000), { inFlight: 3, connections: 7 });
  assert.deepEqual(load, { inFlight: 3, connections: 7, cpuPermille: 450, score: 250 });
});

test('more than one core of CPU is above 1000; an empty interval is 0, not NaN', () => {
  assert.equal(loadBetween(at(0, 0, 0, 0), at(100, 100, 0, 180_000), { inFlight: 0, connections: 0 }).cpuPermille, 1800);
  assert.deepEqual(loadBetween(at(5, 1, 1, 1), at(5, 1, 1, 1), { inFlight: 0, connections: 0 }), { inFlight: 0, connections: 0, cpuPermille: 0, score: 0 });
});

test('counts are clamped to the uint32 the wire carries', () => {
  const load = loadBetween(at(0, 0, 0, 0), at(1, 0, 1, 0), { inFlight: -1, connections: 2 ** 40 });
  assert.equal(load.inFlight, 0);
  assert.equal(load.connections, 0xffffffff);
});

test('processLoad reports each interval since the previous call, with the counts of the moment', () => {
  const samples = [at(0, 0, 0, 0), at(100, 10, 90, 20_000), at(200, 100, 100, 120_000)];
  let counts = { inFlight: 1, connections: 1 };
  const load = processLoad(() => counts, () => samples.shift()!);
  assert.deepEqual(load(), { inFlight: 1, connections: 1, cpuPermille: 200, score: 100 });
  counts = { inFlight: 0, connections: 5 };
  assert.deepEqual(load(), { inFlight: 0, connections: 5, cpuPermille: 1000, score: 900 });
});
