/**
 * The agent on the native UDP fast path (src/reactor/udp-port.ts over
 * native/udp_batch.c), whatever [agent] udp_io says: a PortServer's held
 * request answered outside any batch, its drop counters, and a whole agent
 * flooded on its three ports closing. Without the addon this is skipped,
 * saying why; under CI=true it fails. (The wire tests run the agent on both
 * paths; test/reactor/udp-port.test.ts tests the ports themselves.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { PortCounters } from '../../src/agent/port-counters.js';
import { PortServer } from '../../src/agent/port-server.js';
import type { PortToMain } from '../../src/agent/port-thread-protocol.js';
import { DEFAULT_LOADBALANCE_PARAMS } from '../../src/balancer/params.js';
import { ipToInt32 } from '../../src/protocol/ip.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { chooseIo } from '../../src/reactor/udp-port.js';
import { captureLogs, frameOf, RawUdpClient, waitFor, type LogCapture } from '../support/net.js';
import { describeIfAvailable } from '../support/prerequisites.js';
import { bindable, flood } from '../support/udp-flood.js';
import { fakeDns, RawFrameServer, testAgent } from './helpers.js';

const auto = chooseIo({ host: '127.0.0.1', io: 'auto' });
const nativeMissing = auto.io === 'dgram' ? `the native UDP addon is unavailable (${auto.reason})` : false;

describeIfAvailable('the agent on the native UDP fast path', nativeMissing, () => {
  let logs: LogCapture;
  before(() => {
    logs = captureLogs();
  });
  after(() => logs.restore());

  describe('PortServer on the native path', () => {
    const HOST = { ip: ipToInt32('10.0.0.1'), port: 9001 };
    let server: PortServer;
    let messages: PortToMain[];
    let client: RawUdpClient;

    before(async () => {
      messages = [];
      server = new PortServer({
        index: 0,
        host: '127.0.0.1',
        params: { ...DEFAULT_LOADBALANCE_PARAMS },
        routeWaitMs: 5_000,
        maxUnknownRoutes: 10_000,
        reportIntervalMs: 60_000,
        recvBufferSize: 1 << 20,
        udpIo: 'native',
        busyPollUs: 50,
        toMain: (message) => messages.push(message),
      });
      await server.handle({ type: 'listen', port: 0 });
      const listening = messages.find((m) => m.type === 'listening');
      assert.ok(listening?.type === 'listening', `listening, got ${JSON.stringify(messages)}`);
      client = await RawUdpClient.open(listening.port);
    });
    after(async () => {
      await client.close();
      await server.stop();
    });

    test('a held request is answered when dns answers (a reply sent outside any batch)', async () => {
      client.send(frameOf(MsgId.GetHostRequest, { seq: 7, modid: 1, cmdid: 2 }));
      await waitFor(() => messages.some((m) => m.type === 'pull' && m.modid === 1 && m.cmdid === 2), { message: 'a pull for (1, 2)' });
      assert.equal(client.datagrams.length, 0, 'held until dns answers');
      await server.handle({ type: 'route', modid: 1, cmdid: 2, hosts: [HOST], strategy: null });
      const reply = await client.nextMessage(MsgId.GetHostResponse);
      assert.deepEqual([reply.seq, reply.retcode, reply.host?.ip, reply.host?.port], [7, RetCode.SUCC, HOST.ip, HOST.port]);
    });

    test('garbage is dropped and counted by reason; good requests around it are answered', async () => {
      client.send(Buffer.from([1, 2, 3])); // short
      client.send(Buffer.from('6300000000000000', 'hex')); // unknown msgid 99
      client.send(Buffer.from('0400000009000000080110', 'hex')); // says 9 body bytes, has 3
      client.send(Buffer.from('0400000002000000ffff', 'hex')); // GetHostRequest body that is no protobuf
      client.send(frameOf(MsgId.GetHostRequest, { seq: 8, modid: 1, cmdid: 2 }));
      client.send(frameOf(MsgId.ReportRequest, { modid: 1, cmdid: 2, host: HOST, retcode: RetCode.SUCC }));
      client.send(frameOf(MsgId.ApiGetRouteRequest, { modid: 1, cmdid: 2 }));
      assert.equal((await client.nextMessage(MsgId.GetHostResponse)).seq, 8);
      const route = await client.nextMessage(MsgId.ApiGetRouteResponse);
      assert.deepEqual(route.host.map(({ ip, port }) => ({ ip, port })), [HOST]);

      await server.handle({ type: 'stop' });
      const counters = messages.filter((m): m is Extract<PortToMain, { type: 'stats' }> => m.type === 'stats').map((m) => m.counters);
      const sum = (pick: (c: PortCounters) => number) => counters.reduce((n, c) => n + pick(c), 0);
      assert.deepEqual(
        { short: sum((c) => c.dropped.short), unknown: sum((c) => c.dropped.unknown_msgid), mismatch: sum((c) => c.dropped.length_mismatch), malformed: sum((c) => c.dropped.malformed_body) },
        { short: 1, unknown: 1, mismatch: 1, malformed: 1 },
      );
      assert.deepEqual({ getHost: sum((c) => c.getHost), report: sum((c) => c.report), getRoute: sum((c) => c.getRoute), succ: sum((c) => c.succ) }, { getHost: 2, report: 1, getRoute: 1, succ: 2 });
      assert.equal(sum((c) => c.sendErrors), 0);
      assert.ok(logs.matching(/udp_port port=\d+ io=native/).length > 0);
    });
  });

  test('an agent flooded on all three ports closes promptly and frees them', async () => {
    const dns = await fakeDns({});
    const reporter = await RawFrameServer.start();
    const agent = await testAgent({ dns: [{ host: '127.0.0.1', port: dns.port }], reporter: [{ host: '127.0.0.1', port: reporter.port }], agent: { route_wait_ms: 0, udp_io: 'native' } });
    const socket = createSocket('udp4');
    let replies = 0;
    socket.on('message', () => replies++);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const senders = agent.ports.map((port, i) => flood(socket, port, frameOf(MsgId.GetHostRequest, { seq: 1, modid: 1, cmdid: 2 + i })));
    await waitFor(() => replies > 300, { timeoutMs: 30_000 });
    await agent.close();
    for (const sender of senders) sender.stop();
    for (const port of agent.ports) assert.ok(await bindable(port), `port ${port} is free after close`);
    await new Promise<void>((resolve) => socket.close(resolve));
    await dns.close();
    await reporter.close();
  });
});
