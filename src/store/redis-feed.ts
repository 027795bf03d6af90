/**
 * The change feed over Redis pub/sub: one connection SUBSCRIBEd to the
 * channel (a subscribed connection can do nothing else), and one opened on
 * the first publish for PUBLISH, dropped when it fails and opened again by
 * the next publish.
 */
import { RespConnection, type RespValue } from '../reactor/resp.js';
import type { ChangeFeed } from './change-feed.js';
import { NotifySettingError } from './errors.js';
import { RemoteFeed, type FeedOptions, type Link, type LinkEvents, type Transport } from './remote-feed.js';

export const DEFAULT_REDIS_CHANNEL = 'lars:route-changes';
/** How the listening connection shows in CLIENT LIST: lars-notify-CHANNEL (a name may hold no spaces). */
export function redisListenerName(channel: string): string {
  return `lars-notify-${channel.replace(/[^\w:.-]/g, '_')}`;
}

export interface RedisLocation {
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** Several deployments on one Redis each take their own (?channel=NAME). */
  channel: string;
  /** host:port and channel, no password. */
  where: string;
}

/** redis://[USER[:PASSWORD]@]HOST[:PORT][/DB][?channel=NAME]; the database number is accepted and irrelevant (pub/sub spans them). */
export function parseRedisUrl(text: string): RedisLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new NotifySettingError('malformed Redis URL (expected redis://HOST:PORT)');
  }
  if (url.protocol !== 'redis:') throw new NotifySettingError(`${url.protocol}// is not supported: use redis://HOST:PORT (TLS to Redis is not implemented)`);
  if (!url.hostname) throw new NotifySettingError('a Redis URL needs a host, e.g. redis://127.0.0.1:6379');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : 6379;
  const channel = url.searchParams.get('channel') || DEFAULT_REDIS_CHANNEL;
  return {
    host,
    port,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    channel,
    where: `redis://${url.host} channel ${channel}`,
  };
}

/**
 * A connection that has run its set-up commands (AUTH first when the URL has
 * a password). Only a loss after that is reported: a failed set-up rejects
 * with its own error instead.
 */
async function open(location: RedisLocation, connectTimeoutMs: number, events: Pick<LinkEvents, 'lost'>, setup: string[][] = [], onPush?: (value: RespValue) => void): Promise<RespConnection> {
  let ready = false;
  const connection = await RespConnection.connect({
    host: location.host,
    port: location.port,
    connectTimeoutMs,
    onPush,
    onClose: (err) => {
      if (ready) events.lost(err);
    },
  });
  const auth = location.password === undefined ? [] : [['AUTH', ...(location.username ? [location.username] : []), location.password]];
  try {
    for (const command of [...auth, ...setup]) await connection.command(command);
  } catch (err) {
    connection.close();
    throw err;
  }
  ready = true;
  return connection;
}

function listen(location: RedisLocation, connectTimeoutMs: number, events: LinkEvents): Promise<Link> {
  const onPush = (value: RespValue) => {
    if (Array.isArray(value) && value[0] === 'message' && value[1] === location.channel) events.message(typeof value[2] === 'string' ? value[2] : '');
  };
  return open(location, connectTimeoutMs, events, [['CLIENT', 'SETNAME', redisListenerName(location.channel)], ['SUBSCRIBE', location.channel]], onPush);
}

export function redisFeed(location: RedisLocation, options: FeedOptions): ChangeFeed {
  let publisher: Promise<RespConnection> | undefined;
  /** Closes a publisher connection, and forgets it unless a newer one took its place. */
  const drop = (which: Promise<RespConnection> | undefined) => {
    if (publisher === which) publisher = undefined;
    void which?.then((connection) => connection.close(), () => undefined);
  };
  const transport: Transport = {
    name: 'redis',
    where: location.where,
    listen: (events) => listen(location, options.connectTimeoutMs, events),
    send: async (text) => {
      if (!publisher) {
        const opening: Promise<RespConnection> = open(location, options.connectTimeoutMs, { lost: () => drop(opening) });
        publisher = opening;
      }
      const using = publisher;
      try {
        await (await using).command(['PUBLISH', location.channel, text]);
      } catch (err) {
        drop(using);
        throw err;
      }
    },
    close: async () => drop(publisher),
  };
  return new RemoteFeed(transport, options.logger, options.retry, options.reason);
}
