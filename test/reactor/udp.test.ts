import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { encodeFrame } from '../../src/protocol/frame.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { MetricsRegistry } from '../../src/reactor/metrics.js';
import { UdpClient, UdpServer, type DropReason } from '../../src/reactor/udp.js';
import { startWorker } from '../../src/reactor/worker-pool.js';
import { captureLogs, hexBytes, RawUdpClient, seededRandom, waitFor, type LogCapture } from '../support/net.js';

/** An agent-like server: GetHostRequest answered with the seq echoed; ReportRequest counted. */
async function hostServer(name = 'udp_test', metrics?: MetricsRegistry) {
  const reports: number[] = [];
  const server = new UdpServer({ name, host: '127.0.0.1', port: 0, metrics });
  server.handle(MsgId.GetHostRequest, (request, reply) => {
    reply(MsgId.GetHostResponse, {
      seq: request.seq,
      modid: request.modid,
      cmdid: request.cmdid,
      retcode: RetCode.SUCC,
      host: { ip: 0x7f000001, port: 9000 + request.cmdid },
    });
  });
  server.handle(MsgId.ReportRequest, (report) => {
    reports.push(report.retcode);
  });
  const { port } = await server.listen();
  return { server, port, reports };
}

const reasons: DropReason[] = ['short', 'oversize', 'length_mismatch', 'unknown_msgid', 'malformed_body'];
function droppedByReason(server: UdpServer): Record<string, number> {
  return Object.fromEntries(reasons.map((reason) => [reason, server.counters.dropped.get({ reason })]).filter(([, n]) => n !== 0));
}

