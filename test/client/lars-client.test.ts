/**
 * LarsClient against the real agent (in-process startAgent, port threads,
 * real UDP, its /metrics) fed by the real dns (in-process startDns on a
 * SQLite store), plus a raw UDP responder for the cases an agent never
 * produces on purpose (late, duplicate and garbled replies) and where a test
 * must see a report's exact bytes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Agent } from '../../src/agent/service.js';
import { parseAgentAddress } from '../../src/client/agent-address.js';
import { LarsClient, LarsTimeoutError } from '../../src/client/lars-client.js';
import { agentPort } from '../../src/protocol/agent-ports.js';
import { decodeBody } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { startAdminServer, type AdminServer } from '../../src/reactor/admin-http.js';
import { MetricsRegistry } from '../../src/reactor/metrics.js';
import { captureLogs, frameOf, hexBytes, waitFor, type LogCapture } from '../support/net.js';
import { RawFrameServer, realDns, testAgent } from '../agent/helpers.js';

describe('LarsClient against lars agent and lars dns', () => {
  let logs: LogCapture;
  let dns: Awaited<ReturnType<typeof realDns>>;
  let reporter: RawFrameServer;
  let agent: Agent;
  let admin: AdminServer;
  let client: LarsClient;

  /** A counter of the agent's /metrics, summed over its series whose labels include `labels` (e.g. 'kind="report"'). */
  const counter = async (name: string, labels: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${admin.address.port}/metrics`)).text();
    const series = text.split('\n').filter((line) => line.startsWith(`${name}{`) && line.includes(labels));
    return series.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  };

  before(async () => {
    logs = captureLogs();
    dns = await realDns();
    // (5, 1) -> 10.0.0.1:9001, 10.0.0.2:9002;  (5, 2) -> 200.1.2.3:9002;  (5, 3) -> no hosts
    for (const cmdid of [1, 2, 3, 4]) await dns.admin.addModule({ modid: 5, cmdid });
    await dns.admin.addHost({ modid: 5, cmdid: 1, ip: '10.0.0.1', port: 9001 });
    await dns.admin.addHost({ modid: 5, cmdid: 1, ip: '10.0.0.2', port: 9002 });
    await dns.admin.addHost({ modid: 5, cmdid: 2, ip: '200.1.2.3', port: 9002 });
    await dns.sync();
    reporter = await RawFrameServer.start();
    const metrics = new MetricsRegistry();
    agent = await testAgent({ dns: [{ host: '127.0.0.1', port: dns.port }], reporter: [{ host: '127.0.0.1', port: reporter.port }], metrics });
    admin = await startAdminServer({ host: '127.0.0.1', port: 0, metrics, health: () => agent.health() });
    client = new LarsClient({ host: '127.0.0.1', basePort: agent.ports[0]!, timeoutMs: 3000 });
  });
  after(async () => {
    await client.close();
    await admin.close();
    await agent.close();
    await dns.close();
    await reporter.close();
    logs.restore();
  });

  test('getHost round-robins over the route; a negative int32 address comes back dotted', async () => {
    const picked = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const answer = await client.getHost(5, 1);
      assert.equal(answer.retcode, RetCode.SUCC);
      picked.add(`${answer.host!.ip}:${answer.host!.port}`);
    }
    assert.deepEqual([...picked].sort(), ['10.0.0.1:9001', '10.0.0.2:9002']);
    assert.deepEqual(await client.getHost(5, 2), { retcode: RetCode.SUCC, host: { ip: '200.1.2.3', port: 9002 } });
  });

  test('getRoute lists the hosts; an empty route is an empty list and getHost says NOEXIST', async () => {
    assert.deepEqual(
      (await client.getRoute(5, 1)).map((h) => `${h.ip}:${h.port}`).sort(),
      ['10.0.0.1:9001', '10.0.0.2:9002'],
    );
    assert.deepEqual(await client.getRoute(5, 3), []);
    assert.deepEqual(await client.getHost(5, 3), { retcode: RetCode.NOEXIST });
  });

  test('regInit warms a route up: the answer is SUCC', async () => {
    assert.equal(await client.regInit(5, 2), RetCode.SUCC);
  });

  test('the agent counts the reports that carry a duration (report() with durationMs, every call()) on /metrics as timed_report', async () => {
    // The first test that reports: no other report can still be on its way to the counters.
    const reportsBefore = await counter('lars_agent_requests_total', 'kind="report"');
    const timedBefore = await counter('lars_agent_events_total', 'kind="timed_report"');
    client.report(5, 2, { ip: '200.1.2.3', port: 9002 }, RetCode.SUCC, { durationMs: 1.5 });
    client.report(5, 2, { ip: '200.1.2.3', port: 9002 }, RetCode.SUCC);
    assert.equal((await client.call(5, 2, () => 'ok')).retcode, RetCode.SUCC);
    const failed = await client.call(5, 2, () => {
      throw new Error('boom');
    });
    assert.equal(failed.retcode, RetCode.SYSTEM_ERROR);
    await waitFor(async () => (await counter('lars_agent_requests_total', 'kind="report"')) === reportsBefore + 4, { message: 'the 4 reports counted' });
    assert.equal(await counter('lars_agent_events_total', 'kind="timed_report"'), timedBefore + 3, 'all but the report without a duration');
  });

  test('report and call() feed the balancer: a failing host goes to overload', async () => {
    // contin_err_limit (15) failures in a row take 10.0.0.1:9001 out.
    for (let i = 0; i < 15; i++) client.report(5, 1, { ip: '10.0.0.1', port: 9001 }, RetCode.SYSTEM_ERROR);
    const status = await waitFor(async () => {
      const s = await client.routeStatus(5, 1);
      return s.hosts.find((h) => h.ip === '10.0.0.1')?.overloaded ? s : undefined;
    });
    assert.equal(status.status, 'active');
    assert.equal(status.hosts.find((h) => h.ip === '10.0.0.2')!.overloaded, false);

    const ok = await client.call(5, 1, (host) => `called ${host.ip}`);
    assert.equal(ok.retcode, RetCode.SUCC);
    assert.equal(ok.retcode === RetCode.SUCC && ok.value, 'called 10.0.0.2');
    const failed = await client.call(5, 1, () => {
      throw new Error('boom');
    });
    assert.equal(failed.retcode, RetCode.SYSTEM_ERROR);
    assert.equal((failed as { error: Error }).error.message, 'boom');
    const slow = await client.call(5, 1, () => new Promise((resolve) => setTimeout(resolve, 500)), { timeout: 20 });
    assert.equal(slow.retcode, RetCode.SYSTEM_ERROR);
    assert.ok((slow as { error: unknown }).error instanceof LarsTimeoutError);
  });

  test('reports reach the reporter with the counts reported', async () => {
    const before = reporter.frames.length;
    client.report(5, 2, { ip: '200.1.2.3', port: 9002 }, RetCode.SUCC);
    client.report(5, 2, { ip: '200.1.2.3', port: 9002 }, RetCode.SUCC);
    const result = await waitFor(() =>
      reporter.frames
        .slice(before)
        .map((f) => decodeBody(MsgId.ReportStatusRequest, f.body))
        .find((r) => r.modid === 5 && r.cmdid === 2)?.results[0],
    );
    assert.deepEqual([result.ip, result.port, result.succ, result.err], [0xc8010203 | 0, 9002, 2, 0]);
  });

  test('a report sent right before close() is not lost', async () => {
    const other = new LarsClient({ host: '127.0.0.1', basePort: agent.ports[0]! });
    const before = reporter.frames.length;
    other.report(5, 2, { ip: '200.1.2.3', port: 9002 }, RetCode.OVERLOAD);
    await other.close();
    const result = await waitFor(() =>
      reporter.frames
        .slice(before)
        .map((f) => decodeBody(MsgId.ReportStatusRequest, f.body))
        .find((r) => r.modid === 5 && r.cmdid === 2)?.results[0],
    );
    assert.equal(result.err, 1);
  });

  test('a host drained in the store (weight 0) gets no calls, with the Lars strategy too; weight 1 brings it back', async () => {
    await dns.admin.addHost({ modid: 5, cmdid: 4, ip: '10.0.0.1', port: 9001, weight: 0 });
    await dns.admin.addHost({ modid: 5, cmdid: 4, ip: '10.0.0.2', port: 9002 });
    await dns.sync();
    const hostsOf = async (calls: number) => {
      const seen = new Set<string>();
      for (let i = 0; i < calls; i++) {
        const answer = await client.getHost(5, 4);
        assert.equal(answer.retcode, RetCode.SUCC);
        seen.add(`${answer.host!.ip}:${answer.host!.port}`);
      }
      return [...seen].sort();
    };
    assert.deepEqual(await hostsOf(10), ['10.0.0.2:9002']);
    const drained = (await client.routeStatus(5, 4)).hosts.find((h) => h.ip === '10.0.0.1');
    assert.equal(drained?.weight, 0, 'in the route, weight 0');
    await dns.admin.updateHost({ modid: 5, cmdid: 4, ip: '10.0.0.1', port: 9001, weight: 1 });
    await waitFor(async () => (await client.routeStatus(5, 4)).hosts.every((h) => h.weight === 1), { message: 'the pushed weight' });
    assert.deepEqual(await hostsOf(4), ['10.0.0.1:9001', '10.0.0.2:9002']);
  });

  test('after close() requests reject and reports are ignored', async () => {
    const closed = new LarsClient({ host: '127.0.0.1', basePort: agent.ports[0]! });
    await closed.close();
    await assert.rejects(closed.getHost(5, 1), /closed/);
    await assert.rejects(closed.getRoute(5, 1), /closed/);
    closed.report(5, 1, { ip: '10.0.0.2', port: 9002 }, RetCode.SUCC);
  });
});

describe('LarsClient transport', () => {
  test('no agent: getHost times out with LarsTimeoutError', async () => {
    const client = new LarsClient({ host: '127.0.0.1', basePort: 9, timeoutMs: 50 });
    try {
      await assert.rejects(client.getHost(1, 1), LarsTimeoutError);
    } finally {
      await client.close();
    }
  });

  test('a garbled reply, a late one (old seq) and a duplicate are dropped; the current seq answers', async () => {
    // A responder that first sends a datagram too short for a header, a body that does not decode, a stale seq, then the right one twice.
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const base = socket.address().port - agentPort(0, 1, 1);
    socket.on('message', (datagram, rinfo) => {
      const request = decodeBody(MsgId.GetHostRequest, datagram.subarray(8));
      const reply = (seq: number, port: number) =>
        socket.send(frameOf(MsgId.GetHostResponse, { seq, modid: 1, cmdid: 1, retcode: 0, host: { ip: 0x7f000001, port } }), rinfo.port, rinfo.address);
      socket.send(Buffer.from([5, 0, 0]), rinfo.port, rinfo.address);
      socket.send(hexBytes('05 00 00 00  02 00 00 00  08 ff'), rinfo.port, rinfo.address);
      reply(request.seq + 1000, 1);
      reply(request.seq, 2);
      reply(request.seq, 3);
    });
    const client = new LarsClient({ host: '127.0.0.1', basePort: base, timeoutMs: 2000 });
    try {
      assert.deepEqual(await client.getHost(1, 1), { retcode: RetCode.SUCC, host: { ip: '127.0.0.1', port: 2 } });
      assert.deepEqual(await client.getHost(1, 1), { retcode: RetCode.SUCC, host: { ip: '127.0.0.1', port: 2 } });
    } finally {
      await client.close();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  });

  test('--agent HOST[:BASE_PORT] parsing', () => {
    assert.deepEqual(parseAgentAddress('127.0.0.1:8888'), { host: '127.0.0.1', basePort: 8888 });
    assert.deepEqual(parseAgentAddress('10.1.2.3'), { host: '10.1.2.3', basePort: 8888 });
    assert.deepEqual(parseAgentAddress(':9000'), { host: '127.0.0.1', basePort: 9000 });
    assert.deepEqual(parseAgentAddress('[::1]:9000'), { host: '::1', basePort: 9000 });
    assert.throws(() => parseAgentAddress('host:70000'), /BASE_PORT 1\.\.65533/);
    assert.throws(() => parseAgentAddress('a:b:c'), /HOST\[:BASE_PORT\]/);
  });
});

/**
 * A UDP socket standing in for the agent port of route (1, 2), to see the
 * exact bytes of each report: it answers getHost with 127.0.0.1:9000 and
 * keeps every ReportRequest datagram.
 */
async function reportSink() {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const reports: Buffer[] = [];
  socket.on('message', (datagram, rinfo) => {
    const msgid = datagram.readInt32LE(0);
    if (msgid === MsgId.ReportRequest) reports.push(datagram);
    if (msgid !== MsgId.GetHostRequest) return;
    const { seq } = decodeBody(MsgId.GetHostRequest, datagram.subarray(8));
    socket.send(frameOf(MsgId.GetHostResponse, { seq, modid: 1, cmdid: 2, retcode: RetCode.SUCC, host: { ip: 0x7f000001, port: 9000 } }), rinfo.port, rinfo.address);
  });
  let read = 0;
  /** The next report received, as bytes. */
  const next = async (): Promise<Buffer> => {
    const report = await waitFor(() => reports[read], { message: 'a ReportRequest' });
    read++;
    return report;
  };
  return {
    basePort: socket.address().port - agentPort(0, 1, 2),
    next,
    /** The next report's duration_us, decoded. */
    nextDuration: async () => decodeBody(MsgId.ReportRequest, (await next()).subarray(8)).durationUs,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

describe('LarsClient report durations (ReportRequest field 5), as the agent receives them', () => {
  const HOST = { ip: '127.0.0.1', port: 9000 };
  let sink: Awaited<ReturnType<typeof reportSink>>;
  let client: LarsClient;
  /** The client's monotonic clock, moved by the test. */
  let now = 0;

  before(async () => {
    sink = await reportSink();
    client = new LarsClient({ host: '127.0.0.1', basePort: sink.basePort, timeoutMs: 2000, clock: () => now });
  });
  after(async () => {
    await client.close();
    await sink.close();
  });

  test('report() with durationMs sends it in whole µs, the bytes of docs/protocol.md; without it, the bytes a Lars client sends', async () => {
    client.report(1, 2, HOST, RetCode.SUCC, { durationMs: 1.5 });
    assert.equal(
      (await sink.next()).toString('hex'),
      hexBytes('06 00 00 00  12 00 00 00  08 01  10 02  1a 09 08 81 80 80 f8 07 10 a8 46  28 dc 0b').toString('hex'),
    );
    client.report(1, 2, HOST, RetCode.SUCC);
    assert.equal((await sink.next()).toString('hex'), hexBytes('06 00 00 00  0f 00 00 00  08 01  10 02  1a 09 08 81 80 80 f8 07 10 a8 46').toString('hex'));
  });

  test('durations are rounded to whole µs and clamped to the uint32 range; 0 is sent as 0', async () => {
    const sent = [0.25, 0.0004, 0.0006, 0, 4294967.295, 1e10, Number.MAX_VALUE];
    const received = [];
    for (const durationMs of sent) {
      client.report(1, 2, HOST, RetCode.SUCC, { durationMs });
      received.push(await sink.nextDuration());
    }
    assert.deepEqual(received, [250, 0, 1, 0, 0xffffffff, 0xffffffff, 0xffffffff]);
  });

  test('a duration that is not a finite number >= 0 is a RangeError, and nothing is sent', async () => {
    for (const durationMs of [NaN, -1, -0.001, Infinity, -Infinity, '5' as unknown as number]) {
      assert.throws(() => client.report(1, 2, HOST, RetCode.SUCC, { durationMs }), RangeError, String(durationMs));
    }
    client.report(1, 2, HOST, RetCode.SUCC, { durationMs: 7 });
    assert.equal(await sink.nextDuration(), 7000, 'the next report received is the valid one');
  });

  test('call() reports how long fn took on the client clock: on success, on failure, and on a timeout the time waited', async () => {
    const ok = await client.call(1, 2, () => {
      now += 2.5;
      return 'done';
    });
    assert.equal(ok.retcode, RetCode.SUCC);
    assert.equal(await sink.nextDuration(), 2500);

    const failed = await client.call(1, 2, async () => {
      now += 3;
      throw new Error('boom');
    });
    assert.equal(failed.retcode, RetCode.SYSTEM_ERROR);
    assert.equal(await sink.nextDuration(), 3000);

    // fn never settles; time passes while call() waits for it (a timer well before the timeout moves the clock).
    const timedOut = await client.call(
      1,
      2,
      () => {
        setTimeout(() => (now += 40), 1);
        return new Promise<never>(() => undefined);
      },
      { timeout: 100 },
    );
    assert.ok(timedOut.retcode === RetCode.SYSTEM_ERROR && timedOut.error instanceof LarsTimeoutError);
    const report = decodeBody(MsgId.ReportRequest, (await sink.next()).subarray(8));
    assert.deepEqual([report.retcode, report.durationUs], [RetCode.SYSTEM_ERROR, 40_000]);
  });
});
