/**
 * Frame layout (docs/protocol.md): int32 LE msgid, int32 LE body length, body.
 * FrameDecoder turns a byte stream of any chunking into whole frames.
 */

export const HEADER_SIZE = 8;
/** Lars caps a frame (header included) at 64 KiB; UDP keeps this cap. */
export const LARS_MAX_FRAME = 65535;

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export function encodeFrame(msgid: number, body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  frame.writeInt32LE(msgid, 0);
  frame.writeInt32LE(body.length, 4);
  frame.set(body, HEADER_SIZE);
  return frame;
}

export type FrameHandler = (msgid: number, body: Buffer) => void;

/** Checks a header's length field against the cap; returns the frame's total size. */
export function checkedFrameSize(msgid: number, length: number, maxFrame: number): number {
  if (length < 0) throw new FrameError(`negative body length ${length} (msgid ${msgid})`);
  if (HEADER_SIZE + length > maxFrame) {
    throw new FrameError(`frame of ${HEADER_SIZE + length} bytes exceeds the cap of ${maxFrame} (msgid ${msgid})`);
  }
  return HEADER_SIZE + length;
}

/**
 * Reassembles frames from stream chunks. Chunks are kept in a list and joined
 * only when a frame straddles them, so many tiny chunks cost linear time, and a
 * frame inside one chunk is handed out as a view without copying.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private offset = 0; // bytes of chunks[0] already consumed
  private available = 0; // unconsumed bytes across chunks

  constructor(private readonly maxFrame: number) {}

  /** Unconsumed bytes held, for backpressure accounting and tests. */
  get buffered(): number {
    return this.available;
  }

  /** Feeds a chunk; calls onFrame per complete frame. Throws FrameError on a bad header. */
  push(chunk: Buffer, onFrame: FrameHandler): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
    while (this.available >= HEADER_SIZE) {
      const header = this.peek(HEADER_SIZE);
      const msgid = header.readInt32LE(0);
      const size = checkedFrameSize(msgid, header.readInt32LE(4), this.maxFrame);
      if (this.available < size) return;
      const frame = this.take(size);
      onFrame(msgid, frame.subarray(HEADER_SIZE));
    }
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    return this.gather(n, false);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      this.available -= n;
      if (this.offset === first.length) {
        this.chunks.shift();
        this.offset = 0;
      }
      return view;
    }
    return this.gather(n, true);
  }

  /** Copies n bytes spanning several chunks; consumes them when asked. */
  private gather(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    let index = 0;
    let offset = this.offset;
    while (written < n) {
      const chunk = this.chunks[index]!;
      const count = Math.min(n - written, chunk.length - offset);
      chunk.copy(out, written, offset, offset + count);
      written += count;
      offset += count;
      if (offset === chunk.length) {
        index += 1;
        offset = 0;
      }
    }
    if (consume) {
      this.chunks.splice(0, index);
      this.offset = offset;
      this.available -= n;
    }
    return out;
  }
}
