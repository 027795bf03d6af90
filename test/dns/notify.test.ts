/**
 * Edits reach agents at once (docs/dns.md, "Notification"), over a real
 * PostgreSQL (LISTEN/NOTIFY on the store's engine) and a real Redis (pub/sub,
 * here beside a SQLite store). Every dns polls only once a minute, so a push
 * that comes sooner can only have been caused by a notification: that is
 * causality, not timing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startDns, type DnsService } from '../../src/dns/service.js';
import { intToIp } from '../../src/protocol/ip.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { createLogger } from '../../src/reactor/log.js';
import type { BackoffOptions } from '../../src/reactor/backoff.js';
import { openStore, RouteAdmin, type Store } from '../../src/store/index.js';
import { POSTGRES_LISTENER_NAME } from '../../src/store/postgres-feed.js';
import { redisListenerName } from '../../src/store/redis-feed.js';
import { lars } from '../support/cli.js';
import { discoverEngines } from '../support/engines.js';
import { captureLogs, RawTcpClient, waitFor } from '../support/net.js';
import { describeWithRedis } from '../support/redis.js';
import { registerOverTcp } from '../support/registration.js';

const logs = captureLogs('info');
after(() => logs.restore());

/** Only a notification (or a reconnection's catch-up) can explain a push sooner than this. */
const QUIET = { poll_interval_ms: 60_000, full_reload_interval_s: 3600 };
const FAST_RETRY: BackoffOptions = { initialMs: 50, maxMs: 200 };
/** Pinned jitter: the first retry comes after 59.4 s, so the link stays down for the whole test. */
const NO_RETRY: BackoffOptions = { initialMs: 60_000, maxMs: 60_000, random: () => 0.99 };
const MODULE = { modid: 7, cmdid: 1 };

interface Transport {
  /** The store every dns and editor of the suite shares. */
  storeUrl: string;
  /** What --notify says. */
  setting: string;
  /** Kills the listening links from the server's side; resolves with how many it killed. */
  kill(): Promise<number>;
  /** Puts a message on the channel that is not ours. */
  garbage(text: string): Promise<void>;
}

const hostsOf = (message: { host: { ip: number; port: number }[] }) => message.host.map((h) => `${intToIp(h.ip)}:${h.port}`).sort();

/** A client subscribed to MODULE, its first answer taken. */
async function subscribe(dns: DnsService): Promise<RawTcpClient> {
  const client = await RawTcpClient.connect(dns.address!.port);
  client.send(MsgId.GetRouteRequest, MODULE);
  await client.nextMessage(MsgId.GetRouteResponse);
  return client;
}

/** Reads pushes until one carries exactly these hosts. */
async function pushedUntil(client: RawTcpClient, hosts: string[]): Promise<void> {
  for (;;) {
    const pushed = hostsOf(await client.nextMessage(MsgId.GetRouteResponse, { message: `a push of ${hosts.join(', ')}` }));
    if (JSON.stringify(pushed) === JSON.stringify([...hosts].sort())) return;
  }
}

