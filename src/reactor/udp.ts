/**
 * UDP server and client: one frame per datagram, capped at LARS_MAX_FRAME.
 * A datagram that is short, oversized, whose header length disagrees with its
 * size, with an unknown msgid or an undecodable body is dropped, counted by
 * reason, and logged at most once per interval. Nothing here assumes the main
 * thread: the agent binds one UdpServer per port, each in its own worker.
 */
import { createSocket, type RemoteInfo, type Socket, type SocketType } from 'node:dgram';
import { isIP, type AddressInfo } from 'node:net';
import { encodeFrame, HEADER_SIZE, LARS_MAX_FRAME } from '../protocol/frame.js';
import { encodeBody, type KnownMsgId, type MessageTypes } from '../protocol/messages.js';
import { formatPeer, metricName, type Endpoint } from './endpoint.js';
import { createLogger, rateLimited, type Logger } from './log.js';
import { MetricsRegistry, type Counter } from './metrics.js';
import { callHandler, RouteError, Router, type Route } from './router.js';

export type { RemoteInfo };

/** Answers the datagram being handled, to its source address. Valid after the handler returns too. */
export type UdpReply = <K extends KnownMsgId>(msgid: K, message: MessageTypes[K]) => void;
export type UdpServerHandler<M> = (message: M, reply: UdpReply, rinfo: RemoteInfo) => void | Promise<void>;
export type UdpClientHandler<M> = (message: M, rinfo: RemoteInfo) => void | Promise<void>;

/** Why a datagram was dropped; the reason label of lars_<name>_datagrams_dropped_total. */
export type DropReason = 'short' | 'oversize' | 'length_mismatch' | 'unknown_msgid' | 'malformed_body';

interface UdpOptions {
  /** Names the socket in log lines and metric names (lars_<name>_...). */
  name: string;
  /** Largest datagram accepted, header included; at most (and by default) LARS_MAX_FRAME. */
  maxFrame?: number;
  /** SO_RCVBUF / SO_SNDBUF: a bigger receive buffer rides out bursts. */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** How often a kind of drop or send error may be logged. Default 10 s. */
  logIntervalMs?: number;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

export interface UdpServerOptions extends UdpOptions {
  host: string;
  /** 0 picks a free port; listen() tells which. */
  port: number;
}

export interface UdpClientOptions extends UdpOptions {
  /** Address to bind; default all interfaces. The port is always ephemeral. */
  bindHost?: string;
  /**
   * When set the socket is connected to it: send() needs no target, only its
   * datagrams are received, and a closed port shows as ECONNREFUSED.
   */
  target?: Endpoint;
}

interface UdpCounters {
  received: Counter;
  sent: Counter;
  dropped: Counter;
  handlerErrors: Counter;
  sendErrors: Counter;
}

function socketType(host: string | undefined): SocketType {
  return host !== undefined && isIP(host) === 6 ? 'udp6' : 'udp4';
}

/** What UdpServer and UdpClient share: the socket, validation, routing, counters. */
abstract class UdpSocket<F> {
  readonly name: string;
  /** Counters, also exported as lars_<name>_* metrics; dropped is labelled by reason. */
  readonly counters: UdpCounters;
  protected readonly socket: Socket;
  protected readonly router = new Router<F>();
  protected readonly log: Logger;
  private readonly logLimited: ReturnType<typeof rateLimited>;
  private readonly maxFrame: number;
  private closing: Promise<void> | undefined;

