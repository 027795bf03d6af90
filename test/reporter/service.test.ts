/**
 * The reporter service in-process on every reachable engine: real TCP frames
 * in, rows out; duplicates; batching; rows the store refuses; queue overflow;
 * store outage, retry backoff and recovery; flush on close, and what it loses
 * when the store stays away; malformed frames.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { MetricsRegistry } from '../../src/reactor/metrics.js';
import { startReporter, type Reporter } from '../../src/reporter/service.js';
import type { ReporterConfig } from '../../src/reporter/config.js';
import { CallStatus } from '../../src/store/status.js';
import { kyselyOf, openStore, type Store } from '../../src/store/store.js';
import { forEachEngine } from '../support/engines.js';
import { captureLogs, RawTcpClient, waitFor, type LogCapture } from '../support/net.js';
import { recentTs, reportFrame, reportOf, storeOutage } from './helpers.js';

const logs: LogCapture = captureLogs('info');
after(() => logs.restore());

async function startOn(store: Store, config: Partial<ReporterConfig> = {}, metrics = new MetricsRegistry()): Promise<Reporter> {
  return startReporter({ store, host: '127.0.0.1', port: 0, reporter: config, metrics });
}

async function connectTo(reporter: Reporter): Promise<RawTcpClient> {
  return RawTcpClient.connect(reporter.address!.port);
}

/** Resolves once the reporter has written `count` results in all. */
function written(reporter: Reporter, count: number) {
  return waitFor(() => reporter.stats().resultsWritten >= count, { timeoutMs: 30_000, message: `${count} results written` });
}

async function seriesTotal(store: Store, modid: number): Promise<{ succ: number; err: number; points: number }> {
  const { points } = await new CallStatus(store).series({ modid, cmdid: 1, from: 0, to: recentTs(-3600), bucketSeconds: 3600 });
  return {
    succ: points.reduce((sum, p) => sum + p.succ, 0),
    err: points.reduce((sum, p) => sum + p.err, 0),
    points: points.length,
  };
}

