/**
 * Wire compatibility of the agent with Lars clients and servers: every
 * request below is written out by hand as hex, sent over a raw UDP socket,
 * and the answers are compared byte for byte with hand-written expectations.
 * The dns stand-in answers with hand-written frames too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/service.js';
import { LarsClient } from '../../src/client/lars-client.js';
import { decodeBody } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { MetricsRegistry } from '../../src/reactor/metrics.js';
import { captureLogs, hexBytes, RawUdpClient, unusedPort, waitFor, type LogCapture } from '../support/net.js';
import { fakeDns, RawFrameServer, testAgent, type TestAgentOptions } from './helpers.js';

// Hosts: A = 10.0.0.1:9001, B = 200.1.2.3:9002 (a negative int32: a 10-byte varint).
const HOST_A = '08 81 80 80 50  10 a9 46';
const HOST_B = '08 83 84 84 c0 fc ff ff ff ff 01  10 aa 46';

// dns answers, keyed by the GetRouteRequest body the agent must send.
const DNS_ANSWERS = {
  // (1, 2) -> [A]
  '08011002': hexBytes(`02 00 00 00  0e 00 00 00  08 01 10 02 1a 08 ${HOST_A}`),
  // (1, 3) -> [B]
  '08011003': hexBytes(`02 00 00 00  14 00 00 00  08 01 10 03 1a 0e ${HOST_B}`),
  // (9, 9) -> no hosts
  '08091009': hexBytes('02 00 00 00  04 00 00 00  08 09 10 09'),
  // (2, 1) -> [A with our weight extension: HostInfo field 3 = 5]
  '08021001': hexBytes(`02 00 00 00  10 00 00 00  08 02 10 01 1a 0a ${HOST_A} 18 05`),
};

// Both UDP paths: the native fast path (when built) and node:dgram.
for (const udpIo of ['auto', 'dgram'] as const) {
  describe(`agent wire compatibility (hand-written frames, udp_io ${udpIo})`, () => {
    let logs: LogCapture;
    let dns: RawFrameServer;
    let reporter: RawFrameServer;
    let agent: Agent;
    let port0: RawUdpClient;
    let port1: RawUdpClient;
    const metrics = new MetricsRegistry();

    before(async () => {
      logs = captureLogs();
      dns = await fakeDns(DNS_ANSWERS);
      reporter = await RawFrameServer.start();
      agent = await testAgent({
        dns: [{ host: '127.0.0.1', port: dns.port }],
        reporter: [{ host: '127.0.0.1', port: reporter.port }],
        metrics,
        agent: { udp_io: udpIo },
      });
      port0 = await RawUdpClient.open(agent.ports[0]!);
      port1 = await RawUdpClient.open(agent.ports[1]!);
    });
    after(async () => {
      await port0.close();
      await port1.close();
      await agent.close();
      await dns.close();
      await reporter.close();
      logs.restore();
    });

    test('a host weight sent by dns (extension field 3) reaches the balancer; the Lars answer stays unchanged', async () => {
      // API_GetRouteRequest (2, 1) on port (2 + 1) % 3 = 0: the agent pulls the route from dns.
      const raw = await RawUdpClient.open(agent.ports[0]!);
      const client = new LarsClient({ basePort: agent.ports[0]! });
      try {
        raw.send(hexBytes('07 00 00 00  04 00 00 00  08 02 10 01'));
        const reply = await raw.nextDatagram();
        assert.equal(reply.toString('hex'), hexBytes(`08 00 00 00  0e 00 00 00  08 02 10 01 1a 08 ${HOST_A}`).toString('hex'));
        const status = await client.routeStatus(2, 1);
        assert.deepEqual(
          status.hosts.map((h) => [h.ip, h.port, h.weight]),
          [['10.0.0.1', 9001, 5]],
        );
      } finally {
        await client.close();
        await raw.close();
      }
    });

    test('three consecutive ports', () => {
      assert.equal(agent.ports.length, 3);
      assert.deepEqual(agent.ports, [agent.ports[0]!, agent.ports[0]! + 1, agent.ports[0]! + 2]);
    });

    test('GetHostRequest (4) -> GetHostResponse (5); the first request waits for dns and gets the host', async () => {
      // seq 7, modid 1, cmdid 2: (1 + 2) % 3 = 0, the base port.
      port0.send(hexBytes('04 00 00 00  06 00 00 00  08 07 10 01 18 02'));
      const reply = await port0.nextDatagram();
      assert.equal(reply.toString('hex'), hexBytes(`05 00 00 00  10 00 00 00  08 07 10 01 18 02 2a 08 ${HOST_A}`).toString('hex'));
      // The agent asked dns with a GetRouteRequest (1) for (1, 2).
      const pull = dns.frames.find((f) => f.msgid === 1 && f.body.toString('hex') === '08011002');
      assert.ok(pull, 'GetRouteRequest 08 01 10 02 sent to dns');
    });

    test('negative int32 address and a seq above 2^31 travel intact, on the second port', async () => {
      // seq 4000000000, modid 1, cmdid 3: (1 + 3) % 3 = 1.
      port1.send(hexBytes('04 00 00 00  0a 00 00 00  08 80 d0 ac f3 0e 10 01 18 03'));
      const reply = await port1.nextDatagram();
      assert.equal(
        reply.toString('hex'),
        hexBytes(`05 00 00 00  1a 00 00 00  08 80 d0 ac f3 0e 10 01 18 03 2a 0e ${HOST_B}`).toString('hex'),
      );
    });

    test('API_GetRouteRequest (7) -> API_GetRouteResponse (8)', async () => {
      port1.send(hexBytes('07 00 00 00  04 00 00 00  08 01 10 03'));
      const reply = await port1.nextDatagram();
      assert.equal(reply.toString('hex'), hexBytes(`08 00 00 00  14 00 00 00  08 01 10 03 1a 0e ${HOST_B}`).toString('hex'));
    });

    test('a route dns knows as empty: GetHost answers NOEXIST (retcode 3), GetRoute an empty list', async () => {
      port0.send(hexBytes('04 00 00 00  06 00 00 00  08 08 10 09 18 09'));
      assert.equal((await port0.nextDatagram()).toString('hex'), hexBytes('05 00 00 00  08 00 00 00  08 08 10 09 18 09 20 03').toString('hex'));
      port0.send(hexBytes('07 00 00 00  04 00 00 00  08 09 10 09'));
      assert.equal((await port0.nextDatagram()).toString('hex'), hexBytes('08 00 00 00  04 00 00 00  08 09 10 09').toString('hex'));
    });

    test('ReportRequest (6) has no answer; its counts reach the reporter as ReportStatusRequest (3)', async () => {
      const success = hexBytes(`06 00 00 00  0e 00 00 00  08 01 10 02 1a 08 ${HOST_A}`);
      const failure = hexBytes(`06 00 00 00  10 00 00 00  08 01 10 02 1a 08 ${HOST_A} 20 02`);
      for (let i = 0; i < 3; i++) port0.send(success);
      port0.send(failure);
      const totals = await waitFor(() => {
        const reports = reporter.frames.filter((f) => f.msgid === MsgId.ReportStatusRequest).map((f) => decodeBody(MsgId.ReportStatusRequest, f.body));
        const results = reports.filter((r) => r.modid === 1 && r.cmdid === 2).flatMap((r) => r.results);
        const succ = results.reduce((n, r) => n + r.succ, 0);
        const err = results.reduce((n, r) => n + r.err, 0);
        return succ === 3 && err === 1 ? { reports, results } : undefined;
      });
      const report = totals.reports.find((r) => r.modid === 1 && r.cmdid === 2)!;
      assert.equal(report.caller >>> 0, 0x0a090807, 'caller 10.9.8.7');
      assert.ok(Math.abs(report.ts - Date.now() / 1000) < 60, 'ts is unix seconds');
      assert.ok(totals.results.every((r) => r.ip === 0x0a000001 && r.port === 9001));
      // No datagram came back for the reports.
      assert.equal(port0.datagrams.length, 3);
    });

    test('a dns push (an unasked GetRouteResponse) replaces the hosts', async () => {
      // (1, 3) -> [A, B]
      dns.broadcast(hexBytes(`02 00 00 00  1e 00 00 00  08 01 10 03 1a 08 ${HOST_A} 1a 0e ${HOST_B}`));
      const hosts = await waitFor(async () => {
        port1.send(hexBytes('07 00 00 00  04 00 00 00  08 01 10 03'));
        const reply = decodeBody(MsgId.ApiGetRouteResponse, (await port1.nextDatagram()).subarray(8));
        return reply.host.length === 2 ? reply.host : undefined;
      });
      // B kept its place, A joined at the tail.
      assert.deepEqual(hosts.map((h) => [h.ip, h.port]), [
        [0xc8010203 | 0, 9002],
        [0x0a000001, 9001],
      ]);
    });

    test('garbage datagrams are dropped and the port keeps answering', async () => {
      const garbage = [
        '',
        '04 00 00',
        '04 00 00 00  09 00 00 00  08 07', // length says 9, 2 bytes follow
        '04 00 00 00  ff ff ff ff', // negative length
        '63 00 00 00  00 00 00 00', // unknown msgid 99
        '04 00 00 00  02 00 00 00  08 ff', // truncated varint
      ];
      for (const text of garbage) port0.send(hexBytes(text));
      port0.send(hexBytes('04 00 00 00  06 00 00 00  08 0b 10 01 18 02'));
      const reply = await port0.nextDatagram();
      assert.equal(reply.toString('hex'), hexBytes(`05 00 00 00  10 00 00 00  08 0b 10 01 18 02 2a 08 ${HOST_A}`).toString('hex'));
      // Workers count drops and hand the counts to the main thread with each statistics batch.
      const dropped = (reason: string) => metrics.counter('lars_agent_datagrams_dropped_total', '').get({ reason });
      await waitFor(() => dropped('short') === 2 && dropped('length_mismatch') === 2 && dropped('unknown_msgid') === 1 && dropped('malformed_body') === 1, {
        message: 'the drop counters',
      });
    });
  });
}

/**
 * Runs body against an agent whose dns is `dns` (closed afterwards) or, for
 * 'unreachable', an address where nothing listens; with a client on port 0.
 */
