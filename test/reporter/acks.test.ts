/**
 * Report acknowledgements (docs/reporter.md, "Acknowledgements") on every
 * reachable engine: a numbered report is acknowledged once stored, a Lars
 * report (no number) never is, nor is one refused; and `kill -9` of a
 * `lars reporter` process holding unwritten reports loses none of what the
 * agent's reporter link was given: the link sends them again to the
 * restarted reporter and the store counts each once.
 */
import { after, test } from 'node:test';
import { createServer, type Socket } from 'node:net';
import assert from 'node:assert/strict';
import { ReporterLink } from '../../src/agent/reporter-link.js';
import type { RouteStats } from '../../src/balancer/route-table.js';
import { createLogger } from '../../src/reactor/log.js';
import { MetricsRegistry } from '../../src/reactor/metrics.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { startReporter, type Reporter } from '../../src/reporter/service.js';
import { CallStatus } from '../../src/store/status.js';
import type { Store } from '../../src/store/store.js';
import { startLars, type LarsProcess } from '../support/cli.js';
import { forEachEngine } from '../support/engines.js';
import { FrameDecoder } from '../../src/protocol/frame.js';
import { captureLogs, RawTcpClient, unusedPort, waitFor } from '../support/net.js';
import { UNTIMED } from '../balancer/helpers.js';
import { recentTs, reportOf } from './helpers.js';

const logs = captureLogs('info');
after(() => logs.restore());

const metric = (metrics: MetricsRegistry, name: string) =>
  Number(metrics.render().split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? 0);

/** The next frame must be the answer to a keepalive: nothing (no ack) came before it. */
async function nothingElseBefore(client: RawTcpClient): Promise<void> {
  client.send(MsgId.KeepaliveRequest, { seq: 77 });
  assert.deepEqual(await client.nextMessage(MsgId.KeepaliveReply), { seq: 77 });
}

async function succTotal(store: Store, modid: number): Promise<number> {
  const { points } = await new CallStatus(store).series({ modid, cmdid: 1, from: 0, to: recentTs(-3600), bucketSeconds: 3600 });
  return points.reduce((sum, p) => sum + p.succ, 0);
}

