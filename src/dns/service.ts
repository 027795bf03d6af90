/**
 * The dns service: every route in memory, answered over TCP (GetRouteRequest
 * id 1 -> GetRouteResponse id 2), and pushed unasked (id 2 again) to every
 * connection that asked for a route when that route changes (docs/dns.md).
 *
 * Its parts: the sync (RouteSync, which alone knows whether the first load
 * happened), the subscriptions, the TCP server that answers and subscribes,
 * the pushes, and the change-log pruning.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { hostname } from 'node:os';
import { MsgId } from '../protocol/msgid.js';
import type { GetRouteRequest } from '../protocol/messages.js';
import { routeIdOf, routeKeyOf, type RouteKey } from '../protocol/route-key.js';
import { configFrom, tcpServerLimits, type ConfigOf } from '../reactor/config.js';
import { createLogger, rateLimited, type Logger } from '../reactor/log.js';
import { MetricsRegistry, type Counter } from '../reactor/metrics.js';
import { TcpServer, type TcpConnection } from '../reactor/tcp-server.js';
import { ChangeLog, DNS_REPORT_PEERS, RouteReader, type DnsReport, type FeedTransport, type Store } from '../store/index.js';
import { DNS_CONFIG_SECTIONS, type DnsConfigInput } from './config.js';
import { RouteSync, type RouteSource, type SyncHealth } from './route-sync.js';
import type { RouteSnapshot } from './route-snapshot.js';
import { Subscriptions } from './subscriptions.js';
import { PushThrottle } from './push-throttle.js';
import { Registrar } from './registrar.js';

/** [dns] and [reactor] as loadConfig gives them, or some of their values (the rest take the defaults). */
export interface DnsOptions extends DnsConfigInput {
  store: Store;
  host: string;
  port: number;
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** Where routes come from; the store's RouteReader unless a test wraps it. */
  source?: RouteSource;
  /** False: take no port; connections arrive through adopt() (dispatcher workers). Default true. */
  listen?: boolean;
}

/** notify: the change feed's transport; notifyLive: whether notifications arrive now (false: edits wait for the poll). */
export type DnsHealth = SyncHealth & { connections: number; subscribedRoutes: number; leases: number; node: string; notify: FeedTransport; notifyLive: boolean };

export interface DnsService {
  /** The bound address; undefined when started with listen: false. */
  readonly address: AddressInfo | undefined;
  /** Serves a connection accepted elsewhere (a dispatcher hand-over). */
  adopt(socket: Socket): void;
  health(): DnsHealth;
  /** Polls the store now instead of waiting for the interval. */
  syncNow(): Promise<void>;
  close(): Promise<void>;
}

type Conn = TcpConnection<undefined>;

/** The options with every section's values filled in. */
type ResolvedOptions = DnsOptions & ConfigOf<typeof DNS_CONFIG_SECTIONS>;

interface DnsCounters {
  pushes: Counter;
  answers: Counter;
  evictions: Counter;
}

