import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipToInt32, ipToUint32 } from '../../src/protocol/ip.js';
import { decodeBody, encodeBody } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { configFrom } from '../../src/reactor/config.js';
import { REPORTER_CONFIG_SECTIONS, type ReporterConfig } from '../../src/reporter/config.js';
import { reportTime, toStatusRows } from '../../src/reporter/report.js';
import { packRows, unpackRows } from '../../src/reporter/packed-rows.js';
import { NO_DURATIONS } from '../../src/store/status.js';

/** [reporter] values as code gives them, through the one path every service uses. */
const reporterConfig = (values: Partial<ReporterConfig> = {}) => configFrom(REPORTER_CONFIG_SECTIONS, { reporter: values }).reporter;

test('toStatusRows: one row per host, addresses unsigned, counts, overload and durations kept (timed at most the calls)', () => {
  // Through the real codec, so negative int32 addresses arrive as the decoder gives them.
  const wire = encodeBody(MsgId.ReportStatusRequest, {
    modid: -5,
    cmdid: 7,
    caller: ipToInt32('192.168.1.9'),
    ts: 4_000_000_000,
    results: [
      { ip: ipToInt32('200.1.2.3'), port: 8080, succ: 4_000_000_000, err: 3, overload: true, timed: 2, durationUs: 2 ** 40, maxDurationUs: 0xffffffff },
      { ip: ipToInt32('10.0.0.1'), port: 80, succ: 0, err: 0, overload: false },
      // More timed calls than calls (a broken peer): timed is cut to the calls counted.
      { ip: ipToInt32('10.0.0.2'), port: 80, succ: 1, err: 1, overload: false, timed: 9, durationUs: 100, maxDurationUs: 60 },
      // Durations without timed calls mean nothing and are dropped.
      { ip: ipToInt32('10.0.0.3'), port: 80, succ: 1, err: 0, overload: false, timed: 0, durationUs: 100, maxDurationUs: 60 },
    ],
  });
  const report = decodeBody(MsgId.ReportStatusRequest, wire);
  const { rows, invalid, skewed } = toStatusRows(report, 4_000_000_000, 300);
  assert.deepEqual(invalid, []);
  assert.equal(skewed, false);
  assert.deepEqual(rows, [
    { modid: -5, cmdid: 7, ip: ipToUint32('200.1.2.3'), port: 8080, caller: ipToUint32('192.168.1.9'), succ: 4_000_000_000, err: 3, overload: 1, timed: 2, duration_us: 2 ** 40, max_duration_us: 0xffffffff, ts: 4_000_000_000 },
    { modid: -5, cmdid: 7, ip: ipToUint32('10.0.0.1'), port: 80, caller: ipToUint32('192.168.1.9'), succ: 0, err: 0, overload: 0, ...NO_DURATIONS, ts: 4_000_000_000 },
    { modid: -5, cmdid: 7, ip: ipToUint32('10.0.0.2'), port: 80, caller: ipToUint32('192.168.1.9'), succ: 1, err: 1, overload: 0, timed: 2, duration_us: 100, max_duration_us: 60, ts: 4_000_000_000 },
    { modid: -5, cmdid: 7, ip: ipToUint32('10.0.0.3'), port: 80, caller: ipToUint32('192.168.1.9'), succ: 1, err: 0, overload: 0, ...NO_DURATIONS, ts: 4_000_000_000 },
  ]);
});

test('toStatusRows skips a host whose port is out of range and says why', () => {
  const { rows, invalid } = toStatusRows(
    { modid: 1, cmdid: 1, caller: 1, ts: 100, results: [{ ip: 1, port: 70000, succ: 1, err: 0, overload: false }, { ip: 1, port: 1, succ: 1, err: 0, overload: false }] },
    100,
    0,
  );
  assert.equal(rows.length, 1);
  assert.deepEqual(invalid, ['port 70000 out of range']);
});

test('reportTime: 0 means the receive time; a ts too far ahead is replaced; late ones are kept as sent', () => {
  assert.deepEqual(reportTime(0, 1000, 300), { ts: 1000, skewed: false });
  assert.deepEqual(reportTime(1300, 1000, 300), { ts: 1300, skewed: false });
  assert.deepEqual(reportTime(1301, 1000, 300), { ts: 1000, skewed: true });
  assert.deepEqual(reportTime(5, 1000, 300), { ts: 5, skewed: false });
  assert.deepEqual(reportTime(99_999, 1000, 0), { ts: 99_999, skewed: false });
});

test('packRows and unpackRows round-trip rows exactly, including values above 2^31', () => {
  const rows = [
    { modid: -2147483648, cmdid: 2147483647, ip: 4294967295, port: 65535, caller: 3000000000, succ: 4294967295, err: 0, overload: 1, timed: 4294967295, duration_us: Number.MAX_SAFE_INTEGER, max_duration_us: 4294967295, ts: 4294967295 },
    { modid: 1, cmdid: 2, ip: 3, port: 4, caller: 5, succ: 6, err: 7, overload: 0, timed: 9, duration_us: 10, max_duration_us: 11, ts: 8 },
  ];
  assert.deepEqual(unpackRows(packRows(rows)), rows);
});

test('[reporter] values from code are checked like a config file: ranges and the queue-versus-batch rule', () => {
  assert.equal(reporterConfig().db_thread_cnt, 3);
  assert.equal(reporterConfig({ batch_delay_ms: 5 }).batch_delay_ms, 5);
  assert.throws(() => reporterConfig({ db_thread_cnt: 0 }), /db_thread_cnt: expected an integer between 1 and 64/);
  assert.throws(() => reporterConfig({ queue_max_results: 100, batch_max_results: 50 }), /queue_max_results \(100\) must be >= batch_max_results/);
});
