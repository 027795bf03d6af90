import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipToUint32 } from '../../src/protocol/ip.js';
import { routeKey } from '../../src/protocol/route-key.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { CallStatus, chooseBucket, coalesceRows, isDataError, NO_DURATIONS, type StatusRow } from '../../src/store/status.js';
import { forEachEngine } from '../support/engines.js';

const NO_LATENCY = { latencyMs: null, maxLatencyMs: null };

function row(fields: Partial<StatusRow> & Pick<StatusRow, 'ts'>): StatusRow {
  return { modid: 1, cmdid: 1, ip: ipToUint32('10.0.0.1'), port: 80, caller: ipToUint32('10.9.9.9'), succ: 0, err: 0, overload: 0, ...NO_DURATIONS, ...fields };
}

test('coalesceRows keeps the newest status per host and the last row per window, in key order', () => {
  const rows = [
    row({ port: 81, ts: 100, succ: 1 }),
    row({ port: 80, ts: 200, succ: 2 }),
    row({ port: 80, ts: 100, succ: 3 }), // older than the one before: not the latest
    row({ port: 80, ts: 200, succ: 4 }), // same window again: replaces succ 2
  ];
  const { latest, windows } = coalesceRows(rows);
  assert.deepEqual(
    latest.map((r) => [r.port, r.ts, r.succ]),
    [
      [80, 200, 4],
      [81, 100, 1],
    ],
  );
  assert.deepEqual(
    windows.map((r) => [r.port, r.ts, r.succ]),
    [
      [80, 100, 3],
      [80, 200, 4],
      [81, 100, 1],
    ],
  );
});

test('chooseBucket: minutes up to 6 h, 5 minutes up to 2 days, hours beyond', () => {
  assert.equal(chooseBucket(3600), 60);
  assert.equal(chooseBucket(6 * 3600), 60);
  assert.equal(chooseBucket(24 * 3600), 300);
  assert.equal(chooseBucket(7 * 86_400), 3600);
});

