/**
 * The worker side: makes a server receive its connections from a dispatcher.
 *
 *   const server = net.createServer(handle);          // no listen() needed
 *   const attachment = attachToDispatcher(socketPath, server);
 *   process.once('SIGTERM', () => attachment.drain().then(() => process.exit(0)));
 *
 * Each received descriptor becomes a net.Socket, delivered as the server's
 * 'connection' event (or to a function). The attachment reports its open
 * connection count after every change and reconnects, with backoff, whenever
 * the link to the dispatcher drops (dispatcher restart); the connections
 * already received stay open through that.
 */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { createLogger, rateLimited, type Logger } from '../reactor/log.js';
import { Backoff } from './backoff.js';
import { closeQuietly, ControlChannel } from './control-channel.js';
import { DISPATCH_SOCKET_ENV, parseToWorker, type ToWorker } from './protocol.js';

/** net.Server, http.Server, or anything that takes sockets through a 'connection' event; or a plain function. */
export type ConnectionTarget = { emit(event: 'connection', socket: Socket): unknown } | ((socket: Socket) => void);

export interface AttachOptions {
  log?: Logger;
  /** First reconnect delay; doubles per failed attempt (default 100). */
  reconnectMinMs?: number;
  /** Reconnect delay cap (default 2000). */
  reconnectMaxMs?: number;
  /** How long close() waits for the dispatcher to confirm a detach (default 2000). */
  detachTimeoutMs?: number;
}

export interface DispatcherAttachment {
  on(event: 'attached', listener: (workerId: number) => void): this;
  on(event: 'detached', listener: () => void): this;
}

export class DispatcherAttachment extends EventEmitter {
  private channel: ControlChannel | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly open = new Set<Socket>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private readonly warnLimited: ReturnType<typeof rateLimited>;
  private received = 0;
  private isAttached = false;
  private reportPending = false;
  private closed: Promise<void> | undefined;

  constructor(
    readonly socketPath: string,
    private readonly target: ConnectionTarget,
    private readonly options: AttachOptions = {},
  ) {
    super();
    this.log = options.log ?? createLogger('dispatch.worker');
    this.warnLimited = rateLimited(this.log, 10_000);
    this.backoff = new Backoff(options.reconnectMinMs ?? 100, options.reconnectMaxMs ?? 2000);
    this.connect();
  }

  /** Connections received from the dispatcher that are still open. */
  get connections(): number {
    return this.open.size;
  }

  /** True while the dispatcher may send this worker connections. */
  get attached(): boolean {
    return this.isAttached;
  }

  /** Stops receiving connections (no reconnect); the open ones stay with the server. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      clearTimeout(this.reconnectTimer);
      const channel = this.channel;
      if (!channel) return resolve();
      channel.once('close', () => resolve());
      if (!this.isAttached || !channel.send({ type: 'detach' })) return channel.close();
      // Connections already on their way arrive before "detached"; close() only then.
      setTimeout(() => channel.close(), this.options.detachTimeoutMs ?? 2000).unref();
    });
    return this.closed;
  }

  /** close(), then waits until every received connection has closed. */
  async drain(): Promise<void> {
    await this.close();
    if (this.open.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private connect(): void {
    const channel = ControlChannel.connect(this.socketPath);
    this.channel = channel;
    this.received = 0;
    channel.on('open', () => channel.send({ type: 'hello', pid: process.pid, connections: this.open.size }));
    channel.on('line', (line) => {
      try {
        this.onMessage(channel, parseToWorker(line));
      } catch (err) {
        this.log.warn('control_protocol_error', { err });
        channel.close();
      }
    });
    channel.on('close', (error) => this.onClosed(error));
  }

  private onMessage(channel: ControlChannel, message: ToWorker): void {
    switch (message.type) {
      case 'welcome':
        this.isAttached = true;
        this.backoff.reset();
        this.log.info('attached', { socket: this.socketPath, worker_id: message.id, connections: this.open.size });
        this.emit('attached', message.id);
        return;
      case 'conn': {
        const fd = channel.takeFd();
        if (fd === undefined) throw new Error('"conn" arrived without a descriptor');
        this.received += 1;
        this.adopt(fd);
        this.scheduleReport();
        return;
      }
      case 'detached':
        channel.close();
        return;
    }
  }

  private adopt(fd: number): void {
    let socket: Socket;
    try {
      socket = new Socket({ fd, readable: true, writable: true });
    } catch (err) {
      closeQuietly(fd);
      this.warnLimited('warn', 'bad_descriptor', { fd, err });
      return;
    }
    this.open.add(socket);
    socket.once('close', () => {
      this.open.delete(socket);
      this.scheduleReport();
      if (this.open.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
    try {
      if (typeof this.target === 'function') this.target(socket);
      else this.target.emit('connection', socket);
    } catch (err) {
      this.log.error('connection_handler_failed', { err });
      socket.destroy();
    }
  }

  /** One report per turn of the event loop, however many connections changed in it. */
  private scheduleReport(): void {
    if (this.reportPending) return;
    this.reportPending = true;
    setImmediate(() => {
      this.reportPending = false;
      if (this.isAttached) this.channel?.send({ type: 'load', connections: this.open.size, received: this.received });
    });
  }

  private onClosed(error: Error | undefined): void {
    const wasAttached = this.isAttached;
    this.isAttached = false;
    this.channel = undefined;
    if (wasAttached) {
      this.log.info('detached', { socket: this.socketPath, err: error });
      this.emit('detached');
    }
    if (this.closed) return;
    const delay = this.backoff.next();
    if (!wasAttached) this.warnLimited('warn', 'dispatcher_unreachable', { socket: this.socketPath, err: error, retry_ms: delay });
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }
}

export function attachToDispatcher(socketPath: string, target: ConnectionTarget, options?: AttachOptions): DispatcherAttachment {
  return new DispatcherAttachment(socketPath, target, options);
}

/** attachToDispatcher with the socket that `lars dispatch --workers N` gave this process, if any. */
export function attachFromEnvironment(target: ConnectionTarget, options?: AttachOptions): DispatcherAttachment | undefined {
  const socketPath = process.env[DISPATCH_SOCKET_ENV];
  return socketPath ? attachToDispatcher(socketPath, target, options) : undefined;
}
