/**
 * Byte-exact frames written out by hand from docs/protocol.md (8-byte header:
 * int32 LE msgid, int32 LE body length; proto3 body, default values omitted).
 * They are not produced by our encoder: decoding them checks the codec reads
 * what an independent Lars peer sends, encoding back checks it writes the same.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, HEADER_SIZE } from '../../src/protocol/frame.js';
import { ipToInt32 } from '../../src/protocol/ip.js';
import { decodeBody, encodeBody, type KnownMsgId, type MessageTypes } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { hexBytes } from '../support/net.js';

interface Vector<K extends KnownMsgId> {
  name: string;
  msgid: K;
  message: MessageTypes[K];
  frame: string;
}

const vectors = [
  {
    name: 'GetHostRequest',
    msgid: MsgId.GetHostRequest,
    message: { seq: 1, modid: 2, cmdid: 3 },
    frame: `
      04 00 00 00   # msgid 4
      06 00 00 00   # body length 6
      08 01         # 1: seq 1
      10 02         # 2: modid 2
      18 03         # 3: cmdid 3`,
  } satisfies Vector<typeof MsgId.GetHostRequest>,
  {
    name: 'GetHostResponse with a host at 200.1.2.3 (negative int32, 10-byte varint)',
    msgid: MsgId.GetHostResponse,
    message: { seq: 7, modid: 1, cmdid: 2, retcode: RetCode.SUCC, host: { ip: ipToInt32('200.1.2.3'), port: 8080 } },
    frame: `
      05 00 00 00   # msgid 5
      16 00 00 00   # body length 22
      08 07         # 1: seq 7
      10 01         # 2: modid 1
      18 02         # 3: cmdid 2
                    # 4: retcode 0 is the default, so absent
      2a 0e         # 5: host, 14 bytes
        08 83 84 84 c0 fc ff ff ff ff 01   # 1: ip 0xc8010203 as int32 -939458045
        10 90 3f                           # 2: port 8080`,
  } satisfies Vector<typeof MsgId.GetHostResponse>,
  {
    name: 'ReportRequest',
    msgid: MsgId.ReportRequest,
    message: { modid: 1, cmdid: 2, host: { ip: ipToInt32('127.0.0.1'), port: 9000 }, retcode: RetCode.OVERLOAD },
    frame: `
      06 00 00 00   # msgid 6
      11 00 00 00   # body length 17
      08 01         # 1: modid 1
      10 02         # 2: cmdid 2
      1a 09         # 3: host, 9 bytes
        08 81 80 80 f8 07   # 1: ip 0x7f000001
        10 a8 46            # 2: port 9000
      20 01         # 4: retcode 1 (OVERLOAD)`,
  } satisfies Vector<typeof MsgId.ReportRequest>,
  {
    name: 'ReportRequest with a duration of 1500 µs (extension field 5)',
    msgid: MsgId.ReportRequest,
    message: { modid: 1, cmdid: 2, host: { ip: ipToInt32('127.0.0.1'), port: 9000 }, retcode: RetCode.SUCC, durationUs: 1500 },
    frame: `
      06 00 00 00   # msgid 6
      12 00 00 00   # body length 18
      08 01         # 1: modid 1
      10 02         # 2: cmdid 2
      1a 09         # 3: host, 9 bytes
        08 81 80 80 f8 07   # 1: ip 0x7f000001
        10 a8 46            # 2: port 9000
                    # 4: retcode 0 (SUCC) is the default, so absent
      28 dc 0b      # 5: duration_us 1500 (0x5dc: 0x5c|0x80, 0x0b)`,
  } satisfies Vector<typeof MsgId.ReportRequest>,
  {
    name: 'ReportRequest with a duration of 0 µs: sent, since 0 is a duration and absent is unknown',
    msgid: MsgId.ReportRequest,
    message: { modid: 1, cmdid: 2, host: { ip: ipToInt32('127.0.0.1'), port: 9000 }, retcode: RetCode.SYSTEM_ERROR, durationUs: 0 },
    frame: `
      06 00 00 00   # msgid 6
      13 00 00 00   # body length 19
      08 01         # 1: modid 1
      10 02         # 2: cmdid 2
      1a 09         # 3: host, 9 bytes
        08 81 80 80 f8 07   # 1: ip 0x7f000001
        10 a8 46            # 2: port 9000
      20 02         # 4: retcode 2 (SYSTEM_ERROR)
      28 00         # 5: duration_us 0, written although it is proto3's default`,
  } satisfies Vector<typeof MsgId.ReportRequest>,
  {
    name: 'ReportRequest with the largest duration, 2^32 - 1 µs (about 71.6 minutes)',
    msgid: MsgId.ReportRequest,
    message: { modid: 1, cmdid: 2, host: { ip: ipToInt32('127.0.0.1'), port: 9000 }, retcode: RetCode.SUCC, durationUs: 0xffffffff },
    frame: `
      06 00 00 00   # msgid 6
      15 00 00 00   # body length 21
      08 01         # 1: modid 1
      10 02         # 2: cmdid 2
      1a 09         # 3: host, 9 bytes
        08 81 80 80 f8 07   # 1: ip 0x7f000001
        10 a8 46            # 2: port 9000
      28 ff ff ff ff 0f   # 5: duration_us 4294967295, a 5-byte varint`,
  } satisfies Vector<typeof MsgId.ReportRequest>,
  {
    name: 'GetRouteResponse with 2 hosts',
    msgid: MsgId.GetRouteResponse,
    message: {
      modid: 1,
      cmdid: 2,
      host: [
        { ip: ipToInt32('10.0.0.1'), port: 80 },
        { ip: ipToInt32('10.0.0.2'), port: 8080 },
      ],
    },
    frame: `
      02 00 00 00   # msgid 2
      17 00 00 00   # body length 23
      08 01         # 1: modid 1
      10 02         # 2: cmdid 2
      1a 07         # 3: host, 7 bytes
        08 81 80 80 50      # 1: ip 0x0a000001
        10 50               # 2: port 80
      1a 08         # 3: host, 8 bytes
        08 82 80 80 50      # 1: ip 0x0a000002
        10 90 3f            # 2: port 8080`,
  } satisfies Vector<typeof MsgId.GetRouteResponse>,
  {
    name: 'GetRouteResponse of a module that names no strategy: no field 4, the bytes Lars sends',
    msgid: MsgId.GetRouteResponse,
    message: { modid: 3, cmdid: 1, host: [{ ip: ipToInt32('10.0.0.1'), port: 80 }] },
    frame: `
      02 00 00 00   # msgid 2
      0d 00 00 00   # body length 13
      08 03         # 1: modid 3
      10 01         # 2: cmdid 1
      1a 07         # 3: host, 7 bytes
        08 81 80 80 50      # 1: ip 0x0a000001
        10 50               # 2: port 80`,
  } satisfies Vector<typeof MsgId.GetRouteResponse>,
  {
    name: 'GetRouteResponse of a module that names least_request (extension field 4)',
    msgid: MsgId.GetRouteResponse,
    message: { modid: 3, cmdid: 1, host: [{ ip: ipToInt32('10.0.0.1'), port: 80 }], strategy: 'least_request' },
    frame: `
      02 00 00 00   # msgid 2
      1c 00 00 00   # body length 28
      08 03         # 1: modid 3
      10 01         # 2: cmdid 1
      1a 07         # 3: host, 7 bytes
        08 81 80 80 50      # 1: ip 0x0a000001
        10 50               # 2: port 80
      22 0d         # 4: strategy, 13 bytes
        6c 65 61 73 74 5f 72 65 71 75 65 73 74   # "least_request"`,
  } satisfies Vector<typeof MsgId.GetRouteResponse>,
  {
    name: 'ReportStatusRequest',
    msgid: MsgId.ReportStatusRequest,
    message: {
      modid: 1,
      cmdid: 2,
      caller: 3,
      results: [{ ip: ipToInt32('10.0.0.1'), port: 80, succ: 10, err: 2, overload: true }],
      ts: 1700000000,
    },
    frame: `
      03 00 00 00   # msgid 3
      1b 00 00 00   # body length 27
      08 01         # 1: modid 1
      10 02         # 2: cmdid 2
      18 03         # 3: caller 3
      22 0d         # 4: results, 13 bytes
        08 81 80 80 50      # 1: ip 0x0a000001
        10 50               # 2: port 80
        18 0a               # 3: succ 10
        20 02               # 4: err 2
        28 01               # 5: overload true
      28 80 e2 cf aa 06   # 5: ts 1700000000`,
  } satisfies Vector<typeof MsgId.ReportStatusRequest>,
  {
    name: 'GetRouteRequest (API_GetRouteRequest shares the body)',
    msgid: MsgId.ApiGetRouteRequest,
    message: { modid: 100, cmdid: 300 },
    frame: `
      07 00 00 00   # msgid 7
      05 00 00 00   # body length 5
      08 64         # 1: modid 100
      10 ac 02      # 2: cmdid 300`,
  } satisfies Vector<typeof MsgId.ApiGetRouteRequest>,
  {
    name: 'GetRouteResponse with a registered instance carrying its load (HostInfo field 4)',
    msgid: MsgId.GetRouteResponse,
    message: { modid: 1, cmdid: 2, host: [{ ip: ipToInt32('127.0.0.1'), port: 80, load: 250 }] },
    frame: `
      02 00 00 00   # msgid 2
      11 00 00 00   # body length 17
      08 01  10 02  # 1: modid 1, 2: cmdid 2
      1a 0b         # 3: host, 11 bytes
        08 81 80 80 f8 07   # 1: ip 0x7f000001
        10 50               # 2: port 80
        20 fa 01            # 4: load 250`,
  } satisfies Vector<typeof MsgId.GetRouteResponse>,
  {
    name: 'RegisterRequest: ip 0 (the peer), a TTL and one metadata entry',
    msgid: MsgId.RegisterRequest,
    message: { seq: 1, modid: 1, cmdid: 2, ip: 0, port: 9000, ttlMs: 3000, metadata: { zone: 'a' } },
    frame: `
      66 00 00 00   # msgid 102
      17 00 00 00   # body length 23
      08 01         # 1: seq 1
      10 01         # 2: modid 1
      18 02         # 3: cmdid 2
                    # 4: ip 0, the default, so absent; 6: weight absent (1)
      28 a8 46      # 5: port 9000
      38 b8 17      # 7: ttl_ms 3000
      42 09         # 8: metadata entry, 9 bytes
        0a 04 7a 6f 6e 65   # key "zone"
        12 01 61            # value "a"`,
  } satisfies Vector<typeof MsgId.RegisterRequest>,
  {
    name: 'RenewRequest with a load',
    msgid: MsgId.RenewRequest,
    message: { seq: 2, lease: 7, modid: 1, cmdid: 2, ip: ipToInt32('127.0.0.1'), port: 9000, load: { inFlight: 3, connections: 1, cpuPermille: 120, score: 40 } },
    frame: `
      67 00 00 00   # msgid 103
      1b 00 00 00   # body length 27
      08 02  10 07  # 1: seq 2, 2: lease 7
      18 01  20 02  # 3: modid 1, 4: cmdid 2
      28 81 80 80 f8 07   # 5: ip 127.0.0.1
      30 a8 46      # 6: port 9000
      3a 08         # 7: load, 8 bytes
        08 03  10 01  18 78  20 28   # in_flight 3, connections 1, cpu_permille 120, score 40`,
  } satisfies Vector<typeof MsgId.RenewRequest>,
  {
    name: 'DeregisterRequest',
    msgid: MsgId.DeregisterRequest,
    message: { seq: 4, lease: 7, modid: 1, cmdid: 2, ip: ipToInt32('127.0.0.1'), port: 9000 },
    frame: `
      68 00 00 00   # msgid 104
      11 00 00 00   # body length 17
      08 04  10 07  18 01  20 02   # seq 4, lease 7, modid 1, cmdid 2
      28 81 80 80 f8 07            # ip 127.0.0.1
      30 a8 46                     # port 9000`,
  } satisfies Vector<typeof MsgId.DeregisterRequest>,
  {
    name: 'RegistryReply accepting a registration',
    msgid: MsgId.RegistryReply,
    message: { seq: 2, status: 0, lease: 7, ttlMs: 3000, ip: ipToInt32('127.0.0.1') },
    frame: `
      69 00 00 00   # msgid 105
      0d 00 00 00   # body length 13
      08 02         # 1: seq 2
                    # 2: status 0 (OK) and 3: reason "" are defaults, so absent
      20 07         # 4: lease 7
      28 b8 17      # 5: ttl_ms 3000
      30 81 80 80 f8 07   # 6: ip 127.0.0.1`,
  } satisfies Vector<typeof MsgId.RegistryReply>,
  {
    name: 'RegistryReply refusing one (NO_MODULE, with the reason)',
    msgid: MsgId.RegistryReply,
    message: { seq: 3, status: 2, reason: 'module 9:1 does not exist' },
    frame: `
      69 00 00 00   # msgid 105
      1f 00 00 00   # body length 31
      08 03         # 1: seq 3
      10 02         # 2: status 2, NO_MODULE
      1a 19 6d 6f 64 75 6c 65 20 39 3a 31 20 64 6f 65 73 20 6e 6f 74 20 65 78 69 73 74
                    # 3: reason, 25 bytes`,
  } satisfies Vector<typeof MsgId.RegistryReply>,
  {
    name: 'ReportStatusRequest numbered for an acknowledgement (extension field 6)',
    msgid: MsgId.ReportStatusRequest,
    message: { modid: 1, cmdid: 2, caller: 0, results: [], ts: 0, seq: 9 },
    frame: `
      03 00 00 00   # msgid 3
      06 00 00 00   # body length 6
      08 01         # 1: modid 1
      10 02         # 2: cmdid 2
      30 09         # 6: seq 9 (Lars agents leave it out: 0, no acknowledgement)`,
  } satisfies Vector<typeof MsgId.ReportStatusRequest>,
  {
    name: 'KeepaliveRequest',
    msgid: MsgId.KeepaliveRequest,
    message: { seq: 5 },
    frame: `
      6a 00 00 00   # msgid 106
      02 00 00 00   # body length 2
      08 05         # 1: seq 5`,
  } satisfies Vector<typeof MsgId.KeepaliveRequest>,
  {
    name: 'KeepaliveReply',
    msgid: MsgId.KeepaliveReply,
    message: { seq: 300 },
    frame: `
      6b 00 00 00   # msgid 107
      03 00 00 00   # body length 3
      08 ac 02      # 1: seq 300`,
  } satisfies Vector<typeof MsgId.KeepaliveReply>,
  {
    name: 'ReportAck of three reports (packed repeated uint32)',
    msgid: MsgId.ReportAck,
    message: { seq: [1, 2, 300] },
    frame: `
      6c 00 00 00   # msgid 108
      06 00 00 00   # body length 6
      0a 04 01 02 ac 02   # 1: seq, packed, 4 bytes: 1, 2, 300`,
  } satisfies Vector<typeof MsgId.ReportAck>,
  {
    name: 'AuthRequest, the first frame to a service that requires a token',
    msgid: MsgId.AuthRequest,
    message: { token: 'abc' },
    frame: `
      6e 00 00 00   # msgid 110
      05 00 00 00   # body length 5
      0a 03 61 62 63   # 1: token "abc"`,
  } satisfies Vector<typeof MsgId.AuthRequest>,
  {
    name: 'AuthRefused',
    msgid: MsgId.AuthRefused,
    message: { reason: 'token not accepted' },
    frame: `
      6f 00 00 00   # msgid 111
      14 00 00 00   # body length 20
      0a 12 74 6f 6b 65 6e 20 6e 6f 74 20 61 63 63 65 70 74 65 64   # 1: reason, 18 bytes`,
  } satisfies Vector<typeof MsgId.AuthRefused>,
  {
    name: 'ReportStatusRequest with call durations (extension fields 6-8 of HostCallResult)',
    msgid: MsgId.ReportStatusRequest,
    message: {
      modid: 1,
      cmdid: 2,
      caller: 3,
      results: [{ ip: ipToInt32('10.0.0.1'), port: 80, succ: 10, err: 2, overload: true, timed: 2, durationUs: 3500, maxDurationUs: 3000 }],
      ts: 1700000000,
    },
    frame: `
      03 00 00 00   # msgid 3
      23 00 00 00   # body length 35
      08 01         # 1: modid 1
      10 02         # 2: cmdid 2
      18 03         # 3: caller 3
      22 15         # 4: results, 21 bytes
        08 81 80 80 50      # 1: ip 0x0a000001
        10 50               # 2: port 80
        18 0a               # 3: succ 10
        20 02               # 4: err 2
        28 01               # 5: overload true
        30 02               # 6: timed 2
        38 ac 1b            # 7: duration_us 3500
        40 b8 17            # 8: max_duration_us 3000
      28 80 e2 cf aa 06   # 5: ts 1700000000`,
  } satisfies Vector<typeof MsgId.ReportStatusRequest>,
] as const;

/**
 * Decoded messages are class instances whose default values live on the
 * prototype; read the expected fields from the decoded one to compare.
 */
