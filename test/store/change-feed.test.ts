/** The change feed's pure parts: which transport is chosen and why, the message on the channel, publishing in bursts, in-process delivery. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changeMessage, chooseChangeFeed, InProcessFeed, parseChangeMessage, PublishQueue } from '../../src/store/change-feed.js';
import { NotifySettingError } from '../../src/store/errors.js';
import { parseRedisUrl } from '../../src/store/redis-feed.js';
import { createLogger } from '../../src/reactor/log.js';

test('the transport: an explicit setting wins, then the store engine, then in-process under one process, else none', () => {
  const pick = (setting: string | undefined, kind: 'sqlite' | 'mysql' | 'postgres', one = false) => chooseChangeFeed(setting, kind, one).transport;
  assert.equal(pick(undefined, 'postgres'), 'postgres');
  assert.equal(pick('', 'postgres', true), 'postgres', 'lars up on PostgreSQL: other processes editing the store are heard too');
  assert.equal(pick('auto', 'sqlite', true), 'in-process');
  assert.equal(pick(undefined, 'mysql'), 'none');
  assert.equal(pick('redis://127.0.0.1:6379', 'mysql'), 'redis');
  assert.equal(pick('redis://10.0.0.1', 'postgres', true), 'redis');
  assert.equal(pick('off', 'postgres', true), 'none');
  assert.equal(pick('in-process', 'mysql'), 'in-process');
  assert.match(chooseChangeFeed(undefined, 'mysql', false).reason, /cannot notify.*next poll/);
  assert.throws(() => chooseChangeFeed('postgres', 'sqlite', false), NotifySettingError);
  assert.throws(() => chooseChangeFeed('kafka://x', 'sqlite', false), NotifySettingError);
});

test('Redis URLs: host, port, credentials and channel; TLS and nonsense are refused by class', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380'), { host: '127.0.0.1', port: 6380, username: undefined, password: undefined, channel: 'lars:route-changes', where: 'redis://127.0.0.1:6380 channel lars:route-changes' });
  const withAuth = parseRedisUrl('redis://lars:s%40cret@cache.internal/2?channel=prod');
  assert.deepEqual([withAuth.host, withAuth.port, withAuth.username, withAuth.password, withAuth.channel], ['cache.internal', 6379, 'lars', 's@cret', 'prod']);
  assert.ok(!withAuth.where.includes('cret'), 'no password in what is logged');
  assert.throws(() => parseRedisUrl('rediss://cache:6380'), NotifySettingError);
  assert.throws(() => parseRedisUrl('redis://'), NotifySettingError);
});

test('the message carries the version, and anything else is recognised as not ours', () => {
  assert.equal(parseChangeMessage(changeMessage(42)), 42);
  for (const text of ['', '42', 'lars route_version=', 'lars route_version=4x', 'lars route_version=1 extra', 'lars route_version=1234567890123456', '\u0000\u00ff']) {
    assert.equal(parseChangeMessage(text), undefined, JSON.stringify(text));
  }
});

test('publishes go one at a time; versions offered meanwhile go out as one message with the newest', async () => {
  const sent: number[] = [];
  let release!: () => void;
  const queue = new PublishQueue(
    (version) => {
      sent.push(version);
      return sent.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
    },
    () => assert.fail('nothing fails here'),
  );
  queue.offer(1);
  queue.offer(3);
  queue.offer(2);
  queue.offer(5);
  release();
  await queue.drained();
  assert.deepEqual(sent, [1, 5]);
});

test('a failed publish is reported and the next one still goes out', async () => {
  const failures: unknown[] = [];
  const sent: number[] = [];
  const queue = new PublishQueue(async (version) => {
    if (version === 1) throw new Error('link down');
    sent.push(version);
  }, (err) => failures.push(err));
  queue.offer(1);
  await queue.drained();
  queue.offer(2);
  await queue.drained();
  assert.deepEqual([failures.length, sent], [1, [2]]);
});

test('in-process: every subscriber hears each publish after the publisher returned; an unsubscribed one no longer does', async () => {
  const feed = new InProcessFeed(createLogger('test'), 'test');
  const heard: [string, number | undefined][] = [];
  const stopA = feed.subscribe((v) => heard.push(['a', v]));
  feed.subscribe((v) => heard.push(['b', v]));
  feed.publish(7);
  assert.deepEqual(heard, [], 'not inside the editor\'s call');
  await Promise.resolve();
  stopA();
  feed.publish(8);
  await Promise.resolve();
  assert.deepEqual(heard, [['a', 7], ['b', 7], ['b', 8]]);
});
