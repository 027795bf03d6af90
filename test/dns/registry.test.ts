/**
 * Self-registration through the real dns (docs/registry.md) on every
 * reachable engine: raw TCP clients play the servers (ids 102-105) and the
 * agents (GetRouteRequest, pushes), so only the wire format is assumed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { intToIp, ipToInt32 } from '../../src/protocol/ip.js';
import type { DecodedGetRouteResponse, RegisterRequest } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RegistryStatus, registryStatusName } from '../../src/protocol/registry-status.js';
import { InstanceRegistry, RouteAdmin, type Store } from '../../src/store/index.js';
import { forEachEngine } from '../support/engines.js';
import { captureLogs, RawTcpClient } from '../support/net.js';
import { ServerLink } from '../support/registration.js';
import { startDnsHere, type LocalService } from '../support/services.js';
import type { DnsService } from '../../src/dns/service.js';

const logs = captureLogs('info');
after(() => logs.restore());

/** Fast timers, so each case takes well under a second of waiting. */
const FAST = ['dns.poll_interval_ms=50', 'registry.load_flush_ms=50', 'registry.sweep_interval_ms=20', 'registry.node_heartbeat_ms=50'];

/** An agent's view: asks for the route and keeps the latest answer or push. */
class Subscriber {
  latest: DecodedGetRouteResponse | undefined;
  private constructor(private readonly client: RawTcpClient) {}

  static async open(port: number, modid: number, cmdid: number): Promise<Subscriber> {
    const subscriber = new Subscriber(await RawTcpClient.connect(port));
    subscriber.client.send(MsgId.GetRouteRequest, { modid, cmdid });
    await subscriber.next();
    return subscriber;
  }

  /** Frames received so far: every push counts one. */
  get frames(): number {
    return this.client.frames.length;
  }

  async next(): Promise<DecodedGetRouteResponse> {
    this.latest = (await this.client.nextMessage(MsgId.GetRouteResponse, { timeoutMs: 10_000 })) as DecodedGetRouteResponse;
    return this.latest;
  }