await forEachEngine('reporter service', (store, engine, { url }) => {
  test('frames in, rows out: split and coalesced TCP frames from two agents', async () => {
    const reporter = await startOn(store, { batch_delay_ms: 20 });
    try {
      const ts = recentTs();
      const a = await connectTo(reporter);
      const b = await connectTo(reporter);
      const split = reportFrame(reportOf({ modid: 10, caller: 1, ts, firstPort: 1, count: 3 }));
      a.write(split.subarray(0, 5));
      await new Promise((resolve) => setTimeout(resolve, 20));
      a.write(split.subarray(5));
      b.write(Buffer.concat([reportFrame(reportOf({ modid: 10, caller: 2, ts, firstPort: 1, count: 3 })), reportFrame(reportOf({ modid: 10, caller: 2, ts, firstPort: 4, count: 1 }))]));
      await written(reporter, 7);
      const status = await new CallStatus(store).list({ modid: 10, cmdid: 1 });
      assert.deepEqual(
        status.map((s) => [s.ip, s.port, s.caller, s.succ, s.err, s.overload, s.reportedAt]),
        [
          ['10.0.0.1', 1, '0.0.0.1', 1, 1, false, ts],
          ['10.0.0.1', 1, '0.0.0.2', 1, 1, false, ts],
          ['10.0.0.2', 2, '0.0.0.1', 2, 1, false, ts],
          ['10.0.0.2', 2, '0.0.0.2', 2, 1, false, ts],
          ['10.0.0.3', 3, '0.0.0.1', 3, 1, false, ts],
          ['10.0.0.3', 3, '0.0.0.2', 3, 1, false, ts],
          ['10.0.0.4', 4, '0.0.0.2', 4, 1, false, ts],
        ],
      );
      assert.deepEqual(await seriesTotal(store, 10), { succ: 16, err: 7, points: 4 });
      assert.equal(reporter.stats().reports, 3);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await reporter.close();
    }
  });

  test('duplicates: a window sent twice counts once; a late older report does not replace the newer status', async () => {
    const reporter = await startOn(store, { batch_delay_ms: 20 });
    try {
      const client = await connectTo(reporter);
      const newer = recentTs(60);
      const older = recentTs(120);
      client.write(reportFrame(reportOf({ modid: 11, ts: newer, count: 2 })));
      client.write(reportFrame(reportOf({ modid: 11, ts: newer, count: 2 }))); // same window again, same batch
      await written(reporter, 4);
      client.write(reportFrame(reportOf({ modid: 11, ts: newer, count: 2 }))); // and again, in a later batch
      client.write(reportFrame({ ...reportOf({ modid: 11, ts: older, count: 2 }), results: [{ ip: (10 << 24) | 1, port: 1, succ: 50, err: 50, overload: true }] }));
      await written(reporter, 7);
      const status = await new CallStatus(store).list({ modid: 11, cmdid: 1 });
      assert.deepEqual(
        status.map((s) => [s.port, s.succ, s.err, s.overload, s.reportedAt]),
        [
          [1, 1, 1, false, newer],
          [2, 2, 1, false, newer],
        ],
      );
      // Windows: newer (1+2 succ, 2 err) once, plus the older window's 50/50.
      assert.deepEqual(await seriesTotal(store, 11), { succ: 53, err: 52, points: 2 });
      await client.close();
    } finally {
      await reporter.close();
    }
  });

  test('batching: full batches are written as they fill, the partial one on close', async () => {
    const reporter = await startOn(store, { batch_max_results: 50, batch_delay_ms: 60_000, db_thread_cnt: 1 });
    const client = await connectTo(reporter);
    try {
      const ts = recentTs();
      for (let i = 0; i < 3; i++) client.write(reportFrame(reportOf({ modid: 12, ts, firstPort: 1 + i * 50, count: 50 })));
      client.write(reportFrame(reportOf({ modid: 12, ts, firstPort: 151, count: 7 })));
      await written(reporter, 150);
      await waitFor(() => reporter.stats().resultsAccepted === 157);
      assert.equal(reporter.stats().batchesWritten, 3);
      assert.equal(reporter.stats().queuedResults, 7, 'the partial batch waits for its delay');
    } finally {
      await client.close();
      await reporter.close();
    }
    assert.equal(reporter.stats().resultsWritten, 157);
    assert.equal(reporter.stats().batchesWritten, 4);
    assert.equal((await new CallStatus(store).list({ modid: 12, cmdid: 1 })).length, 157);
  });

  test('a partial batch is written after batch_delay_ms without more traffic', async () => {
    const reporter = await startOn(store, { batch_max_results: 1000, batch_delay_ms: 200 });
    try {
      const client = await connectTo(reporter);
      client.write(reportFrame(reportOf({ modid: 13, count: 3 })));
      await written(reporter, 3);
      assert.equal(reporter.stats().batchesWritten, 1);
      assert.equal((await new CallStatus(store).list({ modid: 13, cmdid: 1 })).length, 3);
      await client.close();
    } finally {
      await reporter.close();
    }
  });

  test('rows the store refuses as bad data are dropped, counted and logged; the rest of their batch is written', async () => {
    // A refusal the reporter's own checks cannot foresee: port 666 of modid 16, refused by the database.
    const db = kyselyOf(store);
    const refuse =
      engine === 'sqlite'
        ? sql`create trigger test_refuse before insert on call_status when new.modid = 16 and new.port = 666 begin select raise(abort, 'refused by the test'); end`
        : sql`alter table call_status add constraint test_refuse check (modid <> 16 or port <> 666)`;
    await refuse.execute(db);
    const mine = logs.since();
    const reporter = await startOn(store, { batch_delay_ms: 20 });
    try {
      const client = await connectTo(reporter);
      client.write(reportFrame(reportOf({ modid: 16, firstPort: 660, count: 10 })));
      await written(reporter, 9);
      const stats = reporter.stats();
      assert.equal(stats.resultsDropped.rejected, 1);
      assert.equal(stats.batchesWritten, 1);
      const ports = (await new CallStatus(store).list({ modid: 16, cmdid: 1 })).map((s) => s.port);
      assert.deepEqual(ports, [660, 661, 662, 663, 664, 665, 667, 668, 669]);
      await mine.waitFor(/results_rejected results=1 batch=10 /);
      await client.close();
    } finally {
      await reporter.close();
      await (engine === 'sqlite' ? sql`drop trigger test_refuse` : sql`alter table call_status drop constraint test_refuse`).execute(db);
    }
  });

  describe('with the store cut off', () => {
    let outage: Awaited<ReturnType<typeof storeOutage>>;
    let reporterStore: Store;
    before(async () => {
      outage = await storeOutage(engine, url);
      reporterStore = await openStore(outage.url, { migrate: false });
    });
    after(async () => {
      await outage.end().catch(() => {});
      await reporterStore.close();
      await outage.close();
    });

    test('queue overflow drops the oldest batches, counts them, logs once, and writes the rest on recovery', async () => {
      const config = { queue_max_results: 100, peer_queue_share_pct: 100, batch_max_results: 10, batch_delay_ms: 0, db_thread_cnt: 1, retry_initial_ms: 50, retry_max_ms: 200 };
      const reporter = await startOn(reporterStore, config);
      const client = await connectTo(reporter);
      const mine = logs.since();
      try {
        await outage.begin();
        const ts = recentTs();
        for (let i = 0; i < 30; i++) client.write(reportFrame(reportOf({ modid: 14, ts, firstPort: 1 + i * 10, count: 10 })));
        await waitFor(() => reporter.stats().resultsAccepted === 300, { message: 'all 300 results accepted' });
        const stats = reporter.stats();
        assert.equal(stats.resultsDropped.overflow, 200, 'everything beyond the bound of 100');
        assert.equal(stats.queuedResults, 100);
        assert.ok(stats.batchesDropped >= 19, `batches dropped: ${stats.batchesDropped}`);
        assert.equal(mine.matching('queue_full_dropped_oldest').length, 1, 'one log line per interval');
        await outage.end();
        await written(reporter, 100);
        const ports = (await new CallStatus(store).list({ modid: 14, cmdid: 1 })).map((s) => s.port);
        assert.equal(ports.length, 100);
        // At most the one batch that was being written when the store went away is older than the newest 90.
        for (let port = 211; port <= 300; port++) assert.ok(ports.includes(port), `newest result ${port} kept`);
      } finally {
        await client.close();
        await reporter.close();
      }
    });

    test('fairness: a flood from one peer does not push out another peer\'s queued results; an oversize report is refused and logged', async () => {
      const config = { queue_max_results: 100, peer_queue_share_pct: 50, max_results_per_report: 40, batch_max_results: 10, batch_delay_ms: 0, db_thread_cnt: 1, retry_initial_ms: 50, retry_max_ms: 200 };
      const reporter = await startOn(reporterStore, config);
      const quiet = await connectTo(reporter);
      const flood = await connectTo(reporter);
      const mine = logs.since();
      try {
        await outage.begin();
        const ts = recentTs();
        quiet.write(reportFrame(reportOf({ modid: 40, ts, firstPort: 1, count: 30 })));
        await waitFor(() => reporter.stats().resultsAccepted === 30, { message: 'the quiet peer\'s 30 results accepted' });
        for (let i = 0; i < 20; i++) flood.write(reportFrame(reportOf({ modid: 41, ts, firstPort: 1 + i * 30, count: 30 })));
        flood.write(reportFrame(reportOf({ modid: 41, ts, firstPort: 1000, count: 41 })));
        await waitFor(() => reporter.stats().reports === 22, { message: 'all 22 reports received' });
        const stats = reporter.stats();
        assert.equal(stats.resultsDropped.overflow, 0, 'nothing pushed out');
        assert.equal(stats.resultsDropped.peerShare, 20 * 30 - 50, 'the flood beyond its share of 50');
        assert.equal(stats.resultsDropped.oversize, 41);
        assert.equal(stats.queuedResults, 80);
        await mine.waitFor(/report_refused peer=127\.0\.0\.1:\d+ modid=41 .*results=41 reason="41 results, more than max_results_per_report 40"/);
        await mine.waitFor(/peer_share_full_refused peer=127\.0\.0\.1:\d+ .*peerMax=50/);
        assert.equal(mine.matching('peer_share_full_refused').length, 1, 'one log line per interval');
        await outage.end();
        await written(reporter, 80);
        assert.equal((await new CallStatus(store).list({ modid: 40, cmdid: 1 })).length, 30, 'every result of the quiet peer stored');
        assert.equal((await new CallStatus(store).list({ modid: 41, cmdid: 1 })).length, 50);
      } finally {
        await quiet.close();
        await flood.close();
        await reporter.close();
      }
    });

    test(
      'a store that stays away gets one attempt per backoff delay, not a retry loop',
      { skip: engine === 'sqlite' && 'an attempt on a locked SQLite file waits out the 5 s busy timeout, which paces retries by itself' },
      async () => {
        const reporter = await startOn(reporterStore, { batch_delay_ms: 0, retry_initial_ms: 300, retry_max_ms: 300 });
        const client = await connectTo(reporter);
        try {
          await outage.begin();
          client.write(reportFrame(reportOf({ modid: 17, count: 5 })));
          await waitFor(() => reporter.stats().writeFailures >= 1, { timeoutMs: 30_000, message: 'the first failed write' });
          const firstFailure = performance.now();
          await waitFor(() => reporter.stats().writeFailures >= 11, { timeoutMs: 30_000, message: 'ten more failed writes' });
          const elapsed = performance.now() - firstFailure;
          // Ten delays drawn uniformly from [0, 300) ms add up to less than 300 ms with
          // probability 1/10! (about 3e-7); ten retries without them take a few ms.
          assert.ok(elapsed >= 300, `ten retries came within ${elapsed.toFixed(0)} ms`);
        } finally {
          await outage.end();
          await client.close();
          await reporter.close();
        }
      },
    );

    test('close with the store away: what flush_timeout_ms could not write is counted and logged as lost', async () => {
      const mine = logs.since();
      const reporter = await startOn(reporterStore, { batch_delay_ms: 0, retry_initial_ms: 50, retry_max_ms: 100, flush_timeout_ms: 200 });
      try {
        const client = await connectTo(reporter);
        await outage.begin();
        client.write(reportFrame(reportOf({ modid: 18, count: 20 })));
        await waitFor(() => reporter.stats().resultsAccepted === 20, { message: 'the report accepted' });
        await client.close();
      } finally {
        await reporter.close();
        await outage.end();
      }
      const stats = reporter.stats();
      assert.equal(stats.resultsWritten, 0);
      assert.equal(stats.resultsDropped.shutdown, 20);
      // Lost from the queue, or still in flight when the time ran out (and dropped when that write failed).
      const line = await mine.waitFor('flush_incomplete');
      const [dropped, inFlight] = [/ dropped=(\d+)/, / inFlight=(\d+)/].map((pattern) => Number(pattern.exec(line)?.[1]));
      assert.equal(dropped! + inFlight!, 20, line);
    });

    test('store outage: reports accepted meanwhile are all written after recovery; intake and new connections keep working', async () => {
      const mine = logs.since();
      const config = { batch_max_results: 20, batch_delay_ms: 10, retry_initial_ms: 50, retry_max_ms: 500 };
      const reporter = await startOn(reporterStore, config);
      const early = await connectTo(reporter);
      try {
        await outage.begin();
        const ts = recentTs();
        early.write(reportFrame(reportOf({ modid: 15, ts, firstPort: 1, count: 20 })));
        await waitFor(() => !reporter.stats().storeUp, { timeoutMs: 30_000, message: 'the reporter to notice the outage' });
        assert.equal(reporter.health().ok, false);
        const late = await connectTo(reporter);
        for (let i = 1; i < 10; i++) (i % 2 ? late : early).write(reportFrame(reportOf({ modid: 15, ts, firstPort: 1 + i * 20, count: 20 })));
        await waitFor(() => reporter.stats().resultsAccepted === 200);
        assert.equal(reporter.stats().resultsWritten, 0);
        await outage.end();
        await written(reporter, 200);
        const stats = reporter.stats();
        assert.deepEqual(stats.resultsDropped, { overflow: 0, shutdown: 0, rejected: 0, oversize: 0, peerRate: 0, peerShare: 0 });
        assert.ok(stats.writeFailures >= 1);
        assert.equal(stats.storeUp, true);
        assert.equal(reporter.health().ok, true);
        assert.equal((await new CallStatus(store).list({ modid: 15, cmdid: 1 })).length, 200);
        await mine.waitFor('store_recovered');
        await late.close();
      } finally {
        await early.close();
        await reporter.close();
      }
    });
  });
});

