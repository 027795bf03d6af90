/**
 * An intrusive circular doubly-linked list: the nodes carry their own links,
 * so taking the head and moving it to the tail, appending and removing any
 * node are all O(1) and allocate nothing. A node is in at most one list.
 */
export interface ListLinks<T> {
  prev: T | null;
  next: T | null;
}

export class RoundRobinList<T extends ListLinks<T>> {
  private head: T | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  isEmpty(): boolean {
    return this.count === 0;
  }

  pushBack(node: T): void {
    const head = this.head;
    if (head === null) {
      node.prev = node;
      node.next = node;
      this.head = node;
    } else {
      const tail = head.prev as T;
      node.prev = tail;
      node.next = head;
      tail.next = node;
      head.prev = node;
    }
    this.count++;
  }

  remove(node: T): void {
    const next = node.next as T;
    if (next === node) {
      this.head = null;
    } else {
      const prev = node.prev as T;
      prev.next = next;
      next.prev = prev;
      if (this.head === node) this.head = next;
    }
    node.prev = null;
    node.next = null;
    this.count--;
  }

  /** Returns the head and makes it the tail (in a ring that is one step forward), or null when empty. */
  rotate(): T | null {
    const head = this.head;
    if (head !== null) this.head = head.next;
    return head;
  }

  /** Head to tail; for views and tests, not the hot path. */
  toArray(): T[] {
    const nodes: T[] = [];
    for (let node = this.head, i = 0; node !== null && i < this.count; node = node.next, i++) nodes.push(node);
    return nodes;
  }
}