  constructor(options: UdpOptions, type: SocketType) {
    this.name = options.name;
    this.maxFrame = Math.min(options.maxFrame ?? LARS_MAX_FRAME, LARS_MAX_FRAME);
    this.log = options.logger ?? createLogger(options.name);
    this.logLimited = rateLimited(this.log, options.logIntervalMs ?? 10_000);
    const metrics = options.metrics ?? new MetricsRegistry();
    const counter = (metric: string, help: string) => metrics.counter(metricName(options.name, metric), help);
    this.counters = {
      received: counter('datagrams_received_total', 'datagrams received'),
      sent: counter('datagrams_sent_total', 'datagrams sent'),
      dropped: counter('datagrams_dropped_total', 'datagrams dropped, by reason'),
      handlerErrors: counter('handler_errors_total', 'handlers that threw or rejected'),
      sendErrors: counter('send_errors_total', 'datagrams the socket failed to send, and socket errors'),
    };
    this.socket = createSocket({
      type,
      recvBufferSize: options.recvBufferSize,
      sendBufferSize: options.sendBufferSize,
    });
    this.socket.on('message', this.onMessage);
    this.socket.on('error', this.onSocketError);
  }

  /** The bound address; only once bound. */
  get address(): AddressInfo {
    return this.socket.address();
  }

  /** Closes the socket; resolves once closed. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound, or already closed
      }
    });
    return this.closing;
  }

  protected abstract deliver(route: Route<F>, payload: unknown, rinfo: RemoteInfo): void;

  protected bind(port: number, host: string | undefined): Promise<AddressInfo> {
    return new Promise<AddressInfo>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, host, () => {
        this.socket.off('error', reject);
        resolve(this.socket.address());
      });
    });
  }

  /** Sends a pre-encoded frame to an address (or, with neither, to the connected target). */
  protected transmit(frame: Uint8Array, port?: number, address?: string): void {
    if (this.closing !== undefined) return; // e.g. a late reply from an async handler
    this.counters.sent.inc();
    if (port === undefined) this.socket.send(frame, this.onSent);
    else this.socket.send(frame, port, address, this.onSent);
  }

  protected readonly onHandlerError = (err: unknown, route: Route<unknown>): void => {
    this.counters.handlerErrors.inc();
    this.log.error('handler_failed', { msgid: route.msgid, error: err });
  };

  private readonly onMessage = (datagram: Buffer, rinfo: RemoteInfo): void => {
    this.counters.received.inc();
    if (datagram.length < HEADER_SIZE) return this.drop('short', `${datagram.length} bytes, less than a header`, rinfo);
    if (datagram.length > this.maxFrame) {
      return this.drop('oversize', `${datagram.length} bytes exceeds the cap of ${this.maxFrame}`, rinfo);
    }
    const msgid = datagram.readInt32LE(0);
    const length = datagram.readInt32LE(4);
    if (length !== datagram.length - HEADER_SIZE) {
      return this.drop('length_mismatch', `header says ${length} body bytes, datagram has ${datagram.length - HEADER_SIZE}`, rinfo);
    }
    const route = this.router.find(msgid);
    if (route === undefined) return this.drop('unknown_msgid', `unknown msgid ${msgid}`, rinfo);
    let payload: unknown;
    try {
      payload = this.router.payload(route, datagram.subarray(HEADER_SIZE));
    } catch (err) {
      if (!(err instanceof RouteError)) throw err;
      return this.drop('malformed_body', err.message, rinfo);
    }
    this.deliver(route, payload, rinfo);
  };

  private drop(reason: DropReason, detail: string, rinfo: RemoteInfo): void {
    this.counters.dropped.inc(1, { reason });
    this.logLimited('warn', 'datagram_dropped', { peer: formatPeer(rinfo.address, rinfo.port), reason, detail });
  }

  private readonly onSent = (err: Error | null): void => {
    if (err) this.onSocketError(err);
  };

  private readonly onSocketError = (err: NodeJS.ErrnoException): void => {
    this.counters.sendErrors.inc();
    this.logLimited('warn', 'socket_error', { error: err, code: err.code });
  };
}

/** A UDP server answering each request datagram to its sender. */
export class UdpServer extends UdpSocket<UdpServerHandler<never>> {
  private readonly options: UdpServerOptions;

