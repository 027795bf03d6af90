/**
 * The protocol boundary (src/protocol/messages.ts): decoded bodies are plain
 * objects with every field present, and HostInfo's weight extension keeps
 * "absent" (1, never sent) apart from 0 (drain, sent explicitly).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBody, encodeBody, MalformedBodyError } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { hexBytes } from '../support/net.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Fails unless value and everything in it are plain objects and arrays (no generated class behind them). */
function assertPlain(value: unknown, path = 'message'): void {
  if (value === null || typeof value !== 'object') return;
  const proto = Object.getPrototypeOf(value);
  assert.ok(proto === Object.prototype || proto === Array.prototype, `${path} is a plain object`);
  for (const [key, child] of Object.entries(value)) assertPlain(child, `${path}.${key}`);
}

describe('decoded messages', () => {
  test('an empty body of every message is a plain object with every field at its default', () => {
    assert.deepEqual(decodeBody(MsgId.GetRouteRequest, Buffer.alloc(0)), { modid: 0, cmdid: 0 });
    assert.deepEqual(decodeBody(MsgId.GetRouteResponse, Buffer.alloc(0)), { modid: 0, cmdid: 0, host: [], strategy: null });
    assert.deepEqual(decodeBody(MsgId.ReportStatusRequest, Buffer.alloc(0)), { modid: 0, cmdid: 0, caller: 0, results: [], ts: 0, seq: 0 });
    assert.deepEqual(decodeBody(MsgId.GetHostRequest, Buffer.alloc(0)), { seq: 0, modid: 0, cmdid: 0, key: '' });
    assert.deepEqual(decodeBody(MsgId.GetHostResponse, Buffer.alloc(0)), { seq: 0, modid: 0, cmdid: 0, retcode: 0, host: null });
    assert.deepEqual(decodeBody(MsgId.ReportRequest, Buffer.alloc(0)), { modid: 0, cmdid: 0, host: null, retcode: 0, durationUs: null });
  });

  test('nested messages are plain too, defaults filled in', () => {
    // ReportStatusRequest with one empty HostCallResult; GetHostResponse with an empty HostInfo.
    const report = decodeBody(MsgId.ReportStatusRequest, hexBytes('22 00'));
    assertPlain(report);
    assert.deepEqual(report.results, [{ ip: 0, port: 0, succ: 0, err: 0, overload: false, timed: 0, durationUs: 0, maxDurationUs: 0 }]);
    const answer = decodeBody(MsgId.GetHostResponse, hexBytes('2a 00'));
    assertPlain(answer);
    assert.deepEqual(answer.host, { ip: 0, port: 0, weight: 1 });
  });
});

describe('HostCallResult call durations (extension fields 6-8)', () => {
  test('a duration sum past 2^32 µs comes back as the same plain number; a result without timed calls is Lars\'s bytes', () => {
    const timed = { ip: 1, port: 80, succ: 3, err: 0, overload: false, timed: 3, durationUs: 2 ** 40 + 7, maxDurationUs: 0xffffffff };
    const decoded = decodeBody(MsgId.ReportStatusRequest, encodeBody(MsgId.ReportStatusRequest, { modid: 1, cmdid: 1, caller: 1, ts: 1, results: [timed] }));
    assertPlain(decoded);
    assert.deepEqual(decoded.results, [timed]);
    const untimed = { ip: 1, port: 80, succ: 3, err: 0, overload: false };
    const bytes = (result: object) => hex(encodeBody(MsgId.ReportStatusRequest, { modid: 1, cmdid: 1, caller: 1, ts: 1, results: [result as typeof untimed] }));
    assert.equal(bytes({ ...untimed, timed: 0, durationUs: 0, maxDurationUs: 0 }), bytes(untimed));
  });
});

describe('HostInfo weight (extension field 3)', () => {
  // GetRouteResponse (1, 2) with 10.0.0.1:80 and no weight, 10.0.0.2:80 weight 0, 10.0.0.3:80 weight 5.
  const ROUTE = '08 01 10 02  1a 07 08 81 80 80 50 10 50  1a 09 08 82 80 80 50 10 50 18 00  1a 09 08 83 80 80 50 10 50 18 05';

  test('absent reads as 1, 0 as 0: a drained host is not a default one', () => {
    const route = decodeBody(MsgId.GetRouteResponse, hexBytes(ROUTE));
    assertPlain(route);
    assert.deepEqual(route.host.map((h) => h.weight), [1, 0, 5]);
  });

  test('weight 0 is sent explicitly, weight 1 never: the decoded route encodes back to the same bytes', () => {
    const route = decodeBody(MsgId.GetRouteResponse, hexBytes(ROUTE));
    assert.equal(hex(encodeBody(MsgId.GetRouteResponse, route)), hex(hexBytes(ROUTE)));
    const host = (ip: number, weight?: number) => ({ ip, port: 80, weight });
    const written = encodeBody(MsgId.GetRouteResponse, { modid: 1, cmdid: 2, host: [host(0x0a000001, 1), host(0x0a000002, 0), host(0x0a000003, 5)] });
    assert.equal(hex(written), hex(hexBytes(ROUTE)));
    const single = encodeBody(MsgId.GetHostResponse, { seq: 1, modid: 1, cmdid: 2, retcode: 0, host: host(0x0a000001, 1) });
    assert.equal(hex(single), hex(hexBytes('08 01 10 01 18 02 2a 07 08 81 80 80 50 10 50')), 'weight 1 is left out of a single host too');
  });
});

describe('route status (msgid 101, JSON)', () => {
  test('encodes as JSON and decodes back; a body that is not one is a MalformedBodyError', () => {
    const status = { modid: 1, cmdid: 2, status: 'active' as const, strategy: 'lars', hosts: [] };
    assert.deepEqual(decodeBody(MsgId.RouteStatusResponse, encodeBody(MsgId.RouteStatusResponse, status)), status);
    assert.throws(() => decodeBody(MsgId.RouteStatusResponse, Buffer.from('{"modid":')), MalformedBodyError);
    assert.throws(() => decodeBody(MsgId.RouteStatusResponse, Buffer.from('[]')), /msgid 101/);
  });
});
