/**
 * A framed TCP client that stays connected (Lars's tcp_client, plus failover):
 * tries its addresses in order, moves to the next one on a failed connect or a
 * lost connection, waits an exponential backoff with full jitter between
 * attempts, and queues a bounded number of frames while disconnected. A
 * quiet link carries keepalives, so a service's idle timeout never cuts it
 * and a dead service is noticed (docs/reactor.md, "Keepalive").
 */
import { connect, type Socket } from 'node:net';
import { encodeFrame } from '../protocol/frame.js';
import { decodeBody, encodeBody, type DecodedTypes, type KnownMsgId, type MessageTypes } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import { Backoff } from './backoff.js';
import { DEFAULT_TCP_MAX_FRAME, TCP_KEEPALIVE_DELAY_MS, TcpConnection, type ConnectionPolicy } from './connection.js';
import { formatEndpoint, metricName, type Endpoint } from './endpoint.js';
import { createLogger, rateLimited, type Logger } from './log.js';
import { MetricsRegistry, type Counter, type Gauge } from './metrics.js';
import { callHandler, RouteError, Router, type Route } from './router.js';

export type TcpClientHandler<M> = (message: M) => void | Promise<void>;

export const DEFAULT_RECONNECT = { initialMs: 100, maxMs: 5000 } as const;
/** A quarter of a service's default idle timeout (DEFAULT_IDLE_TIMEOUT_MS). */
export const DEFAULT_KEEPALIVE_MS = 30_000;

export interface ReconnectOptions {
  /** Ceiling of the first delay. Default 100 ms. */
  initialMs?: number;
  /** Ceiling of every delay. Default 5000 ms. */
  maxMs?: number;
  /** A connection that lasted this long resets the backoff; shorter ones keep it growing. Default 2000 ms. */
  stableMs?: number;
}

export interface TcpClientOptions {
  /** Names the client in log lines and metric names (lars_<name>_...). */
  name: string;
  /** Tried in order; the client moves to the next on a failed connect or a lost connection. */
  addresses: Endpoint[];
  reconnect?: ReconnectOptions;
  /** A connect attempt taking longer fails. Default 3000 ms. */
  connectTimeoutMs?: number;
  /** Frames kept while disconnected; when full the oldest is dropped and counted. Default 1024. */
  maxQueue?: number;
  /** Largest frame accepted from the server, header included. Default 4 MiB. */
  maxFrame?: number;
  /** Unsent output past which the connection is given up as stuck (and re-made). Default 16 MiB. */
  maxOutput?: number;
  /** Sent as the first frame of every connection (AuthRequest, id 110), for services that require it (docs/reactor.md). */
  authToken?: string;
  /**
   * Keepalive interval (docs/reactor.md, "Keepalive"); 0: none. On connect and
   * after each interval with nothing received, a KeepaliveRequest (id 106) is
   * sent. A service that has answered one and then lets a whole interval
   * pass without a frame is taken for dead: the connection is dropped and
   * re-made. One that never answers is a Lars service: no more keepalives go
   * to it. Default 30000 ms.
   */
  keepaliveMs?: number;
  /** Told once per connection whether its service answers keepalives (ours) or not (Lars's). */
  onPeerKnown?: (answersKeepalive: boolean) => void;
  /** Called when a service refused our token (AuthRefused, docs/reactor.md, "Authentication"); it closes the connection next. */
  onAuthRefused?: (address: Endpoint | undefined, reason: string) => void;
  /** Called after each successful connect, once queued frames are written: re-subscribe here. */
  onConnected?: (address: Endpoint) => void;
  /** Called when an established connection is lost or closed. */
  onDisconnected?: (reason: string) => void;
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** Uniform [0, 1) source for the backoff jitter. */
  random?: () => number;
}

interface TcpClientCounters {
  connects: Counter;
  connectFailures: Counter;
  framesReceived: Counter;
  framesSent: Counter;
  queueDropped: Counter;
  framesDropped: Counter;
  protocolErrors: Counter;
  handlerErrors: Counter;
  keepalivesSent: Counter;
  keepaliveTimeouts: Counter;
}

