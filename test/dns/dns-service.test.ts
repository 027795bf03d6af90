/**
 * The dns service in-process against a real store on every reachable engine,
 * spoken to by raw TCP clients that know only the wire format of docs/protocol.md.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsSection } from '../../src/dns/config.js';
import type { RouteSource } from '../../src/dns/route-sync.js';
import { startDns, type DnsService } from '../../src/dns/service.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { intToIp, ipToUint32 } from '../../src/protocol/ip.js';
import { loadConfig, reactorSection } from '../../src/reactor/config.js';
import { MetricsRegistry } from '../../src/reactor/metrics.js';
import { openStore, RouteAdmin, RouteReader, type Store } from '../../src/store/index.js';
import { kyselyOf } from '../../src/store/store.js';
import { forEachEngine } from '../support/engines.js';
import { captureLogs, hexBytes, RawTcpClient, waitFor } from '../support/net.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const config = loadConfig({
  sections: [dnsSection, reactorSection],
  env: {},
  overrides: { dns: { poll_interval_ms: 50, retry_max_ms: 200 } },
});

function start(store: Store, dns: Partial<typeof config.dns> = {}): Promise<DnsService> {
  return startDns({ store, host: '127.0.0.1', port: 0, dns: { ...config.dns, ...dns }, reactor: config.reactor });
}

async function ask(port: number, modid: number, cmdid: number): Promise<RawTcpClient> {
  const client = await RawTcpClient.connect(port);
  client.send(MsgId.GetRouteRequest, { modid, cmdid });
  return client;
}

const hostsOf = (message: { host: { ip: number; port: number }[] }) => message.host.map((h) => `${intToIp(h.ip)}:${h.port}`).sort();

const logs = captureLogs('info');
after(() => logs.restore());

await forEachEngine('dns service', (store, engineName, { url }) => {
  const admin = new RouteAdmin(store);
  let dns: DnsService;
  const clients: RawTcpClient[] = [];
  const connect = async (modid: number, cmdid: number) => {
    const client = await ask(dns.address!.port, modid, cmdid);
    clients.push(client);
    return client;
  };

  before(async () => {
    await admin.addModule({ modid: 1, cmdid: 1, description: 'first' });
    await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 });
    await admin.addHost({ modid: 1, cmdid: 1, ip: '200.1.2.3', port: 8080 });
    dns = await start(store);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await dns.close();
  });

  test('answers a route with every host, addresses of 128.0.0.0 and up included', async () => {
    const client = await connect(1, 1);
    const reply = await client.nextMessage(MsgId.GetRouteResponse);
    assert.equal(reply.modid, 1);
    assert.equal(reply.cmdid, 1);
    assert.deepEqual(hostsOf(reply), ['10.0.0.1:80', '200.1.2.3:8080']);
  });

  test('a request that comes before the first load is held and answered by that load, not with "no hosts"', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const reader = new RouteReader(store);
    const source: RouteSource = {
      readVersion: () => reader.readVersion(),
      loadRoutes: async () => {
        await gate;
        return reader.loadRoutes();
      },
      loadRoutesOf: (routes) => reader.loadRoutesOf(routes),
      changesSince: (version) => reader.changesSince(version),
      readRegistryVersion: () => reader.readRegistryVersion(),
      loadsSince: (revision) => reader.loadsSince(revision),
    };
    const starting = await startDns({ store, host: '127.0.0.1', port: 0, dns: config.dns, reactor: config.reactor, source });
    try {
      const client = await ask(starting.address!.port, 1, 1);
      clients.push(client);
      await waitFor(() => starting.health().subscribedRoutes === 1, { message: 'the request to arrive' });
      assert.equal(starting.health().ok, false, 'nothing loaded yet');
      openGate();
      assert.deepEqual(hostsOf(await client.nextMessage(MsgId.GetRouteResponse)), ['10.0.0.1:80', '200.1.2.3:8080']);
    } finally {
      openGate();
      await starting.close();
    }
  });

  test('answers an unknown route with no hosts, and pushes once it gets some', async () => {
    const client = await connect(5, 5);
    assert.deepEqual((await client.nextMessage(MsgId.GetRouteResponse)).host, []);
    await admin.addModule({ modid: 5, cmdid: 5 });
    await admin.addHost({ modid: 5, cmdid: 5, ip: '10.5.5.5', port: 5 });
    // The module-add changes no hosts, so the first push is the host.
    const pushed = await client.nextMessage(MsgId.GetRouteResponse);
    assert.deepEqual(hostsOf(pushed), ['10.5.5.5:5']);
  });

  test('pushes every change to every subscriber of that route, and only to them', async () => {
    const a = await connect(1, 1);
    const b = await connect(1, 1);
    const other = await connect(5, 5);
    for (const c of [a, b, other]) await c.nextMessage(MsgId.GetRouteResponse);
    await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.9', port: 90 });
    for (const c of [a, b]) {
      assert.deepEqual(hostsOf(await c.nextMessage(MsgId.GetRouteResponse)), ['10.0.0.1:80', '10.0.0.9:90', '200.1.2.3:8080']);
    }
    await admin.delHost({ modid: 1, cmdid: 1, ip: '10.0.0.9', port: 90 });
    for (const c of [a, b]) assert.equal((await c.nextMessage(MsgId.GetRouteResponse)).host.length, 2);
    assert.equal(other.frames.length, 1, 'a subscriber of another route got no push');
  });

  test("a module's strategy alone is pushed: field 4 when it names one, Lars's bytes again on default; a description is not", async () => {
    await admin.addModule({ modid: 8, cmdid: 1 });
    await admin.addHost({ modid: 8, cmdid: 1, ip: '10.0.0.8', port: 88 });
    await waitFor(async () => dns.health().version === (await admin.version()));
    const client = await connect(8, 1);
    // GetRouteResponse (8, 1) with 10.0.0.8:88, then the same with 4: "least_request" (13 bytes).
    const plain = '08 08 10 01  1a 07 08 88 80 80 50 10 58';
    const named = `${plain}  22 0d 6c 65 61 73 74 5f 72 65 71 75 65 73 74`;
    const next = async () => {
      const frame = await client.nextFrame();
      assert.equal(frame.msgid, MsgId.GetRouteResponse);
      return frame.body.toString('hex');
    };
    assert.equal(await next(), hexBytes(plain).toString('hex'), 'the answer');
    await admin.updateModule({ modid: 8, cmdid: 1, strategy: 'least_request' });
    assert.equal(await next(), hexBytes(named).toString('hex'), 'the push of the new strategy');
    await admin.updateModule({ modid: 8, cmdid: 1, description: 'changes no answer' });
    await admin.updateModule({ modid: 8, cmdid: 1, strategy: 'default' });
    assert.equal(await next(), hexBytes(plain).toString('hex'), 'the push back to the default, and nothing for the description');
  });

  test('deleting a module pushes an empty route', async () => {
    await admin.addModule({ modid: 6, cmdid: 1 });
    await admin.addHost({ modid: 6, cmdid: 1, ip: '10.6.6.6', port: 6 });
    await waitFor(async () => dns.health().version === (await admin.version()));
    const client = await connect(6, 1);
    assert.equal((await client.nextMessage(MsgId.GetRouteResponse)).host.length, 1);
    await admin.delModule(6, 1);
    assert.deepEqual((await client.nextMessage(MsgId.GetRouteResponse)).host, []);
  });

  test('falls back to a full reload when the change log has a hole, and still pushes', async () => {
    const client = await connect(1, 1);
    await client.nextMessage(MsgId.GetRouteResponse);
    const mine = logs.since();
    // Simulate rows pruned before this instance read them: bump the version with no change row.
    await kyselyOf(store).updateTable('route_version').set((eb) => ({ version: eb('version', '+', 1) })).execute();
    await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.7', port: 70 });
    assert.equal((await client.nextMessage(MsgId.GetRouteResponse)).host.length, 3);
    await mine.waitFor('change_log_incomplete');
    await admin.delHost({ modid: 1, cmdid: 1, ip: '10.0.0.7', port: 70 });
    assert.equal((await client.nextMessage(MsgId.GetRouteResponse)).host.length, 2);
  });

  test('a host added behind the change log (no version bump, no change row) is pushed by the full reload every full_reload_interval_s', async () => {
    await admin.addModule({ modid: 7, cmdid: 1 });
    await admin.addHost({ modid: 7, cmdid: 1, ip: '10.0.0.7', port: 7 });
    const reloading = await start(store, { full_reload_interval_s: 1 });
    try {
      const client = await ask(reloading.address!.port, 7, 1);
      clients.push(client);
      assert.deepEqual(hostsOf(await client.nextMessage(MsgId.GetRouteResponse)), ['10.0.0.7:7']);
      const version = reloading.health().version;
      await kyselyOf(store).insertInto('routes').values({ modid: 7, cmdid: 1, ip: ipToUint32('10.0.0.8'), port: 8, created_at: 0, updated_at: 0 }).execute();
      assert.deepEqual(hostsOf(await client.nextMessage(MsgId.GetRouteResponse)), ['10.0.0.7:7', '10.0.0.8:8']);
      assert.equal(reloading.health().version, version, 'nothing but the full reload could have seen it');
    } finally {
      await reloading.close();
    }
  });

  test('a second dns instance on the same store pushes the same edit to its own subscribers', async () => {
    const secondStore = await openStore(url);
    const second = await start(secondStore);
    try {
      const mine = await connect(1, 1);
      const theirs = await ask(second.address!.port, 1, 1);
      clients.push(theirs);
      await mine.nextMessage(MsgId.GetRouteResponse);
      await theirs.nextMessage(MsgId.GetRouteResponse);
      await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.8', port: 88 });
      assert.equal((await mine.nextMessage(MsgId.GetRouteResponse)).host.length, 3);
      assert.equal((await theirs.nextMessage(MsgId.GetRouteResponse)).host.length, 3);
      await admin.delHost({ modid: 1, cmdid: 1, ip: '10.0.0.8', port: 88 });
    } finally {
      await second.close();
      await secondStore.close();
    }
  });

  test('malformed requests close only their own connection', async () => {
    const mine = logs.since();
    const good = await connect(1, 1);
    await good.nextMessage(MsgId.GetRouteResponse);
    const cases = {
      'negative length': hexBytes('01000000 ffffffff'),
      'unknown msgid': hexBytes('63000000 00000000'),
      'truncated protobuf': hexBytes('01000000 02000000 0880'),
      'length over the cap': hexBytes('01000000 00000080'),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const bad = await RawTcpClient.connect(dns.address!.port);
      clients.push(bad);
      bad.write(bytes);
      await bad.whenClosed({ message: `the server to close the connection after a ${name}` });
    }
    assert.equal(mine.matching('protocol_error').length, 4);
    good.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
    assert.equal((await good.nextMessage(MsgId.GetRouteResponse)).host.length, 2);
  });

  test('a connection asking for ever new unknown routes keeps only the newest few subscriptions to them', async () => {
    const mine = logs.since();
    const metrics = new MetricsRegistry();
    const limited = await startDns({
      store,
      host: '127.0.0.1',
      port: 0,
      dns: { ...config.dns, max_empty_subscriptions: 3 },
      reactor: config.reactor,
      metrics,
    });
    try {
      const client = await ask(limited.address!.port, 1, 1);
      clients.push(client);
      assert.equal((await client.nextMessage(MsgId.GetRouteResponse)).host.length, 2);
      for (let cmdid = 1; cmdid <= 10; cmdid++) {
        client.send(MsgId.GetRouteRequest, { modid: 900, cmdid });
        assert.deepEqual((await client.nextMessage(MsgId.GetRouteResponse)).host, [], 'every request is still answered');
      }
      assert.equal(limited.health().subscribedRoutes, 4, 'the route with hosts and the 3 newest unknown ones');
      assert.match(metrics.render(), /^lars_dns_subscriptions_evicted_total 7$/m);
      assert.equal(mine.matching('empty_subscriptions_evicted').length, 1, 'one warning a minute');

      await admin.addModule({ modid: 900, cmdid: 10 });
      await admin.addHost({ modid: 900, cmdid: 10, ip: '10.9.0.10', port: 10 });
      assert.deepEqual(hostsOf(await client.nextMessage(MsgId.GetRouteResponse)), ['10.9.0.10:10'], 'a kept subscription is pushed');
      await admin.delModule(900, 10);
      assert.deepEqual((await client.nextMessage(MsgId.GetRouteResponse)).host, []);
    } finally {
      await limited.close();
    }
  });

  if (engineName === 'sqlite') {
    test('store outage and recovery', { skip: 'the embedded SQLite store cannot be taken away from a running process' }, () => {});
    return;
  }

  test('store outage: keeps answering from memory, then catches up when the store returns', async () => {
    const target = new URL(url);
    const proxy = new TcpProxy(target.hostname, Number(target.port));
    await proxy.start();
    const proxiedStore = await openStore(proxy.proxiedUrl(url), { connectTimeoutMs: 1000 });
    const viaProxy = await start(proxiedStore);
    try {
      const client = await ask(viaProxy.address!.port, 1, 1);
      clients.push(client);
      assert.equal((await client.nextMessage(MsgId.GetRouteResponse)).host.length, 2);

      const mine = logs.since();
      await proxy.stop();
      await waitFor(() => !viaProxy.health().ok, { message: 'dns to notice the store is gone' });
      await mine.waitFor('store_unavailable');
      await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.6', port: 66 });
      const late = await ask(viaProxy.address!.port, 1, 1);
      clients.push(late);
      assert.equal((await late.nextMessage(MsgId.GetRouteResponse)).host.length, 2, 'answers from the last table');

      await proxy.start();
      assert.equal((await client.nextMessage(MsgId.GetRouteResponse, { timeoutMs: 30_000 })).host.length, 3);
      await waitFor(() => viaProxy.health().ok);
      await mine.waitFor('store_recovered');
      await admin.delHost({ modid: 1, cmdid: 1, ip: '10.0.0.6', port: 66 });
    } finally {
      await viaProxy.close();
      await proxiedStore.close();
      await proxy.stop();
    }
  });
});