class Dns implements DnsService {
  address: AddressInfo | undefined;
  private readonly log: Logger;
  private readonly logEvicted: ReturnType<typeof rateLimited>;
  private readonly counters: DnsCounters;
  private readonly sync: RouteSync;
  private readonly subscriptions: Subscriptions<Conn>;
  private readonly server: TcpServer<undefined>;
  private readonly changeLog: ChangeLog;
  private readonly registrar: Registrar;
  private readonly loadPushes: PushThrottle;
  private readonly nodeId = `${hostname().slice(0, 32)}-${process.pid}-${randomBytes(4).toString('hex')}`;
  /** Unix ms of the last push to each connection, for the report; gone with the connection. */
  private readonly lastPushAt = new WeakMap<Conn, number>();
  private pruneTimer: NodeJS.Timeout | undefined;
  private loadPushTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: ResolvedOptions) {
    this.log = options.logger ?? createLogger('dns');
    this.logEvicted = rateLimited(this.log, 60_000);
    const metrics = options.metrics ?? new MetricsRegistry();
    this.counters = {
      pushes: metrics.counter('lars_dns_pushes_total', 'GetRouteResponse frames pushed after a route changed'),
      answers: metrics.counter('lars_dns_answers_total', 'GetRouteRequest frames answered'),
      evictions: metrics.counter('lars_dns_subscriptions_evicted_total', 'subscriptions to routes without hosts forgotten past max_empty_subscriptions'),
    };
    this.sync = new RouteSync({
      source: options.source ?? new RouteReader(options.store),
      pollIntervalMs: options.dns.poll_interval_ms,
      fullReloadIntervalMs: options.dns.full_reload_interval_s * 1000,
      maxRetryMs: options.dns.retry_max_ms,
      logger: this.log,
      // Requests that came before the first load were held: answer them all now.
      onLoaded: (snapshot) => this.push(snapshot, this.subscriptions.routes()),
      onChange: (snapshot, changed) => this.push(snapshot, changed),
      onLoads: (snapshot, changed) => this.pushLoads(snapshot, changed),
    });
    this.loadPushes = new PushThrottle(options.registry.load_flush_ms);
    this.subscriptions = new Subscriptions<Conn>({
      maxEmptyPerConnection: options.dns.max_empty_subscriptions,
      // Until the first load nothing is known to be empty, so nothing is evicted.
      hasHosts: (key) => !this.sync.loaded || this.sync.snapshot.get(key) !== undefined,
    });
    this.server = new TcpServer<undefined>({
      name: 'dns',
      host: options.host,
      port: options.port,
      ...tcpServerLimits(options.reactor),
      logger: this.log,
      metrics,
      onClose: (conn) => {
        this.subscriptions.forget(conn);
        this.registrar.connectionClosed(conn);
      },
    });
    this.server.handle(MsgId.GetRouteRequest, (conn, request) => this.onRequest(conn, request));
    this.registrar = new Registrar({
      store: options.store,
      server: this.server,
      config: options.registry,
      nodeId: this.nodeId,
      // The bound port, once listening (port 0 picks one).
      address: () => (options.listen === false ? `worker pid ${process.pid}` : `${options.host}:${this.address?.port ?? options.port}`),
      report: () => this.report(),
      logger: this.log,
      metrics,
      onWritten: () => void this.sync.poll().catch(() => undefined),
    });
    this.changeLog = new ChangeLog(options.store);
    metrics.gauge('lars_dns_subscribed_routes', 'routes with at least one subscriber', () => this.subscriptions.routeCount);
    metrics.gauge('lars_dns_route_version', 'route version of the snapshot being served', () => this.sync.snapshot.version);
    metrics.gauge('lars_dns_routes', 'routes in memory', () => this.sync.snapshot.size);
  }

  async start(): Promise<void> {
    // Every edit announced on the store's feed is fetched at once (docs/dns.md, "Notification").
    this.unsubscribe = this.options.store.changes.subscribe((version) => this.sync.wake(version));
    this.sync.start();
    if (this.options.listen !== false) {
      try {
        this.address = await this.server.listen();
      } catch (err) {
        this.unsubscribe();
        await this.sync.stop();
        throw err;
      }
    }
    this.pruneTimer = setInterval(() => void this.pruneChangeLog(), this.options.dns.prune_interval_s * 1000);
    this.registrar.start();
  }

  adopt(socket: Socket): void {
    this.server.adopt(socket);
  }

  health(): DnsHealth {
    return {
      ...this.sync.health(),
      connections: this.server.connectionCount,
      subscribedRoutes: this.subscriptions.routeCount,
      leases: this.registrar.leaseCount,
      node: this.nodeId,
      notify: this.options.store.changes.transport,
      notifyLive: this.options.store.changes.live,
    };
  }

  syncNow(): Promise<void> {
    return this.sync.poll();
  }

  /** What this dns serves and to whom, written with each liveness beat (docs/console.md, "Connected"). */
  private report(): DnsReport {
    const peers: DnsReport['peers'] = [];
    let subscribed = 0;
    for (const [conn, routes] of this.subscriptions.connections()) {
      subscribed += 1;
      if (peers.length >= DNS_REPORT_PEERS) continue;
      const pushed = this.lastPushAt.get(conn);
      peers.push({ address: conn.remote, since: Math.floor(conn.connectedAt / 1000), routes, lastPushAt: pushed === undefined ? null : Math.floor(pushed / 1000) });
    }
    return {
      routeVersion: this.sync.snapshot.version,
      connections: this.server.connectionCount,
      subscribedRoutes: this.subscriptions.routeCount,
      peers,
      morePeers: subscribed - peers.length,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    clearTimeout(this.loadPushTimer);
    this.unsubscribe?.();
    await this.registrar.close();
    await this.sync.stop();
    await this.server.close();
  }

  /** Subscribes the connection, and answers unless the first load is still to come (which then answers it). */
  private onRequest(conn: Conn, request: GetRouteRequest): void {
    const evicted = this.subscriptions.subscribe(conn, routeKeyOf(request));
    if (evicted > 0) {
      this.counters.evictions.inc(evicted);
      this.logEvicted('warn', 'empty_subscriptions_evicted', {
        peer: conn.remote,
        limit: this.options.dns.max_empty_subscriptions,
        total: this.counters.evictions.get(),
      });
    }
    // Before the first load the answer would be a wrong "no hosts".
    if (!this.sync.loaded) return;
    this.counters.answers.inc();
    conn.sendFrame(this.sync.snapshot.responseFrame(request.modid, request.cmdid));
  }

  /** Load changes go out at most once per load_flush_ms per route (docs/registry.md); the rest wait for their turn. */
  private pushLoads(snapshot: RouteSnapshot, keys: readonly RouteKey[]): void {
    const now = Date.now();
    this.push(snapshot, keys.filter((key) => this.loadPushes.offer(key, now)), false);
    this.scheduleLoadPushes();
  }

  private scheduleLoadPushes(): void {
    const next = this.loadPushes.nextDueAt();
    if (next === undefined || this.loadPushTimer !== undefined) return;
    this.loadPushTimer = setTimeout(() => {
      this.loadPushTimer = undefined;
      this.push(this.sync.snapshot, this.loadPushes.due(Date.now()), false);
      this.scheduleLoadPushes();
    }, Math.max(0, next - Date.now()));
  }

  /** Sends each route's frame to its subscribers; a membership push also carries any load change waiting. */
  private push(snapshot: RouteSnapshot, keys: Iterable<RouteKey>, membership = true): void {
    let sent = 0;
    const now = Date.now();
    for (const key of keys) {
      if (membership) this.loadPushes.pushed(key, now);
      const conns = this.subscriptions.subscribers(key);
      if (conns.size === 0) continue;
      const { modid, cmdid } = routeIdOf(key);
      const frame = snapshot.responseFrame(modid, cmdid);
      for (const conn of conns) {
        if (!conn.sendFrame(frame)) continue;
        sent += 1;
        this.lastPushAt.set(conn, now);
      }
    }
    this.counters.pushes.inc(sent);
    if (sent > 0) this.log.info('pushed', { version: snapshot.version, frames: sent });
  }

  /** By age only: other dns instances on the store may still need the newer rows. */
  private async pruneChangeLog(): Promise<void> {
    try {
      const removed = await this.changeLog.prune(this.options.dns.change_retention_hours * 3600);
      if (removed > 0) this.log.info('change_log_pruned', { rows: removed });
    } catch (err) {
      this.log.warn('change_log_prune_failed', { error: err });
    }
  }
}

export async function startDns(given: DnsOptions): Promise<DnsService> {
  const dns = new Dns({ ...given, ...configFrom(DNS_CONFIG_SECTIONS, given) });
  await dns.start();
  return dns;
}
