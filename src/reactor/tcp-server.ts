/**
 * A framed TCP server with a msgid router (Lars's tcp_server): connection
 * limits, frame deadline, idle timeout with keepalives answered, output
 * backpressure, connection hooks, and a protocol error closing only the
 * connection that made it. With `register`, it puts
 * itself into a route (docs/registry.md, "The server side").
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { decodeBody, MalformedBodyError, type DecodedTypes, type KnownMsgId } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import { TokenCheck } from './auth.js';
import { CallCounter } from './call-counter.js';
import { DEFAULT_TCP_MAX_FRAME, TCP_KEEPALIVE_DELAY_MS, TcpConnection, type ConnectionPolicy } from './connection.js';
import { formatPeer, metricName } from './endpoint.js';
import { processLoad } from './instance-load.js';
import { InstanceRegistration, type RegistrationOptions } from './instance-registration.js';
import { createLogger, rateLimited, type Logger } from './log.js';
import { MetricsRegistry, type Counter, type Gauge } from './metrics.js';
import { callHandler, Router, type Route } from './router.js';

export { DEFAULT_TCP_MAX_FRAME, TcpConnection };

/** Lars's maxConn. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
export const DEFAULT_OUTPUT_HIGH_WATER = 1024 * 1024;
/** Per peer address: room for a host's agents and tools, not for one host taking every slot. */
export const DEFAULT_MAX_CONNECTIONS_PER_PEER = 256;
/** A frame started and not finished within this is a slow-loris peer's. */
export const DEFAULT_FRAME_DEADLINE_MS = 10_000;
/** Four keepalive intervals of our clients (DEFAULT_KEEPALIVE_MS): a healthy link is never this quiet (docs/reactor.md, "Keepalive"). */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/** The registration a server makes of its bound port; its load is the server's own (in-flight calls, connections). */
export type ServerRegistration = Omit<RegistrationOptions, 'port' | 'load' | 'logger' | 'metrics'>;

export type TcpMessageHandler<Ctx, M> = (conn: TcpConnection<Ctx>, message: M) => void | Promise<void>;

