import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerTable } from '../../src/dispatcher/worker-table.js';
import { ProtocolError } from '../../src/dispatcher/protocol.js';

function table(workers: number, maxInFlight = 64): WorkerTable {
  const t = new WorkerTable(maxInFlight);
  for (let id = 1; id <= workers; id++) t.add(id, 1000 + id, 0);
  return t;
}

function handOver(t: WorkerTable): number {
  const id = t.pick()!;
  t.recordSent(id);
  return id;
}

test('a burst spreads evenly before any worker reports back (optimistic counting)', () => {
  const t = table(4);
  const chosen = Array.from({ length: 12 }, () => handOver(t));
  assert.deepEqual(chosen, [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
  assert.deepEqual(t.statuses().map((w) => w.connections), [3, 3, 3, 3]);
});

test('a report reconciles the optimistic count without counting twice', () => {
  const t = table(1);
  handOver(t);
  handOver(t);
  handOver(t);
  assert.equal(t.load(1), 3);
  // The worker got two of the three so far, and one of those already closed.
  assert.equal(t.recordLoad(1, 1, 2), 2);
  assert.equal(t.load(1), 2); // 1 open + 1 still in flight
  assert.equal(t.recordLoad(1, 2, 3), 1);
  assert.equal(t.load(1), 2);
  // An older report arriving late does not take confirmations back.
  assert.equal(t.recordLoad(1, 2, 3), 0);
});

test('a worker with a long-lived load gets fewer new connections', () => {
  const t = table(3);
  t.recordLoad(1, 10, 0);
  const chosen = Array.from({ length: 6 }, () => handOver(t));
  assert.ok(!chosen.includes(1), `worker 1 already holds 10, got ${chosen.join(',')}`);
});

test('a worker with too many unread descriptors, or detaching, is skipped', () => {
  const t = table(2, 2);
  t.markDetaching(2);
  handOver(t);
  handOver(t);
  assert.equal(t.pick(), undefined, 'worker 1 is at its in-flight limit and worker 2 is detaching');
  t.recordLoad(1, 2, 2);
  assert.equal(t.pick(), 1);
});

test('removing a worker reports the descriptors lost in flight', () => {
  const t = table(1);
  handOver(t);
  handOver(t);
  t.recordLoad(1, 1, 1);
  assert.equal(t.remove(1), 1);
  assert.equal(t.size, 0);
  assert.equal(t.remove(1), 0);
});

test('a worker claiming more than was sent is a protocol error', () => {
  const t = table(1);
  assert.throws(() => t.recordLoad(1, 1, 1), ProtocolError);
});
