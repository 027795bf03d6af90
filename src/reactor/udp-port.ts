/**
 * The reactor's UDP layer (docs/reactor.md): a UdpPort is one bound socket
 * that hands every datagram to onDatagram and sends frames back to the peers
 * it named. One interface, two ways of doing the I/O:
 *
 * - `native` (the fast path): the lars_udp addon (native/udp_batch.c) reads
 *   every datagram waiting on the socket with one recvmmsg into shared
 *   memory, calls JavaScript once per batch, and sends the batch's replies
 *   with one sendmmsg. Node 20's dgram pays a libuv callback, a Buffer, a
 *   RemoteInfo and a send request per datagram; at agent rates that, not the
 *   balancer, is where the time goes. The addon waits through the thread's
 *   own event loop (uv_poll), so messages from other threads and timers are
 *   served between batches.
 * - `dgram`: node:dgram, when the addon is not built (no compiler, not Linux),
 *   for IPv6 hosts (the addon is IPv4 only), or when asked for.
 *
 * `io`: `auto` (default) picks native when it can, `dgram` forces the
 * fallback (tests, comparisons), `native` makes a missing addon an error (the
 * agent's `[agent] udp_io`). `busyPollUs`: the native port's widest
 * busy-polling window (default 200 µs, 0 = never; see native/udp_batch.c: it
 * only spins while datagrams come faster than that).
 *
 * What a datagram must look like is the protocol's business
 * (src/protocol/datagram.ts); a port moves bytes.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { encodeFrame, HEADER_SIZE } from '../protocol/frame.js';
import { intToIp } from '../protocol/ip.js';
import { formatPeer } from './endpoint.js';
import { loadNativeAddon } from './native-addon.js';

export type UdpIo = 'native' | 'dgram';

/** A native peer is ip * PEER_PORTS + port. */
const PEER_PORTS = 65536;

/**
 * Where a datagram came from, as the port that received it names it: a
 * packed IPv4 sender (ip * 65536 + port) on the native path, the RemoteInfo
 * on the dgram path. A peer is only meaningful to the port that produced it.
 */
export type UdpPeer = number | RemoteInfo;

export interface UdpHandlers {
  /** One datagram. `datagram` is a view valid only during the call: decode it, do not keep it. */
  onDatagram(datagram: Buffer, peer: UdpPeer): void;
  /** A receive error or `count` replies that could not be sent; never fatal. */
  onError(err: NodeJS.ErrnoException, count: number): void;
}

export interface UdpPort {
  readonly io: UdpIo;
  /** Why a dgram port is not native; undefined for native ports. */
  readonly fallbackReason: string | undefined;
  readonly port: number;
  /** Sends one frame to a peer this port handed to onDatagram (native: queued, sent with the rest of the batch). */
  send(msgid: number, body: Uint8Array, peer: UdpPeer): void;
  /** SO_RCVBUF; throws when the kernel refuses. */
  setRecvBufferSize(bytes: number): void;
  /** Sends what is queued and closes the socket; the port is free when this resolves. */
  close(): Promise<void>;
}

export interface UdpPortOptions {
  host: string;
  /** 0 binds a free port. */
  port: number;
  /** Default auto: native when it can be had. */
  io?: UdpIo | 'auto';
  /** Native only: widest busy-polling window, µs; default DEFAULT_BUSY_POLL_US. */
  busyPollUs?: number;
}

/** "ip:port" of a peer, for log lines. */
export function describePeer(peer: UdpPeer): string {
  if (typeof peer !== 'number') return formatPeer(peer.address, peer.port);
  return `${intToIp(Math.floor(peer / PEER_PORTS))}:${peer % PEER_PORTS}`;
}

/** A UDP port that could not be bound; `code` is the errno name (EADDRINUSE, EACCES, ...). */
export class UdpBindError extends Error {
  constructor(
    readonly address: string,
    readonly code: string,
    readonly reason: string,
  ) {
    super(`cannot bind UDP ${address}: ${reason}`);
    this.name = 'UdpBindError';
  }
}

