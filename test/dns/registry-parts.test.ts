/**
 * The registry's pure parts (docs/registry.md) with the clock passed in:
 * leases, the per-peer quota, dns liveness, the load-push throttle.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseTable } from '../../src/dns/leases.js';
import { NodeLiveness } from '../../src/dns/node-liveness.js';
import { PeerQuota } from '../../src/reactor/peer-quota.js';
import { PushThrottle } from '../../src/dns/push-throttle.js';
import { routeKey } from '../../src/protocol/route-key.js';

const key = (port: number) => ({ modid: 1, cmdid: 2, ip: 0x7f000001, port });
const load = (score: number) => ({ inFlight: 0, connections: 0, cpuPermille: 0, score });

describe('LeaseTable', () => {
  test('a lease lives while renewed within its TTL and is taken once expired', () => {
    const leases = new LeaseTable<string>({ closeGraceMs: 100, random: () => 0.5 });
    const lease = leases.grant(key(1), 1000, 'conn', 'peer', 0);
    assert.equal(leases.find(lease.id, key(1)), lease);
    assert.equal(leases.find(lease.id, key(2)), undefined, 'the id alone does not renew another instance');
    leases.renew(lease, 'conn', null, 900);
    assert.deepEqual(leases.takeExpired(1899), []);
    assert.deepEqual(leases.takeExpired(1900), [lease]);
    assert.equal(leases.size, 0);
    assert.equal(leases.heldBy('peer'), 0);
  });

  test('a closed connection ends its leases after the grace unless renewed on another', () => {
    const leases = new LeaseTable<string>({ closeGraceMs: 100 });
    const kept = leases.grant(key(1), 10_000, 'a', 'peer', 0);
    const lost = leases.grant(key(2), 10_000, 'a', 'peer', 0);
    const other = leases.grant(key(3), 10_000, 'b', 'peer', 0);
    leases.connectionClosed('a', 50);
    leases.renew(kept, 'c', null, 100);
    assert.deepEqual(leases.takeExpired(150), [lost]);
    assert.equal(kept.deadline, 10_100);
    assert.equal(other.deadline, 10_000, "another connection's lease is untouched");
  });

  test('a held lease does not expire until confirmed, and its TTL runs from the confirmation', () => {
    const leases = new LeaseTable<string>({ closeGraceMs: 100 });
    const lease = leases.grant(key(1), 1000, 'a', 'peer', 0);
    leases.hold(lease);
    assert.deepEqual(leases.takeExpired(60_000), []);
    leases.confirm(lease, 60_000);
    assert.equal(lease.deadline, 61_000);
    const closed = leases.grant(key(2), 1000, 'b', 'peer', 0);
    leases.hold(closed);
    leases.connectionClosed('b', 10);
    leases.confirm(closed, 500);
    assert.equal(closed.deadline, 110, 'a close while held keeps its grace');
  });

  test('registering an instance again replaces its lease; ids are never reused while held', () => {
    const leases = new LeaseTable<string>({ closeGraceMs: 0, random: () => 0.999999999 });
    const first = leases.grant(key(1), 1000, 'a', 'peer', 0);
    const second = leases.grant(key(1), 1000, 'b', 'peer', 0);
    assert.notEqual(first.id, second.id);
    assert.equal(leases.find(first.id, key(1)), undefined);
    assert.equal(leases.ofInstance(key(1)), second);
    assert.equal(leases.heldBy('peer'), 1);
    assert.ok(second.id >= 1 && second.id <= 0xffffffff, 'ids wrap within uint32, skipping 0');
  });

  test('loads are written when the score moved by load_delta, and the heartbeat alone when it is stale', () => {
    const leases = new LeaseTable<string>({ closeGraceMs: 0 });
    const lease = leases.grant(key(1), 1000, 'a', 'peer', 0);
    const policy = { delta: 50, heartbeatStoreMs: 10_000 };
    assert.deepEqual(leases.takeLoadWrites(100, policy), [], 'no load reported, heartbeat fresh');
    leases.renew(lease, 'a', load(300), 200);
    assert.deepEqual(leases.takeLoadWrites(300, policy), [{ key: key(1), load: load(300) }]);
    leases.renew(lease, 'a', load(340), 400);
    assert.deepEqual(leases.takeLoadWrites(500, policy), [], '40 < delta');
    leases.renew(lease, 'a', load(350), 600);
    assert.deepEqual(leases.takeLoadWrites(700, policy), [{ key: key(1), load: load(350) }], 'measured from the score written, not the last one seen');
    assert.deepEqual(leases.takeLoadWrites(10_700, policy), [{ key: key(1), load: null }], 'heartbeat refresh without a load');
  });
});

describe('PeerQuota', () => {
  test('a burst of twice the rate, then the rate', () => {
    const quota = new PeerQuota(10);
    const taken = Array.from({ length: 25 }, () => quota.take('a', 0)).filter(Boolean).length;
    assert.equal(taken, 20);
    assert.equal(quota.take('b', 0), true, 'another peer has its own bucket');
    assert.equal(quota.take('a', 99), false);
    assert.equal(quota.take('a', 100), true, 'one token back per 100 ms');
  });

  test('buckets that are full again are forgotten', () => {
    const quota = new PeerQuota(10);
    quota.take('a', 0);
    quota.take('b', 0);
    quota.take('c', 5000);
    assert.equal(quota.peers, 1);
  });
});

describe('NodeLiveness', () => {
  const node = (nodeId: string, beats: number) => ({ nodeId, address: 'x', beats, heartbeatAt: 0 });

  test('a node is dead once its beats stopped changing for the timeout, on our clock; never ourselves', () => {
    const liveness = new NodeLiveness('me', 1000);
    assert.deepEqual(liveness.observe([node('me', 1), node('a', 1), node('b', 1)], 0), []);
    assert.deepEqual(liveness.observe([node('me', 1), node('a', 2), node('b', 1)], 900), []);
    assert.deepEqual(liveness.observe([node('me', 1), node('a', 2), node('b', 1)], 1000).map((n) => n.nodeId), ['b']);
    assert.deepEqual(liveness.observe([node('me', 1), node('a', 2)], 1900).map((n) => n.nodeId), ['a']);
  });

  test('a node first seen gets the whole timeout from then', () => {
    const liveness = new NodeLiveness('me', 1000);
    assert.deepEqual(liveness.observe([node('old', 7)], 5000), []);
    assert.deepEqual(liveness.observe([node('old', 7)], 5999), []);
    assert.deepEqual(liveness.observe([node('old', 7)], 6000).length, 1);
  });
});

describe('PushThrottle', () => {
  const r1 = routeKey(1, 1);
  const r2 = routeKey(2, 1);

  test('one load push per route per interval; the rest wait and come due together', () => {
    const throttle = new PushThrottle(1000);
    assert.equal(throttle.offer(r1, 0), true);
    assert.equal(throttle.offer(r1, 10), false);
    assert.equal(throttle.offer(r1, 20), false);
    assert.equal(throttle.offer(r2, 20), true, 'routes are throttled apart');
    assert.equal(throttle.nextDueAt(), 1000);
    assert.deepEqual(throttle.due(999), []);
    assert.deepEqual(throttle.due(1000), [r1]);
    assert.equal(throttle.nextDueAt(), undefined);
  });

  test('a membership push takes a waiting load change with it', () => {
    const throttle = new PushThrottle(1000);
    throttle.offer(r1, 0);
    throttle.offer(r1, 10);
    throttle.pushed(r1, 500);
    assert.equal(throttle.nextDueAt(), undefined);
    assert.equal(throttle.offer(r1, 1000), false, 'the interval counts from the membership push');
    assert.equal(throttle.offer(r1, 1500), true);
  });
});