describe('UDP', () => {
  let logs: LogCapture;
  before(() => {
    logs = captureLogs();
  });
  after(() => logs.restore());

  test('a request datagram is answered to its sender; a report needs no answer', async () => {
    const { server, port, reports } = await hostServer();
    const client = await RawUdpClient.open(port);
    try {
      client.sendMessage(MsgId.ReportRequest, { modid: 1, cmdid: 1, retcode: RetCode.OVERLOAD, host: { ip: 1, port: 2 } });
      client.sendMessage(MsgId.GetHostRequest, { seq: 41, modid: 1, cmdid: 2 });
      const response = await client.nextMessage(MsgId.GetHostResponse);
      assert.deepEqual([response.seq, response.modid, response.cmdid, response.retcode], [41, 1, 2, RetCode.SUCC]);
      assert.deepEqual([response.host?.ip, response.host?.port], [0x7f000001, 9002]);
      await waitFor(() => reports.length === 1);
      assert.deepEqual(reports, [RetCode.OVERLOAD]);
      assert.equal(server.counters.received.get(), 2);
      assert.equal(server.counters.sent.get(), 1);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('garbage is dropped and counted by reason while valid requests are answered', async () => {
    const metrics = new MetricsRegistry();
    const { server, port } = await hostServer('udp_garbage', metrics);
    const client = await RawUdpClient.open(port);
    const random = seededRandom(42);
    const lengthSays = (msgid: number, length: number, body: Buffer) => {
      const header = Buffer.alloc(8);
      header.writeInt32LE(msgid, 0);
      header.writeInt32LE(length, 4);
      return Buffer.concat([header, body]);
    };
    const garbage: [DropReason, Buffer][] = [
      ['short', Buffer.alloc(0)],
      ['short', hexBytes('04 00 00')],
      ['short', hexBytes('04 00 00 00 00 00 00')],
      ['length_mismatch', lengthSays(MsgId.GetHostRequest, 10, hexBytes('08 01 10 02'))],
      ['length_mismatch', lengthSays(MsgId.GetHostRequest, 2, hexBytes('08 01 10 02'))],
      ['length_mismatch', lengthSays(MsgId.GetHostRequest, -1, Buffer.alloc(0))],
      ['unknown_msgid', encodeFrame(77, Buffer.alloc(0))],
      ['unknown_msgid', encodeFrame(MsgId.GetHostResponse, Buffer.alloc(0))],
      ['malformed_body', encodeFrame(MsgId.GetHostRequest, hexBytes('08 ff ff'))],
      ['malformed_body', encodeFrame(MsgId.GetHostRequest, hexBytes('0f 00'))],
    ];
    for (let i = 0; i < 40; i++) {
      // Random bytes whose length field cannot match the size.
      const bytes = Buffer.from(Array.from({ length: 9 + Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
      bytes.writeInt32LE(bytes.length, 4);
      garbage.push(['length_mismatch', bytes]);
    }
    const expected: Record<string, number> = {};
    for (const [reason] of garbage) expected[reason] = (expected[reason] ?? 0) + 1;
    try {
      let seq = 0;
      for (const [, bytes] of garbage) {
        client.send(bytes);
        client.sendMessage(MsgId.GetHostRequest, { seq: ++seq, modid: 5, cmdid: 5 });
      }
      const seqs: number[] = [];
      for (let i = 0; i < garbage.length; i++) seqs.push((await client.nextMessage(MsgId.GetHostResponse)).seq);
      assert.deepEqual(seqs.sort((a, b) => a - b), Array.from({ length: garbage.length }, (_, i) => i + 1), 'every valid request answered');
      await waitFor(() => server.counters.received.get() === 2 * garbage.length);
      assert.deepEqual(droppedByReason(server), expected);
      assert.equal(client.datagrams.length, garbage.length, 'garbage got no answer');

      const logged = logs.matching(/warn udp_garbage datagram_dropped /);
      assert.equal(logged.length, 1, 'drops are logged at most once per interval');
      assert.match(logged[0]!, new RegExp(`peer=127.0.0.1:${client.port} reason=short`));
      assert.match(metrics.render(), /lars_udp_garbage_datagrams_dropped_total\{reason="length_mismatch"\} 43/);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('an oversize datagram is dropped', async () => {
    const server = new UdpServer({ name: 'udp_small', host: '127.0.0.1', port: 0, maxFrame: 64 });
    server.handleRaw(200, () => assert.fail('must not be handled'));
    const { port } = await server.listen();
    const client = await RawUdpClient.open(port);
    try {
      client.send(encodeFrame(200, Buffer.alloc(57)));
      await waitFor(() => server.counters.dropped.get({ reason: 'oversize' }) === 1);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('UdpClient: connected to a target, routes answers; a closed port is an error counted, not a crash', async () => {
    const { server, port } = await hostServer();
    const answers: number[] = [];
    const client = new UdpClient({ name: 'udp_client', target: { host: '127.0.0.1', port } });
    client.handle(MsgId.GetHostResponse, (response, rinfo) => {
      assert.equal(rinfo.port, port);
      answers.push(response.seq);
    });
    try {
      const local = await client.open();
      assert.ok(local.port > 0);
      for (let seq = 1; seq <= 3; seq++) client.send(MsgId.GetHostRequest, { seq, modid: 1, cmdid: 1 });
      await waitFor(() => answers.length === 3);
      assert.deepEqual(answers.sort(), [1, 2, 3]);

      await server.close();
      for (let seq = 4; seq <= 50 && client.counters.sendErrors.get() === 0; seq++) {
        client.send(MsgId.GetHostRequest, { seq, modid: 1, cmdid: 1 });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await waitFor(() => client.counters.sendErrors.get() > 0, { message: 'ECONNREFUSED on the connected socket' });
      await logs.waitFor(/warn udp_client socket_error .*code=ECONNREFUSED/);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('UdpClient without a target sends to an explicit address; sending before open() throws', async () => {
    const { server, port } = await hostServer();
    const client = new UdpClient({ name: 'udp_free_client' });
    const answers: number[] = [];
    client.handle(MsgId.GetHostResponse, (response) => {
      answers.push(response.cmdid);
    });
    try {
      assert.throws(() => client.send(MsgId.GetHostRequest, { seq: 1, modid: 1, cmdid: 1 }, { host: '127.0.0.1', port }), /open\(\)/);
      await client.open();
      assert.throws(() => client.send(MsgId.GetHostRequest, { seq: 1, modid: 1, cmdid: 1 }), /no target/);
      client.send(MsgId.GetHostRequest, { seq: 1, modid: 1, cmdid: 7 }, { host: '127.0.0.1', port });
      await waitFor(() => answers.length === 1);
      assert.deepEqual(answers, [7]);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('a UdpServer runs in a worker thread', async () => {
    const worker = startWorker(new URL('./fixtures/udp-worker.js', import.meta.url));
    try {
      const [{ port, threadId }] = (await once(worker, 'message')) as [{ port: number; threadId: number }];
      assert.ok(threadId > 0, 'not the main thread');
      const client = await RawUdpClient.open(port);
      client.send(Buffer.alloc(3));
      client.sendMessage(MsgId.GetHostRequest, { seq: 9, modid: 1, cmdid: 1 });
      const response = await client.nextMessage(MsgId.GetHostResponse);
      assert.deepEqual([response.seq, response.host?.ip], [9, threadId]);
      await client.close();
      worker.postMessage('close');
      const [closed] = (await once(worker, 'message')) as [{ closed: boolean; dropped: number }];
      assert.deepEqual(closed, { closed: true, dropped: 1 });
      const [code] = await once(worker, 'exit');
      assert.equal(code, 0, 'the worker ends by itself once its server is closed');
    } finally {
      await worker.terminate();
    }
  });
});
