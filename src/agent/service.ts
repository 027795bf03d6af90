/**
 * The load-balance agent (docs/agent.md): three UDP ports answering
 * Lars's GetHost / Report / API_GetRoute, each port served by its own worker
 * thread that owns the balancers of its routes; the main thread owns the dns
 * and reporter connections and relays between them and the port threads.
 *
 *   port thread --pull(modid, cmdid)--> main --GetRouteRequest--> dns
 *   dns --GetRouteResponse (answer or push)--> main --route--> port thread of (modid + cmdid) % 3
 *   port thread --stats every report_interval_s--> main --ReportStatusRequest per route--> reporter
 */
import { availableParallelism } from 'node:os';
import type { RouteStats, RouteView } from '../balancer/route-table.js';
import { agentPortIndex, AGENT_PORT_COUNT } from '../protocol/agent-ports.js';
import type { Health } from '../reactor/admin-http.js';
import { configFrom, tcpClientLimits, type ConfigOf } from '../reactor/config.js';
import { formatEndpoint, formatPeer } from '../reactor/endpoint.js';
import { createLogger, rateLimited, type Logger } from '../reactor/log.js';
import { MetricsRegistry, type Counter, type Gauge } from '../reactor/metrics.js';
import { UdpBindError } from '../reactor/udp-port.js';
import { resolveCaller } from './caller.js';
import { AGENT_CONFIG_SECTIONS, portThreads, type AgentConfigInput } from './config.js';
import { DnsLink } from './dns-link.js';
import { readUdpDrops } from './kernel-drops.js';
import { PortMetrics } from './port-counters.js';
import type { ListenResult, PortHost, PortHostEvents, PortTraffic } from './port-host.js';
import { InlinePort } from './port-inline.js';
import type { PortThreadConfig } from './port-thread-protocol.js';
import { ReporterLink } from './reporter-link.js';

/**
 * [agent], [loadbalance] and [reactor] as loadConfig gives them, or some of
 * their values (the rest take the sections' defaults); [agent] dns and
 * reporter are required. Checked like a config file: bad values throw ConfigError.
 */
export interface AgentOptions extends AgentConfigInput {
  logger?: Logger;
  metrics?: MetricsRegistry;
}

export interface Agent {
  readonly host: string;
  /** The three UDP ports, base first. */
  readonly ports: readonly number[];
  readonly caller: string;
  /** Threads serving the ports ([agent] threads): 1, the main thread, or 3, one each. */
  readonly threads: 1 | 3;
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
/** How often the kernel's drop counts of the UDP ports are read (docs/agent.md). */
const KERNEL_DROPS_SAMPLE_MS = 5000;

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const config = configFrom(AGENT_CONFIG_SECTIONS, options);
  const log = options.logger ?? createLogger('agent');
  const metrics = options.metrics ?? new MetricsRegistry();
  const caller = resolveCaller(config.agent.caller);
  const threadConfig = (index: number): PortThreadConfig => ({
    index,
    host: config.agent.udp_host,
    params: config.loadbalance,
    routeWaitMs: config.agent.route_wait_ms,
    maxUnknownRoutes: config.agent.max_unknown_routes,
    reportIntervalMs: Math.round(config.agent.report_interval_s * 1000),
    recvBufferSize: config.agent.udp_recv_buffer_bytes,
    udpIo: config.agent.udp_io,
    busyPollUs: config.agent.udp_busy_poll_us,
  });

  const threads = portThreads(config.agent.threads, availableParallelism());
  const agent = new AgentService({ config, log, metrics, caller, threads, makePort: await portFactory(threads), threadConfig });
  try {
    await agent.start(config.agent.udp_base_port);
  } catch (err) {
    await agent.close();
    throw err;
  }
  return agent;
}

interface ServiceParts {
  config: ConfigOf<typeof AGENT_CONFIG_SECTIONS>;
  log: Logger;
  metrics: MetricsRegistry;
  caller: string;
  threads: 1 | 3;
  makePort: PortFactory;
  threadConfig(index: number): PortThreadConfig;
}

/** Why a port could not be listened on: a UdpBindError (with the errno name) when the bind failed. */
function listenError(address: string, failure: Extract<ListenResult, { ok: false }>): Error {
  if (failure.code === undefined) return new Error(`agent: cannot open UDP ${address}: ${failure.reason}`);
  return new UdpBindError(address, failure.code, failure.reason);
}

type PortFactory = (config: PortThreadConfig, events: PortHostEvents, log: Logger) => PortHost;

/** How ports are made: on the main thread, or each in a worker (node:worker_threads is loaded only then). */
async function portFactory(threads: 1 | 3): Promise<PortFactory> {
  if (threads === 1) return (config, events, log) => new InlinePort(config, events, log);
  const { PortThreadHandle } = await import('./port-thread-handle.js');
  return (config, events) => new PortThreadHandle(config, events);
}

class AgentService implements Agent {
  readonly host: string;
  readonly caller: string;
  readonly threads: 1 | 3;
  ports: number[] = [];
  private readonly parts: ServiceParts;
  private readonly log: Logger;
  /** The three ports, whichever thread serves them. */
  private readonly portHosts: PortHost[] = [];
  private readonly dns: DnsLink;
  private readonly reporter: ReporterLink;
  private readonly routeCounts = [0, 0, 0];
  private readonly portMetrics: PortMetrics;
  private readonly kernelDrops: Gauge;
  private readonly logDrops: ReturnType<typeof rateLimited>;
  private dropsTimer: NodeJS.Timeout | undefined;
  /** The drops seen at the last sample, per port; undefined before the first. */
  private lastDrops: Map<number, number> | undefined;
  private readonly routesReported: Counter;
  private closing: Promise<void> | undefined;