function fieldsOf(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected)) return (actual as unknown[]).map((item, i) => fieldsOf(item, expected[i]));
  if (expected === null || typeof expected !== 'object') return actual;
  return Object.fromEntries(Object.entries(expected).map(([key, value]) => [key, fieldsOf((actual as Record<string, unknown>)[key], value)]));
}

describe('hand-written wire vectors', () => {
  for (const vector of vectors) {
    test(vector.name, () => {
      const frame = hexBytes(vector.frame);
      assert.equal(frame.readInt32LE(0), vector.msgid, 'header msgid');
      assert.equal(frame.readInt32LE(4), frame.length - HEADER_SIZE, 'header length counts the body only');

      const decoded = decodeBody(vector.msgid as KnownMsgId, frame.subarray(HEADER_SIZE));
      assert.deepEqual(fieldsOf(decoded, vector.message), vector.message, 'decodes to the expected message');

      const reencoded = encodeFrame(vector.msgid, encodeBody(vector.msgid as KnownMsgId, decoded));
      assert.equal(reencoded.toString('hex'), frame.toString('hex'), 'decoded message encodes back to the same bytes');

      const fromLiteral = encodeFrame(vector.msgid, encodeBody(vector.msgid as KnownMsgId, vector.message as never));
      assert.equal(fromLiteral.toString('hex'), frame.toString('hex'), 'a plain object encodes to the same bytes');
    });
  }

  test('a negative ip reads back as the same 32 bits', () => {
    const frame = hexBytes(vectors[1].frame);
    const decoded = decodeBody(MsgId.GetHostResponse, frame.subarray(HEADER_SIZE));
    assert.equal(decoded.host?.ip, -939458045);
    assert.equal(decoded.host!.ip >>> 0, 0xc8010203);
  });

  test('a report without field 5 (every Lars client\'s) reads as an unknown duration, not 0', () => {
    const withoutDuration = decodeBody(MsgId.ReportRequest, hexBytes(vectors[2].frame).subarray(HEADER_SIZE));
    assert.equal(withoutDuration.durationUs, null);
    const zero = decodeBody(MsgId.ReportRequest, hexBytes(vectors[4].frame).subarray(HEADER_SIZE));
    assert.equal(zero.durationUs, 0);
  });

  test('GetRouteResponse without field 4 reads strategy null, with it the name', () => {
    const body = (index: number) => hexBytes(vectors[index]!.frame).subarray(HEADER_SIZE);
    assert.equal(decodeBody(MsgId.GetRouteResponse, body(7)).strategy, null);
    assert.equal(decodeBody(MsgId.GetRouteResponse, body(8)).strategy, 'least_request');
  });

  test('fields left out read as their defaults', () => {
    const decoded = decodeBody(MsgId.GetHostResponse, hexBytes('08 09'));
    assert.equal(decoded.seq, 9);
    assert.equal(decoded.modid, 0);
    assert.equal(decoded.retcode, RetCode.SUCC);
    assert.equal(decoded.host ?? null, null);
  });

  test('an empty body is a message with every field at its default', () => {
    const decoded = decodeBody(MsgId.GetRouteResponse, Buffer.alloc(0));
    assert.deepEqual([decoded.modid, decoded.cmdid, decoded.host.length], [0, 0, 0]);
  });

  test('a truncated body is an error naming the msgid', () => {
    // GetHostRequest whose seq varint never ends.
    assert.throws(() => decodeBody(MsgId.GetHostRequest, hexBytes('08 ff')), /msgid 4/);
    // HostInfo claiming 14 bytes with 3 present.
    assert.throws(() => decodeBody(MsgId.GetHostResponse, hexBytes('2a 0e 08 01 10')), /msgid 5/);
  });
});
