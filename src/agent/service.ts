/**
 * The load-balance agent (docs/agent.md): three UDP ports answering
 * Lars's GetHost / Report / API_GetRoute, each port served by its own worker
 * thread that owns the balancers of its routes; the main thread owns the dns
 * and reporter connections and relays between them and the port threads.
 *
 *   port thread --pull(modid, cmdid)--> main --GetRouteRequest--> dns
 *   dns --GetRouteResponse (answer or push)--> main --route--> port thread of (modid + cmdid) % 3
 *   port thread --stats every report_interval--> main --ReportStatusRequest per route--> reporter
 */
import { validateLoadBalanceParams, type LoadBalanceParams } from '../balancer/params.js';
import type { RouteStats, RouteView } from '../balancer/route-table.js';
import { agentPortIndex, AGENT_PORT_COUNT, DEFAULT_AGENT_BASE_PORT } from '../protocol/agent-ports.js';
import type { Health } from '../reactor/admin-http.js';
import type { ConfigOf, ReactorConfig } from '../reactor/config.js';
import { formatEndpoint, formatPeer, type Endpoint } from '../reactor/endpoint.js';
import { createLogger, type Logger } from '../reactor/log.js';
import { MetricsRegistry, type Counter } from '../reactor/metrics.js';
import type { ReconnectOptions } from '../reactor/tcp-client.js';
import { DEFAULT_BUSY_POLL_US, UdpBindError, type UdpIo } from '../reactor/udp-port.js';
import { resolveCaller } from './caller.js';
import {
  DEFAULT_AGENT_UDP_HOST,
  DEFAULT_REPORT_INTERVAL_S,
  DEFAULT_REPORT_QUEUE,
  DEFAULT_MAX_UNKNOWN_ROUTES,
  DEFAULT_ROUTE_WAIT_MS,
  DEFAULT_UDP_RECV_BUFFER,
  loadBalanceParams,
  type AGENT_CONFIG_SECTIONS,
} from './config.js';
import { DnsLink } from './dns-link.js';
import { PortMetrics } from './port-counters.js';
import { PortThreadHandle, type ListenResult, type PortTraffic } from './port-thread-handle.js';
import type { PortThreadConfig } from './port-thread-protocol.js';
import { ReporterLink } from './reporter-link.js';