export interface TcpServerOptions<Ctx> {
  /** Names the server in log lines and metric names (lars_<name>_...). */
  name: string;
  host: string;
  /** 0 picks a free port; listen() tells which. */
  port: number;
  /**
   * Connections beyond this are accepted and closed at once, with a log line,
   * unless a connection that never completed a frame can make room (the
   * oldest such goes). Default 1024 (Lars maxConn).
   */
  maxConnections?: number;
  /** Connections one peer address may hold; more are closed at once. Default 256; 0: no limit. */
  maxConnectionsPerPeer?: number;
  /** A frame whose first byte came this long ago and is still incomplete closes its connection. Default 10000 ms; 0: never. */
  frameDeadlineMs?: number;
  /** Largest frame accepted, header included. Default 4 MiB. */
  maxFrame?: number;
  /**
   * Close a connection after this long without traffic either way. Default
   * 120000 ms; 0: never. Our clients send a KeepaliveRequest (id 106) on a
   * quiet link, which the server answers (107), so only silent peers go.
   */
  idleTimeoutMs?: number;
  /** Unsent output per connection past which reading from it pauses until drained. Default 1 MiB (16 KiB at least). */
  outputHighWater?: number;
  /** Unsent output per connection past which it is dropped (a peer that stopped reading). Default 64 MiB. */
  maxOutput?: number;
  /** close(): how long connections get to finish before being destroyed. Default 2000 ms. */
  closeGraceMs?: number;
  /** Makes each connection's context; without it, context starts undefined. */
  createContext?: (conn: TcpConnection<Ctx>) => Ctx;
  /** Called after a connection is accepted (and counted). */
  onConnect?: (conn: TcpConnection<Ctx>) => void;
  /** Called once a connection has closed, for whatever reason. */
  onClose?: (conn: TcpConnection<Ctx>) => void;
  /**
   * Registers the bound port with dns once listening (listen() resolves when a
   * dns accepted it, rejects as InstanceRegistration.start does); close()
   * then deregisters first and lets calls in flight finish (closeGraceMs).
   */
  register?: ServerRegistration;
  /**
   * Tokens a client must present in its first frame (AuthRequest, id 110);
   * empty or absent: no authentication, Lars's wire as it is (docs/reactor.md).
   */
  authTokens?: readonly string[];
  /** With authTokens: how long a connection may take to authenticate. Default 5000 ms. */
  authTimeoutMs?: number;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

interface TcpServerCounters {
  accepted: Counter;
  rejected: Counter;
  framesReceived: Counter;
  framesSent: Counter;
  protocolErrors: Counter;
  handlerErrors: Counter;
  idleTimeouts: Counter;
  readPauses: Counter;
  outputOverflows: Counter;
  authFailures: Counter;
  frameDeadlines: Counter;
  evicted: Counter;
}

export class TcpServer<Ctx = undefined> {
  readonly name: string;
  /** Counters, also exported as lars_<name>_* metrics. */
  readonly counters: TcpServerCounters;
  private readonly options: TcpServerOptions<Ctx>;
  private readonly log: Logger;
  private readonly logRejected: ReturnType<typeof rateLimited>;
  private readonly router = new Router<TcpMessageHandler<Ctx, never>>();
  private readonly connections = new Set<TcpConnection<Ctx>>();
  private readonly connectionsGauge: Gauge;
  private readonly policy: ConnectionPolicy<Ctx>;
  private readonly server: Server;
  private nextId = 1;
  private readonly calls = new CallCounter();
  private instance: InstanceRegistration | undefined;
  private listening = false;
  private closing: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;
  private readonly auth: TokenCheck;
  /** Connections that have not authenticated yet (only while authentication is on). */
  private readonly unauthenticated = new WeakSet<TcpConnection<Ctx>>();
  private readonly perPeer = new Map<string, number>();
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(options: TcpServerOptions<Ctx>) {
    this.options = options;
    this.name = options.name;
    this.log = options.logger ?? createLogger(options.name);
    this.logRejected = rateLimited(this.log, 10_000);
    this.auth = new TokenCheck(options.authTokens ?? []);
    const metrics = options.metrics ?? new MetricsRegistry();
    const counter = (metric: string, help: string) => metrics.counter(metricName(options.name, metric), help);
    this.counters = {
      accepted: counter('connections_accepted_total', 'TCP connections accepted'),
      rejected: counter('connections_rejected_total', 'TCP connections closed at once for the connection limit'),
      framesReceived: counter('frames_received_total', 'frames received'),
      framesSent: counter('frames_sent_total', 'frames sent'),
      protocolErrors: counter('protocol_errors_total', 'connections closed for a bad header, unknown msgid or undecodable body'),
      handlerErrors: counter('handler_errors_total', 'handlers that threw or rejected'),
      idleTimeouts: counter('idle_timeouts_total', 'connections closed for idleness'),
      readPauses: counter('read_pauses_total', 'times reading paused because a peer was not taking its output'),
      outputOverflows: counter('output_overflows_total', 'connections dropped for holding more unsent output than allowed'),
      authFailures: counter('auth_failures_total', 'connections closed because they did not authenticate'),
      frameDeadlines: counter('frame_deadlines_total', 'connections closed for a frame not completed within the frame deadline'),
      evicted: counter('connections_evicted_total', 'connections that never completed a frame, closed to make room for a new one at the connection limit'),
    };
    this.connectionsGauge = metrics.gauge(metricName(options.name, 'connections'), 'open TCP connections');

    const counters = this.counters;
    this.policy = {
      maxFrame: options.maxFrame ?? DEFAULT_TCP_MAX_FRAME,
      outputHighWater: options.outputHighWater ?? DEFAULT_OUTPUT_HIGH_WATER,
      maxOutput: options.maxOutput ?? 64 * 1024 * 1024,
      closeGraceMs: options.closeGraceMs ?? 2000,
      onFrame: (conn, msgid, body) => this.dispatch(conn, msgid, body),
      onProtocolError: (conn, reason) => {
        counters.protocolErrors.inc();
        this.log.warn('protocol_error', { peer: conn.remote, conn: conn.id, reason });
      },
      onOutputOverflow: (conn) => {
        counters.outputOverflows.inc();
        this.log.warn('output_overflow', { peer: conn.remote, conn: conn.id, pending: conn.pendingOutput });
      },
      onReadPause: () => counters.readPauses.inc(),
      onFramesSent: (count) => counters.framesSent.inc(count),
    };
    this.server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_DELAY_MS }, (socket) => this.accept(socket));
  }

  /** Typed handler: the body is decoded as msgid's message. */
  handle<K extends KnownMsgId>(msgid: K, handler: TcpMessageHandler<Ctx, DecodedTypes[K]>): this {
    this.router.add(msgid, handler as TcpMessageHandler<Ctx, never>, false);
    return this;
  }

  /** Raw handler, for extension msgids (100 and up): the body bytes, undecoded. */
  handleRaw(msgid: number, handler: TcpMessageHandler<Ctx, Buffer>): this {
    this.router.add(msgid, handler as TcpMessageHandler<Ctx, never>, true);
    return this;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Calls whose handler returned a promise that has not settled yet. */
  get inFlight(): number {
    return this.calls.inFlight;
  }

  /** The registration, with the register option once listen() resolved. */
  get registration(): InstanceRegistration | undefined {
    return this.instance;
  }

  /** A snapshot of the open connections (e.g. to push to all of them). */
  connectionList(): TcpConnection<Ctx>[] {
    return [...this.connections];
  }

  /**
   * Serves a socket accepted elsewhere (e.g. handed over by a dispatcher) as
   * if this server had accepted it: same limits, hooks and router.
   */
  adopt(socket: Socket): void {
    this.listening = true;
    this.accept(socket);
  }

  /** The bound address; only after listen(). */
  get address(): AddressInfo {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error(`${this.name}: not listening`);
    return address;
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free one). */
  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    // A failed listen is the caller's rejection; only errors after it are logged here.
    this.server.on('error', (err) => this.log.error('server_error', { error: err }));
    this.listening = true;
    const { address, port } = this.address;
    this.log.info('listening', { address: formatPeer(address, port), maxConnections: this.maxConnections });
    if (this.options.register) await this.registerPort(port);
    return this.address;
  }

  /**
   * Graceful stop: no new connections, each open one is ended after its output
   * flushes; whatever remains after closeGraceMs is destroyed. Resolves once
   * everything is closed.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private get maxConnections(): number {
    return this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  }

  private async registerPort(port: number): Promise<void> {
    this.instance = new InstanceRegistration({
      ...this.options.register!,
      port,
      load: processLoad(() => ({ inFlight: this.calls.inFlight, connections: this.connections.size })),
      logger: this.log.child('registration'),
      metrics: this.options.metrics,
    });
    try {
      await this.instance.start();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.deadlineTimer);
    if (!this.listening) return;
    if (this.instance) {
      // Out of the route before anything stops: agents stop sending new calls here.
      await this.instance.deregister();
      await this.calls.idle(this.options.closeGraceMs ?? 2000);
    }
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const drained = new Promise<void>((resolve) => {
      this.onDrained = resolve;
    });
    // Each connection destroys itself if its peer lingers past closeGraceMs.
    for (const conn of this.connections) conn.close('server closing');
    if (this.connections.size === 0) this.onDrained?.();
    await Promise.all([stopped, drained]);
    await this.instance?.close();
    this.log.info('closed');
  }

  private readonly callSettled = (): void => this.calls.end();

  private accept(socket: Socket): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    const peer = socket.remoteAddress ?? 'unknown';
    const perPeerLimit = this.options.maxConnectionsPerPeer ?? DEFAULT_MAX_CONNECTIONS_PER_PEER;
    const refusal =
      perPeerLimit > 0 && (this.perPeer.get(peer) ?? 0) >= perPeerLimit
        ? { reason: 'per-peer connection limit', limit: perPeerLimit }
        : this.connections.size >= this.maxConnections && !this.evictStalled()
          ? { reason: 'connection limit', limit: this.maxConnections }
          : undefined;
    if (refusal) {
      this.counters.rejected.inc();
      this.logRejected('warn', 'connection_rejected', { peer: formatPeer(socket.remoteAddress, socket.remotePort), ...refusal });
      socket.on('error', ignore);
      socket.destroy();
      return;
    }
    this.perPeer.set(peer, (this.perPeer.get(peer) ?? 0) + 1);
    // Adopted sockets were accepted elsewhere, without the server's keepalive option.
    socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    this.watchFrameDeadlines();
    const conn = new TcpConnection<Ctx>(this.nextId++, socket, this.policy, undefined as Ctx);
    this.connections.add(conn);
    this.connectionsGauge.set(this.connections.size);
    this.counters.accepted.inc();
    const idleTimeoutMs = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (idleTimeoutMs > 0) {
      conn.setIdleTimeout(idleTimeoutMs, (idle) => {
        this.counters.idleTimeouts.inc();
        this.logRejected('info', 'idle_timeout', { peer: idle.remote, conn: idle.id, idleMs: idleTimeoutMs, total: this.counters.idleTimeouts.get() });
        idle.destroy('idle timeout');
      });
    }
    conn.onceClosed((closed) => this.forget(closed));
    if (this.auth.enabled) this.awaitAuthentication(conn);
    this.log.info('connected', { peer: conn.remote, conn: conn.id, connections: this.connections.size });
    this.runHook('createContext', conn, () => {
      if (this.options.createContext) conn.context = this.options.createContext(conn);
    });
    this.runHook('onConnect', conn, () => this.options.onConnect?.(conn));
  }

  private awaitAuthentication(conn: TcpConnection<Ctx>): void {
    this.unauthenticated.add(conn);
    const timeoutMs = this.options.authTimeoutMs ?? 5000;
    const timer = setTimeout(() => {
      if (this.unauthenticated.has(conn)) this.refuse(conn, `no AuthRequest within ${timeoutMs} ms`);
    }, timeoutMs);
    timer.unref();
    conn.onceClosed(() => clearTimeout(timer));
  }

  /** The first frame of a connection while authentication is on: an accepted token, or the connection goes. */
  private authenticate(conn: TcpConnection<Ctx>, msgid: number, body: Buffer): void {
    if (msgid !== MsgId.AuthRequest) return this.refuse(conn, `the first frame must be an AuthRequest (id ${MsgId.AuthRequest}), got id ${msgid}`);
    let token: string;
    try {
      token = decodeBody(MsgId.AuthRequest, body).token;
    } catch (err) {
      if (!(err instanceof MalformedBodyError)) throw err;
      return this.refuse(conn, err.message);
    }
    if (!this.auth.accepts(token)) return this.refuse(conn, 'token not accepted');
    this.unauthenticated.delete(conn);
  }

  private refuse(conn: TcpConnection<Ctx>, reason: string): void {
    this.unauthenticated.delete(conn);
    this.counters.authFailures.inc();
    this.logRejected('warn', 'auth_failed', { peer: conn.remote, conn: conn.id, reason, total: this.counters.authFailures.get() });
    conn.send(MsgId.AuthRefused, { reason });
    conn.close('authentication failed');
  }

  /**
   * At the connection limit, the oldest connection that never completed a
   * frame makes room (a slow-loris peer's, not a working agent's). False
   * when every connection has completed one.
   */
  private evictStalled(): boolean {
    let victim: TcpConnection<Ctx> | undefined;
    for (const conn of this.connections) {
      if (conn.framesReceived === 0 && (!victim || conn.connectedAt < victim.connectedAt)) victim = conn;
    }
    if (!victim) return false;
    this.counters.evicted.inc();
    this.logRejected('warn', 'connection_evicted', { peer: victim.remote, conn: victim.id, reason: 'connection limit reached; it never completed a frame', total: this.counters.evicted.get() });
    // Out of the count now: its socket closes asynchronously.
    this.forget(victim);
    victim.destroy('evicted at the connection limit');
    return true;
  }

  /** One sweep timer per server, from its first connection: closes connections stuck in the middle of a frame. */
  private watchFrameDeadlines(): void {
    const deadlineMs = this.options.frameDeadlineMs ?? DEFAULT_FRAME_DEADLINE_MS;
    if (deadlineMs <= 0 || this.deadlineTimer !== undefined) return;
    this.deadlineTimer = setInterval(() => {
      const now = Date.now();
      for (const conn of this.connections) {
        if (conn.partialSince === undefined || now - conn.partialSince < deadlineMs) continue;
        this.counters.frameDeadlines.inc();
        this.logRejected('warn', 'frame_deadline', { peer: conn.remote, conn: conn.id, deadlineMs, total: this.counters.frameDeadlines.get() });
        conn.destroy('frame deadline');
      }
    }, Math.max(10, Math.min(1000, deadlineMs / 4)));
    this.deadlineTimer.unref();
  }

  private forget(conn: TcpConnection<Ctx>): void {
    if (!this.connections.delete(conn)) return;
    const peer = conn.remoteAddress;
    const held = (this.perPeer.get(peer) ?? 1) - 1;
    if (held > 0) this.perPeer.set(peer, held);
    else this.perPeer.delete(peer);
    this.connectionsGauge.set(this.connections.size);
    this.log.info('disconnected', { peer: conn.remote, conn: conn.id, reason: conn.closeReason });
    this.runHook('onClose', conn, () => this.options.onClose?.(conn));
    if (this.connections.size === 0) this.onDrained?.();
  }

  private dispatch(conn: TcpConnection<Ctx>, msgid: number, body: Buffer): void {
    this.counters.framesReceived.inc();
    if (this.unauthenticated.has(conn)) return this.authenticate(conn, msgid, body);
    // A client that sends a token to a service that asks for none (rolling authentication out): nothing to do.
    if (msgid === MsgId.AuthRequest) return;
    // Every service answers keepalives; a malformed one throws, a protocol error like any other body.
    if (msgid === MsgId.KeepaliveRequest) {
      conn.send(MsgId.KeepaliveReply, decodeBody(MsgId.KeepaliveRequest, body));
      return;
    }
    const route = this.router.route(msgid);
    const settled = callHandler(route, conn, this.router.payload(route, body), undefined, this.onHandlerError);
    if (settled !== undefined) {
      this.calls.begin();
      settled.then(this.callSettled);
    }
  }

  private readonly onHandlerError = (err: unknown, route: Route<unknown>, conn: unknown): void => {
    this.counters.handlerErrors.inc();
    const peer = (conn as TcpConnection<Ctx>).remote;
    this.log.error('handler_failed', { peer, conn: (conn as TcpConnection<Ctx>).id, msgid: route.msgid, error: err });
  };

  private runHook(hook: string, conn: TcpConnection<Ctx>, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.counters.handlerErrors.inc();
      this.log.error('hook_failed', { hook, peer: conn.remote, conn: conn.id, error: err });
    }
  }
}

function ignore(): void {}
