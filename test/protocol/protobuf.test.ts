/**
 * The wire codec's edges (src/protocol/protobuf.ts, docs/protocol.md "The
 * codec"), in bytes written out by hand: what protobuf's own parsers skip
 * is skipped, what they refuse is a MalformedBodyError, and a map key is
 * data, never a prototype.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBody, encodeBody, MalformedBodyError } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';

const hex = (text: string) => Buffer.from(text.replace(/ /g, ''), 'hex');

test('unknown fields of every wire type are skipped: varint, fixed64, length-delimited, fixed32', () => {
  // GetRouteRequest {modid 3, cmdid 4} with fields 15 (varint 300), 14 (fixed64), 13 (2 bytes), 12 (fixed32) between.
  const body = hex('08 03 78 ac02 71 0102030405060708 6a 02 aabb 65 01020304 10 04');
  assert.deepEqual(decodeBody(MsgId.GetRouteRequest, body), { modid: 3, cmdid: 4 });
});

test('a known field number with another wire type is skipped, as protobuf does', () => {
  // Field 1 (modid) sent length-delimited, then cmdid 4.
  assert.deepEqual(decodeBody(MsgId.GetRouteRequest, hex('0a 01 07 10 04')), { modid: 0, cmdid: 4 });
});

test('refused: a truncated varint, an 11-byte varint, a length past the end, a group, field number 0', () => {
  for (const bytes of ['08', '08 ffffffffffffffffffff01', '22 05 aabb', '0b 0c', '00 01']) {
    assert.throws(() => decodeBody(MsgId.GetHostRequest, hex(bytes)), MalformedBodyError, bytes);
  }
});

test('a metadata key named __proto__ is an entry like any other', () => {
  const metadata: Record<string, string> = {};
  Object.defineProperty(metadata, '__proto__', { value: 'x', enumerable: true });
  const body = encodeBody(MsgId.RegisterRequest, { seq: 1, modid: 2, cmdid: 3, ip: 0, port: 80, metadata });
  const decoded = decodeBody(MsgId.RegisterRequest, body);
  assert.equal(Object.getPrototypeOf(decoded.metadata), Object.prototype);
  assert.deepEqual(Object.keys(decoded.metadata), ['__proto__']);
  assert.equal(Object.getOwnPropertyDescriptor(decoded.metadata, '__proto__')?.value, 'x');
});

test('packed and unpacked repeated uint32 both read; packed is what is written', () => {
  assert.deepEqual(decodeBody(MsgId.ReportAck, hex('08 01 08 02')).seq, [1, 2]);
  assert.deepEqual(decodeBody(MsgId.ReportAck, hex('0a 02 01 02')).seq, [1, 2]);
  assert.equal(Buffer.from(encodeBody(MsgId.ReportAck, { seq: [1, 2] })).toString('hex'), '0a020102');
});