test('isDataError tells bad rows from a bad connection', () => {
  assert.equal(isDataError(Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_CHECK' })), true);
  assert.equal(isDataError(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' })), false);
  assert.equal(isDataError(Object.assign(new Error('x'), { code: 'ER_WARN_DATA_OUT_OF_RANGE', errno: 1264, sqlState: '22003' })), true);
  assert.equal(isDataError(Object.assign(new Error('x'), { code: 'ER_CONSTRAINT_FAILED', errno: 4025, sqlState: '23000' })), true);
  assert.equal(isDataError(Object.assign(new Error('x'), { code: 'ER_LOCK_DEADLOCK', errno: 1213, sqlState: '40001' })), false);
  assert.equal(isDataError(Object.assign(new Error('x'), { code: '23505' })), true);
  assert.equal(isDataError(Object.assign(new Error('x'), { code: '57P01' })), false);
  assert.equal(isDataError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), false);
});

await forEachEngine('call status store', (store) => {
  const calls = new CallStatus(store);

  test('latest status: newest ts wins, an older report arriving late does not overwrite, equal ts replaces', async () => {
    const high = ipToUint32('200.1.2.3'); // above 2^31: must come back unsigned
    await calls.write([row({ modid: 2, ip: high, ts: 1000, succ: 10, err: 1, overload: 1 })]);
    await calls.write([row({ modid: 2, ip: high, ts: 900, succ: 99, err: 99 })]);
    let status = await calls.list({ modid: 2, cmdid: 1 });
    assert.deepEqual(status, [
      { modid: 2, cmdid: 1, ip: '200.1.2.3', port: 80, caller: '10.9.9.9', succ: 10, err: 1, overload: true, reportedAt: 1000, ...NO_LATENCY },
    ]);
    await calls.write([row({ modid: 2, ip: high, ts: 1000, succ: 11, err: 0 })]);
    await calls.write([row({ modid: 2, ip: high, ts: 1010, succ: 5, err: 5 })]);
    status = await calls.list({ modid: 2, cmdid: 1 });
    assert.deepEqual(
      status.map((s) => [s.succ, s.err, s.overload, s.reportedAt]),
      [[5, 5, false, 1010]],
    );
  });

  test('series: a re-sent window replaces its counts instead of adding, in one batch or across batches', async () => {
    const windowRows = [row({ modid: 3, ts: 1060, succ: 7, err: 1 }), row({ modid: 3, ts: 1120, succ: 3, err: 0 })];
    await calls.write([...windowRows, windowRows[0]!]);
    await calls.write(windowRows);
    const series = await calls.series({ modid: 3, cmdid: 1, from: 0, to: 2000, bucketSeconds: 60 });
    assert.deepEqual(series, {
      bucketSeconds: 60,
      points: [
        { ip: '10.0.0.1', port: 80, bucket: 1020, succ: 7, err: 1, ...NO_LATENCY },
        { ip: '10.0.0.1', port: 80, bucket: 1080, succ: 3, err: 0, ...NO_LATENCY },
      ],
    });
  });

  test('series sums callers per host per bucket, counts a window in the bucket of its last second, honours the range', async () => {
    const base = 1_700_000_000 - (1_700_000_000 % 3600); // an hour boundary
    const rows: StatusRow[] = [];
    for (let i = 1; i <= 12; i++) {
      // Two callers, 10 s windows over two minutes; the window ending exactly at base+60 is in the first minute.
      rows.push(row({ modid: 4, ts: base + i * 10, succ: i, err: 1, caller: ipToUint32('10.9.9.1') }));
      rows.push(row({ modid: 4, ts: base + i * 10, succ: 100, err: 0, caller: ipToUint32('10.9.9.2') }));
    }
    rows.push(row({ modid: 4, port: 81, ts: base + 3600, succ: 5, err: 5 }));
    await calls.write(rows);

    const minutes = await calls.series({ modid: 4, cmdid: 1, from: base, to: base + 120 });
    assert.equal(minutes.bucketSeconds, 60);
    assert.deepEqual(minutes.points, [
      { ip: '10.0.0.1', port: 80, bucket: base, succ: 1 + 2 + 3 + 4 + 5 + 6 + 600, err: 6, ...NO_LATENCY },
      { ip: '10.0.0.1', port: 80, bucket: base + 60, succ: 7 + 8 + 9 + 10 + 11 + 12 + 600, err: 6, ...NO_LATENCY },
    ]);
    const hours = await calls.series({ modid: 4, cmdid: 1, from: base, to: base + 3600, bucketSeconds: 3600 });
    assert.deepEqual(
      hours.points.map((p) => [p.port, p.bucket, p.succ, p.err]),
      [
        [80, base, 78 + 1200, 12],
        [81, base, 5, 5],
      ],
    );
    const later = await calls.series({ modid: 4, cmdid: 1, from: base + 60, to: base + 120 });
    assert.equal(later.points.length, 1);
    assert.equal(later.points[0]!.bucket, base + 60);
  });

  test('totals sum each host and caller over the windows in the range, one service or all', async () => {
    const rows: StatusRow[] = [];
    for (let i = 1; i <= 6; i++) {
      rows.push(row({ modid: 9, ts: 10_000 + i * 10, succ: i, err: i % 2, caller: ipToUint32('10.9.9.1') }));
      rows.push(row({ modid: 9, ts: 10_000 + i * 10, succ: 10, err: 0, caller: ipToUint32('10.9.9.2') }));
    }
    rows.push(row({ modid: 10, ts: 10_030, succ: 7, err: 7 }));
    await calls.write(rows);
    const key = (t: { modid: number; caller: string }) => `${t.modid}/${t.caller}`;
    const sorted = <T extends { modid: number; caller: string }>(list: T[]) => list.sort((a, b) => key(a).localeCompare(key(b)));
    // Windows ending in (10_020, 10_050]: i = 3, 4, 5.
    assert.deepEqual(sorted(await calls.totals({ from: 10_020, to: 10_050, modid: 9, cmdid: 1 })), [
      { modid: 9, cmdid: 1, ip: '10.0.0.1', port: 80, caller: '10.9.9.1', succ: 3 + 4 + 5, err: 2, ...NO_LATENCY },
      { modid: 9, cmdid: 1, ip: '10.0.0.1', port: 80, caller: '10.9.9.2', succ: 30, err: 0, ...NO_LATENCY },
    ]);
    const all = sorted((await calls.totals({ from: 10_000, to: 10_060 })).filter((t) => t.modid === 9 || t.modid === 10));
    assert.deepEqual(all.map((t) => [t.modid, t.caller, t.succ, t.err]), [
      [10, '10.9.9.9', 7, 7],
      [9, '10.9.9.1', 21, 3],
      [9, '10.9.9.2', 60, 0],
    ]);
  });

  test('call durations: the latest report\'s mean and longest, summed over callers and windows in series and totals, replaced with the counts', async () => {
    const callerA = ipToUint32('10.9.9.1');
    const callerB = ipToUint32('10.9.9.2');
    const timed = (fields: Partial<StatusRow> & Pick<StatusRow, 'ts'>) => row({ modid: 12, succ: 10, err: 0, ...fields });
    await calls.write([
      timed({ caller: callerA, ts: 1030, timed: 4, duration_us: 4000, max_duration_us: 2500 }),
      timed({ caller: callerA, ts: 1040, timed: 2, duration_us: 30_000, max_duration_us: 20_000 }),
      timed({ caller: callerB, ts: 1040, timed: 0 }),
      // Sent again with other figures: the window's durations are replaced, as its counts are.
      timed({ caller: callerB, ts: 1050, timed: 1, duration_us: 999_999, max_duration_us: 999_999 }),
    ]);
    await calls.write([timed({ caller: callerB, ts: 1050, timed: 4, duration_us: 6000, max_duration_us: 3000 })]);
    const latest = await calls.list({ modid: 12, cmdid: 1 });
    assert.deepEqual(latest.map((s) => [s.caller, s.latencyMs, s.maxLatencyMs]), [
      ['10.9.9.1', 15, 20],
      ['10.9.9.2', 1.5, 3],
    ]);
    const { points } = await calls.series({ modid: 12, cmdid: 1, from: 1020, to: 1080, bucketSeconds: 60 });
    assert.deepEqual(points.map((p) => [p.succ, p.latencyMs, p.maxLatencyMs]), [[40, 40_000 / 10 / 1000, 20]]);
    const totals = await calls.totals({ from: 1020, to: 1080, modid: 12, cmdid: 1 });
    assert.deepEqual(totals.map((t) => [t.caller, t.latencyMs, t.maxLatencyMs]), [
      ['10.9.9.1', 34_000 / 6 / 1000, 20],
      ['10.9.9.2', 1.5, 3],
    ].map(([caller, mean, max]) => [caller, Math.round((mean as number) * 1000) / 1000, max]));
  });

  test('a batch larger than one statement is written whole', async () => {
    const rows: StatusRow[] = [];
    for (let port = 1; port <= 2500; port++) rows.push(row({ modid: 5, port, ts: 5000, succ: port }));
    await calls.write(rows);
    const status = await calls.list({ modid: 5, cmdid: 1 });
    assert.equal(status.length, 2500);
    assert.equal(status.reduce((sum, s) => sum + s.succ, 0), (2500 * 2501) / 2);
    const series = await calls.series({ modid: 5, cmdid: 1, from: 0, to: 6000, bucketSeconds: 3600 });
    assert.equal(series.points.length, 2500);
  });

  test('pruneSeries deletes windows older than the cutoff and keeps the rest and the status', async () => {
    await calls.write([row({ modid: 6, ts: 100, succ: 1 }), row({ modid: 6, ts: 200, succ: 2 })]);
    const pruned = await calls.pruneSeries(150);
    assert.ok(pruned >= 1, `pruned ${pruned}`);
    const series = await calls.series({ modid: 6, cmdid: 1, from: 0, to: 1000, bucketSeconds: 60 });
    assert.deepEqual(series.points.map((p) => p.succ), [2]);
    assert.equal((await calls.list({ modid: 6, cmdid: 1 })).length, 1);
  });

  test('samplesByRoute folds every caller of each route host into one sample, and leaves out hosts not in the route', async () => {
    const admin = new RouteAdmin(store);
    await admin.addModule({ modid: 7, cmdid: 1 });
    await admin.addHost({ modid: 7, cmdid: 1, ip: '10.0.0.1', port: 80 });
    const callerA = ipToUint32('10.9.9.1');
    const callerB = ipToUint32('10.9.9.2');
    await calls.write([
      row({ modid: 7, caller: callerA, ts: 100, succ: 3, err: 1 }),
      row({ modid: 7, caller: callerB, ts: 120, succ: 4, err: 0, overload: 1 }),
      row({ modid: 7, port: 81, ts: 130, succ: 9 }), // not in the route
    ]);
    const samples = await calls.samplesByRoute();
    assert.deepEqual(samples.get(routeKey(7, 1)), [{ overload: true, succ: 7, err: 1, reportedAt: 120 }]);
  });
});