describe('reporter service input checks (in-memory SQLite)', () => {
  let store: Store;
  let reporter: Reporter;
  const metrics = new MetricsRegistry();
  before(async () => {
    store = await openStore('sqlite::memory:');
    reporter = await startReporter({ store, host: '127.0.0.1', port: 0, reporter: { batch_delay_ms: 10 }, reactor: { max_frame_bytes: 65535 }, metrics });
  });
  after(async () => {
    await reporter.close();
    await store.close();
  });

  const protocolErrors = () => Number(/lars_reporter_protocol_errors_total (\d+)/.exec(metrics.render())?.[1]);

  const malformed: [string, Buffer][] = [
    ['an undecodable body', Buffer.concat([Buffer.from([3, 0, 0, 0, 4, 0, 0, 0]), Buffer.from([0x22, 0xff, 0xff, 0xff])])],
    ['a negative length', Buffer.from([3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])],
    ['a length above the frame cap', Buffer.from([3, 0, 0, 0, 0, 0, 0x10, 0])],
    ['an unknown msgid', Buffer.from([99, 0, 0, 0, 0, 0, 0, 0])],
    ['a msgid the reporter does not serve', Buffer.from([1, 0, 0, 0, 0, 0, 0, 0])],
  ];
  for (const [what, bytes] of malformed) {
    test(`a frame with ${what} closes only its connection, with a log line`, async () => {
      const mine = logs.since();
      const errorsBefore = protocolErrors();
      const good = await RawTcpClient.connect(reporter.address!.port);
      const bad = await RawTcpClient.connect(reporter.address!.port);
      bad.write(bytes);
      await bad.whenClosed();
      assert.equal(protocolErrors(), errorsBefore + 1);
      await mine.waitFor(new RegExp(`protocol_error peer=127.0.0.1:${bad.localPort} `));
      const writtenBefore = reporter.stats().resultsWritten;
      good.write(reportFrame(reportOf({ modid: 20, count: 2 })));
      await written(reporter, writtenBefore + 2);
      assert.equal(good.closed, false);
      await good.close();
    });
  }

  test('fairness: a giant report is refused whole, a peer past its rate is refused, and another peer keeps its reports', async () => {
    const reporter = await startOn(store, { max_results_per_report: 100, peer_results_per_second: 50, batch_delay_ms: 0 });
    const mine = logs.since();
    try {
      const heavy = await connectTo(reporter);
      const ts = recentTs();
      heavy.write(reportFrame(reportOf({ modid: 31, ts, firstPort: 1, count: 101 })));
      for (let i = 0; i < 5; i++) heavy.write(reportFrame(reportOf({ modid: 31, ts: ts - i - 1, firstPort: 200 + i * 40, count: 40 })));
      await waitFor(() => reporter.stats().reports === 6, { message: 'the heavy peer\'s six reports' });
      const stats = reporter.stats();
      assert.equal(stats.resultsDropped.oversize, 101, 'the 101-result report, whole');
      assert.equal(stats.resultsAccepted, 80, 'the bucket holds 2 x 50: two reports of 40 fit');
      assert.equal(stats.resultsDropped.peerRate, 120);
      assert.ok(mine.matching('report_refused').length >= 1);
      const other = await RawTcpClient.connect(reporter.address!.port, '127.0.0.1', { localAddress: '127.0.0.2' });
      other.write(reportFrame(reportOf({ modid: 32, ts, firstPort: 1, count: 40 })));
      await written(reporter, 120);
      assert.equal((await new CallStatus(store).list({ modid: 32, cmdid: 1 })).length, 40, "the other peer's results all stored");
      await Promise.all([heavy.close(), other.close()]);
    } finally {
      await reporter.close();
    }
  });

  test('an out-of-range port is skipped and counted; the rest of the report is kept', async () => {
    const mine = logs.since();
    const client = await RawTcpClient.connect(reporter.address!.port);
    const writtenBefore = reporter.stats().resultsWritten;
    const report = reportOf({ modid: 21, count: 2 });
    report.results.push({ ip: 1, port: 70_000, succ: 1, err: 0, overload: false });
    client.write(reportFrame(report));
    await written(reporter, writtenBefore + 2);
    assert.equal(reporter.stats().resultsInvalid, 1);
    assert.equal((await new CallStatus(store).list({ modid: 21, cmdid: 1 })).length, 2);
    await mine.waitFor(/invalid_results .*reason="port 70000 out of range"/);
    await client.close();
  });

  test('ts 0 and a ts far in the future are stored as the receive time', async () => {
    const client = await RawTcpClient.connect(reporter.address!.port);
    const writtenBefore = reporter.stats().resultsWritten;
    const sentAt = Math.floor(Date.now() / 1000);
    client.write(reportFrame(reportOf({ modid: 22, ts: 0, count: 1 })));
    client.write(reportFrame(reportOf({ modid: 23, ts: sentAt + 86_400, count: 1 })));
    await written(reporter, writtenBefore + 2);
    const receivedAt = Math.floor(Date.now() / 1000);
    for (const modid of [22, 23]) {
      const [status] = await new CallStatus(store).list({ modid, cmdid: 1 });
      assert.ok(status!.reportedAt >= sentAt && status!.reportedAt <= receivedAt, `modid ${modid}: ${status!.reportedAt}`);
    }
    await client.close();
  });
});