/** The same scenarios for every remote transport. */
function remoteFeedTests(transport: () => Transport): void {
  const stores: Store[] = [];
  const services: DnsService[] = [];
  const clients: RawTcpClient[] = [];
  let admin: RouteAdmin;
  let first: DnsService;
  let second: DnsService;
  const hosts: string[] = [];

  const open = async (retry: BackoffOptions = FAST_RETRY) => {
    const store = await openStore(transport().storeUrl, { notify: { setting: transport().setting, logger: createLogger('store'), retry } });
    stores.push(store);
    return store;
  };
  const dnsOn = async (store: Store, dns: Partial<typeof QUIET> = {}) => {
    const service = await startDns({ store, host: '127.0.0.1', port: 0, dns: { ...QUIET, ...dns } });
    services.push(service);
    await waitFor(() => service.health().notifyLive, { message: 'the dns to listen for notifications' });
    return service;
  };
  const client = async (dns: DnsService) => {
    const c = await subscribe(dns);
    clients.push(c);
    return c;
  };
  const addHost = async (ip: string) => {
    await admin.addHost({ ...MODULE, ip, port: 80 });
    hosts.push(`${ip}:80`);
  };

  before(async () => {
    admin = new RouteAdmin(await open());
    await admin.addModule(MODULE);
    first = await dnsOn(await open());
    second = await dnsOn(await open());
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(services.map((s) => s.close()));
    await Promise.all(stores.map((s) => s.close()));
  });

  test('an edit through RouteAdmin reaches every dns on the store without waiting for a poll', async () => {
    const [a, b] = [await client(first), await client(second)];
    await addHost('10.0.0.1');
    await pushedUntil(a, hosts);
    await pushedUntil(b, hosts);
  });

  test('an edit by lars route in another process reaches them too', async () => {
    const a = await client(first);
    const run = await lars(['route', 'add', '7', '1', '10.0.0.2', '80', '--store', transport().storeUrl, '--notify', transport().setting]);
    assert.equal(run.code, 0, run.stderr);
    hosts.push('10.0.0.2:80');
    await pushedUntil(a, hosts);
  });

  test('a server that registers with one dns is pushed by the other at once', async () => {
    const b = await client(second);
    const server = await registerOverTcp(first.address!.port, { ...MODULE, ip: '10.0.0.9', port: 80, ttlMs: 60_000 });
    clients.push(server.client);
    hosts.push('10.0.0.9:80');
    await pushedUntil(b, hosts);
  });

  test('a message that is not ours is ignored with one log line per dns, and the next edit still arrives', async () => {
    const since = logs.since();
    const a = await client(first);
    await transport().garbage('hello from someone else');
    await transport().garbage('lars route_version=not-a-number');
    await waitFor(() => since.matching('notify_message_ignored').length >= 2, { message: 'both dns to log the message' });
    await addHost('10.0.0.3');
    await pushedUntil(a, hosts);
    assert.equal(since.matching('notify_message_ignored').length, 2, 'the second message of each dns is held back by the rate limit');
    assert.ok(first.health().notifyLive && second.health().notifyLive);
  });

  test('a killed link: edits arrive by the poll while it is down, and at once again when it came back by itself', async () => {
    // One dns that polls often and will not reconnect within the test, beside the quiet ones.
    const polling = await dnsOn(await open(NO_RETRY), { poll_interval_ms: 200 });
    const [p, a] = [await client(polling), await client(first)];
    const since = logs.since();
    assert.equal(await transport().kill(), 3, 'the three dns each listen on one link');
    await waitFor(() => !polling.health().notifyLive, { message: 'the polling dns to see its link gone' });
    await addHost('10.0.0.4');
    await pushedUntil(p, hosts);
    assert.equal(polling.health().notifyLive, false, 'its link is still down: the poll carried the edit');

    await waitFor(() => first.health().notifyLive && second.health().notifyLive, { message: 'the quiet dns to reconnect' });
    // The edit made while a link was down arrives with the reconnection (or its notification), never later than that.
    await pushedUntil(a, hosts);
    await addHost('10.0.0.5');
    await pushedUntil(a, hosts);
    assert.equal(since.matching('notify_lost').length, 3, 'each lost link is logged once');
    assert.equal(since.matching('notify_restored').length, 2);
  });
}

const { available, skipped } = await discoverEngines();
const postgres = available.find((e) => e.name === 'postgres');
if (postgres) {
  describe('notify over PostgreSQL LISTEN/NOTIFY', () => {
    let database: Awaited<ReturnType<typeof postgres.createDatabase>>;
    const onDatabase = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        return await work(client);
      } finally {
        await client.end();
      }
    };
    before(async () => {
      database = await postgres.createDatabase();
    });
    after(() => database.drop());
    remoteFeedTests(() => ({
      storeUrl: database.url,
      setting: 'postgres',
      kill: () =>
        onDatabase(async (client) => {
          const killed = await client.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()', [POSTGRES_LISTENER_NAME]);
          return killed.rowCount ?? 0;
        }),
      garbage: (text) => onDatabase(async (client) => void (await client.query('select pg_notify($1, $2)', ['lars_route_changes', text]))),
    }));
  });
} else {
  const reason = skipped.find((s) => s.name === 'postgres')!;
  if (process.env.CI === 'true' && !reason.deliberate) {
    test('notify over PostgreSQL LISTEN/NOTIFY', () => {
      throw new Error(`PostgreSQL: ${reason.reason}; CI=true requires it`);
    });
  } else test('notify over PostgreSQL LISTEN/NOTIFY', { skip: reason.reason }, () => {});
}

await describeWithRedis('notify over Redis pub/sub (SQLite store)', (redis) => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lars-notify-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  remoteFeedTests(() => ({
    storeUrl: `sqlite:${join(dir, 'lars.db')}`,
    setting: redis.url,
    kill: async () => {
      const list = String(await redis.command(['CLIENT', 'LIST', 'TYPE', 'pubsub']));
      const ours = [...list.matchAll(/^id=(\d+) .*\bname=(\S*)/gm)].filter((m) => m[2] === redisListenerName(redis.channel)).map((m) => m[1]!);
      for (const id of ours) await redis.command(['CLIENT', 'KILL', 'ID', id]);
      return ours.length;
    },
    garbage: async (text) => void (await redis.command(['PUBLISH', redis.channel, text])),
  }));
});