/** Binds a UDP port with the I/O `options.io` asks for (or the best available); a failed bind is a UdpBindError. */
export async function openUdpPort(options: UdpPortOptions, handlers: UdpHandlers): Promise<UdpPort> {
  const choice = chooseIo(options);
  try {
    if (choice.io === 'native') return new NativeUdpPort(choice.addon, options, handlers);
    return await DgramUdpPort.open(options.host, options.port, handlers, choice.reason);
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    if (code === undefined) throw err;
    throw new UdpBindError(formatPeer(options.host, options.port), code, message);
  }
}

/** Which I/O a port on `host` gets, and why not the native one when it does not. */
export function chooseIo(options: Pick<UdpPortOptions, 'host' | 'io'>): { io: 'native'; addon: LarsUdpAddon } | { io: 'dgram'; reason: string } {
  const wanted = options.io ?? 'auto';
  if (wanted === 'dgram') return { io: 'dgram', reason: 'udp_io = dgram' };
  const loaded = loadNativeAddon<LarsUdpAddon>('lars_udp');
  if ('addon' in loaded && isIP(options.host) === 4) return { io: 'native', addon: loaded.addon };
  const reason = 'reason' in loaded ? loaded.reason : `the fast path is IPv4 only (host ${options.host})`;
  if (wanted === 'native') throw new Error(`native UDP I/O unavailable: ${reason}`);
  return { io: 'dgram', reason };
}

export const DEFAULT_BUSY_POLL_US = 200;

// ---- the addon ----

declare const handleBrand: unique symbol;
type NativeHandle = { readonly [handleBrand]: true };

/** native/udp_batch.c; the comments there say what each call does. */
export interface LarsUdpAddon {
  open(
    host: string,
    port: number,
    inData: Buffer,
    inMeta: Float64Array,
    outData: Buffer,
    outMeta: Float64Array,
    onBatch: (count: number, errno: number) => void,
    busyPollUs: number,
  ): NativeHandle;
  localPort(handle: NativeHandle): number;
  setRecvBufferSize(handle: NativeHandle, bytes: number): void;
  send(handle: NativeHandle, count: number): number;
  lastSendError(handle: NativeHandle): string;
  close(handle: NativeHandle): void;
}

// ---- native: batched recvmmsg / sendmmsg ----

/** Every IPv4 datagram fits a slot (the largest UDP payload is 65,507 bytes). */
const SLOT_BYTES = 65536;
/** Datagrams read per recvmmsg; pages of unused slots are never touched, so they cost address space only. */
const RECV_SLOTS = 64;
const SEND_SLOTS = 64;
const SEND_BYTES = 256 * 1024;

class NativeUdpPort implements UdpPort {
  readonly io = 'native';
  readonly fallbackReason = undefined;
  readonly port: number;
  private readonly addon: LarsUdpAddon;
  private readonly handlers: UdpHandlers;
  private readonly inData = Buffer.allocUnsafeSlow(RECV_SLOTS * SLOT_BYTES);
  private readonly inMeta = new Float64Array(RECV_SLOTS * 2);
  private readonly outData = Buffer.allocUnsafeSlow(SEND_BYTES);
  private readonly outMeta = new Float64Array(SEND_SLOTS * 2);
  private readonly handle: NativeHandle;
  private outCount = 0;
  private outBytes = 0;
  private inBatch = false;
  private closed = false;

  constructor(addon: LarsUdpAddon, options: UdpPortOptions, handlers: UdpHandlers) {
    this.addon = addon;
    this.handlers = handlers;
    const busyPollUs = options.busyPollUs ?? DEFAULT_BUSY_POLL_US;
    this.handle = addon.open(options.host, options.port, this.inData, this.inMeta, this.outData, this.outMeta, this.onBatch, busyPollUs);
    this.port = addon.localPort(this.handle);
  }

