import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routeIdOf, routeKey, routeKeyOf } from '../../src/protocol/route-key.js';

test('a route key names its (modid, cmdid) and reads back, negative ids included', () => {
  for (const [modid, cmdid] of [
    [1, 1],
    [0, 0],
    [-1, 3],
    [7, -2],
    [-2147483648, 2147483647],
  ] as const) {
    const key = routeKey(modid, cmdid);
    assert.equal(key, `${modid}:${cmdid}`);
    assert.deepEqual(routeIdOf(key), { modid, cmdid });
    assert.equal(routeKeyOf({ modid, cmdid }), key);
  }
});

test('distinct routes have distinct keys', () => {
  assert.notEqual(routeKey(1, 23), routeKey(12, 3));
  assert.notEqual(routeKey(-1, 2), routeKey(1, -2));
});