async function withAgent(
  dns: RawFrameServer | 'unreachable',
  options: Partial<TestAgentOptions>,
  body: (client: RawUdpClient, agent: Agent) => Promise<void>,
): Promise<void> {
  const logs = captureLogs();
  const dnsPort = dns === 'unreachable' ? await unusedPort() : dns.port;
  const reporter = await RawFrameServer.start();
  const agent = await testAgent({ dns: [{ host: '127.0.0.1', port: dnsPort }], reporter: [{ host: '127.0.0.1', port: reporter.port }], ...options });
  const client = await RawUdpClient.open(agent.ports[0]!);
  try {
    await body(client, agent);
  } finally {
    await client.close();
    await agent.close();
    if (dns !== 'unreachable') await dns.close();
    await reporter.close();
    logs.restore();
  }
}

describe('agent route wait', () => {
  test('with route_wait_ms 0 the first request gets NOEXIST at once (Lars), the next ones the host', async () => {
    await withAgent(await fakeDns(DNS_ANSWERS, 50), { agent: { route_wait_ms: 0 } }, async (client) => {
      client.send(hexBytes('04 00 00 00  06 00 00 00  08 01 10 01 18 02'));
      assert.equal(decodeBody(MsgId.GetHostResponse, (await client.nextDatagram()).subarray(8)).retcode, 3);
      const answer = await waitFor(async () => {
        client.send(hexBytes('04 00 00 00  06 00 00 00  08 02 10 01 18 02'));
        const reply = decodeBody(MsgId.GetHostResponse, (await client.nextDatagram()).subarray(8));
        return reply.retcode === 0 ? reply : undefined;
      });
      assert.equal(answer.host?.port, 9001);
    });
  });

  test('while dns is unreachable a held request gets NOEXIST without waiting out route_wait_ms', async () => {
    // The longest wait [agent] route_wait_ms allows.
    await withAgent('unreachable', { agent: { route_wait_ms: 10_000 } }, async (client) => {
      client.send(hexBytes('04 00 00 00  06 00 00 00  08 01 10 01 18 02'));
      // Answered once the agent knows dns is down, before the 10 s wait would end.
      const reply = decodeBody(MsgId.GetHostResponse, (await client.nextDatagram({ timeoutMs: 8_000 })).subarray(8));
      assert.equal(reply.retcode, 3);
    });
  });

  test('dns connected but never answering: the held request gets NOEXIST when route_wait_ms ends, counted as wait_expired', async () => {
    const silent = await RawFrameServer.start();
    const metrics = new MetricsRegistry();
    await withAgent(silent, { agent: { route_wait_ms: 300 }, metrics }, async (client) => {
      await waitFor(() => silent.connections.size === 1, { message: 'the agent connected to dns' });
      client.send(hexBytes('04 00 00 00  06 00 00 00  08 07 10 01 18 02'));
      const reply = decodeBody(MsgId.GetHostResponse, (await client.nextDatagram()).subarray(8));
      assert.deepEqual([reply.seq, reply.retcode], [7, 3]);
      assert.ok(silent.frames.some((f) => f.msgid === MsgId.GetRouteRequest && f.body.toString('hex') === '08011002'), 'the route was asked for');
      await waitFor(() => /^lars_agent_events_total\{kind="wait_expired"\} 1$/m.test(metrics.render()), { message: 'one wait_expired' });
      assert.match(metrics.render(), /^lars_agent_events_total\{kind="waited_for_dns"\} 1$/m);
      assert.equal(silent.connections.size, 1, 'dns stayed connected all along');
    });
  });

  test('dns reconnected: the new connection is asked for every route the port knows, without a request and long before update_timeout', async () => {
    const dns = await fakeDns(DNS_ANSWERS);
    await withAgent(dns, { loadbalance: { update_timeout: 600 } }, async (client) => {
      await waitFor(() => dns.connections.size === 1, { message: 'the agent connected to dns' });
      client.send(hexBytes('04 00 00 00  06 00 00 00  08 01 10 01 18 02'));
      assert.equal(decodeBody(MsgId.GetHostResponse, (await client.nextDatagram()).subarray(8)).retcode, 0);
      client.send(hexBytes('04 00 00 00  06 00 00 00  08 02 10 09 18 09'));
      assert.equal(decodeBody(MsgId.GetHostResponse, (await client.nextDatagram()).subarray(8)).retcode, 3);
      const asked = dns.frames.length;
      dns.dropConnections();
      const pulled = await waitFor(() => {
        const bodies = dns.frames.slice(asked).filter((f) => f.msgid === MsgId.GetRouteRequest).map((f) => f.body.toString('hex'));
        return bodies.length >= 2 ? bodies.sort() : undefined;
      }, { message: 'GetRouteRequests on the new dns connection' });
      assert.deepEqual(pulled, ['08011002', '08091009'], 'the active route and the one dns answered empty');
      assert.equal(dns.connections.size, 1);
    });
  });

  test('a client asking for ever new unknown ids: each port remembers at most max_unknown_routes of them, and keeps serving', async () => {
    const metrics = new MetricsRegistry();
    await withAgent(await fakeDns(DNS_ANSWERS), { agent: { route_wait_ms: 0, max_unknown_routes: 3 }, metrics }, async (client, agent) => {
      // modid 30, cmdid 3, 6, ... 30: all on port 0, none known to dns.
      for (let k = 1; k <= 10; k++) {
        client.send(Buffer.concat([hexBytes('04 00 00 00  06 00 00 00  08 01 10 1e 18'), Buffer.from([3 * k])]));
        assert.equal(decodeBody(MsgId.GetHostResponse, (await client.nextDatagram()).subarray(8)).retcode, 3);
      }
      await waitFor(() => /^lars_agent_events_total\{kind="unknown_route_evicted"\} 7$/m.test(metrics.render()), {
        message: '7 unknown routes counted as evicted',
      });
      assert.equal(agent.health().routes, 3);
      const known = await waitFor(async () => {
        client.send(hexBytes('04 00 00 00  06 00 00 00  08 01 10 01 18 02'));
        const reply = decodeBody(MsgId.GetHostResponse, (await client.nextDatagram()).subarray(8));
        return reply.retcode === 0 ? reply : undefined;
      });
      assert.equal(known.host?.port, 9001, 'a route dns knows is still found and served');
    });
  });
});
