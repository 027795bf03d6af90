/**
 * The load-balance agent (docs/agent.md): three UDP ports answering
 * Lars's GetHost / Report / API_GetRoute, each port served by its own worker
 * thread that owns the balancers of its routes; the main thread owns the dns
 * and reporter connections and relays between them and the workers.
 *
 *   worker --pull(modid, cmdid)--> main --GetRouteRequest--> dns
 *   dns --GetRouteResponse (answer or push)--> main --route--> worker of (modid + cmdid) % 3
 *   worker --stats every report_interval--> main --ReportStatusRequest per route--> reporter
 */
import { validateLoadBalanceParams, type LoadBalanceParams } from '../balancer/params.js';
import type { RouteStats, RouteView } from '../balancer/route-table.js';
import { agentPortIndex, AGENT_PORT_COUNT, DEFAULT_AGENT_BASE_PORT } from '../client/ports.js';
import type { Health } from '../reactor/admin-http.js';
import type { ConfigOf, ReactorConfig } from '../reactor/config.js';
import { formatEndpoint, formatPeer, type Endpoint } from '../reactor/endpoint.js';
import { createLogger, type Logger } from '../reactor/log.js';
import { MetricsRegistry, type Counter } from '../reactor/metrics.js';
import type { ReconnectOptions } from '../reactor/tcp-client.js';
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
import { DEFAULT_BUSY_POLL_US, type UdpIo } from './fast-udp.js';
import { PortWorker } from './port-worker.js';
import { ReporterLink } from './reporter-link.js';
import { DROP_REASONS, type PortCounters, type PortWorkerConfig, type WorkerToMain } from './worker-protocol.js';

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
  /** UDP I/O (fast-udp.ts): auto (default), native or dgram. */
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
  /** For /healthz: ok while every port worker runs. */
  health(): Health;
  /** Every route the workers hold, with host states (for status pages and tests). */
  routes(): Promise<RouteView[]>;
  /** Sends the last statistics, closes ports and connections, ends the workers. */
  close(): Promise<void>;
}

