/**
 * Reported loads through the real agent (port threads, UDP). First a dns
 * stand-in built on our reactor's TcpServer answers and pushes
 * GetRouteResponse with HostInfo field 4 (docs/registry.md) as the test
 * chooses: the agent's route status shows each host's load, its adaptive
 * balancer hands the loaded host fewer calls, a push that changes only loads
 * keeps host state, and the answer to clients (API_GetRoute, id 8) stays
 * Lars's ip and port. Then the real dns on a SQLite store: servers register
 * and renew with their scores over raw TCP, and the agent's route status
 * follows each renewal's score with its host state kept.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/service.js';
import type { DnsService } from '../../src/dns/service.js';
import { LarsClient } from '../../src/client/lars-client.js';
import { ipToInt32 } from '../../src/protocol/ip.js';
import { decodeBody, type DecodedRegistryReply, type RouteHost } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { TcpServer } from '../../src/reactor/tcp-server.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { openStore, type Store } from '../../src/store/store.js';
import { captureLogs, frameOf, RawUdpClient, waitFor, type LogCapture } from '../support/net.js';
import { ServerLink } from '../support/registration.js';
import { startAgentHere, startDnsHere, type LocalService } from '../support/services.js';
import { RawFrameServer, testAgent } from './helpers.js';

// Route (4, 2) lives on agent port (4 + 2) % 3 = 0.
const MODID = 4;
const CMDID = 2;
const CONFIGURED = { ip: ipToInt32('10.1.0.9'), port: 7009 };
const instance = (n: number, load: number): RouteHost => ({ ip: ipToInt32(`10.1.0.${n}`), port: 7000 + n, load });

/** A dns that answers every pull with `hosts` and pushes them to every connection when they change. */
async function loadDns() {
  let hosts: RouteHost[] = [];
  const server = new TcpServer({ name: 'test_load_dns', host: '127.0.0.1', port: 0 });
  const answer = { modid: MODID, cmdid: CMDID, strategy: 'adaptive' };
  server.handle(MsgId.GetRouteRequest, (conn) => {
    conn.send(MsgId.GetRouteResponse, { ...answer, host: hosts });
  });
  const { port } = await server.listen();
  return {
    port,
    server,
    push(next: RouteHost[]) {
      hosts = next;
      for (const conn of server.connectionList()) conn.send(MsgId.GetRouteResponse, { ...answer, host: hosts });
    },
  };
}

describe('agent: reported loads from dns', () => {
  let logs: LogCapture;
  let dns: Awaited<ReturnType<typeof loadDns>>;
  let reporter: RawFrameServer;
  let agent: Agent;
  let client: LarsClient;

  before(async () => {
    logs = captureLogs();
    dns = await loadDns();
    dns.push([instance(1, 100), instance(2, 100), instance(3, 100), instance(4, 900), CONFIGURED]);
    reporter = await RawFrameServer.start();
    agent = await testAgent({ dns: [{ host: '127.0.0.1', port: dns.port }], reporter: [{ host: '127.0.0.1', port: reporter.port }] });
    client = new LarsClient({ basePort: agent.ports[0]! });
  });
  after(async () => {
    await client.close();
    await agent.close();
    await dns.server.close();
    await reporter.close();
    logs.restore();
  });

  const loads = async () => (await client.routeStatus(MODID, CMDID)).hosts.map((h) => [h.ip, h.reportedLoad]);

  test('route status shows each host\'s reported load, null for a host that reports none', async () => {
    const first = await client.getHost(MODID, CMDID);
    assert.equal(first.retcode, RetCode.SUCC, 'the first request pulls the route');
    client.report(MODID, CMDID, first.host!, RetCode.SUCC, { durationMs: 5 });
    assert.deepEqual(await loads(), [
      ['10.1.0.1', 100],
      ['10.1.0.2', 100],
      ['10.1.0.3', 100],
      ['10.1.0.4', 900],
      ['10.1.0.9', null],
    ]);
  });

  test('the host reporting 900 gets fewer calls than each host reporting 100 or none', async () => {
    const calls = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const { retcode, host } = await client.getHost(MODID, CMDID);
      assert.equal(retcode, RetCode.SUCC);
      calls.set(host!.ip, (calls.get(host!.ip) ?? 0) + 1);
      client.report(MODID, CMDID, host!, RetCode.SUCC, { durationMs: 5 });
    }
    const loaded = calls.get('10.1.0.4') ?? 0;
    for (const ip of ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.9']) {
      assert.ok(loaded < 0.5 * (calls.get(ip) ?? 0), `10.1.0.4 got ${loaded}, ${ip} ${calls.get(ip)}: ${JSON.stringify([...calls])}`);
    }
  });

  test('a push that changes only loads keeps host state: an ejected host stays ejected, with its new load shown', async () => {
    const lying = { ip: '10.1.0.1', port: 7001 };
    for (let i = 0; i < 3; i++) client.report(MODID, CMDID, lying, RetCode.OVERLOAD, { durationMs: 1 });
    const hostOne = async () => (await client.routeStatus(MODID, CMDID)).hosts.find((h) => h.ip === lying.ip)!;
    await waitFor(async () => (await hostOne()).overloaded, { message: 'three failures in a row eject 10.1.0.1' });
    const before = await hostOne();

    dns.push([instance(1, 0), instance(2, 100), instance(3, 100), instance(4, 100), CONFIGURED]);
    await waitFor(async () => (await hostOne()).reportedLoad === 0, { message: 'the pushed loads reach the route status' });
    const after = await hostOne();
    assert.deepEqual(
      [after.overloaded, after.ejections, after.consecutiveFailures],
      [before.overloaded, before.ejections, before.consecutiveFailures],
      'reporting 0 does not re-admit it: only a passing probe does',
    );
    assert.ok(after.stateAgeMs >= before.stateAgeMs, 'its ejection is as old as it was, not restarted');
    assert.deepEqual((await loads()).slice(1, 4), [
      ['10.1.0.2', 100],
      ['10.1.0.3', 100],
      ['10.1.0.4', 100],
    ]);
  });

  test('the answer to clients (API_GetRoute) carries ip and port only, as Lars\'s', async () => {
    const raw = await RawUdpClient.open(agent.ports[0]!);
    try {
      raw.send(frameOf(MsgId.ApiGetRouteRequest, { modid: MODID, cmdid: CMDID }));
      const reply = decodeBody(MsgId.ApiGetRouteResponse, (await raw.nextDatagram()).subarray(8));
      assert.equal(reply.host.length, 5);
      assert.ok(reply.host.every((h) => h.load === null && h.weight === 1), JSON.stringify(reply.host));
    } finally {
      await raw.close();
    }
  });
});