export interface AgentOptions {
  /** dns servers, tried in order. */
  dns: Endpoint[];
  /** reporter servers, tried in order. */
  reporter: Endpoint[];
  /** Address the UDP ports bind to; default 127.0.0.1 (Lars binds every interface). */
  udpHost?: string;
  /** First of three consecutive ports; default 8888. 0 picks three free consecutive ports (tests). */
  udpBasePort?: number;
  /** This machine's IPv4 in reports; default the first non-loopback IPv4. */
  caller?: string;
  /** [loadbalance] keys (Lars names); missing ones take their defaults, bad ones throw. */
  loadbalance?: Partial<LoadBalanceParams>;
  /** Statistics batch interval, ms; default 1000. */
  reportIntervalMs?: number;
  /** How long the first requests for a new route wait for dns; default 200 ms, 0 = answer NOEXIST at once. */
  routeWaitMs?: number;
  /** Per port, routes without hosts remembered (default 10,000); the oldest are forgotten beyond it. */
  maxUnknownRoutes?: number;
  /** Statistics messages kept while the reporter is away; default 3600. */
  reportQueue?: number;
  /** SO_RCVBUF per UDP port, bytes; 0 = OS default. */
  udpRecvBuffer?: number;
  /** UDP I/O (src/reactor/udp-port.ts): auto (default), native or dgram. */
  udpIo?: UdpIo | 'auto';
  /** Native fast path's busy-polling window, µs (default 50; 0 never spins). */
  udpBusyPollUs?: number;
  /** Reconnect backoff of the dns and reporter connections. */
  reconnect?: ReconnectOptions;
  /** Largest dns frame accepted (big routes); default the reactor's 4 MiB. */
  dnsMaxFrame?: number;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

export interface Agent {
  readonly host: string;
  /** The three UDP ports, base first. */
  readonly ports: readonly number[];
  readonly caller: string;
  /** For /healthz: ok while every port thread runs. */
  health(): Health;
  /** Every route the port threads hold, with host states (for status pages and tests). */
  routes(): Promise<RouteView[]>;
  /** Sends the last statistics, closes ports and connections, ends the port threads. */
  close(): Promise<void>;
}

/** Bases tried when udpBasePort is 0: below Linux's ephemeral range, so client sockets do not collide. */
const RANDOM_BASE_MIN = 10_000;
const RANDOM_BASE_SPAN = 20_000;
const LISTEN_ATTEMPTS = 20;
/**
 * Port threads hold requests for new routes while dns may still answer. If no
 * dns connection exists this long after start, they are told dns is down (a
 * connection that never came up produces no disconnect to tell them).
 */
const DNS_STARTUP_GRACE_MS = 500;

/** AgentOptions from a loaded configuration (the CLI and `lars up`). */
export function agentOptionsFromConfig(
  config: ConfigOf<typeof AGENT_CONFIG_SECTIONS>,
): Omit<AgentOptions, 'logger' | 'metrics'> {
  const { agent, loadbalance, reactor } = config;
  return {
    dns: agent.dns,
    reporter: agent.reporter,
    udpHost: agent.udp_host,
    udpBasePort: agent.udp_base_port,
    caller: agent.caller,
    loadbalance: loadBalanceParams(loadbalance),
    reportIntervalMs: Math.round(agent.report_interval * 1000),
    routeWaitMs: agent.route_wait_ms,
    maxUnknownRoutes: agent.max_unknown_routes,
    reportQueue: agent.report_queue,
    udpRecvBuffer: agent.udp_recv_buffer,
    udpIo: agent.udp_io,
    udpBusyPollUs: agent.udp_busy_poll_us,
    ...reactorLinks(reactor),
  };
}

function reactorLinks(reactor: ReactorConfig): Pick<AgentOptions, 'reconnect' | 'dnsMaxFrame'> {
  return { reconnect: { initialMs: reactor.reconnectInitialMs, maxMs: reactor.reconnectMaxMs }, dnsMaxFrame: reactor.maxFrame };
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  if (options.dns.length === 0) throw new RangeError('agent: at least one dns address is required');
  if (options.reporter.length === 0) throw new RangeError('agent: at least one reporter address is required');
  const log = options.logger ?? createLogger('agent');
  const metrics = options.metrics ?? new MetricsRegistry();
  const caller = resolveCaller(options.caller);
  const host = options.udpHost ?? DEFAULT_AGENT_UDP_HOST;
  const threadConfig = (index: number): PortThreadConfig => ({
    index,
    host,
    params: validateLoadBalanceParams({ ...options.loadbalance }),
    routeWaitMs: options.routeWaitMs ?? DEFAULT_ROUTE_WAIT_MS,
    maxUnknownRoutes: options.maxUnknownRoutes ?? DEFAULT_MAX_UNKNOWN_ROUTES,
    reportIntervalMs: options.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_S * 1000,
    recvBufferSize: options.udpRecvBuffer ?? DEFAULT_UDP_RECV_BUFFER,
    udpIo: options.udpIo ?? 'auto',
    busyPollUs: options.udpBusyPollUs ?? DEFAULT_BUSY_POLL_US,
  });
  threadConfig(0); // validates the parameters before any thread starts

  const agent = new AgentService({ options, log, metrics, caller, host, threadConfig });
  try {
    await agent.start(options.udpBasePort ?? DEFAULT_AGENT_BASE_PORT);
  } catch (err) {
    await agent.close();
    throw err;
  }
  return agent;
}

interface ServiceParts {
  options: AgentOptions;
  log: Logger;
  metrics: MetricsRegistry;
  caller: string;
  host: string;
  threadConfig(index: number): PortThreadConfig;
}

/** Why a port could not be listened on: a UdpBindError (with the errno name) when the bind failed. */
function listenError(address: string, failure: Extract<ListenResult, { ok: false }>): Error {
  if (failure.code === undefined) return new Error(`agent: cannot open UDP ${address}: ${failure.reason}`);
  return new UdpBindError(address, failure.code, failure.reason);
}

class AgentService implements Agent {
  readonly host: string;
  readonly caller: string;
  ports: number[] = [];
  private readonly parts: ServiceParts;
  private readonly log: Logger;
  private readonly threads: PortThreadHandle[] = [];
  private readonly dns: DnsLink;
  private readonly reporter: ReporterLink;
  private readonly routeCounts = [0, 0, 0];
  private readonly portMetrics: PortMetrics;
  private readonly routesReported: Counter;
  private closing: Promise<void> | undefined;

  constructor(parts: ServiceParts) {
    this.parts = parts;
    this.host = parts.host;
    this.caller = parts.caller;
    this.log = parts.log;
    const { options, metrics } = parts;
    this.dns = new DnsLink({
      addresses: options.dns,
      reconnect: options.reconnect,
      maxFrame: options.dnsMaxFrame,
      logger: this.log.child('dns'),
      metrics,
      onRoute: (modid, cmdid, hosts) => this.threads[agentPortIndex(modid, cmdid)]?.post({ type: 'route', modid, cmdid, hosts }),
      onState: (up) => this.postAll({ type: 'dns_state', up }),
    });
    this.reporter = new ReporterLink({
      addresses: options.reporter,
      caller: this.caller,
      maxQueue: options.reportQueue ?? DEFAULT_REPORT_QUEUE,
      reconnect: options.reconnect,
      logger: this.log.child('reporter'),
      metrics,
    });
    this.portMetrics = new PortMetrics(metrics);
    this.routesReported = metrics.counter('lars_agent_route_reports_total', 'ReportStatusRequest messages handed to the reporter link');
    metrics.gauge('lars_agent_routes', 'routes held by the port threads', () => this.routeCounts.reduce((a, b) => a + b, 0));
    metrics.gauge('lars_agent_reporter_queued', 'statistics messages waiting for a reporter', () => this.reporter.queued);
  }

