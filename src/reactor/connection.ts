/**
 * One framed TCP connection, used by TcpServer (one per accepted socket) and
 * TcpClient (the current link): reads frames through FrameDecoder, writes
 * typed or pre-encoded frames, and bounds the output it holds.
 */
import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder } from '../protocol/frame.js';
import { encodeBody, type KnownMsgId, type MessageTypes } from '../protocol/messages.js';
import { formatPeer } from './endpoint.js';

/** Default TCP frame cap: large routes fit, a garbage length cannot eat memory. */
export const DEFAULT_TCP_MAX_FRAME = 4 * 1024 * 1024;
/** TCP keepalive probes start after this much silence, on servers and clients: a peer whose host vanished is found by the kernel too. */
export const TCP_KEEPALIVE_DELAY_MS = 30_000;

/** What the owner of a connection decides; shared by all its connections. */
export interface ConnectionPolicy<Ctx> {
  readonly maxFrame: number;
  /** Unsent output (bytes) past which reading from the peer pauses until it drains. */
  readonly outputHighWater: number;
  /** Unsent output (bytes) past which the connection is dropped: the peer stopped reading. */
  readonly maxOutput: number;
  /** How long a gracefully closing connection may take before it is destroyed. */
  readonly closeGraceMs: number;
  /** Handles one frame. Throwing (e.g. a RouteError) closes the connection as a protocol error. */
  onFrame(conn: TcpConnection<Ctx>, msgid: number, body: Buffer): void;
  /** Told once per connection closed for a protocol error, before it is destroyed. */
  onProtocolError(conn: TcpConnection<Ctx>, reason: string): void;
  /** Told when output passed maxOutput, before the connection is destroyed. */
  onOutputOverflow(conn: TcpConnection<Ctx>): void;
  /** Told each time reading pauses for backpressure. */
  onReadPause(conn: TcpConnection<Ctx>): void;
  onFramesSent(count: number): void;
}

export class TcpConnection<Ctx = unknown> {
  /** "ip:port" of the peer. */
  readonly remote: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt = Date.now();
  /** The owner's per-connection slot, e.g. a set of subscriptions. */
  context: Ctx;
  /** Complete frames received: a peer that never finished one is the first to go when slots run out. */
  framesReceived = 0;
  /**
   * When the frame being received began (Date.now()), undefined between
   * frames: a peer that trickles a frame out is cut after the owner's frame
   * deadline (docs/reactor.md).
   */
  partialSince: number | undefined;
  private readonly decoder: FrameDecoder;
  private reason: string | undefined;
  private corked = false;
  private readPaused = false;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly policy: ConnectionPolicy<Ctx>,
    context: Ctx,
  ) {
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.remotePort = socket.remotePort ?? 0;
    this.remote = formatPeer(socket.remoteAddress, socket.remotePort);
    this.context = context;
    this.decoder = new FrameDecoder(policy.maxFrame);
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  /** Why it closed (or is closing), as set by whoever closed it first. */
  get closeReason(): string | undefined {
    return this.reason;
  }

  /** True once closing started: sends are refused from then on. */
  get closed(): boolean {
    return this.reason !== undefined || this.socket.destroyed || this.socket.writableEnded;
  }

  /** Bytes written but not yet handed to the kernel. */
  get pendingOutput(): number {
    return this.socket.writableLength;
  }

  /** True while reading is paused because the peer is not taking our output. */
  get paused(): boolean {
    return this.readPaused;
  }

  /** Encodes and writes a typed message; false when the connection is closed. */
  send<K extends KnownMsgId>(msgid: K, message: MessageTypes[K]): boolean {
    if (this.closed) return false;
    return this.sendFrame(encodeFrame(msgid, encodeBody(msgid, message)));
  }

  /** Writes a raw body under any msgid (extension messages); false when closed. */
  sendRaw(msgid: number, body: Uint8Array): boolean {
    if (this.closed) return false;
    return this.sendFrame(encodeFrame(msgid, body));
  }

  /**
   * Writes a pre-encoded frame (e.g. one push encoded once for many
   * connections); false when closed. Writes within one tick leave in one
   * system call.
   */
  sendFrame(frame: Uint8Array): boolean {
    if (this.closed) return false;
    const socket = this.socket;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(this.uncork);
    }
    socket.write(frame);
    this.policy.onFramesSent(1);
    const pending = socket.writableLength;
    if (pending > this.policy.maxOutput) {
      this.policy.onOutputOverflow(this);
      this.destroy('output overflow');
      return false;
    }
    // write() returned false once pending passed the socket's own high-water
    // mark (16 KiB), so 'drain' will come; below that we never pause.
    if (!this.readPaused && pending >= this.policy.outputHighWater && socket.writableNeedDrain) {
      this.readPaused = true;
      socket.pause();
      this.policy.onReadPause(this);
    }
    return true;
  }

  /** Graceful close: flush output, send FIN, destroy after the grace period if the peer lingers. */
  close(reason = 'closed locally'): void {
    if (this.socket.destroyed) return;
    this.reason ??= reason;
    if (this.graceTimer === undefined) {
      this.graceTimer = setTimeout(() => this.socket.destroy(), this.policy.closeGraceMs);
      this.graceTimer.unref();
    }
    this.socket.end();
  }

  /** Immediate close, dropping unsent output. */
  destroy(reason: string): void {
    this.reason ??= reason;
    this.socket.destroy();
  }

  /** Closes the connection for a protocol violation, telling the owner first. */
  reject(reason: string): void {
    if (this.socket.destroyed) return;
    this.policy.onProtocolError(this, reason);
    this.destroy(`protocol error: ${reason}`);
  }

  /** Drops the connection after it sat idle; see TcpServerOptions.idleTimeoutMs. */
  setIdleTimeout(ms: number, onIdle: (conn: TcpConnection<Ctx>) => void): void {
    this.socket.setTimeout(ms, () => onIdle(this));
  }

  /** Resolves when the socket has fully closed. */
  onceClosed(listener: (conn: TcpConnection<Ctx>) => void): void {
    if (this.socket.closed) listener(this);
    else this.socket.once('close', () => listener(this));
  }

  /** Flushes the writes batched during this tick. */
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.reason !== undefined) return;
    const framesBefore = this.framesReceived;
    try {
      this.decoder.push(chunk, this.onFrame);
      // A frame began in this chunk when none was pending, or after one that completed in it.
      if (this.decoder.buffered === 0) this.partialSince = undefined;
      else if (this.partialSince === undefined || this.framesReceived !== framesBefore) this.partialSince = Date.now();
    } catch (err) {
      // FrameError and RouteError are the expected kinds; anything else thrown
      // while routing is still this connection's problem, not the process's.
      this.reject(err instanceof Error ? err.message : String(err));
    }
  };

  private readonly onFrame = (msgid: number, body: Buffer): void => {
    if (this.reason !== undefined) return;
    this.framesReceived += 1;
    this.policy.onFrame(this, msgid, body);
  };

  private readonly onDrain = (): void => {
    if (!this.readPaused) return;
    this.readPaused = false;
    if (this.reason === undefined) this.socket.resume();
  };

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    this.reason ??= err.code ?? err.message;
  };

  private readonly onClose = (): void => {
    this.reason ??= 'peer closed';
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
  };
}