/** What the client knows of the current connection's service and its keepalive in flight. */
interface KeepaliveState {
  timer: NodeJS.Timeout;
  /** undefined until the service answered a keepalive (true) or let one go unanswered on a quiet link (false). */
  answers: boolean | undefined;
  seq: number;
  /** framesReceived when the request in flight was sent; undefined when none is in flight. */
  framesAtRequest: number | undefined;
  /** Frames other than keepalive replies at the last tick: a reply is not traffic, or a quiet link would send every other interval. */
  framesAtTick: number;
  replies: number;
}

export class TcpClient {
  readonly name: string;
  /** Counters, also exported as lars_<name>_* metrics. */
  readonly counters: TcpClientCounters;
  private readonly options: TcpClientOptions;
  private readonly log: Logger;
  private readonly logLimited: ReturnType<typeof rateLimited>;
  private readonly router = new Router<TcpClientHandler<never>>();
  private readonly backoff: Backoff;
  private readonly policy: ConnectionPolicy<undefined>;
  private readonly connectedGauge: Gauge;
  private readonly queue: Uint8Array[] = [];
  private index = 0;
  private socket: Socket | undefined;
  private conn: TcpConnection<undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private keepalive: KeepaliveState | undefined;
  private started = false;
  private stopped = false;

  constructor(options: TcpClientOptions) {
    if (options.addresses.length === 0) throw new RangeError(`${options.name}: no addresses to connect to`);
    for (const address of options.addresses) {
      if (address.host === '' || !Number.isInteger(address.port) || address.port < 1 || address.port > 65535) {
        throw new RangeError(`${options.name}: invalid address ${JSON.stringify(address)}`);
      }
    }
    this.options = options;
    this.name = options.name;
    this.log = options.logger ?? createLogger(options.name);
    this.logLimited = rateLimited(this.log, 10_000);
    this.backoff = new Backoff({
      initialMs: options.reconnect?.initialMs ?? DEFAULT_RECONNECT.initialMs,
      maxMs: options.reconnect?.maxMs ?? DEFAULT_RECONNECT.maxMs,
      random: options.random,
    });
    const metrics = options.metrics ?? new MetricsRegistry();
    const counter = (metric: string, help: string) => metrics.counter(metricName(options.name, metric), help);
    this.counters = {
      connects: counter('connects_total', 'connections established'),
      connectFailures: counter('connect_failures_total', 'connect attempts that failed'),
      framesReceived: counter('frames_received_total', 'frames received'),
      framesSent: counter('frames_sent_total', 'frames written to the connection'),
      queueDropped: counter('queue_dropped_total', 'queued frames dropped because the queue was full'),
      framesDropped: counter('frames_dropped_total', 'received frames dropped: unknown msgid or undecodable body'),
      protocolErrors: counter('protocol_errors_total', 'connections dropped for a bad frame header'),
      handlerErrors: counter('handler_errors_total', 'handlers that threw or rejected'),
      keepalivesSent: counter('keepalives_sent_total', 'keepalive requests sent on quiet links'),
      keepaliveTimeouts: counter('keepalive_timeouts_total', 'connections dropped because a service that answers keepalives stopped answering'),
    };
    this.connectedGauge = metrics.gauge(metricName(options.name, 'connected'), '1 while connected');
    this.policy = {
      maxFrame: options.maxFrame ?? DEFAULT_TCP_MAX_FRAME,
      // Reading server pushes never waits on our own output.
      outputHighWater: Infinity,
      maxOutput: options.maxOutput ?? 16 * 1024 * 1024,
      closeGraceMs: 1000,
      onFrame: (_conn, msgid, body) => this.dispatch(msgid, body),
      onProtocolError: (conn, reason) => {
        this.counters.protocolErrors.inc();
        this.log.warn('protocol_error', { peer: conn.remote, reason });
      },
      onOutputOverflow: (conn) => this.log.warn('output_overflow', { peer: conn.remote, pending: conn.pendingOutput }),
      onReadPause: ignore,
      onFramesSent: (count) => this.counters.framesSent.inc(count),
    };
  }

  /** Typed handler for replies and pushes of one msgid. */
  handle<K extends KnownMsgId>(msgid: K, handler: TcpClientHandler<DecodedTypes[K]>): this {
    this.router.add(msgid, handler as TcpClientHandler<never>, false);
    return this;
  }

  /** Raw handler, for extension msgids (100 and up): the body bytes, undecoded. */
  handleRaw(msgid: number, handler: TcpClientHandler<Buffer>): this {
    this.router.add(msgid, handler as TcpClientHandler<never>, true);
    return this;
  }