describe('agent: loads registered servers report, through the real dns', () => {
  const route = { modid: 5, cmdid: 1 };
  let dir = '';
  let store: Store;
  let dns: LocalService<DnsService>;
  let agent: LocalService<Agent>;
  let server: ServerLink;
  let client: LarsClient;

  /** The reply, which must accept. */
  const accepted = (reply: DecodedRegistryReply) => {
    assert.equal(reply.status, 0, reply.reason);
    return reply;
  };
  const renew = async (lease: number, port: number, score: number) =>
    accepted(await server.renew(lease, { ...route, ip: ipToInt32('127.0.0.1'), port }, { inFlight: 0, connections: 0, cpuPermille: 0, score }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lars-reported-load-'));
    store = await openStore(`sqlite:${join(dir, 'lars.db')}`);
    const admin = new RouteAdmin(store);
    await admin.addModule({ ...route, strategy: 'least_load' });
    await admin.addHost({ ...route, ip: '10.5.0.9', port: 7009 });
    dns = await startDnsHere({ store, set: ['dns.poll_interval_ms=50', 'registry.load_flush_ms=50'] });
    agent = await startAgentHere({ dns: dns.addr, reporter: '127.0.0.1:1', set: ['loadbalance.update_timeout=600'] });
    server = await ServerLink.open(dns.port);
    client = new LarsClient({ basePort: agent.port });
  });
  after(async () => {
    await client?.close();
    await server?.close();
    await agent?.stop();
    await dns?.stop();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const hosts = async () => (await client.routeStatus(route.modid, route.cmdid)).hosts;
  const loadsShown = async () => (await hosts()).map((h) => `${h.ip}:${h.port} ${h.reportedLoad}`).sort();

  test('each renewal\'s score reaches the agent\'s route status; a host\'s state outlives its load changes', async () => {
    const leases = [];
    for (const port of [7101, 7102]) leases.push(accepted(await server.register({ ...route, ip: 0, port, ttlMs: 60_000 })).lease);
    await renew(leases[0]!, 7101, 900);
    await renew(leases[1]!, 7102, 100);
    await client.getHost(route.modid, route.cmdid);
    const expected = ['10.5.0.9:7009 null', '127.0.0.1:7101 900', '127.0.0.1:7102 100'];
    await waitFor(async () => JSON.stringify(await loadsShown()) === JSON.stringify(expected), { timeoutMs: 20_000, message: `route status ${expected.join(', ')}` });
    assert.equal((await client.routeStatus(route.modid, route.cmdid)).strategy, 'adaptive', 'the module names least_load: the agent runs adaptive');

    client.report(route.modid, route.cmdid, { ip: '127.0.0.1', port: 7101 }, RetCode.OVERLOAD, { durationMs: 1 });
    const failuresOf7101 = async () => (await hosts()).find((h) => h.port === 7101)?.consecutiveFailures;
    await waitFor(async () => (await failuresOf7101()) === 1, { message: 'the failure counted' });
    await renew(leases[0]!, 7101, 300);
    await waitFor(async () => (await loadsShown()).includes('127.0.0.1:7101 300'), { timeoutMs: 20_000, message: 'the new score pushed' });
    assert.equal(await failuresOf7101(), 1, 'the same host: its failure is still counted');
  });
});
