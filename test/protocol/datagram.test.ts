/**
 * The one datagram codec (src/protocol/datagram.ts), without sockets: every
 * drop reason, and a good datagram decoded. The agent's ports and the client
 * read every datagram through it (test/agent, test/client show it there).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readDatagram, type DropReason } from '../../src/protocol/datagram.js';
import { encodeFrame, LARS_MAX_FRAME } from '../../src/protocol/frame.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { frameOf, hexBytes, seededRandom } from '../support/net.js';

const ACCEPTED = new Set([MsgId.GetHostRequest, MsgId.ReportRequest] as const);

function header(msgid: number, length: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeInt32LE(msgid, 0);
  bytes.writeInt32LE(length, 4);
  return bytes;
}

const reasonOf = (datagram: Buffer): DropReason | 'accepted' => {
  const read = readDatagram(datagram, ACCEPTED);
  return 'dropped' in read ? read.dropped : 'accepted';
};

describe('readDatagram', () => {
  test('a frame of an accepted msgid is decoded', () => {
    const read = readDatagram(frameOf(MsgId.GetHostRequest, { seq: 7, modid: 1, cmdid: 2 }), ACCEPTED);
    assert.deepEqual(read, { msgid: MsgId.GetHostRequest, message: { seq: 7, modid: 1, cmdid: 2, key: '' } });
  });

  test('each kind of bad datagram is dropped with its reason and a detail', () => {
    const cases: [DropReason, Buffer][] = [
      ['short', Buffer.alloc(0)],
      ['short', hexBytes('04 00 00 00  00 00 00')],
      ['oversize', Buffer.concat([header(MsgId.GetHostRequest, LARS_MAX_FRAME - 7), Buffer.alloc(LARS_MAX_FRAME - 7)])],
      ['length_mismatch', Buffer.concat([header(MsgId.GetHostRequest, 10), hexBytes('08 01 10 02')])],
      ['length_mismatch', Buffer.concat([header(MsgId.GetHostRequest, 2), hexBytes('08 01 10 02')])],
      ['length_mismatch', header(MsgId.GetHostRequest, -1)],
      ['unknown_msgid', encodeFrame(77, Buffer.alloc(0))],
      ['unknown_msgid', encodeFrame(MsgId.GetHostResponse, Buffer.alloc(0))],
      ['malformed_body', encodeFrame(MsgId.GetHostRequest, hexBytes('08 ff ff'))],
      ['malformed_body', encodeFrame(MsgId.ReportRequest, hexBytes('0f 00'))],
    ];
    for (const [reason, datagram] of cases) {
      const read = readDatagram(datagram, ACCEPTED);
      assert.ok('dropped' in read, `${reason}: ${datagram.toString('hex').slice(0, 40)}`);
      assert.equal(read.dropped, reason);
      assert.ok(read.detail.length > 0);
    }
    const atCap = frameOf(MsgId.GetHostRequest, { seq: 1, modid: 0, cmdid: 0, key: 'k'.repeat(LARS_MAX_FRAME - 8 - 6) });
    assert.equal(atCap.length, LARS_MAX_FRAME);
    assert.equal(reasonOf(atCap), 'accepted', 'a datagram of exactly the cap is accepted');
  });

  test('random bytes never pass and never throw', () => {
    const random = seededRandom(42);
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
      assert.notEqual(reasonOf(bytes), 'accepted', bytes.toString('hex'));
    }
  });
});