  constructor(parts: ServiceParts) {
    this.parts = parts;
    this.host = parts.config.agent.udp_host;
    this.caller = parts.caller;
    this.threads = parts.threads;
    this.log = parts.log;
    const { config, metrics } = parts;
    const links = tcpClientLimits(config.reactor);
    this.dns = new DnsLink({
      addresses: config.agent.dns,
      ...links,
      logger: this.log.child('dns'),
      metrics,
      onRoute: (modid, cmdid, hosts, strategy) => this.portHosts[agentPortIndex(modid, cmdid)]?.post({ type: 'route', modid, cmdid, hosts, strategy }),
      onState: (up) => this.postAll({ type: 'dns_state', up }),
    });
    this.reporter = new ReporterLink({
      addresses: config.agent.reporter,
      caller: this.caller,
      maxQueue: config.agent.report_queue,
      reconnect: links.reconnect,
      authToken: links.authToken,
      keepaliveMs: links.keepaliveMs,
      logger: this.log.child('reporter'),
      metrics,
    });
    this.portMetrics = new PortMetrics(metrics);
    this.routesReported = metrics.counter('lars_agent_route_reports_total', 'ReportStatusRequest messages handed to the reporter link');
    metrics.gauge('lars_agent_routes', 'routes held by the port threads', () => this.routeCounts.reduce((a, b) => a + b, 0));
    this.logDrops = rateLimited(this.log, 60_000);
    this.kernelDrops = metrics.gauge('lars_agent_udp_kernel_drops', 'datagrams the kernel dropped on a port for a full receive buffer (from /proc/net/udp), per port');
    metrics.gauge('lars_agent_reporter_queued', 'reports kept until a reporter acknowledges them: waiting for a reporter or for its acknowledgement', () => this.reporter.queued);
  }

  async start(basePort: number): Promise<void> {
    for (let index = 0; index < AGENT_PORT_COUNT; index++) this.portHosts.push(this.spawn(index));
    await Promise.all(this.portHosts.map((t) => t.ready()));
    this.ports = await this.bindPorts(basePort);
    this.dns.start();
    this.reporter.start();
    this.dropsTimer = setInterval(() => void this.sampleKernelDrops(), KERNEL_DROPS_SAMPLE_MS);
    this.dropsTimer.unref();
    await this.sampleKernelDrops();
    setTimeout(() => {
      if (!this.dns.connected && this.closing === undefined) this.postAll({ type: 'dns_state', up: false });
    }, DNS_STARTUP_GRACE_MS).unref();
    this.log.info('listening', {
      udp: `${formatPeer(this.host, this.ports[0])},${this.ports.slice(1).join(',')}`,
      dns: this.parts.config.agent.dns.map(formatEndpoint).join(','),
      reporter: this.parts.config.agent.reporter.map(formatEndpoint).join(','),
      caller: this.caller,
      threads: this.threads,
    });
  }

  health(): Health {
    return {
      ok: this.closing === undefined && this.portHosts.length === AGENT_PORT_COUNT,
      udp: this.ports,
      threads: this.threads,
      dns: this.dns.connected ? formatEndpoint(this.dns.address!) : null,
      reporter: this.reporter.connected,
      reporterQueued: this.reporter.queued,
      routes: this.routeCounts.reduce((a, b) => a + b, 0),
    };
  }

  async routes(): Promise<RouteView[]> {
    return (await Promise.all(this.portHosts.map((t) => t.snapshot()))).flat();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Sets the per-port gauge; a warning when a port's drops grew (at most one a minute). */
  private async sampleKernelDrops(): Promise<void> {
    const drops = await readUdpDrops(this.ports);
    if (!drops) {
      if (this.lastDrops === undefined) this.log.debug('kernel_drops_unavailable', { reason: '/proc/net/udp cannot be read (not Linux?)' });
      this.lastDrops = new Map();
      return;
    }
    for (const [port, dropped] of drops) {
      this.kernelDrops.set(dropped, { port: String(port) });
      const before = this.lastDrops?.get(port);
      if (before !== undefined && dropped > before) this.logDrops('warn', 'udp_kernel_drops', { port, dropped: dropped - before, total: dropped, hint: 'raise [agent] udp_recv_buffer_bytes (and net.core.rmem_max)' });
    }
    this.lastDrops = drops;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.dropsTimer);
    // Port threads first: their last statistics still go to the reporter.
    await Promise.all(this.portHosts.map((t) => t.stop()));
    await Promise.all([this.dns.close(), this.reporter.close()]);
    this.log.info('closed');
  }

  private postAll(message: Parameters<PortHost['post']>[0]): void {
    for (const port of this.portHosts) port.post(message);
  }

  /** Port `index`, on the main thread (threads = 1) or in a thread of its own. */
  private spawn(index: number): PortHost {
    const config = this.parts.threadConfig(index);
    const events: PortHostEvents = {
      onTraffic: (message) => this.onTraffic(index, message),
      onExit: (cause) => void this.respawn(index, cause),
    };
    return this.parts.makePort(config, events, this.log.child(`port${index}`));
  }

  /** A crashed port thread is replaced on the same port; its routes are pulled again on use. */
  private async respawn(index: number, cause: string): Promise<void> {
    if (this.closing !== undefined) return;
    const port = this.ports[index]!;
    this.log.error('port_thread_died', { port, cause });
    const thread = this.spawn(index);
    this.portHosts[index] = thread;
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
      const results = await Promise.all(this.portHosts.map((t, i) => t.listen(base + i)));
      const failed = results.findIndex((r) => !r.ok);
      if (failed < 0) return results.map((r, i) => (r.ok ? r.port : base + i));
      await Promise.all(this.portHosts.filter((_, i) => results[i]!.ok).map((t) => t.unlisten()));
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
