/**
 * The dns service: every route in memory, answered over TCP (GetRouteRequest
 * id 1 -> GetRouteResponse id 2), and pushed unasked (id 2 again) to every
 * connection that asked for a route when that route changes.
 */
import type { AddressInfo, Socket } from 'node:net';
import { MsgId } from '../protocol/msgid.js';
import { configFrom, tcpServerLimits } from '../reactor/config.js';
import { createLogger, rateLimited, type Logger } from '../reactor/log.js';
import { MetricsRegistry } from '../reactor/metrics.js';
import { TcpServer, type TcpConnection } from '../reactor/tcp-server.js';
import { routeIdOf, routeKeyOf, type RouteKey } from '../protocol/route-key.js';
import { pruneChanges, RouteReader, type Store } from '../store/index.js';
import { DNS_CONFIG_SECTIONS, type DnsConfigInput } from './config.js';
import { RouteSync, type RouteSource, type SyncHealth } from './route-sync.js';
import type { RouteSnapshot } from './route-snapshot.js';
import { Subscriptions } from './subscriptions.js';

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

export interface DnsService {
  /** The bound address; undefined when started with listen: false. */
  readonly address: AddressInfo | undefined;
  /** Serves a connection accepted elsewhere (a dispatcher hand-over). */
  adopt(socket: Socket): void;
  health(): SyncHealth & { connections: number; subscribedRoutes: number };
  /** Polls the store now instead of waiting for the interval. */
  syncNow(): Promise<void>;
  close(): Promise<void>;
}

type Conn = TcpConnection<undefined>;

export async function startDns(given: DnsOptions): Promise<DnsService> {
  const options = { ...given, ...configFrom(DNS_CONFIG_SECTIONS, given) };
  const log = options.logger ?? createLogger('dns');
  const metrics = options.metrics ?? new MetricsRegistry();
  const pushes = metrics.counter('lars_dns_pushes_total', 'GetRouteResponse frames pushed after a route changed');
  const answers = metrics.counter('lars_dns_answers_total', 'GetRouteRequest frames answered');
  const evictions = metrics.counter('lars_dns_subscriptions_evicted_total', 'subscriptions to routes without hosts forgotten past max_empty_subscriptions');
  const logEvicted = rateLimited(log, 60_000);
  // Until the first load nothing is known to be empty, so nothing is evicted.
  const subscriptions = new Subscriptions<Conn>({
    maxEmptyPerConnection: options.dns.max_empty_subscriptions,
    hasHosts: (key) => !sync.loaded || sync.snapshot.get(key) !== undefined,
  });
  metrics.gauge('lars_dns_subscribed_routes', 'routes with at least one subscriber', () => subscriptions.routeCount);

  const push = (snapshot: RouteSnapshot, keys: Iterable<RouteKey>) => {
    let sent = 0;
    for (const key of keys) {
      const conns = subscriptions.subscribers(key);
      if (conns.size === 0) continue;
      const { modid, cmdid } = routeIdOf(key);
      const frame = snapshot.responseFrame(modid, cmdid);
      for (const conn of conns) if (conn.sendFrame(frame)) sent += 1;
    }
    pushes.inc(sent);
    if (sent > 0) log.info('pushed', { version: snapshot.version, frames: sent });
  };

  let firstLoadDone = false;
  const sync = new RouteSync({
    source: options.source ?? new RouteReader(options.store),
    pollIntervalMs: options.dns.poll_interval_ms,
    fullReloadIntervalMs: options.dns.full_reload_interval_s * 1000,
    maxRetryMs: options.dns.retry_max_ms,
    logger: log,
    onChange: (snapshot, changed) => {
      // Requests that came before the first load were held: answer them all now.
      push(snapshot, firstLoadDone ? changed : [...subscriptions.routes()]);
      firstLoadDone = true;
    },
  });
  metrics.gauge('lars_dns_route_version', 'route version of the snapshot being served', () => sync.snapshot.version);
  metrics.gauge('lars_dns_routes', 'routes in memory', () => sync.snapshot.size);

  const server = new TcpServer<undefined>({
    name: 'dns',
    host: options.host,
    port: options.port,
    ...tcpServerLimits(options.reactor),
    logger: log,
    metrics,
    onClose: (conn) => subscriptions.forget(conn),
  });
  server.handle(MsgId.GetRouteRequest, (conn, request) => {
    const evicted = subscriptions.subscribe(conn, routeKeyOf(request));
    if (evicted > 0) {
      evictions.inc(evicted);
      logEvicted('warn', 'empty_subscriptions_evicted', { peer: conn.remote, limit: options.dns.max_empty_subscriptions, total: evictions.get() });
    }
    // Before the first load the answer would be a wrong "no hosts": the
    // subscription alone makes the first load answer it.
    if (!sync.loaded) return;
    answers.inc();
    conn.sendFrame(sync.snapshot.responseFrame(request.modid, request.cmdid));
  });

  sync.start();
  const address = options.listen === false ? undefined : await server.listen().catch(async (err) => {
    await sync.stop();
    throw err;
  });

  const prune = async () => {
    try {
      const removed = await pruneChanges(options.store, options.dns.change_retention_hours * 3600);
      if (removed > 0) log.info('change_log_pruned', { rows: removed });
    } catch (err) {
      log.warn('change_log_prune_failed', { error: err });
    }
  };
  const pruneTimer = setInterval(prune, options.dns.prune_interval_s * 1000);

  return {
    address,
    adopt: (socket) => server.adopt(socket),
    health: () => ({ ...sync.health(), connections: server.connectionCount, subscribedRoutes: subscriptions.routeCount }),
    syncNow: () => sync.poll(),
    close: async () => {
      clearInterval(pruneTimer);
      await sync.stop();
      await server.close();
    },
  };
}