  /** Takes pushes until the route's hosts are `hosts` ("ip:port" or "ip:port load N"). */
  async until(hosts: string[]): Promise<void> {
    while (JSON.stringify(describe(this.latest)) !== JSON.stringify(hosts)) await this.next();
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function describe(route: DecodedGetRouteResponse | undefined): string[] {
  return (route?.host ?? []).map((h) => `${intToIp(h.ip)}:${h.port}${h.load === null ? '' : ` load ${h.load}`}${h.weight === 1 ? '' : ` weight ${h.weight}`}`);
}

const LOOPBACK = ipToInt32('127.0.0.1');

await forEachEngine('dns registry', (store: Store) => {
  const admin = new RouteAdmin(store);
  const registry = new InstanceRegistry(store);
  const opened: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(thing: T): T => {
    opened.push(thing);
    return thing;
  };
  const startDns = async (set: string[] = []): Promise<LocalService<DnsService>> => {
    const dns = await startDnsHere({ store, set: [...FAST, ...set] });
    opened.push({ close: () => dns.stop() });
    return dns;
  };
  let nextModid = 100;
  const newModule = async () => {
    const modid = nextModid++;
    await admin.addModule({ modid, cmdid: 1 });
    return modid;
  };
  after(async () => {
    for (const thing of opened.reverse()) await thing.close();
  });

  test('a registered instance is an ordinary host to subscribers; ip 0 registers the peer; its load is pushed; deregistering removes it', async () => {
    const modid = await newModule();
    await admin.addHost({ modid, cmdid: 1, ip: '10.0.0.1', port: 80 });
    const dns = await startDns();
    const agent = track(await Subscriber.open(dns.port, modid, 1));
    assert.deepEqual(describe(agent.latest), ['10.0.0.1:80']);
    const server = track(await ServerLink.open(dns.port));
    const reply = await server.register({ modid, cmdid: 1, ip: 0, port: 9001, weight: 3, ttlMs: 2000, metadata: { zone: 'a' } });
    assert.equal(registryStatusName(reply.status), 'OK', reply.reason);
    assert.equal(reply.ip, LOOPBACK, 'ip 0: the address dns saw');
    assert.equal(reply.ttlMs, 2000);
    assert.ok(reply.lease > 0);
    await agent.until(['10.0.0.1:80', '127.0.0.1:9001 weight 3']);
    const instance = { modid, cmdid: 1, ip: LOOPBACK, port: 9001 };
    const renewed = await server.renew(reply.lease, instance, { inFlight: 2, connections: 1, cpuPermille: 150, score: 420 });
    assert.equal(renewed.status, RegistryStatus.OK);
    await agent.until(['10.0.0.1:80', '127.0.0.1:9001 load 420 weight 3']);
    const [listed] = (await registry.list({ modid, cmdid: 1 })).instances;
    assert.deepEqual(
      { ip: listed!.ip, port: listed!.port, weight: listed!.weight, ttl: listed!.ttl, metadata: listed!.metadata, load: listed!.load, owner: listed!.owner },
      { ip: '127.0.0.1', port: 9001, weight: 3, ttl: 2, metadata: { zone: 'a' }, load: { inFlight: 2, connections: 1, cpuPermille: 150, score: 420 }, owner: dns.service.health().node },
    );
    assert.equal((await server.deregister(reply.lease, instance)).status, RegistryStatus.OK);
    await agent.until(['10.0.0.1:80']);
    assert.equal((await server.renew(reply.lease, instance)).status, RegistryStatus.UNKNOWN_LEASE, 'a returned lease is gone');
    assert.deepEqual((await registry.list({ modid, cmdid: 1 })).instances, []);
    const actions = (await new (await import('../../src/store/index.js')).ChangeLog(store).list({ limit: 2 })).changes.map((c) => c.action);
    assert.deepEqual(actions, ['deregister', 'register'], 'coming and going are in the change log; the load is not');
  });

  test('a load change smaller than load_delta is not written or pushed', async () => {
    const modid = await newModule();
    const dns = await startDns(['registry.load_delta=100']);
    const agent = track(await Subscriber.open(dns.port, modid, 1));
    const server = track(await ServerLink.open(dns.port));
    const instance = { modid, cmdid: 1, ip: LOOPBACK, port: 9002 };
    const { lease } = await server.register({ ...instance, ttlMs: 5000 });
    await server.renew(lease, instance, { inFlight: 0, connections: 0, cpuPermille: 0, score: 300 });
    await agent.until(['127.0.0.1:9002 load 300']);
    const pushed = agent.frames;
    await server.renew(lease, instance, { inFlight: 0, connections: 0, cpuPermille: 0, score: 350 });
    await server.renew(lease, instance, { inFlight: 0, connections: 0, cpuPermille: 0, score: 500 });
    await agent.until(['127.0.0.1:9002 load 500']);
    assert.equal(agent.frames, pushed + 1, '350 was within load_delta of 300: only 500 was pushed');
  });

  test('a server whose connection closes leaves after close_grace_ms; one that stops renewing leaves after its TTL', async () => {
    const modid = await newModule();
    const dns = await startDns(['registry.close_grace_ms=100', 'registry.min_ttl_ms=200']);
    const agent = track(await Subscriber.open(dns.port, modid, 1));
    const killed = await ServerLink.open(dns.port);
    const silent = track(await ServerLink.open(dns.port));
    await killed.register({ modid, cmdid: 1, ip: 0, port: 9003, ttlMs: 60_000 });
    await silent.register({ modid, cmdid: 1, ip: 0, port: 9004, ttlMs: 300 });
    await agent.until(['127.0.0.1:9003', '127.0.0.1:9004']);
    await agent.until(['127.0.0.1:9003']);
    await dns.waitForLine(/lease_expired .*instance=127\.0\.0\.1:9004 why=ttl/);
    await killed.close();
    await agent.until([]);
    await dns.waitForLine(/lease_expired .*instance=127\.0\.0\.1:9003 why=closed/);
    assert.deepEqual((await registry.list({ modid, cmdid: 1 })).instances, []);
  });

  test('a renewal on a new connection within the grace keeps the lease', async () => {
    const modid = await newModule();
    const dns = await startDns(['registry.close_grace_ms=300']);
    const agent = track(await Subscriber.open(dns.port, modid, 1));
    const first = await ServerLink.open(dns.port);
    const instance = { modid, cmdid: 1, ip: LOOPBACK, port: 9005 };
    const { lease } = await first.register({ ...instance, ttlMs: 60_000 });
    await agent.until(['127.0.0.1:9005']);
    await first.close();
    const second = track(await ServerLink.open(dns.port));
    assert.equal((await second.renew(lease, instance)).status, RegistryStatus.OK);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(dns.service.health().leases, 1, 'renewed on the new connection: not expired');
    assert.deepEqual(describe(agent.latest), ['127.0.0.1:9005']);
  });

  test('two dns instances on one store: registered through one, pushed by the other; expiry too', async () => {
    const modid = await newModule();
    const a = await startDns();
    const b = await startDns();
    const agentOfB = track(await Subscriber.open(b.port, modid, 1));
    const server = await ServerLink.open(a.port);
    await server.register({ modid, cmdid: 1, ip: 0, port: 9006, ttlMs: 60_000 });
    await agentOfB.until(['127.0.0.1:9006']);
    await server.close();
    await agentOfB.until([]);
  });

  test("a dns that dies: its instances stay while their servers move to another dns (no push), the rest expire after node_timeout_ms", async () => {
    const modid = await newModule();
    const dying = await startDnsHere({ store, set: FAST });
    const survivor = await startDns(['registry.node_timeout_ms=400']);
    const agent = track(await Subscriber.open(survivor.port, modid, 1));
    const moving = track(await ServerLink.open(dying.port));
    const stranded = track(await ServerLink.open(dying.port));
    const movingInstance = { modid, cmdid: 1, ip: LOOPBACK, port: 9007 };
    await moving.register({ ...movingInstance, ttlMs: 60_000 });
    await stranded.register({ modid, cmdid: 1, ip: 0, port: 9008, ttlMs: 60_000 });
    await agent.until(['127.0.0.1:9007', '127.0.0.1:9008']);
    const before = agent.frames;
    await dying.stop();
    const moved = track(await ServerLink.open(survivor.port));
    assert.equal((await moved.renew(1, movingInstance)).status, RegistryStatus.UNKNOWN_LEASE, 'the survivor never granted that lease');
    assert.equal((await moved.register({ ...movingInstance, ttlMs: 60_000 })).status, RegistryStatus.OK);
    await agent.until(['127.0.0.1:9007']);
    assert.equal(agent.frames, before + 1, 'one push: the stranded instance leaving; the moved one never flapped');
    await survivor.waitForLine(/dns_node_dead .*instancesExpired=1/);
    const owners = (await registry.list({ modid, cmdid: 1 })).instances.map((i) => [i.port, i.owner]);
    assert.deepEqual(owners, [[9007, survivor.service.health().node]]);
  });

  test('an operator weight on an instance (drain) holds across its re-registration, and undrain restores its own', async () => {
    const modid = await newModule();
    const dns = await startDns();
    const agent = track(await Subscriber.open(dns.port, modid, 1));
    const server = await ServerLink.open(dns.port);
    await server.register({ modid, cmdid: 1, ip: 0, port: 9009, weight: 2, ttlMs: 60_000 });
    await agent.until(['127.0.0.1:9009 weight 2']);
    await admin.setInstanceWeight({ modid, cmdid: 1, ip: '127.0.0.1', port: 9009, weight: 0 });
    await agent.until(['127.0.0.1:9009 weight 0']);
    await server.close();
    await agent.until([]);
    const again = track(await ServerLink.open(dns.port));
    await again.register({ modid, cmdid: 1, ip: 0, port: 9009, weight: 2, ttlMs: 60_000 });
    await agent.until(['127.0.0.1:9009 weight 0']);
    await admin.clearInstanceWeight({ modid, cmdid: 1, ip: '127.0.0.1', port: 9009 });
    await agent.until(['127.0.0.1:9009 weight 2']);
  });

  test('a configured host wins over an instance registered at the same ip:port', async () => {
    const modid = await newModule();
    await admin.addHost({ modid, cmdid: 1, ip: '127.0.0.1', port: 9010, weight: 5 });
    const dns = await startDns();
    const agent = track(await Subscriber.open(dns.port, modid, 1));
    const server = track(await ServerLink.open(dns.port));
    const instance = { modid, cmdid: 1, ip: LOOPBACK, port: 9010 };
    const { lease } = await server.register({ ...instance, ttlMs: 60_000 });
    await server.renew(lease, instance, { inFlight: 0, connections: 0, cpuPermille: 0, score: 900 });
    await dns.service.syncNow();
    assert.deepEqual(describe(agent.latest), ['127.0.0.1:9010 weight 5'], 'one host, the configured one, without the load');
  });

  test('bad registrations get a clear reply and a log line, and change nothing', async () => {
    const modid = await newModule();
    const dns = await startDns(['registry.registrations_per_second=3', 'registry.max_instances_per_peer=5']);
    const server = track(await ServerLink.open(dns.port));
    const refused = async (request: Omit<RegisterRequest, 'seq'>, status: RegistryStatus, reason: RegExp) => {
      const reply = await server.register(request);
      assert.equal(registryStatusName(reply.status), registryStatusName(status), reply.reason);
      assert.match(reply.reason, reason);
      assert.equal(reply.lease, 0);
    };
    await refused({ modid: 999_999, cmdid: 1, ip: 0, port: 9100 }, RegistryStatus.NO_MODULE, /module 999999:1 does not exist/);
    await refused({ modid, cmdid: 1, ip: 0, port: 0 }, RegistryStatus.BAD_ADDRESS, /port must be between 1 and 65535/);
    await refused({ modid, cmdid: 1, ip: ipToInt32('255.255.255.255'), port: 80 }, RegistryStatus.BAD_ADDRESS, /cannot be an instance's address/);
    await refused({ modid, cmdid: 1, ip: ipToInt32('0.0.0.1'), port: 80 }, RegistryStatus.BAD_ADDRESS, /cannot be an instance's address/);
    await refused({ modid, cmdid: 1, ip: 0, port: 80, ttlMs: 50 }, RegistryStatus.BAD_TTL, /ttl_ms must be between 1000 and 300000, got 50/);
    await refused({ modid, cmdid: 1, ip: 0, port: 80, weight: 5000 }, RegistryStatus.BAD_REQUEST, /weight must be between 0 and 1000/);
    await refused({ modid, cmdid: 1, ip: 0, port: 80, metadata: { k: 'v'.repeat(300) } }, RegistryStatus.BAD_REQUEST, /over 256 characters/);
    const stranger = { modid, cmdid: 1, ip: LOOPBACK, port: 80 };
    assert.equal((await server.renew(12345, stranger)).status, RegistryStatus.UNKNOWN_LEASE);
    assert.equal((await server.deregister(12345, stranger)).status, RegistryStatus.UNKNOWN_LEASE);
    // A flood from one peer: the bucket holds 2 x 3; the rest are LIMITED.
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => server.register({ modid, cmdid: 1, ip: 0, port: 9200 + i, ttlMs: 60_000 })));
    const statuses = replies.map((r) => registryStatusName(r.status));
    assert.equal(statuses.filter((s) => s === 'OK').length, 5, `max_instances_per_peer 5 of a burst of 6: ${statuses.join(' ')}`);
    assert.ok(statuses.every((s) => s === 'OK' || s === 'LIMITED'), statuses.join(' '));
    assert.equal((await registry.list({ modid, cmdid: 1 })).instances.length, 5, 'only the accepted ones are in the store');
    assert.equal((await registry.list({ modid: 999_999, cmdid: 1 })).instances.length, 0);
    await dns.waitForLine(/registry_refused kind=register status=NO_MODULE/);
    assert.equal(dns.service.health().ok, true, 'the service is fine');
  });

  test('a malformed registry frame closes only that connection', async () => {
    const modid = await newModule();
    const dns = await startDns();
    const agent = track(await Subscriber.open(dns.port, modid, 1));
    const bad = await RawTcpClient.connect(dns.port);
    bad.write(Buffer.from([102, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff]));
    await bad.whenClosed();
    const server = track(await ServerLink.open(dns.port));
    assert.equal((await server.register({ modid, cmdid: 1, ip: 0, port: 9300 })).status, RegistryStatus.OK);
    await agent.until(['127.0.0.1:9300']);
  });
});
