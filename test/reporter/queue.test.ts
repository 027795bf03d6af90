import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchQueue, type QueueLimits } from '../../src/reporter/queue.js';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** A queue whose owners may each hold all of it, unless ownerMaxItems says otherwise. */
function queueOf(limits: Omit<QueueLimits, 'ownerMaxItems'> & { ownerMaxItems?: number }): BatchQueue<number> {
  return new BatchQueue<number>({ ownerMaxItems: limits.maxItems, ...limits });
}

describe('BatchQueue', () => {
  test('cuts results into batches of batchMax; a full batch is ready at once, a partial one after the delay', () => {
    const queue = queueOf({ maxItems: 100, batchMax: 4, delayMs: 50 });
    queue.push(range(0, 6), 1000, 'a');
    assert.equal(queue.size, 6);
    assert.equal(queue.readyAt(), 1000);
    assert.deepEqual(queue.take(1000)?.items, [0, 1, 2, 3]);
    assert.equal(queue.readyAt(), 1050);
    assert.equal(queue.take(1049), undefined);
    queue.push([6], 1020, 'a'); // joins the open batch, which keeps its age
    assert.deepEqual(queue.take(1050)?.items, [4, 5, 6]);
    assert.equal(queue.readyAt(), undefined);
    assert.equal(queue.size, 7, 'in-flight batches still count');
  });

  test('an older batch is ready as soon as a newer one exists', () => {
    const queue = queueOf({ maxItems: 100, batchMax: 2, delayMs: 1000 });
    queue.push([1], 0, 'a');
    assert.equal(queue.readyAt(), 1000);
    queue.push([2, 3], 10, 'a');
    assert.equal(queue.readyAt(), 0);
    assert.deepEqual(queue.take(10)?.items, [1, 2]);
    assert.equal(queue.take(10), undefined, 'the newest partial batch still waits');
  });

  test('when full, drops whole batches oldest first and counts them', () => {
    const queue = queueOf({ maxItems: 10, batchMax: 4, delayMs: 0 });
    assert.deepEqual(queue.push(range(0, 10), 0, 'a'), { droppedItems: 0, droppedBatches: 0, refusedItems: 0, queuedItems: 10 });
    assert.deepEqual(queue.push(range(10, 13), 0, 'a'), { droppedItems: 4, droppedBatches: 1, refusedItems: 0, queuedItems: 3 });
    assert.equal(queue.size, 9);
    const kept: number[] = [];
    for (let batch = queue.take(0); batch; batch = queue.take(0)) kept.push(...batch.items);
    assert.deepEqual(kept, range(4, 13));
  });

  test('in-flight batches count towards the bound and are never dropped; what cannot fit of new results is', () => {
    const queue = queueOf({ maxItems: 8, batchMax: 4, delayMs: 0 });
    queue.push(range(0, 8), 0, 'a');
    const first = queue.take(0)!;
    const second = queue.take(0)!;
    assert.equal(queue.inFlight, 8);
    assert.deepEqual(queue.push(range(8, 11), 0, 'a'), { droppedItems: 3, droppedBatches: 0, refusedItems: 0, queuedItems: 0 });
    queue.done(first);
    assert.deepEqual(queue.push(range(11, 14), 0, 'a'), { droppedItems: 0, droppedBatches: 0, refusedItems: 0, queuedItems: 3 });
    queue.done(second);
    assert.equal(queue.size, 3);
  });

  test('retry puts a batch back at the head, ready again at the given time, and never grows it', () => {
    const queue = queueOf({ maxItems: 100, batchMax: 4, delayMs: 0 });
    queue.push(range(0, 6), 0, 'a');
    const first = queue.take(0)!;
    queue.retry(first, 500);
    queue.push([6], 10, 'a');
    assert.equal(queue.readyAt(), 500);
    assert.equal(queue.take(499), undefined, 'nothing overtakes a batch waiting to be retried');
    assert.deepEqual(queue.take(500)?.items, [0, 1, 2, 3]);
    assert.deepEqual(queue.take(500)?.items, [4, 5, 6]);
  });

  test('a retried batch is the first dropped when the queue overflows', () => {
    const queue = queueOf({ maxItems: 8, batchMax: 4, delayMs: 0 });
    queue.push(range(0, 8), 0, 'a');
    queue.retry(queue.take(0)!, 1000);
    assert.deepEqual(queue.push([8], 0, 'a'), { droppedItems: 4, droppedBatches: 1, refusedItems: 0, queuedItems: 1 });
    assert.deepEqual(queue.take(0)?.items, [4, 5, 6, 7]);
  });

  test('flush makes a partial batch ready at once; clear empties what waits', () => {
    const queue = queueOf({ maxItems: 100, batchMax: 10, delayMs: 60_000 });
    queue.push([1, 2], 0, 'a');
    assert.equal(queue.take(1), undefined);
    queue.flush();
    assert.deepEqual(queue.take(1)?.items, [1, 2]);
    queue.push([3, 4, 5], 2, 'a');
    assert.equal(queue.clear(), 3);
    assert.equal(queue.size, 2, 'the in-flight batch is still held');
  });

  test('an owner holds at most its share: the excess of its push is refused, nobody else is dropped', () => {
    const queue = queueOf({ maxItems: 10, batchMax: 4, delayMs: 0, ownerMaxItems: 6 });
    queue.push([100, 101, 102], 0, 'quiet');
    assert.deepEqual(queue.push(range(0, 9), 0, 'flood'), { droppedItems: 0, droppedBatches: 0, refusedItems: 3, queuedItems: 6 });
    assert.equal(queue.heldBy('flood'), 6);
    assert.deepEqual(queue.push([9], 0, 'flood'), { droppedItems: 0, droppedBatches: 0, refusedItems: 1, queuedItems: 0 });
    const kept: number[] = [];
    for (let batch = queue.take(0); batch; batch = queue.take(0)) {
      kept.push(...batch.items);
      queue.done(batch);
    }
    assert.deepEqual(kept, [100, 101, 102, 0, 1, 2, 3, 4, 5]);
    assert.equal(queue.heldBy('flood'), 0, 'written batches give the share back');
    assert.deepEqual(queue.push(range(0, 6), 0, 'flood'), { droppedItems: 0, droppedBatches: 0, refusedItems: 0, queuedItems: 6 });
  });

  test('an owner keeps its share while its batch is retried, and gets it back when the batch is dropped or cleared', () => {
    const queue = queueOf({ maxItems: 8, batchMax: 4, delayMs: 0, ownerMaxItems: 4 });
    queue.push(range(0, 4), 0, 'a');
    queue.retry(queue.take(0)!, 1000);
    assert.equal(queue.push([4], 0, 'a').refusedItems, 1, 'a retried batch still counts');
    queue.push(range(10, 14), 0, 'b');
    assert.deepEqual(queue.push([20], 0, 'c'), { droppedItems: 4, droppedBatches: 1, refusedItems: 0, queuedItems: 1 });
    assert.equal(queue.heldBy('a'), 0, 'the dropped batch gave its share back');
    queue.clear();
    assert.equal(queue.heldBy('b') + queue.heldBy('c'), 0);
  });

  test('a receipt is counted in every batch that holds its items, and only for the items queued', () => {
    const queue = new BatchQueue<number, string>({ maxItems: 10, batchMax: 4, delayMs: 0, ownerMaxItems: 10 });
    queue.push([0, 1], 0, 'a', 'r1');
    queue.push([2, 3, 4, 5, 6, 7], 0, 'a', 'r2');
    assert.deepEqual([...queue.take(0)!.receipts], [['r1', 2], ['r2', 2]]);
    assert.deepEqual([...queue.take(0)!.receipts], [['r2', 4]]);
    // 8 in flight: of 3 new items 2 fit.
    assert.equal(queue.push([8, 9, 10], 0, 'a', 'r3').queuedItems, 2);
    assert.deepEqual([...queue.take(0)!.receipts], [['r3', 2]]);
  });

  test('rejects limits where a batch cannot fit, or an owner share out of range', () => {
    assert.throws(() => queueOf({ maxItems: 5, batchMax: 10, delayMs: 0 }), /maxItems >= batchMax/);
    assert.throws(() => queueOf({ maxItems: 5, batchMax: 1, delayMs: 0, ownerMaxItems: 6 }), /ownerMaxItems <= maxItems/);
  });
});