  async start(basePort: number): Promise<void> {
    for (let index = 0; index < AGENT_PORT_COUNT; index++) this.threads.push(this.spawn(index));
    await Promise.all(this.threads.map((t) => t.ready()));
    this.ports = await this.bindPorts(basePort);
    this.dns.start();
    this.reporter.start();
    setTimeout(() => {
      if (!this.dns.connected && this.closing === undefined) this.postAll({ type: 'dns_state', up: false });
    }, DNS_STARTUP_GRACE_MS).unref();
    this.log.info('listening', {
      udp: `${formatPeer(this.host, this.ports[0])},${this.ports.slice(1).join(',')}`,
      dns: this.parts.options.dns.map(formatEndpoint).join(','),
      reporter: this.parts.options.reporter.map(formatEndpoint).join(','),
      caller: this.caller,
    });
  }

  health(): Health {
    return {
      ok: this.closing === undefined && this.threads.length === AGENT_PORT_COUNT,
      udp: this.ports,
      dns: this.dns.connected ? formatEndpoint(this.dns.address!) : null,
      reporter: this.reporter.connected,
      reporterQueued: this.reporter.queued,
      routes: this.routeCounts.reduce((a, b) => a + b, 0),
    };
  }

  async routes(): Promise<RouteView[]> {
    return (await Promise.all(this.threads.map((t) => t.snapshot()))).flat();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Port threads first: their last statistics still go to the reporter.
    await Promise.all(this.threads.map((t) => t.stop()));
    await Promise.all([this.dns.close(), this.reporter.close()]);
    this.log.info('closed');
  }

  private postAll(message: Parameters<PortThreadHandle['post']>[0]): void {
    for (const thread of this.threads) thread.post(message);
  }

  private spawn(index: number): PortThreadHandle {
    return new PortThreadHandle(this.parts.threadConfig(index), {
      onTraffic: (message) => this.onTraffic(index, message),
      onExit: (cause) => void this.respawn(index, cause),
    });
  }

  /** A crashed port thread is replaced on the same port; its routes are pulled again on use. */
  private async respawn(index: number, cause: string): Promise<void> {
    if (this.closing !== undefined) return;
    const port = this.ports[index]!;
    this.log.error('port_thread_died', { port, cause });
    const thread = this.spawn(index);
    this.threads[index] = thread;
    try {
      await thread.ready();
      const result = await thread.listen(port);
      if (!result.ok) throw listenError(formatPeer(this.host, port), result);
      if (!this.dns.connected) thread.post({ type: 'dns_state', up: false });
      this.log.info('port_thread_restarted', { port });
    } catch (err) {
      this.log.error('port_thread_restart_failed', { port, error: err });
    }
  }

  /** Binds base, base+1, base+2 (each in its thread); with base 0, tries random bases until three are free. */
  private async bindPorts(basePort: number): Promise<number[]> {
    const random = basePort === 0;
    for (let attempt = 1; ; attempt++) {
      const base = random ? RANDOM_BASE_MIN + Math.floor(Math.random() * RANDOM_BASE_SPAN) : basePort;
      const results = await Promise.all(this.threads.map((t, i) => t.listen(base + i)));
      const failed = results.findIndex((r) => !r.ok);
      if (failed < 0) return results.map((r, i) => (r.ok ? r.port : base + i));
      await Promise.all(this.threads.filter((_, i) => results[i]!.ok).map((t) => t.unlisten()));
      const failure = results[failed]!;
      const retry = random && attempt < LISTEN_ATTEMPTS && !failure.ok && failure.code === 'EADDRINUSE';
      if (!failure.ok && !retry) throw listenError(formatPeer(this.host, base + failed), failure);
    }
  }

  private onTraffic(index: number, message: PortTraffic): void {
    if (message.type === 'pull') {
      this.dns.pull(message.modid, message.cmdid);
      return;
    }
    this.routeCounts[index] = message.routeCount;
    this.portMetrics.add(this.ports[index] ?? index, message.counters);
    this.report(message.routes);
  }

  private report(routes: RouteStats[]): void {
    if (routes.length === 0) return;
    this.reporter.send(routes, Math.floor(Date.now() / 1000));
    this.routesReported.inc(routes.length);
  }
}