  send(msgid: number, body: Uint8Array, peer: UdpPeer): void {
    if (this.closed) return;
    const size = HEADER_SIZE + body.length;
    if (size > SEND_BYTES) return this.handlers.onError(errnoError('EMSGSIZE', 'send'), 1);
    if (this.outCount === SEND_SLOTS || this.outBytes + size > SEND_BYTES) this.flush();
    const at = this.outBytes;
    this.outData.writeInt32LE(msgid, at);
    this.outData.writeInt32LE(body.length, at + 4);
    this.outData.set(body, at + HEADER_SIZE);
    this.outMeta[2 * this.outCount] = size;
    this.outMeta[2 * this.outCount + 1] = peer as number;
    this.outBytes += size;
    // Replies made while handling a batch go out together at its end; those
    // made elsewhere (timers, messages) right after the current task.
    if (this.outCount++ === 0 && !this.inBatch) queueMicrotask(this.flush);
  }

  setRecvBufferSize(bytes: number): void {
    this.addon.setRecvBufferSize(this.handle, bytes);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.flush();
      this.closed = true;
      this.addon.close(this.handle);
    }
    return Promise.resolve();
  }

  private readonly onBatch = (count: number, errno: number): void => {
    if (errno !== 0) return this.handlers.onError(errnoError(getSystemErrorName(-errno), 'recvmmsg'), 1);
    const { inData, inMeta, handlers } = this;
    this.inBatch = true;
    try {
      // A handler may close the port: the rest of the batch is then dropped.
      for (let i = 0; i < count && !this.closed; i++) {
        const start = i * SLOT_BYTES;
        handlers.onDatagram(inData.subarray(start, start + inMeta[2 * i]!), inMeta[2 * i + 1]!);
      }
    } finally {
      this.inBatch = false;
      this.flush();
    }
  };

  private readonly flush = (): void => {
    const count = this.outCount;
    this.outCount = 0;
    this.outBytes = 0;
    if (count === 0 || this.closed) return;
    const failed = this.addon.send(this.handle, count);
    if (failed > 0) this.handlers.onError(errnoError(this.addon.lastSendError(this.handle), 'sendmmsg'), failed);
  };
}

function errnoError(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
}

// ---- dgram: one callback and one send per datagram ----

class DgramUdpPort implements UdpPort {
  readonly io = 'dgram';
  private closing: Promise<void> | undefined;
  /** dgram reports a failed send only to a send callback (never as an 'error' event), so every send has this one. */
  private readonly onSent: (err: Error | null) => void;

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    readonly fallbackReason: string,
    handlers: UdpHandlers,
  ) {
    this.onSent = (err) => {
      if (err) handlers.onError(err, 1);
    };
  }

  static async open(host: string, port: number, handlers: UdpHandlers, fallbackReason: string): Promise<DgramUdpPort> {
    // Loaded only on this path: the native path never uses node:dgram, so an idle agent need not hold it (docs/agent.md, "Memory").
    const { createSocket } = await import('node:dgram');
    const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw err;
    }
    socket.on('message', (datagram: Buffer, rinfo: RemoteInfo) => handlers.onDatagram(datagram, rinfo));
    socket.on('error', (err: NodeJS.ErrnoException) => handlers.onError(err, 1));
    return new DgramUdpPort(socket, socket.address().port, fallbackReason, handlers);
  }

  /** After close, as on the native path, sends are dropped. */
  send(msgid: number, body: Uint8Array, peer: UdpPeer): void {
    if (this.closing !== undefined) return;
    const { address, port } = peer as RemoteInfo;
    this.socket.send(encodeFrame(msgid, body), port, address, this.onSent);
  }

  setRecvBufferSize(bytes: number): void {
    this.socket.setRecvBufferSize(bytes);
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => this.socket.close(() => resolve()));
    return this.closing;
  }
}
