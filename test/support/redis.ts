/**
 * The Redis server tests run against: LARS_TEST_REDIS_URL (default
 * redis://127.0.0.1:6379), or `none` to leave Redis out on purpose. Like the
 * SQL engines (engines.ts), an unreachable server skips its tests with the
 * reason, except under CI=true, where it fails them.
 */
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { RespConnection, type RespValue } from '../../src/reactor/resp.js';

const URL_VAR = 'LARS_TEST_REDIS_URL';

export interface TestRedis {
  /** The server's URL with a channel of the test's own, so concurrent runs never hear each other. */
  url: string;
  channel: string;
  /** One command on a connection of its own. */
  command(args: string[]): Promise<RespValue>;
}

function serverUrl(): string {
  return process.env[URL_VAR] ?? 'redis://127.0.0.1:6379';
}

async function command(url: string, args: string[]): Promise<RespValue> {
  const { hostname, port } = new URL(url);
  const connection = await RespConnection.connect({ host: hostname || '127.0.0.1', port: Number(port || 6379), connectTimeoutMs: 2000 });
  try {
    return await connection.command(args);
  } finally {
    connection.close();
  }
}

/** The test Redis with a channel of its own when it answers PING; otherwise why not (deliberate: left out with none). */
export async function findRedis(): Promise<TestRedis | { missing: string; deliberate: boolean }> {
  const server = serverUrl();
  if (server === 'none') return { missing: `${URL_VAR}=none`, deliberate: true };
  try {
    await command(server, ['PING']);
  } catch (err) {
    return { missing: `Redis at ${server} unreachable (${(err as Error).message}; set ${URL_VAR} to another server or to none)`, deliberate: false };
  }
  const channel = `lars-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  return { url: `${server.replace(/\/$/, '')}/?channel=${channel}`, channel, command: (args) => command(server, args) };
}

/** Runs suite(redis) as describe(name) when Redis answers PING; otherwise one skipped (or, under CI=true, failing) test naming why. */
export async function describeWithRedis(name: string, suite: (redis: TestRedis) => void): Promise<void> {
  const redis = await findRedis();
  if ('url' in redis) {
    describe(name, () => suite(redis));
    return;
  }
  const { missing, deliberate } = redis;
  if (process.env.CI === 'true' && !deliberate) {
    console.log(`FAIL ${name}: ${missing}; CI=true requires it`);
    test(name, () => {
      throw new Error(`${missing}: CI must provide Redis`);
    });
  } else {
    console.log(`SKIP ${name}: ${missing}`);
    test(name, { skip: missing }, () => {});
  }
}
