import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobinList, type ListLinks } from '../../src/balancer/round-robin-list.js';

class Node implements ListLinks<Node> {
  prev: Node | null = null;
  next: Node | null = null;
  constructor(readonly name: string) {}
}

const names = (list: RoundRobinList<Node>) => list.toArray().map((n) => n.name);

test('round-robin list: rotate takes the head to the tail; remove works at head, middle, tail and on the last node', () => {
  const list = new RoundRobinList<Node>();
  assert.equal(list.rotate(), null);
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => new Node(n)) as [Node, Node, Node, Node];
  for (const n of [a, b, c, d]) list.pushBack(n);
  assert.equal(list.rotate(), a);
  assert.deepEqual(names(list), ['b', 'c', 'd', 'a']);
  list.remove(b);
  assert.deepEqual(names(list), ['c', 'd', 'a']);
  list.remove(d);
  assert.deepEqual(names(list), ['c', 'a']);
  list.remove(a);
  assert.deepEqual(names(list), ['c']);
  assert.equal(list.rotate(), c);
  assert.equal(list.rotate(), c);
  list.remove(c);
  assert.equal(list.isEmpty(), true);
  assert.equal(list.size, 0);
  assert.deepEqual([c.prev, c.next], [null, null], 'a removed node is unlinked and can join another list');
  list.pushBack(b);
  assert.deepEqual(names(list), ['b']);
});
