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
import { FrameDecoder, FrameError, HEADER_SIZE } from '../../src/protocol/frame.js';
import { decodeBody, encodeBody, isKnownMsgId, MalformedBodyError } from '../../src/protocol/messages.js';
import { MSGIDS, mutate, randomBytes, validFrames } from '../support/fuzz.js';
import { seededRandom } from '../support/net.js';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const MAX_FRAME = 64 * 1024;

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