/** Bases tried when udpBasePort is 0: below Linux's ephemeral range, so client sockets do not collide. */
const RANDOM_BASE_MIN = 10_000;
const RANDOM_BASE_SPAN = 20_000;
const LISTEN_ATTEMPTS = 20;
/**
 * Workers hold requests for new routes while dns may still answer. If no dns
 * connection exists this long after start, they are told dns is down (a
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
  const workerConfig = (index: number): PortWorkerConfig => ({
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
  workerConfig(0); // validates the parameters before any thread starts

  const agent = new AgentService({ options, log, metrics, caller, host, workerConfig });
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
  workerConfig(index: number): PortWorkerConfig;
}

class AgentService implements Agent {
  readonly host: string;
  readonly caller: string;
  ports: number[] = [];
  private readonly parts: ServiceParts;
  private readonly log: Logger;
  private readonly workers: PortWorker[] = [];
  private readonly dns: DnsLink;
  private readonly reporter: ReporterLink;
  private readonly routeCounts = [0, 0, 0];
  private readonly requests: Counter;
  private readonly answers: Counter;
  private readonly dropped: Counter;
  private readonly other: Counter;
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
      onRoute: (modid, cmdid, hosts) => this.workers[agentPortIndex(modid, cmdid)]?.post({ type: 'route', modid, cmdid, hosts }),
      onState: (up) => {
        for (const worker of this.workers) worker.post({ type: 'dns_state', up });
      },
    });
    this.reporter = new ReporterLink({
      addresses: options.reporter,
      caller: this.caller,
      maxQueue: options.reportQueue ?? DEFAULT_REPORT_QUEUE,
      reconnect: options.reconnect,
      logger: this.log.child('reporter'),
      metrics,
    });
    this.requests = metrics.counter('lars_agent_requests_total', 'UDP requests handled, by kind and port');
    this.answers = metrics.counter('lars_agent_gethost_answers_total', 'GetHost answers, by retcode');
    this.dropped = metrics.counter('lars_agent_datagrams_dropped_total', 'datagrams dropped, by reason');
    this.other = metrics.counter('lars_agent_events_total', 'other agent events, by kind');
    this.routesReported = metrics.counter('lars_agent_route_reports_total', 'ReportStatusRequest messages handed to the reporter link');
    metrics.gauge('lars_agent_routes', 'routes held by the port workers', () => this.routeCounts.reduce((a, b) => a + b, 0));
    metrics.gauge('lars_agent_reporter_queued', 'statistics messages waiting for a reporter', () => this.reporter.queued);
  }

  async start(basePort: number): Promise<void> {
    for (let index = 0; index < AGENT_PORT_COUNT; index++) this.workers.push(this.spawn(index));
    await Promise.all(this.workers.map((w) => w.ready()));
    this.ports = await this.bindPorts(basePort);
    this.dns.start();
    this.reporter.start();
    setTimeout(() => {
      if (!this.dns.connected && this.closing === undefined) for (const worker of this.workers) worker.post({ type: 'dns_state', up: false });
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
      ok: this.closing === undefined && this.workers.length === AGENT_PORT_COUNT,
      udp: this.ports,
      dns: this.dns.connected ? formatEndpoint(this.dns.address!) : null,
      reporter: this.reporter.connected,
      reporterQueued: this.reporter.queued,
      routes: this.routeCounts.reduce((a, b) => a + b, 0),
    };
  }

  async routes(): Promise<RouteView[]> {
    return (await Promise.all(this.workers.map((w) => w.snapshot()))).flat();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Workers first: their last statistics still go to the reporter.
    await Promise.all(this.workers.map((w) => w.stop()));
    await Promise.all([this.dns.close(), this.reporter.close()]);
    this.log.info('closed');
  }

  private spawn(index: number): PortWorker {
    return new PortWorker(this.parts.workerConfig(index), {
      onTraffic: (message) => this.onTraffic(index, message),
      onExit: (cause) => void this.respawn(index, cause),
    });
  }

  /** A crashed worker is replaced on the same port; its routes are pulled again on use. */
  private async respawn(index: number, cause: string): Promise<void> {
    if (this.closing !== undefined) return;
    this.log.error('port_worker_died', { port: this.ports[index], cause });
    const worker = this.spawn(index);
    this.workers[index] = worker;
    try {
      await worker.ready();
      const result = await worker.listen(this.ports[index]!);
      if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
      if (!this.dns.connected) worker.post({ type: 'dns_state', up: false });
      this.log.info('port_worker_restarted', { port: this.ports[index] });
    } catch (err) {
      this.log.error('port_worker_restart_failed', { port: this.ports[index], error: err });
    }
  }

  /** Binds base, base+1, base+2 (each in its worker); with base 0, retries random bases until three are free. */
  private async bindPorts(basePort: number): Promise<number[]> {
    const random = basePort === 0;
    for (let attempt = 1; ; attempt++) {
      const base = random ? RANDOM_BASE_MIN + Math.floor(Math.random() * RANDOM_BASE_SPAN) : basePort;
      const results = await Promise.all(this.workers.map((w, i) => w.listen(base + i)));
      if (results.every((r) => r.ok)) return results.map((r, i) => (r.ok ? r.port : base + i));
      await Promise.all(this.workers.filter((_, i) => results[i]!.ok).map((w) => w.unlisten()));
      const failed = results.findIndex((r) => !r.ok);
      const failure = results[failed]!;
      const message = failure.ok ? '' : `${failure.code} ${failure.message}`;
      if (!random || attempt >= LISTEN_ATTEMPTS) throw new Error(`agent: cannot bind UDP ${formatPeer(this.host, base + failed)}: ${message}`);
    }
  }

  private onTraffic(index: number, message: Exclude<WorkerToMain, { type: 'ready' | 'listening' | 'listen_failed' | 'unlistened' | 'stopped' | 'snapshot' }>): void {
    if (message.type === 'pull') {
      this.dns.pull(message.modid, message.cmdid);
      return;
    }
    this.routeCounts[index] = message.routeCount;
    this.count(this.ports[index] ?? index, message.counters);
    this.report(message.routes);
  }

  private report(routes: RouteStats[]): void {
    if (routes.length === 0) return;
    this.reporter.send(routes, Math.floor(Date.now() / 1000));
    this.routesReported.inc(routes.length);
  }

  private count(port: number, c: PortCounters): void {
    const add = (counter: Counter, amount: number, labels: Record<string, string | number>) => {
      if (amount > 0) counter.inc(amount, labels);
    };
    add(this.requests, c.getHost, { kind: 'gethost', port });
    add(this.requests, c.report, { kind: 'report', port });
    add(this.requests, c.getRoute, { kind: 'getroute', port });
    add(this.requests, c.routeStatus, { kind: 'route_status', port });
    add(this.answers, c.succ, { retcode: 'SUCC' });
    add(this.answers, c.overload, { retcode: 'OVERLOAD' });
    add(this.answers, c.noexist, { retcode: 'NOEXIST' });
    add(this.other, c.waited, { kind: 'waited_for_dns' });
    add(this.other, c.waitExpired, { kind: 'wait_expired' });
    add(this.other, c.unknownReports, { kind: 'unknown_report' });
    add(this.other, c.unknownRoutesEvicted, { kind: 'unknown_route_evicted' });
    add(this.other, c.sendErrors, { kind: 'socket_error' });
    for (const reason of DROP_REASONS) add(this.dropped, c.dropped[reason], { reason });
  }
}
