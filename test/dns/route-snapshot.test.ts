import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteSnapshot } from '../../src/dns/route-snapshot.js';
import { routeKey } from '../../src/protocol/route-key.js';
import { Subscriptions } from '../../src/dns/subscriptions.js';
import { hexBytes } from '../support/net.js';

const host = (ip: number, port: number, weight = 1, load: number | null = null) => ({ ip, port, weight, load, source: 'static' as const });
/** The reader's routes, from [modid, cmdid, hosts, strategy?] rows. */
const routes = (...rows: [number, number, ReturnType<typeof host>[], string?][]) =>
  new Map(rows.map(([modid, cmdid, hosts, strategy]) => [routeKey(modid, cmdid), { hosts, strategy: strategy ?? null }]));

describe('RouteSnapshot', () => {
  test('encodes a route response frame byte for byte as docs/protocol.md says', () => {
    // 200.1.2.3 = 0xC8010203 unsigned; as int32 it is negative, a 10-byte varint.
    const snapshot = RouteSnapshot.fromRoutes(3, routes([1, 2, [host(0xc8010203, 80)]]));
    const expected = hexBytes(
      '02000000 13000000' + // msgid 2, body length 19
        '08 01 10 02' + // modid 1, cmdid 2
        '1a 0d 08 83 84 84 c0 fc ff ff ff ff 01 10 50', // host (13 bytes) { ip: -939458045, port: 80 }
    );
    assert.deepEqual(snapshot.responseFrame(1, 2), expected);
  });

  test('a weight other than 1 travels in HostInfo field 3; weight 1 is left out as Lars has no such field', () => {
    const snapshot = RouteSnapshot.fromRoutes(1, routes([1, 2, [host(0x0a000001, 80), host(0x0a000002, 80, 5)]]));
    const expected = hexBytes(
      '02000000 18000000' + // msgid 2, body length 24
        '08 01 10 02' +
        '1a 07 08 81 80 80 50 10 50' + // 10.0.0.1:80, weight 1: not sent
        '1a 09 08 82 80 80 50 10 50 18 05', // 10.0.0.2:80, weight 5
    );
    assert.deepEqual(snapshot.responseFrame(1, 2), expected);
  });

  test('a module that names a strategy adds field 4 after the hosts; without one the frame is as before', () => {
    const snapshot = RouteSnapshot.fromRoutes(1, routes([3, 1, [host(0x0a000001, 80)], 'least_request'], [3, 2, [host(0x0a000001, 80)]]));
    const expected = hexBytes(
      '02000000 1c000000' + // msgid 2, body length 28
        '08 03 10 01' + // modid 3, cmdid 1
        '1a 07 08 81 80 80 50 10 50' + // 10.0.0.1:80
        '22 0d 6c 65 61 73 74 5f 72 65 71 75 65 73 74', // 4: "least_request" (13 bytes)
    );
    assert.deepEqual(snapshot.responseFrame(3, 1), expected);
    assert.deepEqual(snapshot.responseFrame(3, 2), hexBytes('02000000 0d000000 08 03 10 02 1a 07 08 81 80 80 50 10 50'));
  });

  test('an unknown route is answered with an empty host list', () => {
    assert.deepEqual(RouteSnapshot.empty().responseFrame(7, 9), hexBytes('02000000 04000000 0807 1009'));
  });

  test('withRoutes replaces and removes routes without touching the original', () => {
    const before = RouteSnapshot.fromRoutes(1, routes([1, 1, [host(1, 1)]], [2, 2, [host(2, 2)]], [4, 4, [host(4, 4)]]));
    const after = before.withRoutes(2, new Map([...routes([1, 1, []], [3, 3, [host(3, 3)]]), [routeKey(4, 4), undefined]]));
    assert.equal(after.version, 2);
    assert.equal(after.get(routeKey(1, 1)), undefined);
    assert.equal(after.get(routeKey(4, 4)), undefined);
    assert.deepEqual(after.get(routeKey(3, 3))?.hosts, [host(3, 3)]);
    assert.equal(after.get(routeKey(2, 2)), before.get(routeKey(2, 2)), 'unchanged routes are shared, not copied');
    assert.deepEqual(before.get(routeKey(1, 1))?.hosts, [host(1, 1)]);
  });

  test('changedKeys names added, removed and modified routes only; a strategy alone is a modification', () => {
    const a = RouteSnapshot.fromRoutes(1, routes([1, 1, [host(1, 1)]], [2, 2, [host(2, 2)]], [4, 4, [host(4, 4)]], [5, 5, [host(5, 5)], 'lars'], [6, 6, [host(6, 6)], 'lars']));
    const b = RouteSnapshot.fromRoutes(2, routes([1, 1, [host(1, 1)]], [2, 2, [host(2, 2, 5)]], [3, 3, [host(3, 3)]], [5, 5, [host(5, 5)], 'least_request'], [6, 6, [host(6, 6)], 'lars']));
    assert.deepEqual(a.changedKeys(b).sort(), [routeKey(2, 2), routeKey(3, 3), routeKey(4, 4), routeKey(5, 5)]);
    const c = RouteSnapshot.fromRoutes(3, routes([1, 1, [host(1, 1)], 'consistent_hash']));
    assert.deepEqual(a.changedAmong(c, [routeKey(1, 1)]), [routeKey(1, 1)], 'an override set on a route whose hosts stay');
    assert.deepEqual(c.changedAmong(a, [routeKey(1, 1)]), [routeKey(1, 1)], 'and cleared');
  });
});

