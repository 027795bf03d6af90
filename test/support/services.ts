/**
 * The services started in the test's own process, from the same functions
 * the `lars` commands call (startDns, startReporter, startAgent,
 * startConsole), configured by the same `section.key=value` settings as
 * `lars SERVICE --set`, and with the conveniences of test/support/cli.ts:
 * the log lines, waitForLine, the address of the "ready" line, stop().
 *
 * For tests whose subject is what a service does. A `lars` process costs
 * about a second of CPU to start under tsx on the 2-core test machine
 * (scripts/run-tests.mjs runs the sources), several times that when the
 * machine is busy; a service started here costs milliseconds. Tests of the
 * command itself (flags, exit codes, output, signals, a crash) keep
 * startLars and lars().
 *
 *   const dns = await startDnsHere({ store: url, set: ['dns.poll_interval_ms=100'] });
 *   const client = await RawTcpClient.connect(dns.port);
 *   await dns.waitForLine(/ dns pushed /);
 *   await dns.stop();
 */
import { AGENT_CONFIG_SECTIONS } from '../../src/agent/config.js';
import { startAgent, type Agent } from '../../src/agent/service.js';
import { CONSOLE_CONFIG_SECTIONS } from '../../src/console/config.js';
import { startConsole, type ConsoleServer } from '../../src/console/server.js';
import { DNS_CONFIG_SECTIONS } from '../../src/dns/config.js';
import { startDns, type DnsService } from '../../src/dns/service.js';
import { loadConfig, parseSettings, type ConfigOf, type Section } from '../../src/reactor/config.js';
import { formatLine, type LogFields, type Logger, type LogLevel } from '../../src/reactor/log.js';
import { MetricsRegistry } from '../../src/reactor/metrics.js';
import { REPORTER_CONFIG_SECTIONS } from '../../src/reporter/config.js';
import { startReporter, type Reporter } from '../../src/reporter/service.js';
import { openStore, type Store } from '../../src/store/store.js';
import { waitFor, type WaitOptions } from './net.js';

export interface LocalService<T> {
  /** The running service, for what only the process's admin port would show (health, stats, routes). */
  readonly service: T;
  readonly metrics: MetricsRegistry;
  /**
   * Every line the service logged so far, at every level, formatted as a
   * process writes them. The agent's port workers are threads with their
   * own log sink: their lines go to stderr, not here.
   */
  readonly lines: string[];
  /** "HOST:PORT" as the ready line's addr (the agent: its base UDP port). */
  readonly addr: string;
  readonly port: number;
  /** Waits for a logged line matching the pattern. */
  waitForLine(pattern: RegExp, options?: WaitOptions): Promise<string>;
  /** Closes the service, then the store if this helper opened it. */
  stop(): Promise<void>;
}

export interface LocalOptions {
  /** `section.key=value`, as `lars SERVICE --set` takes them. */
  set?: string[];
}

export interface LocalStoreOptions extends LocalOptions {
  /** A store URL (opened and migrated here, closed by stop()) or an open store (left open). */
  store: string | Store;
}

/** A Logger that keeps its lines, like a child process's stderr, instead of writing them. */
function recordingLogger(component: string, lines: string[]): Logger {
  const emit = (level: LogLevel) => (event: string, fields?: LogFields) => {
    lines.push(formatLine(level, component, event, fields));
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (name) => recordingLogger(`${component}.${name}`, lines),
  };
}

interface Started<T> {
  service: T;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Loads the sections from the settings (and LARS_* as a process would), starts, and wraps. */
async function startLocal<const S extends readonly Section[], T>(
  name: string,
  sections: S,
  options: LocalOptions & { store?: string | Store },
  start: (context: { config: ConfigOf<S>; store: Store | undefined; logger: Logger; metrics: MetricsRegistry }) => Promise<Started<T>>,
): Promise<LocalService<T>> {
  const lines: string[] = [];
  const logger = recordingLogger(name, lines);
  const metrics = new MetricsRegistry();
  const config = loadConfig({ sections, overrides: parseSettings(options.set ?? []), logger: logger.child('config') });
  const owned = typeof options.store === 'string' ? await openStore(options.store) : undefined;
  const store = owned ?? (options.store as Store | undefined);
  const started = await start({ config, store, logger, metrics }).catch(async (err: unknown) => {
    await owned?.close();
    throw err;
  });
  return {
    service: started.service,
    metrics,
    lines,
    addr: `${started.host}:${started.port}`,
    port: started.port,
    waitForLine: (pattern, waitOptions) =>
      waitFor(() => lines.find((line) => pattern.test(line)), { message: `${name} to log ${pattern}`, ...waitOptions }),
    stop: async () => {
      await started.close();
      await owned?.close();
    },
  };
}

/** `lars dns --store URL --listen 127.0.0.1:0`, here. */
export function startDnsHere(options: LocalStoreOptions): Promise<LocalService<DnsService>> {
  return startLocal('dns', DNS_CONFIG_SECTIONS, options, async ({ config, store, logger, metrics }) => {
    const dns = await startDns({ ...config, store: store!, host: '127.0.0.1', port: 0, logger, metrics });
    return { service: dns, host: dns.address!.address, port: dns.address!.port, close: () => dns.close() };
  });
}

/** `lars reporter --store URL --listen 127.0.0.1:0`, here. */
export function startReporterHere(options: LocalStoreOptions): Promise<LocalService<Reporter>> {
  return startLocal('reporter', REPORTER_CONFIG_SECTIONS, options, async ({ config, store, logger, metrics }) => {
    const reporter = await startReporter({ ...config, store: store!, host: '127.0.0.1', port: 0, logger, metrics });
    return { service: reporter, host: reporter.address!.address, port: reporter.address!.port, close: () => reporter.close() };
  });
}

/** `lars console --store URL --listen 127.0.0.1:0`, here; addr is the HTTP address. */
export function startConsoleHere(options: LocalStoreOptions): Promise<LocalService<ConsoleServer>> {
  return startLocal('console', CONSOLE_CONFIG_SECTIONS, options, async ({ config, store, logger, metrics }) => {
    const server = await startConsole({ ...config, store: store!, host: '127.0.0.1', port: 0, logger, metrics });
    return { service: server, host: server.address.address, port: server.address.port, close: () => server.close() };
  });
}

export interface LocalAgentOptions extends LocalOptions {
  /** "HOST:PORT" of dns and of the reporter, as `lars agent --dns --reporter` take them. */
  dns: string;
  reporter: string;
}

/** `lars agent --dns D --reporter R --udp-base-port 0`, here; port is the base UDP port. */
export function startAgentHere(options: LocalAgentOptions): Promise<LocalService<Agent>> {
  const set = [`agent.dns=${options.dns}`, `agent.reporter=${options.reporter}`, 'agent.udp_base_port=0', ...(options.set ?? [])];
  return startLocal('agent', AGENT_CONFIG_SECTIONS, { set }, async ({ config, logger, metrics }) => {
    const agent = await startAgent({ ...config, logger, metrics });
    return { service: agent, host: agent.host, port: agent.ports[0]!, close: () => agent.close() };
  });
}
