/**
 * The agent's native UDP fast path (src/agent/fast-udp.ts over
 * native/udp_batch.c), exercised directly whatever [agent] udp_io says:
 * batches in and replies out, the port server's checks and counters on top
 * of it, send errors, and closing or terminating while datagrams pour in.
 * Skipped, saying why, when the addon is not built.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { chooseIo, describePeer, openUdpPort, type UdpPeer, type UdpPort } from '../../src/agent/fast-udp.js';
import { PortServer } from '../../src/agent/port-server.js';
import type { PortCounters, WorkerToMain } from '../../src/agent/worker-protocol.js';
import { DEFAULT_LOADBALANCE_PARAMS } from '../../src/balancer/params.js';
import { ipToInt32 } from '../../src/protocol/ip.js';
import { decodeBody } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { captureLogs, frameOf, RawUdpClient, waitFor, type LogCapture } from '../support/net.js';
import { fakeDns, RawFrameServer, testAgent } from './helpers.js';

const choice = chooseIo({ host: '127.0.0.1', io: 'auto' });
const skip = choice.io === 'dgram' ? `native UDP addon unavailable: ${choice.reason}` : false;
if (skip) console.log(`# fast-udp tests skipped: ${skip}`);

/** A native port that answers every datagram with its own bytes under msgid 5, recording each batch's size. */
async function echoPort(onDatagram?: (datagram: Buffer, peer: UdpPeer) => void) {
  const batches: number[] = [];
  const errors: { code: string | undefined; count: number }[] = [];
  let inBatch = false;
  const peers = new Set<string>();
  const port: UdpPort = await openUdpPort(
    { host: '127.0.0.1', port: 0, io: 'native' },
    {
      onDatagram(datagram, peer) {
        // Datagrams handled before the next microtask checkpoint came in one batch.
        if (!inBatch) {
          inBatch = true;
          batches.push(0);
          queueMicrotask(() => (inBatch = false));
        }
        batches[batches.length - 1]!++;
        peers.add(describePeer(peer));
        onDatagram?.(datagram, peer);
        port.send(MsgId.GetHostResponse, datagram.subarray(8), peer);
      },
      onError(err, count) {
        errors.push({ code: err.code, count });
      },
    },
  );
  return { port, batches, errors, peers };
}

function bindable(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => socket.close(() => resolve(false)));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** Sends `frame` to `port` from `socket` `count` times, a burst per event-loop turn, until stopped. */
function flood(socket: Socket, port: number, frame: Buffer): { stop(): void } {
  let running = true;
  const burst = () => {
    if (!running) return;
    for (let i = 0; i < 50; i++) socket.send(frame, port, '127.0.0.1');
    setImmediate(burst);
  };
  burst();
  return { stop: () => (running = false) };
}

