/**
 * Seeded fuzzing of the protocol boundary (docs/protocol.md, "Fuzzing"):
 * the frame decoder, every message decoder and the datagram reader get
 * mutated valid frames (bit flips, truncation, forged lengths, huge varints)
 * and random bytes. The properties: only the documented errors are thrown
 * (FrameError, MalformedBodyError; a datagram is dropped with a reason), no
 * frame is ever handed out larger than the cap, and valid frames round-trip.
 *
 * `npm test` runs FUZZ_ITERATIONS (default 20,000) per target in about a second;
 * `npm run fuzz` runs a long campaign (FUZZ_ITERATIONS=200000), and
 * FUZZ_SEED=N replays one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDatagram } from '../../src/protocol/datagram.js';
import { encodeFrame, FrameDecoder, FrameError, HEADER_SIZE } from '../../src/protocol/frame.js';
import { ipToInt32 } from '../../src/protocol/ip.js';
import { decodeBody, encodeBody, isKnownMsgId, MalformedBodyError, type KnownMsgId, type MessageTypes } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { seededRandom } from '../support/net.js';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const MAX_FRAME = 64 * 1024;

const host = { ip: ipToInt32('200.1.2.3'), port: 8080, weight: 3 };
/** One valid message per msgid, the seeds the mutations start from. */
const SAMPLES: { [K in KnownMsgId]: MessageTypes[K] } = {
  [MsgId.GetRouteRequest]: { modid: 1, cmdid: 2 },
  [MsgId.GetRouteResponse]: { modid: 1, cmdid: 2, host: [host, { ip: 1, port: 2, load: 900 }], strategy: 'adaptive' },
  [MsgId.ReportStatusRequest]: { modid: 1, cmdid: 2, caller: ipToInt32('10.0.0.9'), results: [{ ip: 1, port: 2, succ: 3, err: 4, overload: true }], ts: 1700000000 },
  [MsgId.GetHostRequest]: { seq: 7, modid: 1, cmdid: 2, key: 'user-42' },
  [MsgId.GetHostResponse]: { seq: 7, modid: 1, cmdid: 2, retcode: 0, host },
  [MsgId.ReportRequest]: { modid: 1, cmdid: 2, host, retcode: 2, durationUs: 1500 },
  [MsgId.ApiGetRouteRequest]: { modid: 1, cmdid: 2 },
  [MsgId.ApiGetRouteResponse]: { modid: 1, cmdid: 2, host: [host] },
  [MsgId.RouteStatusRequest]: { modid: 1, cmdid: 2 },
  [MsgId.RouteStatusResponse]: { modid: 1, cmdid: 2, strategy: 'lars', hosts: [] } as never,
  [MsgId.RegisterRequest]: { seq: 1, modid: 1, cmdid: 2, ip: 0, port: 9000, weight: 2, ttlMs: 3000, metadata: { zone: 'a' } },
  [MsgId.RenewRequest]: { seq: 2, lease: 7, modid: 1, cmdid: 2, ip: 1, port: 9000, load: { inFlight: 1, connections: 2, cpuPermille: 3, score: 4 } },
  [MsgId.DeregisterRequest]: { seq: 3, lease: 7, modid: 1, cmdid: 2, ip: 1, port: 9000 },
  [MsgId.RegistryReply]: { seq: 3, status: 2, reason: 'no module', lease: 7, ttlMs: 3000, ip: 1 },
  [MsgId.AuthRequest]: { token: 'abc' },
  [MsgId.AuthRefused]: { reason: 'token not accepted' },
};
const MSGIDS = Object.keys(SAMPLES).map(Number) as KnownMsgId[];

