/**
 * The load-balance agent (docs/agent.md): three UDP ports answering
 * Lars's GetHost / Report / API_GetRoute, each port served by its own worker
 * thread that owns the balancers of its routes; the main thread owns the dns
 * and reporter connections and relays between them and the workers.
 *
 *   worker --pull(modid, cmdid)--> main --GetRouteRequest--> dns
 *   dns --GetRouteResponse (answer or push)--> main --route--> worker of (modid + cmdid) % 3
 *   worker --stats every report_interval_s--> main --ReportStatusRequest per route--> reporter
 */
import type { RouteStats, RouteView } from '../balancer/route-table.js';
import { agentPortIndex, AGENT_PORT_COUNT } from '../client/ports.js';
import type { Health } from '../reactor/admin-http.js';
import { configFrom, tcpClientLimits, type ConfigOf } from '../reactor/config.js';
import { formatEndpoint, formatPeer } from '../reactor/endpoint.js';
import { createLogger, type Logger } from '../reactor/log.js';
import { MetricsRegistry, type Counter } from '../reactor/metrics.js';
import { resolveCaller } from './caller.js';
import { AGENT_CONFIG_SECTIONS, type AgentConfigInput } from './config.js';
import { DnsLink } from './dns-link.js';
import { PortWorker } from './port-worker.js';
import { ReporterLink } from './reporter-link.js';
import { DROP_REASONS, type PortCounters, type PortWorkerConfig, type WorkerToMain } from './worker-protocol.js';

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

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const config = configFrom(AGENT_CONFIG_SECTIONS, options);
  const log = options.logger ?? createLogger('agent');
  const metrics = options.metrics ?? new MetricsRegistry();
  const caller = resolveCaller(config.agent.caller);
  const workerConfig = (index: number): PortWorkerConfig => ({
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

  const agent = new AgentService({ config, log, metrics, caller, workerConfig });
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
    this.host = parts.config.agent.udp_host;
    this.caller = parts.caller;
    this.log = parts.log;
    const { config, metrics } = parts;
    const links = tcpClientLimits(config.reactor);
    this.dns = new DnsLink({
      addresses: config.agent.dns,
      ...links,
      logger: this.log.child('dns'),
      metrics,
      onRoute: (modid, cmdid, hosts) => this.workers[agentPortIndex(modid, cmdid)]?.post({ type: 'route', modid, cmdid, hosts }),
      onState: (up) => {
        for (const worker of this.workers) worker.post({ type: 'dns_state', up });
      },
    });
    this.reporter = new ReporterLink({
      addresses: config.agent.reporter,
      caller: this.caller,
      maxQueue: config.agent.report_queue,
      reconnect: links.reconnect,
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
      dns: this.parts.config.agent.dns.map(formatEndpoint).join(','),
      reporter: this.parts.config.agent.reporter.map(formatEndpoint).join(','),
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