  get connected(): boolean {
    return this.conn !== undefined && !this.conn.closed;
  }

  /** The address currently connected to. */
  get address(): Endpoint | undefined {
    return this.connected ? this.options.addresses[this.index] : undefined;
  }

  /** Whether the current connection's service answers keepalives; undefined while not known (or not connected). */
  get peerAnswersKeepalive(): boolean | undefined {
    return this.connected ? this.keepalive?.answers : undefined;
  }

  /** Frames waiting for a connection. */
  get queued(): number {
    return this.queue.length;
  }

  /** Starts connecting (to the first address). */
  start(): this {
    if (this.started) return this;
    this.started = true;
    this.attempt();
    return this;
  }

  /** Encodes and sends a typed message: true when written now, false when queued (or the client is closed). */
  send<K extends KnownMsgId>(msgid: K, message: MessageTypes[K]): boolean {
    return this.sendFrame(encodeFrame(msgid, encodeBody(msgid, message)));
  }

  /** Sends a raw body under any msgid (extension messages); result as send(). */
  sendRaw(msgid: number, body: Uint8Array): boolean {
    return this.sendFrame(encodeFrame(msgid, body));
  }

  /** Sends a pre-encoded frame; result as send(). */
  sendFrame(frame: Uint8Array): boolean {
    if (this.stopped) return false;
    if (this.conn !== undefined && !this.conn.closed) return this.conn.sendFrame(frame);
    this.enqueue(frame);
    return false;
  }

  /** Stops reconnecting, drops the queue, closes the connection gracefully; resolves once closed. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.stopKeepalive();
    this.queue.length = 0;
    const socket = this.socket;
    if (socket === undefined || socket.closed) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (this.conn !== undefined) this.conn.close('client closing');
    else socket.destroy();
    await closed;
  }

  private enqueue(frame: Uint8Array): void {
    const max = this.options.maxQueue ?? 1024;
    if (this.queue.length >= max) {
      this.counters.queueDropped.inc();
      this.logLimited('warn', 'queue_full', { maxQueue: max, dropped: this.counters.queueDropped.get() });
      if (max === 0) return;
      this.queue.shift();
    }
    this.queue.push(frame);
  }

  private attempt(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const address = this.options.addresses[this.index]!;
    const socket = connect({ host: address.host, port: address.port });
    this.socket = socket;
    const connectTimeoutMs = this.options.connectTimeoutMs ?? 3000;
    socket.setTimeout(connectTimeoutMs, () => socket.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`)));
    let failure = 'closed before connecting';
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure = err.code ?? err.message;
    });
    socket.once('connect', () => this.established(socket, address));
    socket.once('close', () => {
      if (this.conn === undefined) this.failed(address, failure);
      else this.lost(address);
    });
  }

  private established(socket: Socket, address: Endpoint): void {
    socket.setTimeout(0);
    if (this.stopped) {
      socket.destroy();
      return;
    }
    socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    const conn = new TcpConnection<undefined>(0, socket, this.policy, undefined);
    this.conn = conn;
    this.counters.connects.inc();
    this.connectedGauge.set(1);
    this.log.info('connected', { address: formatEndpoint(address), local: socket.localPort, queued: this.queue.length });
    if (this.options.authToken) conn.send(MsgId.AuthRequest, { token: this.options.authToken });
    const queued = this.queue.splice(0);
    for (const frame of queued) conn.sendFrame(frame);
    this.startKeepalive(conn);
    this.safely('onConnected', () => this.options.onConnected?.(address));
  }

  /** The first request goes at once: it tells, within one interval, whether the service is ours. */
  private startKeepalive(conn: TcpConnection<undefined>): void {
    const intervalMs = this.options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    if (intervalMs <= 0) return;
    const timer = setInterval(() => this.keepaliveTick(conn), intervalMs);
    timer.unref();
    this.keepalive = { timer, answers: undefined, seq: 0, framesAtRequest: undefined, framesAtTick: conn.framesReceived, replies: 0 };
    this.sendKeepalive(conn, this.keepalive);
  }

  private sendKeepalive(conn: TcpConnection<undefined>, state: KeepaliveState): void {
    state.seq = (state.seq + 1) >>> 0;
    state.framesAtRequest = conn.framesReceived;
    this.counters.keepalivesSent.inc();
    conn.send(MsgId.KeepaliveRequest, { seq: state.seq });
  }