/** A mutation of a valid frame: what an attacker or a broken network would send. */
function mutate(random: () => number, frame: Buffer): Buffer {
  const bytes = Buffer.from(frame);
  const at = () => Math.floor(random() * bytes.length);
  switch (Math.floor(random() * 6)) {
    case 0: // flip some bits anywhere, header included
      for (let i = 0; i < 1 + random() * 4; i++) bytes[at()]! ^= 1 << Math.floor(random() * 8);
      return bytes;
    case 1: // truncated
      return bytes.subarray(0, at());
    case 2: // a forged body length
      bytes.writeInt32LE(Math.floor((random() - 0.2) * 2 ** 31), 4);
      return bytes;
    case 3: // a 10-byte varint of 0xff where the body starts
      return Buffer.concat([bytes.subarray(0, HEADER_SIZE), Buffer.alloc(10, 0xff), bytes.subarray(HEADER_SIZE)]);
    case 4: // random bytes spliced in
      return Buffer.concat([bytes.subarray(0, at()), randomBytes(random, 1 + Math.floor(random() * 32)), bytes.subarray(at())]);
    default: // another msgid on this body
      bytes.writeInt32LE(MSGIDS[Math.floor(random() * MSGIDS.length)]!, 0);
      return bytes;
  }
}

function randomBytes(random: () => number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
}

const validFrames = MSGIDS.map((msgid) => encodeFrame(msgid, encodeBody(msgid, SAMPLES[msgid] as never)));

test(`valid frames of every msgid round-trip (seed ${SEED})`, () => {
  for (const [i, msgid] of MSGIDS.entries()) {
    const body = validFrames[i]!.subarray(HEADER_SIZE);
    const decoded = decodeBody(msgid, body);
    assert.deepEqual(Buffer.from(encodeBody(msgid, decoded as never)), Buffer.from(body), `msgid ${msgid}`);
  }
});

test(`every message decoder on ${ITERATIONS} mutated and random bodies throws only MalformedBodyError (seed ${SEED})`, () => {
  const random = seededRandom(SEED);
  for (let n = 0; n < ITERATIONS; n++) {
    const msgid = MSGIDS[n % MSGIDS.length]!;
    const body = random() < 0.7 ? mutate(random, validFrames[n % MSGIDS.length]!).subarray(HEADER_SIZE) : randomBytes(random, Math.floor(random() * 64));
    try {
      decodeBody(msgid, body);
    } catch (err) {
      assert.ok(err instanceof MalformedBodyError, `iteration ${n}, msgid ${msgid}, body ${body.toString('hex')}: ${err}`);
    }
  }
});

test(`the frame decoder on ${ITERATIONS} mutated streams cut at random: FrameError or frames within the cap (seed ${SEED})`, () => {
  const random = seededRandom(SEED + 1);
  for (let n = 0; n < ITERATIONS; n++) {
    const stream = Buffer.concat(Array.from({ length: 1 + Math.floor(random() * 4) }, () => mutate(random, validFrames[Math.floor(random() * validFrames.length)]!)));
    const decoder = new FrameDecoder(MAX_FRAME);
    try {
      for (let offset = 0; offset < stream.length; ) {
        const cut = offset + 1 + Math.floor(random() * 40);
        decoder.push(stream.subarray(offset, cut), (msgid, body) => {
          assert.ok(body.length + HEADER_SIZE <= MAX_FRAME, `iteration ${n}: a frame over the cap`);
          if (isKnownMsgId(msgid)) {
            try {
              decodeBody(msgid, body);
            } catch (err) {
              assert.ok(err instanceof MalformedBodyError, `iteration ${n}: ${err}`);
            }
          }
        });
        offset = cut;
      }
      assert.ok(decoder.buffered < MAX_FRAME, 'never holds more than one frame');
    } catch (err) {
      assert.ok(err instanceof FrameError, `iteration ${n}, stream ${stream.toString('hex')}: ${err}`);
    }
  }
});

test(`the datagram reader on ${ITERATIONS} mutated datagrams drops each with a reason, never throws (seed ${SEED})`, () => {
  const random = seededRandom(SEED + 2);
  const accepted = new Set(MSGIDS);
  const reasons = new Map<string, number>();
  for (let n = 0; n < ITERATIONS; n++) {
    const datagram = mutate(random, validFrames[n % validFrames.length]!);
    const read = readDatagram(datagram, accepted);
    const outcome = 'dropped' in read ? read.dropped : 'accepted';
    reasons.set(outcome, (reasons.get(outcome) ?? 0) + 1);
  }
  assert.ok(reasons.size >= 4, `the mutations reach most outcomes: ${JSON.stringify([...reasons])}`);
});