describe('native UDP fast path', { skip }, () => {
  let logs: LogCapture;
  before(() => {
    logs = captureLogs();
  });
  after(() => logs.restore());

  test('udp_io choices: dgram forced, IPv6 falls back, native insists', () => {
    assert.equal(chooseIo({ host: '127.0.0.1', io: 'native' }).io, 'native');
    assert.deepEqual(chooseIo({ host: '127.0.0.1', io: 'dgram' }), { io: 'dgram', reason: 'udp_io = dgram' });
    const v6 = chooseIo({ host: '::1', io: 'auto' });
    assert.equal(v6.io, 'dgram');
    assert.match(v6.io === 'dgram' ? v6.reason : '', /IPv4 only/);
    assert.throws(() => chooseIo({ host: '::1', io: 'native' }), /native UDP I\/O unavailable/);
  });

  test('a burst of datagrams is read in batches and every one is answered to its sender', async () => {
    const { port, batches, peers } = await echoPort();
    const client = await RawUdpClient.open(port.port);
    const total = 120; // well within the default socket buffers: none is dropped
    // All sent in one turn of this thread's loop: the port finds them queued together.
    for (let i = 0; i < total; i++) client.send(frameOf(MsgId.GetHostRequest, { seq: i + 1, modid: 1, cmdid: 2 }));
    await waitFor(() => client.datagrams.length === total, { message: `${total} replies` });
    const seqs = client.datagrams.map(({ bytes }) => {
      assert.equal(bytes.readInt32LE(0), MsgId.GetHostResponse);
      assert.equal(bytes.readInt32LE(4), bytes.length - 8);
      return decodeBody(MsgId.GetHostRequest, bytes.subarray(8)).seq; // the echoed request
    });
    assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1));
    assert.equal(batches.reduce((a, b) => a + b, 0), total);
    assert.ok(Math.max(...batches) > 1, `expected batches of more than one datagram, got ${batches.join(',')}`);
    assert.deepEqual([...peers], [`127.0.0.1:${client.port}`]);
    await client.close();
    await port.close();
  });

  test('a reply that cannot be sent is counted and the port keeps answering', async () => {
    const huge = new Uint8Array(70_000); // larger than any UDP datagram: EMSGSIZE
    const { port, errors } = await echoPort((_datagram, peer) => port.send(MsgId.GetHostResponse, huge, peer));
    const client = await RawUdpClient.open(port.port);
    client.send(frameOf(MsgId.GetHostRequest, { seq: 1, modid: 1, cmdid: 2 }));
    const reply = await client.nextMessage(MsgId.GetHostResponse);
    assert.equal(reply.seq, 1);
    await waitFor(() => errors.length > 0);
    assert.deepEqual(errors, [{ code: 'EMSGSIZE', count: 1 }]);
    await client.close();
    await port.close();
  });

  test('closing while datagrams pour in stops the handler at once and frees the port', async () => {
    let handled = 0;
    const { port } = await echoPort(() => {
      if (++handled === 500) void port.close();
    });
    const socket = createSocket('udp4');
    const sender = flood(socket, port.port, frameOf(MsgId.GetHostRequest, { seq: 1, modid: 1, cmdid: 2 }));
    await waitFor(() => handled >= 500, { timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(handled, 500, 'nothing is handled after close, not even the rest of the batch');
    assert.ok(await bindable(port.port), 'the port is free again');
    sender.stop();
    await new Promise<void>((resolve) => socket.close(resolve));
  });

  test('a worker terminated while its native port is busy exits cleanly and frees the port', async () => {
    const tsx = import.meta.resolve('tsx/esm/api');
    const fastUdp = new URL('../../src/agent/fast-udp.ts', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(tsx)}).then(async (tsx) => {
        tsx.register();
        const { openUdpPort } = await import(${JSON.stringify(fastUdp)});
        const port = await openUdpPort({ host: '127.0.0.1', port: 0, io: 'native' }, {
          onDatagram: (datagram, peer) => port.send(5, datagram.subarray(8), peer),
          onError: () => {},
        });
        parentPort.postMessage(port.port);
      });`;
    const worker = new Worker(code, { eval: true });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const portNumber = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const socket = createSocket('udp4');
    let replies = 0;
    socket.on('message', () => replies++);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const sender = flood(socket, portNumber, frameOf(MsgId.GetHostRequest, { seq: 1, modid: 1, cmdid: 2 }));
    await waitFor(() => replies > 200, { timeoutMs: 30_000 });
    await worker.terminate();
    assert.equal(await exited, 1);
    sender.stop();
    await waitFor(() => bindable(portNumber), { message: 'the terminated worker to release its port' });
    await new Promise<void>((resolve) => socket.close(resolve));
  });

  describe('PortServer on the native path', () => {
    const HOST = { ip: ipToInt32('10.0.0.1'), port: 9001 };
    let server: PortServer;
    let messages: WorkerToMain[];
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
      await server.handle({ type: 'route', modid: 1, cmdid: 2, hosts: [HOST] });
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
      const counters = messages.filter((m): m is Extract<WorkerToMain, { type: 'stats' }> => m.type === 'stats').map((m) => m.counters);
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
    const agent = await testAgent({ dns: [{ host: '127.0.0.1', port: dns.port }], reporter: [{ host: '127.0.0.1', port: reporter.port }], agent: { route_wait_ms: 0 } });
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