  private keepaliveTick(conn: TcpConnection<undefined>): void {
    const state = this.keepalive;
    if (state === undefined || conn !== this.conn) return;
    const received = conn.framesReceived;
    if (state.framesAtRequest !== undefined && received === state.framesAtRequest) {
      // A whole interval without a frame since the request.
      if (state.answers === true) {
        this.counters.keepaliveTimeouts.inc();
        this.logLimited('warn', 'keepalive_unanswered', { address: this.address && formatEndpoint(this.address), waitedMs: this.options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS });
        conn.destroy('keepalive unanswered');
      } else {
        this.peerKnown(state, false);
        this.stopKeepalive();
      }
      return;
    }
    // A reply may still be queued behind other traffic: that traffic is life enough.
    const traffic = received - state.replies;
    if (state.framesAtRequest === undefined && traffic === state.framesAtTick) this.sendKeepalive(conn, state);
    state.framesAtTick = traffic;
  }

  private keepaliveAnswered(): void {
    const state = this.keepalive;
    if (state === undefined) return;
    state.framesAtRequest = undefined;
    state.replies++;
    this.peerKnown(state, true);
  }

  private peerKnown(state: KeepaliveState, answers: boolean): void {
    if (state.answers === answers) return;
    state.answers = answers;
    this.log.debug('peer_known', { address: this.address && formatEndpoint(this.address), answersKeepalive: answers });
    this.safely('onPeerKnown', () => this.options.onPeerKnown?.(answers));
  }

  private stopKeepalive(): void {
    if (this.keepalive === undefined) return;
    clearInterval(this.keepalive.timer);
    this.keepalive = undefined;
  }

  private failed(address: Endpoint, reason: string): void {
    this.counters.connectFailures.inc();
    if (this.stopped) return;
    this.logLimited('warn', 'connect_failed', { address: formatEndpoint(address), reason });
    this.scheduleNext();
  }

  private lost(address: Endpoint): void {
    const conn = this.conn!;
    this.conn = undefined;
    this.stopKeepalive();
    this.connectedGauge.set(0);
    const reason = conn.closeReason ?? 'peer closed';
    if (Date.now() - conn.connectedAt >= (this.options.reconnect?.stableMs ?? 2000)) this.backoff.reset();
    this.log.info('disconnected', { address: formatEndpoint(address), reason });
    this.safely('onDisconnected', () => this.options.onDisconnected?.(reason));
    if (!this.stopped) this.scheduleNext();
  }

  private scheduleNext(): void {
    this.index = (this.index + 1) % this.options.addresses.length;
    const delay = this.backoff.next();
    this.log.debug('reconnect_scheduled', { address: formatEndpoint(this.options.addresses[this.index]!), delayMs: delay });
    this.timer = setTimeout(() => this.attempt(), delay);
  }

  private dispatch(msgid: number, body: Buffer): void {
    this.counters.framesReceived.inc();
    try {
      if (msgid === MsgId.KeepaliveReply) {
        this.keepaliveAnswered();
        return;
      }
      if (msgid === MsgId.AuthRefused) {
        const { reason } = decodeBody(MsgId.AuthRefused, body);
        this.logLimited('error', 'auth_refused', { address: this.address && formatEndpoint(this.address), reason });
        this.safely('onAuthRefused', () => this.options.onAuthRefused?.(this.address, reason));
        return;
      }
      const route = this.router.route(msgid);
      callHandler(route, this.router.payload(route, body), undefined, undefined, this.onHandlerError);
    } catch (err) {
      // A server newer than this client may push messages it does not know:
      // drop them and keep the connection.
      if (!(err instanceof RouteError)) throw err;
      this.counters.framesDropped.inc();
      this.logLimited('warn', 'frame_dropped', { msgid, reason: err.message });
    }
  }

  private readonly onHandlerError = (err: unknown, route: Route<unknown>): void => {
    this.counters.handlerErrors.inc();
    this.log.error('handler_failed', { msgid: route.msgid, error: err });
  };

  private safely(hook: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.counters.handlerErrors.inc();
      this.log.error('hook_failed', { hook, error: err });
    }
  }
}

function ignore(): void {}