  constructor(options: UdpServerOptions) {
    super(options, socketType(options.host));
    this.options = options;
  }

  /** Typed handler: the body is decoded as msgid's message. */
  handle<K extends KnownMsgId>(msgid: K, handler: UdpServerHandler<MessageTypes[K]>): this {
    this.router.add(msgid, handler as UdpServerHandler<never>, false);
    return this;
  }

  /** Raw handler, for extension msgids (100 and up): the body bytes, undecoded. */
  handleRaw(msgid: number, handler: UdpServerHandler<Buffer>): this {
    this.router.add(msgid, handler as UdpServerHandler<never>, true);
    return this;
  }

  /** Binds; resolves with the bound address (port 0 picks a free one). */
  async listen(): Promise<AddressInfo> {
    const address = await this.bind(this.options.port, this.options.host);
    this.log.info('listening', { address: formatPeer(address.address, address.port) });
    return address;
  }

  /** Sends a pre-encoded frame to any address (e.g. an extension reply). */
  sendFrame(frame: Uint8Array, to: Endpoint): void {
    this.transmit(frame, to.port, to.host);
  }

  protected deliver(route: Route<UdpServerHandler<never>>, payload: unknown, rinfo: RemoteInfo): void {
    const reply: UdpReply = (msgid, message) =>
      this.transmit(encodeFrame(msgid, encodeBody(msgid, message)), rinfo.port, rinfo.address);
    callHandler(route, payload, reply, rinfo, this.onHandlerError);
  }
}

/** A UDP client on an ephemeral port: sends requests, routes the answers. */
export class UdpClient extends UdpSocket<UdpClientHandler<never>> {
  private readonly options: UdpClientOptions;
  private opened = false;

  constructor(options: UdpClientOptions) {
    super(options, socketType(options.bindHost ?? options.target?.host));
    this.options = options;
  }

  /** Typed handler for answers of one msgid. */
  handle<K extends KnownMsgId>(msgid: K, handler: UdpClientHandler<MessageTypes[K]>): this {
    this.router.add(msgid, handler as UdpClientHandler<never>, false);
    return this;
  }

  /** Raw handler, for extension msgids (100 and up): the body bytes, undecoded. */
  handleRaw(msgid: number, handler: UdpClientHandler<Buffer>): this {
    this.router.add(msgid, handler as UdpClientHandler<never>, true);
    return this;
  }

  /** Binds an ephemeral port (and connects to the target, if any); call before sending. */
  async open(): Promise<AddressInfo> {
    const address = await this.bind(0, this.options.bindHost);
    const target = this.options.target;
    if (target !== undefined) {
      await new Promise<void>((resolve, reject) => {
        this.socket.connect(target.port, target.host, (err?: Error) => (err ? reject(err) : resolve()));
      });
    }
    this.opened = true;
    return address;
  }

  /** Encodes and sends a typed message to target (default: the connected target). */
  send<K extends KnownMsgId>(msgid: K, message: MessageTypes[K], target?: Endpoint): void {
    this.sendFrame(encodeFrame(msgid, encodeBody(msgid, message)), target);
  }

  /** Sends a raw body under any msgid (extension messages). */
  sendRaw(msgid: number, body: Uint8Array, target?: Endpoint): void {
    this.sendFrame(encodeFrame(msgid, body), target);
  }

  /** Sends a pre-encoded frame. */
  sendFrame(frame: Uint8Array, target?: Endpoint): void {
    if (!this.opened) throw new Error(`${this.name}: open() the client before sending`);
    if (target === undefined) {
      if (this.options.target === undefined) throw new Error(`${this.name}: no target given and none connected`);
      this.transmit(frame);
    } else {
      this.transmit(frame, target.port, target.host);
    }
  }

  protected deliver(route: Route<UdpClientHandler<never>>, payload: unknown, rinfo: RemoteInfo): void {
    callHandler(route, payload, rinfo, undefined, this.onHandlerError);
  }
}