describe('Subscriptions', () => {
  test('tracks routes per connection and forgets a closed connection everywhere', () => {
    const subs = new Subscriptions<string>();
    subs.subscribe('a', routeKey(1, 1));
    subs.subscribe('a', routeKey(2, 2));
    subs.subscribe('b', routeKey(1, 1));
    subs.subscribe('b', routeKey(1, 1));
    assert.deepEqual([...subs.subscribers(routeKey(1, 1))].sort(), ['a', 'b']);
    assert.equal(subs.routeCount, 2);
    subs.forget('a');
    assert.deepEqual([...subs.subscribers(routeKey(1, 1))], ['b']);
    assert.equal(subs.subscribers(routeKey(2, 2)).size, 0);
    assert.equal(subs.routeCount, 1);
    assert.equal(subs.connectionCount, 1);
  });

  test('past the limit a connection forgets its oldest subscriptions to routes without hosts, and only those', () => {
    const withHosts = new Set([routeKey(1, 1)]);
    const subs = new Subscriptions<string>({ maxEmptyPerConnection: 2, hasHosts: (key) => withHosts.has(key) });
    assert.equal(subs.subscribe('a', routeKey(1, 1)), 0, 'a route with hosts never counts');
    assert.equal(subs.subscribe('a', routeKey(7, 1)), 0);
    assert.equal(subs.subscribe('a', routeKey(7, 2)), 0);
    assert.equal(subs.subscribe('b', routeKey(7, 1)), 0, 'the limit is per connection');
    assert.equal(subs.subscribe('a', routeKey(7, 1)), 0, 'asking again makes it the newest');
    assert.equal(subs.subscribe('a', routeKey(7, 3)), 1);
    assert.equal(subs.subscribers(routeKey(7, 2)).size, 0, 'the oldest empty one went');
    assert.deepEqual([...subs.subscribers(routeKey(7, 1))].sort(), ['a', 'b']);
    assert.deepEqual([...subs.subscribers(routeKey(1, 1))], ['a']);

    withHosts.add(routeKey(7, 1));
    assert.equal(subs.subscribe('a', routeKey(7, 4)), 0, 'one that got hosts since is kept, and leaves the empty count');
    assert.deepEqual([...subs.subscribers(routeKey(7, 1))].sort(), ['a', 'b']);
    assert.equal(subs.subscribe('a', routeKey(7, 5)), 1);
    assert.equal(subs.subscribers(routeKey(7, 3)).size, 0);
    assert.deepEqual([...subs.routes()].sort(), [routeKey(1, 1), routeKey(7, 1), routeKey(7, 4), routeKey(7, 5)]);
    subs.forget('a');
    assert.deepEqual([...subs.routes()], [routeKey(7, 1)]);
  });
});
