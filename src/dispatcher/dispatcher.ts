/**
 * The dispatcher (acl's master_dispatch): accepts TCP connections on one or
 * more addresses and hands each one's descriptor, over a UNIX socket, to the
 * attached worker holding the fewest connections. It never reads from a
 * client connection itself (pauseOnConnect), so handing over loses nothing.
 *
 * A connection waits up to holdMs for a worker when none can take it (all
 * restarting, dispatcher just started); after that, or when the wait queue
 * is full, it is closed and counted as dropped.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { readdirSync } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { UServer } from 'usocket';
import type { Endpoint } from '../reactor/endpoint.js';
import { createLogger, rateLimited, type Logger } from '../reactor/log.js';
import { MetricsRegistry, type Counter, type Gauge } from '../reactor/metrics.js';
import { ControlChannel } from './control-channel.js';
import { parseToDispatcher, type DispatchStatus, type ToDispatcher } from './protocol.js';
import { WorkerTable } from './worker-table.js';

export interface DispatcherOptions {
  listen: Endpoint[];
  socketPath: string;
  /** How long a connection may wait for a worker before it is dropped (default 2000). */
  holdMs?: number;
  /** At most this many connections wait for a worker (default 1024). */
  maxHeld?: number;
  /** Descriptors sent to one worker and not yet confirmed by it (default 64). */
  maxInFlight?: number;
  metrics?: MetricsRegistry;
  log?: Logger;
}

type DropReason = 'no_worker' | 'send_failed' | 'worker_gone' | 'no_descriptor' | 'stopping';

interface HeldConnection {
  socket: Socket;
  since: number;
}

interface DispatcherMetrics {
  accepted: Counter;
  handedOver: Counter;
  dropped: Counter;
  workerConnections: Gauge;
}

const CONTROL_BACKLOG = 128;
const RELISTEN_DELAY_MS = 1000;

export class Dispatcher {
  private readonly log: Logger;
  private readonly warnLimited: ReturnType<typeof rateLimited>;
  private readonly table: WorkerTable;
  private readonly links = new Map<number, ControlChannel>();
  private readonly tcpServers: Server[] = [];
  private readonly held: HeldConnection[] = [];
  private readonly metrics: MetricsRegistry;
  private readonly m: DispatcherMetrics;
  private readonly holdMs: number;
  private readonly maxHeld: number;
  private controlServer: UServer | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private relistenTimer: NodeJS.Timeout | undefined;
  private nextLinkId = 1;
  private handedOver = 0;
  private dropped = 0;
  private closing = false;

  private constructor(private readonly options: DispatcherOptions) {
    this.log = options.log ?? createLogger('dispatch');
    this.warnLimited = rateLimited(this.log, 5000);
    this.table = new WorkerTable(options.maxInFlight ?? 64);
    this.holdMs = options.holdMs ?? 2000;
    this.maxHeld = options.maxHeld ?? 1024;
    this.metrics = options.metrics ?? new MetricsRegistry();
    this.m = {
      accepted: this.metrics.counter('lars_dispatch_accepted_total', 'TCP connections accepted'),
      handedOver: this.metrics.counter('lars_dispatch_handed_over_total', 'Connections a worker confirmed receiving'),
      dropped: this.metrics.counter('lars_dispatch_dropped_total', 'Connections closed without reaching a worker, by reason'),
      workerConnections: this.metrics.gauge('lars_dispatch_worker_connections', 'Live connections per attached worker (link id and pid)'),
    };
    this.metrics.gauge('lars_dispatch_workers', 'Attached workers', () => this.table.size);
    this.metrics.gauge('lars_dispatch_held', 'Connections waiting for a worker', () => this.held.length);
  }

  static async start(options: DispatcherOptions): Promise<Dispatcher> {
    if (options.listen.length === 0) throw new Error('the dispatcher needs at least one listen address');
    const dispatcher = new Dispatcher(options);
    try {
      await assertSocketPathFree(options.socketPath);
      await dispatcher.listenControl();
      for (const address of options.listen) await dispatcher.listenTcp(address);
    } catch (err) {
      await dispatcher.close();
      throw err;
    }
    return dispatcher;
  }

  get listening(): string[] {
    return this.tcpServers.map((s) => formatAddress(s.address() as AddressInfo));
  }

  get registry(): MetricsRegistry {
    return this.metrics;
  }

  get workerCount(): number {
    return this.table.size;
  }

  status(): DispatchStatus {
    return {
      pid: process.pid,
      listening: this.listening,
      workers: this.table.statuses(),
      handedOver: this.handedOver,
      dropped: this.dropped,
      openFds: countOpenFds(),
    };
  }