test('to a reporter that answers no keepalive (Lars), reports written count as delivered: none kept, none sent twice', async () => {
  const reports: number[] = [];
  const sockets: Socket[] = [];
  const lars = createServer((socket) => {
    sockets.push(socket);
    const decoder = new FrameDecoder(1 << 20);
    socket.on('data', (chunk) => decoder.push(chunk, (msgid) => msgid === MsgId.ReportStatusRequest && reports.push(msgid)));
  });
  await new Promise<void>((resolve) => lars.listen(0, '127.0.0.1', resolve));
  const metrics = new MetricsRegistry();
  const link = new ReporterLink({
    addresses: [{ host: '127.0.0.1', port: (lars.address() as { port: number }).port }],
    caller: '10.9.9.9',
    maxQueue: 100,
    reconnect: { initialMs: 20, maxMs: 50 },
    keepaliveMs: 200,
    logger: createLogger('test.reporter_link'),
    metrics,
  });
  link.start();
  try {
    await waitFor(() => link.connected);
    link.send([{ modid: 1, cmdid: 1, hosts: [{ ip: 1, port: 2, succ: 3, err: 0, overload: false, ...UNTIMED }] }], recentTs());
    await waitFor(() => link.queued === 0, { message: 'the link to learn the reporter does not acknowledge' });
    link.send([{ modid: 1, cmdid: 1, hosts: [{ ip: 1, port: 2, succ: 4, err: 0, overload: false, ...UNTIMED }] }], recentTs());
    assert.equal(link.queued, 0, 'written to a Lars reporter: not kept');
    await waitFor(() => reports.length === 2);
    for (const s of sockets) s.destroy();
    await waitFor(() => sockets.length === 2, { message: 'the link to reconnect' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(reports.length, 2, 'nothing sent again');
    assert.equal(metric(metrics, 'lars_agent_reports_resent_total'), 0);
  } finally {
    await link.close();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => lars.close(resolve));
  }
});

await forEachEngine('report acknowledgements', (store, _engine, { url }) => {
  test('a numbered report is acknowledged once stored; a Lars report, an empty one refused, an oversize one are not', async () => {
    const reporter: Reporter = await startReporter({ store, host: '127.0.0.1', port: 0, reporter: { batch_delay_ms: 10, max_results_per_report: 5 } });
    const client = await RawTcpClient.connect(reporter.address!.port);
    try {
      client.send(MsgId.ReportStatusRequest, { ...reportOf({ modid: 40, count: 3 }), seq: 7 });
      assert.deepEqual(await client.nextMessage(MsgId.ReportAck), { seq: [7] });
      assert.equal(await succTotal(store, 40), 1 + 2 + 3, 'stored before the acknowledgement');
      client.send(MsgId.ReportStatusRequest, reportOf({ modid: 41, count: 2 }));
      await waitFor(() => reporter.stats().resultsWritten >= 5);
      await nothingElseBefore(client);
      client.send(MsgId.ReportStatusRequest, { ...reportOf({ modid: 42, count: 6 }), seq: 8 });
      await waitFor(() => reporter.stats().resultsDropped.oversize === 6);
      await nothingElseBefore(client);
      // Nothing to store (every result invalid): stored at once, acknowledged at once.
      client.send(MsgId.ReportStatusRequest, { modid: 43, cmdid: 1, caller: 1, ts: recentTs(), results: [{ ip: 1, port: 70000, succ: 1, err: 0, overload: false }], seq: 9 });
      assert.deepEqual(await client.nextMessage(MsgId.ReportAck), { seq: [9] });
      assert.equal(reporter.stats().reportsAcknowledged, 2);
    } finally {
      await client.close();
      await reporter.close();
    }
  });

  test('kill -9 of the reporter with reports unwritten: the link sends them again, the store counts each once', async () => {
    const port = await unusedPort();
    const reporterArgs = (...set: string[]) => ['reporter', '--store', url, '--listen', `127.0.0.1:${port}`, '--admin', 'off', ...set.flatMap((s) => ['--set', s])];
    // Full batches of 50 results are written at once; a part batch waits a minute.
    let reporter: LarsProcess = await startLars(reporterArgs('reporter.batch_max_results=50', 'reporter.batch_delay_ms=60000'));
    const metrics = new MetricsRegistry();
    const link = new ReporterLink({
      addresses: [{ host: '127.0.0.1', port }],
      caller: '10.9.9.9',
      maxQueue: 1000,
      reconnect: { initialMs: 20, maxMs: 100 },
      keepaliveMs: 200,
      logger: createLogger('test.reporter_link'),
      metrics,
    });
    link.start();
    let sent = 0;
    const sendReports = (count: number, firstTs: number) => {
      for (let i = 0; i < count; i++) {
        const hosts = Array.from({ length: 5 }, (_, h) => ({ ip: (10 << 24) | (h + 1), port: 80 + h, succ: 10 + i, err: 1, overload: false, ...UNTIMED }));
        sent += hosts.reduce((sum, h) => sum + h.succ, 0);
        const route: RouteStats = { modid: 50, cmdid: 1, hosts };
        link.send([route], firstTs + i);
      }
    };
    try {
      await waitFor(() => link.connected);
      const ts = recentTs(600);
      sendReports(10, ts);
      await waitFor(() => link.queued === 0, { message: 'the full batch to be acknowledged' });
      sendReports(8, ts + 10);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(link.queued, 8, 'the part batch is held by the reporter, unwritten');
      await reporter.kill();
      reporter = await startLars(reporterArgs());
      await waitFor(() => link.queued === 0, { timeoutMs: 15_000, message: 'the resent reports to be acknowledged' });
      assert.equal(metric(metrics, 'lars_agent_reports_resent_total'), 8);
      assert.equal(metric(metrics, 'lars_agent_reports_dropped_total'), 0);
      assert.equal(await succTotal(store, 50), sent, 'every result counted once');
    } finally {
      await link.close();
      await reporter.kill();
    }
  });
});
