import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder, FrameError, HEADER_SIZE, LARS_MAX_FRAME } from '../../src/protocol/frame.js';
import { hexBytes, seededRandom } from '../support/net.js';

interface Frame {
  msgid: number;
  body: Buffer;
}

function randomFrames(random: () => number, count: number, maxBody: number): Frame[] {
  return Array.from({ length: count }, () => {
    const body = Buffer.alloc(Math.floor(random() * (maxBody + 1)));
    for (let i = 0; i < body.length; i++) body[i] = Math.floor(random() * 256);
    const msgid = random() < 0.8 ? 1 + Math.floor(random() * 8) : 100 + Math.floor(random() * 1000);
    return { msgid, body };
  });
}

function streamOf(frames: Frame[]): Buffer {
  return Buffer.concat(frames.map((f) => encodeFrame(f.msgid, f.body)));
}

/**
 * Feeds the chunks to a fresh decoder; returns the frames it produced (bodies
 * copied). It yields to the event loop every 64 Ki chunks, so that a test's
 * timeout can fire while a slow decoder works, and then stops at the test's
 * signal (node:test does not stop a timed-out test's function).
 */
async function decodeChunks(chunks: Buffer[], maxFrame = LARS_MAX_FRAME, signal?: AbortSignal): Promise<Frame[]> {
  const decoder = new FrameDecoder(maxFrame);
  const out: Frame[] = [];
  for (const [i, chunk] of chunks.entries()) {
    decoder.push(chunk, (msgid, body) => out.push({ msgid, body: Buffer.from(body) }));
    if (i % 65536 === 65535) {
      await new Promise((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
    }
  }
  assert.equal(decoder.buffered, 0, 'nothing left over');
  return out;
}

/** The stream cut into 1-byte chunks. */
function byteChunks(stream: Buffer): Buffer[] {
  return Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
}

function assertSameFrames(actual: Frame[], expected: Frame[]): void {
  assert.equal(actual.length, expected.length, 'frame count');
  actual.forEach((frame, i) => {
    assert.equal(frame.msgid, expected[i]!.msgid, `msgid of frame ${i}`);
    assert.ok(frame.body.equals(expected[i]!.body), `body of frame ${i}`);
  });
}

describe('FrameDecoder', () => {
  test('a split at every byte boundary of a stream yields the same frames', async () => {
    const frames = randomFrames(seededRandom(1), 12, 40);
    const stream = streamOf(frames);
    for (let cut = 0; cut <= stream.length; cut++) {
      assertSameFrames(await decodeChunks([stream.subarray(0, cut), stream.subarray(cut)]), frames);
    }
  });

  test('random chunking of many frames (seeded, reproducible)', async () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = seededRandom(seed);
      const frames = randomFrames(random, 200, 300);
      const stream = streamOf(frames);
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; ) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 16 : 2048));
        chunks.push(stream.subarray(at, at + size));
        at += size;
      }
      assertSameFrames(await decodeChunks(chunks), frames);
    }
  });

  // A frame in 1-byte chunks is the worst case for a decoder that rejoins its
  // buffer on every chunk: quadratic in the frame's size, about 8 minutes for
  // 2 MiB on the 2-core test machine, where the chunk list takes about 2 s.
  // The timeout sits between the two, far from both.
  test('1-byte chunks of 3000 frames and of one 2 MiB frame decode intact, within a timeout that a quadratic rejoin misses', { timeout: 60_000 }, async (t) => {
    const frames = randomFrames(seededRandom(7), 3000, 64);
    assertSameFrames(await decodeChunks(byteChunks(streamOf(frames)), LARS_MAX_FRAME, t.signal), frames);

    const big = { msgid: 2, body: Buffer.alloc(2 * 1024 * 1024, 7) };
    assertSameFrames(await decodeChunks(byteChunks(streamOf([big])), 4 * 1024 * 1024, t.signal), [big]);
  });

  test('empty bodies and empty chunks', async () => {
    const frames = [
      { msgid: 4, body: Buffer.alloc(0) },
      { msgid: 5, body: Buffer.from([8, 1]) },
      { msgid: 4, body: Buffer.alloc(0) },
    ];
    const stream = streamOf(frames);
    assertSameFrames(await decodeChunks([Buffer.alloc(0), stream.subarray(0, 3), Buffer.alloc(0), stream.subarray(3)]), frames);
  });

  test('a negative length is a FrameError naming the length', () => {
    const decoder = new FrameDecoder(LARS_MAX_FRAME);
    const bad = hexBytes('01 00 00 00  ff ff ff ff'); // msgid 1, length -1
    assert.throws(() => decoder.push(bad, () => assert.fail('no frame expected')), (err: Error) => {
      return err instanceof FrameError && /negative body length -1/.test(err.message);
    });
  });

  test('a length over the cap is a FrameError before the body arrives', () => {
    const decoder = new FrameDecoder(1024);
    const header = Buffer.alloc(HEADER_SIZE);
    header.writeInt32LE(2, 0);
    header.writeInt32LE(1024 - HEADER_SIZE + 1, 4);
    assert.throws(() => decoder.push(header, () => assert.fail('no frame expected')), /exceeds the cap of 1024/);
  });

  test('a frame exactly at the cap passes', async () => {
    const body = Buffer.alloc(LARS_MAX_FRAME - HEADER_SIZE, 1);
    assertSameFrames(await decodeChunks([encodeFrame(2, body)]), [{ msgid: 2, body }]);
  });

  test('a bad header in split chunks is found once the header is complete', () => {
    const decoder = new FrameDecoder(LARS_MAX_FRAME);
    const good = encodeFrame(1, Buffer.from([8, 1, 16, 2]));
    const seen: number[] = [];
    decoder.push(Buffer.concat([good, hexBytes('01 00 00')]), (msgid) => seen.push(msgid));
    assert.deepEqual(seen, [1], 'the good frame before it is delivered');
    assert.throws(() => decoder.push(hexBytes('00 00 00 00 80'), () => {}), /negative body length/);
  });
});
