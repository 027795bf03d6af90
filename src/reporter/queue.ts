/**
 * The reporter's bounded queue of host results, cut into batches. Pure (the
 * caller passes the time), so its rules are tested without sockets or a store.
 *
 * - Results are appended to the newest batch until it holds batchMax; then a
 *   new batch starts.
 * - A batch is ready to write when it is full, when a newer batch exists,
 *   when it is delayMs old, or when the queue is flushing (shutdown).
 * - A writer take()s the oldest ready batch; it stays counted (in flight)
 *   until done() or retry(). retry() puts it back at the head, ready again
 *   after a backoff delay: the batch whose write failed is the first written
 *   once the store is back and the first dropped if the queue overflows
 *   meanwhile, and while the store is down there is one attempt per delay,
 *   not one per idle writer.
 * - The bound covers waiting and in-flight results. When new results do not
 *   fit, whole waiting batches are dropped, oldest first; if everything left
 *   is in flight, the part of the new results that does not fit is dropped.
 */

export interface Batch<T> {
  readonly items: T[];
  /** When its first item arrived. */
  readonly openedAt: number;
}

export interface QueueLimits {
  /** Items held at most, waiting and in flight together. */
  maxItems: number;
  /** Items per batch. */
  batchMax: number;
  /** How long a batch that is not full waits for more items. */
  delayMs: number;
}

export interface PushOutcome {
  /** Items lost to make room: those of dropped batches, plus new ones that did not fit. */
  droppedItems: number;
  /** Whole batches dropped. */
  droppedBatches: number;
}

export class BatchQueue<T> {
  private readonly waiting: Batch<T>[] = [];
  /** Batches put back by retry(), and when each may be tried again. */
  private readonly retryAt = new Map<Batch<T>, number>();
  private waitingItems = 0;
  private inFlightItems = 0;
  private flushing = false;

  constructor(private readonly limits: QueueLimits) {
    if (!(limits.maxItems >= limits.batchMax && limits.batchMax >= 1)) {
      throw new RangeError(`queue limits need maxItems >= batchMax >= 1, got ${limits.maxItems} and ${limits.batchMax}`);
    }
  }

  /** Items held: waiting plus in flight. */
  get size(): number {
    return this.waitingItems + this.inFlightItems;
  }

  get inFlight(): number {
    return this.inFlightItems;
  }

  get waitingBatches(): number {
    return this.waiting.length;
  }

  push(items: readonly T[], now: number): PushOutcome {
    const outcome: PushOutcome = { droppedItems: 0, droppedBatches: 0 };
    while (this.size + items.length > this.limits.maxItems && this.waiting.length > 0) {
      const dropped = this.waiting.shift()!;
      this.retryAt.delete(dropped);
      this.waitingItems -= dropped.items.length;
      outcome.droppedItems += dropped.items.length;
      outcome.droppedBatches += 1;
    }
    const room = this.limits.maxItems - this.size;
    if (items.length > room) {
      outcome.droppedItems += items.length - room;
      items = items.slice(0, room);
    }
    let index = 0;
    while (index < items.length) {
      let tail = this.waiting[this.waiting.length - 1];
      if (tail === undefined || tail.items.length >= this.limits.batchMax || this.retryAt.has(tail)) {
        tail = { items: [], openedAt: now };
        this.waiting.push(tail);
      }
      const count = Math.min(items.length - index, this.limits.batchMax - tail.items.length);
      for (let i = 0; i < count; i++) tail.items.push(items[index + i]!);
      index += count;
      this.waitingItems += count;
    }
    return outcome;
  }

  /** When the oldest batch is or becomes ready; undefined when nothing waits. */
  readyAt(): number | undefined {
    const head = this.waiting[0];
    if (head === undefined) return undefined;
    const retryAt = this.retryAt.get(head);
    if (retryAt !== undefined) return retryAt;
    if (this.flushing || this.waiting.length > 1 || head.items.length >= this.limits.batchMax) {
      return head.openedAt;
    }
    return head.openedAt + this.limits.delayMs;
  }

  /** The oldest batch if it is ready at `now`; it is in flight until done() or retry(). */
  take(now: number): Batch<T> | undefined {
    const readyAt = this.readyAt();
    if (readyAt === undefined || readyAt > now) return undefined;
    const batch = this.waiting.shift()!;
    this.retryAt.delete(batch);
    this.waitingItems -= batch.items.length;
    this.inFlightItems += batch.items.length;
    return batch;
  }

  /** The batch was written (or given up): it leaves the queue. */
  done(batch: Batch<T>): void {
    this.inFlightItems -= batch.items.length;
  }

  /** The write failed: the batch goes back to the head, to be taken again at `readyAt`. */
  retry(batch: Batch<T>, readyAt: number): void {
    this.inFlightItems -= batch.items.length;
    this.waitingItems += batch.items.length;
    this.waiting.unshift(batch);
    this.retryAt.set(batch, readyAt);
  }

  /** From now on batches are ready without waiting to fill (shutdown); a retried one still waits for its time. */
  flush(): void {
    this.flushing = true;
  }

  /** Empties the waiting batches (shutdown gave up); returns how many items went. */
  clear(): number {
    const items = this.waitingItems;
    this.waiting.length = 0;
    this.retryAt.clear();
    this.waitingItems = 0;
    return items;
  }
}