  /** Stops accepting, gives waiting connections a last chance, closes every link. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.relistenTimer);
    const tcpClosed = this.tcpServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.flushHeld();
    for (const { socket } of this.held.splice(0)) this.drop(socket, 'stopping');
    clearInterval(this.holdTimer);
    for (const link of this.links.values()) link.close();
    if (this.controlServer) {
      this.controlServer.close();
      await unlink(this.options.socketPath).catch(() => undefined);
    }
    await Promise.all(tcpClosed);
    this.log.info('stopped', { handed_over: this.handedOver, dropped: this.dropped });
  }

  private listenControl(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = new UServer();
      let listening = false;
      server.on('error', (err) => {
        if (!listening) return reject(err);
        // usocket closes its listener on an accept error (e.g. EMFILE): listen again shortly.
        this.log.error('control_socket_error', { path: this.options.socketPath, err });
        this.controlServer = undefined;
        if (!this.closing) this.relistenTimer = setTimeout(() => this.relistenControl(), RELISTEN_DELAY_MS);
      });
      server.on('connection', (socket) => this.onControlConnection(ControlChannel.adopt(socket)));
      server.listen(this.options.socketPath, CONTROL_BACKLOG, () => {
        listening = true;
        this.controlServer = server;
        this.log.info('control_listening', { path: this.options.socketPath });
        resolve();
      });
    });
  }

  private relistenControl(): void {
    this.listenControl().catch((err) => {
      this.log.error('control_relisten_failed', { path: this.options.socketPath, err });
      if (!this.closing) this.relistenTimer = setTimeout(() => this.relistenControl(), RELISTEN_DELAY_MS);
    });
  }

  private listenTcp(address: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer({ pauseOnConnect: true }, (socket) => this.onTcpConnection(socket));
      server.once('error', reject);
      server.listen(address.port, address.host, 511, () => {
        server.off('error', reject);
        server.on('error', (err) => this.warnLimited('warn', 'accept_error', { err }));
        this.tcpServers.push(server);
        this.log.info('listening', { addr: formatAddress(server.address() as AddressInfo) });
        resolve();
      });
    });
  }

  private onTcpConnection(socket: Socket): void {
    this.m.accepted.inc();
    if (this.closing) return this.drop(socket, 'stopping');
    const id = this.table.pick();
    if (id === undefined) this.hold(socket);
    else this.handOver(id, socket);
  }

  private handOver(id: number, socket: Socket): void {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return this.drop(socket, 'no_descriptor');
    if (!this.links.get(id)!.send({ type: 'conn' }, fd)) return this.drop(socket, 'send_failed');
    this.table.recordSent(id);
    this.m.workerConnections.set(this.table.load(id), this.workerLabels(id));
    // The worker holds its own copy now; closing ours does not end the connection.
    socket.destroy();
  }

  private hold(socket: Socket): void {
    if (this.holdMs <= 0 || this.held.length >= this.maxHeld) return this.drop(socket, 'no_worker');
    this.held.push({ socket, since: Date.now() });
    this.holdTimer ??= setInterval(() => this.expireHeld(), Math.min(this.holdMs, 100));
  }

  private flushHeld(): void {
    while (this.held.length > 0) {
      const id = this.table.pick();
      if (id === undefined) return;
      this.handOver(id, this.held.shift()!.socket);
    }
    this.stopHoldTimer();
  }

  private expireHeld(): void {
    const limit = Date.now() - this.holdMs;
    while (this.held.length > 0 && this.held[0]!.since <= limit) this.drop(this.held.shift()!.socket, 'no_worker');
    this.stopHoldTimer();
  }

  private stopHoldTimer(): void {
    if (this.held.length > 0 || !this.holdTimer) return;
    clearInterval(this.holdTimer);
    this.holdTimer = undefined;
  }

  private drop(socket: Socket, reason: DropReason): void {
    socket.destroy();
    this.countDropped(1, reason);
  }

  private countDropped(n: number, reason: DropReason): void {
    this.dropped += n;
    this.m.dropped.inc(n, { reason });
    this.warnLimited('warn', 'connection_dropped', { reason, count: n });
  }

  private onControlConnection(link: ControlChannel): void {
    const id = this.nextLinkId++;
    this.links.set(id, link);
    link.on('line', (line) => {
      try {
        this.onMessage(id, link, parseToDispatcher(line));
      } catch (err) {
        this.log.warn('control_protocol_error', { link: id, err });
        link.close();
      }
    });
    link.on('close', (error) => this.onLinkClosed(id, error));
  }

  private onMessage(id: number, link: ControlChannel, message: ToDispatcher): void {
    switch (message.type) {
      case 'hello':
        if (this.table.has(id)) throw new Error('second hello on one link');
        this.table.add(id, message.pid, message.connections);
        link.send({ type: 'welcome', id });
        this.m.workerConnections.set(message.connections, this.workerLabels(id));
        this.log.info('worker_attached', { link: id, pid: message.pid, connections: message.connections });
        this.flushHeld();
        return;
      case 'load': {
        const confirmed = this.table.recordLoad(id, message.connections, message.received);
        this.handedOver += confirmed;
        this.m.handedOver.inc(confirmed);
        this.m.workerConnections.set(this.table.load(id), this.workerLabels(id));
        this.flushHeld();
        return;
      }
      case 'detach':
        this.table.markDetaching(id);
        link.send({ type: 'detached' });
        this.log.info('worker_detaching', { link: id, pid: this.table.pid(id) });
        return;
      case 'status':
        link.send(this.status());
        return;
    }
  }

  /** One process may attach several workers, so the link id tells them apart. */
  private workerLabels(id: number): { worker: number; pid: number } {
    return { worker: id, pid: this.table.pid(id) };
  }

  private onLinkClosed(id: number, error: Error | undefined): void {
    this.links.delete(id);
    if (!this.table.has(id)) return;
    const pid = this.table.pid(id);
    this.m.workerConnections.delete(this.workerLabels(id));
    const lost = this.table.remove(id);
    // When we close the link ourselves the worker still reads what is queued; only a vanished worker loses it.
    if (lost > 0 && !this.closing) this.countDropped(lost, 'worker_gone');
    this.log.info('worker_detached', { link: id, pid, lost_in_flight: lost, err: error });
  }
}

function formatAddress(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}

function countOpenFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

/**
 * usocket's listen() unlinks the path first, so check it ourselves: never
 * remove something that is not a socket, nor steal a live dispatcher's path.
 */
async function assertSocketPathFree(path: string): Promise<void> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) return;
  if (!stats.isSocket()) throw new Error(`${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`another dispatcher is listening on ${path}`);
}
