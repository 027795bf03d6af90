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
 * - Each push names its owner (the reporter: the sending connection). An
 *   owner holds at most ownerMaxItems, waiting and in flight; what it sends
 *   beyond that is refused before anything is dropped to make room, so one
 *   owner cannot push the others' items out (docs/reporter.md, fairness).
 * - A push may carry a receipt (the reporter: the report to acknowledge);
 *   each batch tells how many of its items each receipt holds, so the
 *   caller knows when all of a receipt's items are written.
 */

export interface Batch<T, R = never> {
  readonly items: T[];
  /** When its first item arrived. */
  readonly openedAt: number;
  /** Items per owner in this batch, so its owners' holdings shrink when it leaves. */
  readonly owners: Map<string, number>;
  /** Items per receipt in this batch. */
  readonly receipts: Map<R, number>;
}

export interface QueueLimits {
  /** Items held at most, waiting and in flight together. */
  maxItems: number;
  /** Items per batch. */
  batchMax: number;
  /** How long a batch that is not full waits for more items. */
  delayMs: number;
  /** Items one owner holds at most; maxItems turns the share off (an owner may then push out its own oldest batches). */
  ownerMaxItems: number;
}

export interface PushOutcome {
  /** Items lost to make room: those of dropped batches, plus new ones that did not fit. */
  droppedItems: number;
  /** Whole batches dropped. */
  droppedBatches: number;
  /** New items refused because their owner already held its share. */
  refusedItems: number;
  /** New items queued: all of them unless some were refused or did not fit. */
  queuedItems: number;
}

export class BatchQueue<T, R = never> {
  private readonly waiting: Batch<T, R>[] = [];
  /** Batches put back by retry(), and when each may be tried again. */
  private readonly retryAt = new Map<Batch<T, R>, number>();
  /** Items held per owner, waiting and in flight. */
  private readonly held = new Map<string, number>();
  private waitingItems = 0;
  private inFlightItems = 0;
  private flushing = false;

  constructor(private readonly limits: QueueLimits) {
    if (!(limits.maxItems >= limits.batchMax && limits.batchMax >= 1)) {
      throw new RangeError(`queue limits need maxItems >= batchMax >= 1, got ${limits.maxItems} and ${limits.batchMax}`);
    }
    if (!(limits.ownerMaxItems >= 1 && limits.ownerMaxItems <= limits.maxItems)) {
      throw new RangeError(`queue limits need 1 <= ownerMaxItems <= maxItems, got ${limits.ownerMaxItems} and ${limits.maxItems}`);
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

  /** Items `owner` holds now: waiting plus in flight. */
  heldBy(owner: string): number {
    return this.held.get(owner) ?? 0;
  }

  push(items: readonly T[], now: number, owner: string, receipt?: R): PushOutcome {
    const outcome: PushOutcome = { droppedItems: 0, droppedBatches: 0, refusedItems: 0, queuedItems: 0 };
    const share = this.limits.ownerMaxItems - this.heldBy(owner);
    if (this.limits.ownerMaxItems < this.limits.maxItems && items.length > share) {
      outcome.refusedItems = items.length - share;
      items = items.slice(0, share);
    }
    while (this.size + items.length > this.limits.maxItems && this.waiting.length > 0) {
      const dropped = this.waiting.shift()!;
      this.retryAt.delete(dropped);
      this.waitingItems -= dropped.items.length;
      this.release(dropped);
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
        tail = { items: [], openedAt: now, owners: new Map(), receipts: new Map() };
        this.waiting.push(tail);
      }
      const count = Math.min(items.length - index, this.limits.batchMax - tail.items.length);
      for (let i = 0; i < count; i++) tail.items.push(items[index + i]!);
      tail.owners.set(owner, (tail.owners.get(owner) ?? 0) + count);
      if (receipt !== undefined) tail.receipts.set(receipt, (tail.receipts.get(receipt) ?? 0) + count);
      index += count;
      this.waitingItems += count;
    }
    if (items.length > 0) this.held.set(owner, this.heldBy(owner) + items.length);
    outcome.queuedItems = items.length;
    return outcome;
  }

  /** The batch leaves the queue: its owners hold that much less. */
  private release(batch: Batch<T, R>): void {
    for (const [owner, count] of batch.owners) {
      const left = this.heldBy(owner) - count;
      if (left > 0) this.held.set(owner, left);
      else this.held.delete(owner);
    }
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
  take(now: number): Batch<T, R> | undefined {
    const readyAt = this.readyAt();
    if (readyAt === undefined || readyAt > now) return undefined;
    const batch = this.waiting.shift()!;
    this.retryAt.delete(batch);
    this.waitingItems -= batch.items.length;
    this.inFlightItems += batch.items.length;
    return batch;
  }

  /** The batch was written (or given up): it leaves the queue. */
  done(batch: Batch<T, R>): void {
    this.inFlightItems -= batch.items.length;
    this.release(batch);
  }

  /** The write failed: the batch goes back to the head, to be taken again at `readyAt`. */
  retry(batch: Batch<T, R>, readyAt: number): void {
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
    for (const batch of this.waiting) this.release(batch);
    this.waiting.length = 0;
    this.retryAt.clear();
    this.waitingItems = 0;
    return items;
  }
}
