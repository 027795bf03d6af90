/**
 * Shared test helpers: waiting for a condition with a deadline, capturing log
 * lines, raw-frame TCP and UDP clients that bypass the reactor (to send
 * exactly the bytes a test wants and see exactly the bytes a server sends),
 * hex literals and a seeded random source.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder } from '../../src/protocol/frame.js';
import { decodeBody, encodeBody, type KnownMsgId, type MessageTypes } from '../../src/protocol/messages.js';
import { configureLogging, type LogLevel } from '../../src/reactor/log.js';

export interface WaitOptions {
  /** Deadline; generous by default because the test machine is small and shared. */
  timeoutMs?: number;
  intervalMs?: number;
  /** Names what was awaited in the timeout error. */
  message?: string;
}

/** Polls until condition returns a truthy value and resolves with it; rejects after the deadline. */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.message ?? condition.toString()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}

export interface LogLines {
  readonly lines: readonly string[];
  /** Lines containing the text, or matching the pattern. */
  matching(pattern: string | RegExp): string[];
  /** Waits for a line matching the pattern and returns it. */
  waitFor(pattern: string | RegExp, options?: WaitOptions): Promise<string>;
}

export interface LogCapture extends LogLines {
  /**
   * The lines logged from now on: a test that checks its own lines must not
   * match one an earlier test (another engine's block, say) logged.
   */
  since(): LogLines;
  /** Sends log lines back to stderr. */
  restore(): void;
}

function logLines(all: string[], from: number): LogLines {
  const matching = (pattern: string | RegExp) =>
    all.slice(from).filter((line) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line)));
  return {
    get lines() {
      return all.slice(from);
    },
    matching,
    waitFor: (pattern, options) => waitFor(() => matching(pattern)[0], { message: `a log line matching ${pattern}`, ...options }),
  };
}

/** Routes every log line into memory (and nowhere else) until restore(). */
export function captureLogs(level: LogLevel = 'debug'): LogCapture {
  const lines: string[] = [];
  configureLogging({ level, sink: (line) => lines.push(line) });
  return {
    ...logLines(lines, 0),
    lines,
    since: () => logLines(lines, lines.length),
    restore: () => configureLogging({ level: 'info', sink: (line) => process.stderr.write(line + '\n') }),
  };
}

/** One frame of a typed message, encoded by our codec. */
export function frameOf<K extends KnownMsgId>(msgid: K, message: MessageTypes[K]): Buffer {
  return encodeFrame(msgid, encodeBody(msgid, message));
}

/** Bytes from hex text; spaces, newlines and `#` comments to the end of a line are ignored. */
export function hexBytes(text: string): Buffer {
  const digits = text.replace(/#.*$/gm, '').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`not hex bytes: ${text}`);
  return Buffer.from(digits, 'hex');
}

/** A reproducible uniform [0, 1) source (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A TCP port that was free a moment ago (bound on port 0, then released): for
 * a server that must start later on a port a client already knows, or for an
 * address where nothing listens.
 */
export async function unusedPort(): Promise<number> {
  const held = await occupiedPort();
  await held.close();
  return held.port;
}

/** A loopback TCP port held by a listener until close(): for "address in use" cases. */
export async function occupiedPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface ReceivedFrame {
  msgid: number;
  body: Buffer;
}

/** A TCP client speaking raw frames; records every frame the server sends. */
export class RawTcpClient {
  /** Every frame received, in order. */
  readonly frames: ReceivedFrame[] = [];
  /** Our side's port: the server logs the peer as 127.0.0.1:<localPort>. */
  readonly localPort: number;
  private consumed = 0;
  private ended = false;

  private constructor(readonly socket: Socket) {
    this.localPort = socket.localPort!;
    const decoder = new FrameDecoder(64 * 1024 * 1024);
    socket.on('data', (chunk) => decoder.push(chunk, (msgid, body) => this.frames.push({ msgid, body: Buffer.from(body) })));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.ended = true;
    });
  }

  /** allowHalfOpen: keep our side open after the server's FIN, like a peer that lingers. */
  /** localAddress: the source address, another 127.0.0.x to play another peer. */
  static connect(port: number, host = '127.0.0.1', options: { allowHalfOpen?: boolean; localAddress?: string } = {}): Promise<RawTcpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, allowHalfOpen: options.allowHalfOpen ?? false, localAddress: options.localAddress });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawTcpClient(socket));
      });
    });
  }

  /** True once the server closed the connection (or it broke). */
  get closed(): boolean {
    return this.ended;
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  send<K extends KnownMsgId>(msgid: K, message: MessageTypes[K]): void {
    this.write(frameOf(msgid, message));
  }

  /** The next frame not yet taken by nextFrame/nextMessage. */
  async nextFrame(options?: WaitOptions): Promise<ReceivedFrame> {
    const frame = await waitFor(() => this.frames[this.consumed], { message: 'a frame from the server', ...options });
    this.consumed += 1;
    return frame;
  }

  /** The next frame, which must carry msgid, decoded. */
  async nextMessage<K extends KnownMsgId>(msgid: K, options?: WaitOptions): Promise<MessageTypes[K]> {
    const frame = await this.nextFrame(options);
    if (frame.msgid !== msgid) throw new Error(`expected msgid ${msgid}, got ${frame.msgid}`);
    return decodeBody(msgid, frame.body);
  }

  /** Resolves once the server has closed the connection. */
  async whenClosed(options?: WaitOptions): Promise<void> {
    await waitFor(() => this.ended, { message: 'the server to close the connection', ...options });
  }

  /** Stops reading, so the server's output backs up. */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  async close(): Promise<void> {
    if (this.ended) return;
    const closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.destroy();
    await closed;
  }
}

export interface ReceivedDatagram {
  bytes: Buffer;
  port: number;
}

/** A UDP socket sending raw datagrams to one target and recording every datagram it gets. */
export class RawUdpClient {
  readonly datagrams: ReceivedDatagram[] = [];
  private consumed = 0;

  private constructor(
    private readonly socket: UdpSocket,
    readonly target: { host: string; port: number },
  ) {
    socket.on('message', (bytes, rinfo) => this.datagrams.push({ bytes, port: rinfo.port }));
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawUdpClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RawUdpClient(socket, { host, port });
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Uint8Array): void {
    this.socket.send(bytes, this.target.port, this.target.host);
  }

  sendMessage<K extends KnownMsgId>(msgid: K, message: MessageTypes[K]): void {
    this.send(frameOf(msgid, message));
  }

  async nextDatagram(options?: WaitOptions): Promise<Buffer> {
    const datagram = await waitFor(() => this.datagrams[this.consumed], { message: 'a datagram', ...options });
    this.consumed += 1;
    return datagram.bytes;
  }

  /** The next datagram, which must be one frame carrying msgid, decoded. */
  async nextMessage<K extends KnownMsgId>(msgid: K, options?: WaitOptions): Promise<MessageTypes[K]> {
    const bytes = await this.nextDatagram(options);
    const got = bytes.readInt32LE(0);
    if (got !== msgid) throw new Error(`expected msgid ${msgid}, got ${got}`);
    if (bytes.readInt32LE(4) !== bytes.length - 8) throw new Error('reply header length disagrees with the datagram size');
    return decodeBody(msgid, bytes.subarray(8));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
