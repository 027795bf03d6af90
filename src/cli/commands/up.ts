/**
 * lars up: every service on one machine, in this process, on the embedded
 * SQLite store in a data directory (or --store). Seeds a demo route into an
 * empty store and an admin user into a store without users, then prints what
 * runs where.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { AGENT_CONFIG_SECTIONS } from '../../agent/config.js';
import { startAgent, type Agent } from '../../agent/service.js';
import { DEFAULT_AGENT_BASE_PORT } from '../../protocol/agent-ports.js';
import { CONSOLE_CONFIG_SECTIONS, DEFAULT_CONSOLE_PORT } from '../../console/config.js';
import { startConsole, type ConsoleServer } from '../../console/server.js';
import { DEFAULT_DNS_PORT, DNS_CONFIG_SECTIONS } from '../../dns/config.js';
import { startDns, type DnsService } from '../../dns/service.js';
import type { AdminServer } from '../../reactor/admin-http.js';
import type { ConfigOf } from '../../reactor/config.js';
import { formatEndpoint } from '../../reactor/endpoint.js';
import { createLogger, type Logger } from '../../reactor/log.js';
import { MetricsRegistry } from '../../reactor/metrics.js';
import { DEFAULT_REPORTER_PORT, REPORTER_CONFIG_SECTIONS } from '../../reporter/config.js';
import { startReporter, type Reporter } from '../../reporter/service.js';
import { RouteAdmin, type Store } from '../../store/index.js';
import { ensureAdminUser } from '../../store/users.js';
import { CommandError, dataDir, parseIntArg, type ParsedCommand } from '../args.js';
import { notifyOptions, notifySection } from '../../store/config.js';
import { runUntilSignal, serviceConfig, startAdmin, parseServiceArgs } from '../service.js';
import { logNotify, NOTIFY_OPTION, openServiceStore, STORE_SERVICE_OPTIONS } from '../store-service.js';

/** The combined /healthz and /metrics of every service. */
const DEFAULT_UP_ADMIN = '127.0.0.1:17777';

const USAGE = `usage: lars up [--data-dir DIR] [--store URL] [--host H] [--dns-port ${DEFAULT_DNS_PORT}] [--reporter-port ${DEFAULT_REPORTER_PORT}]
               [--udp-base-port ${DEFAULT_AGENT_BASE_PORT}] [--console-port ${DEFAULT_CONSOLE_PORT}] [--admin HOST:PORT|off] [--no-demo]
               [--notify auto|off|in-process|postgres|redis://HOST:PORT] [--config FILE] [--set SECTION.KEY=VALUE ...]
  --data-dir   where the embedded store lives, default ./lars-data (or $LARS_DATA_DIR)
  --host       address every service binds, default 127.0.0.1 (this machine only)
  --admin      combined /healthz and /metrics of all services, default ${DEFAULT_UP_ADMIN}
  --notify     how edits reach dns at once (default $LARS_NOTIFY, then [notify] url, then auto: in-process, or the
               store's LISTEN/NOTIFY when it is PostgreSQL, so edits by lars route on the same store arrive at once too)`;

const OPTIONS = {
  ...STORE_SERVICE_OPTIONS,
  ...NOTIFY_OPTION,
  'data-dir': { type: 'string' },
  host: { type: 'string' },
  'dns-port': { type: 'string' },
  'reporter-port': { type: 'string' },
  'udp-base-port': { type: 'string' },
  'console-port': { type: 'string' },
  'no-demo': { type: 'boolean' },
} as const;

type Values = ParsedCommand<typeof OPTIONS>['values'];

/** Every section of every service; [reactor] is shared by dns, reporter and the agent. */
const UP_CONFIG_SECTIONS = [...DNS_CONFIG_SECTIONS, ...REPORTER_CONFIG_SECTIONS, ...CONSOLE_CONFIG_SECTIONS, ...AGENT_CONFIG_SECTIONS, notifySection] as const;
type UpConfig = ConfigOf<typeof UP_CONFIG_SECTIONS>;

/** The demo service seeded into an empty store, so the tools have something to call. */
export const DEMO_ROUTE = { modid: 1, cmdid: 1, description: 'demo: three local hosts (lars up)' };
const DEMO_HOSTS = [9001, 9002, 9003].map((port) => ({ ip: '127.0.0.1', port }));

async function seedDemo(store: Store): Promise<boolean> {
  const admin = new RouteAdmin(store);
  if ((await admin.listModules()).modules.length > 0) return false;
  await admin.addModule(DEMO_ROUTE, 'lars up');
  for (const host of DEMO_HOSTS) await admin.addHost({ ...DEMO_ROUTE, ...host }, 'lars up');
  return true;
}

interface Ports {
  dns: number;
  reporter: number;
  udp: number;
  console: number;
}

function port(name: string, text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : parseIntArg(name, text, 0, 65535);
}

function parsePorts(values: Values): Ports {
  return {
    dns: port('--dns-port', values['dns-port'], DEFAULT_DNS_PORT),
    reporter: port('--reporter-port', values['reporter-port'], DEFAULT_REPORTER_PORT),
    udp: port('--udp-base-port', values['udp-base-port'], DEFAULT_AGENT_BASE_PORT),
    console: port('--console-port', values['console-port'], DEFAULT_CONSOLE_PORT),
  };
}

/**
 * Every section from --config, LARS_* and --set. [agent] requires dns and
 * reporter addresses; the agent here gets the real ones (maybe picked by the
 * OS when a port is 0) once dns and reporter listen, so these stand in.
 */
function loadUpConfig(values: Values, host: string, ports: Ports, log: Logger): UpConfig {
  const wiring = [`agent.dns=${host}:${ports.dns || DEFAULT_DNS_PORT}`, `agent.reporter=${host}:${ports.reporter || DEFAULT_REPORTER_PORT}`];
  return serviceConfig(UP_CONFIG_SECTIONS, { ...values, set: [...wiring, ...(values.set ?? [])] }, log);
}

/**
 * --store, $LARS_STORE, or the SQLite file in the data directory (made if
 * missing); its change feed reaches every service here (oneProcess).
 */
function openUpStore(values: Values, config: UpConfig, log: Logger): Promise<Store> {
  const dir = resolve(dataDir(values['data-dir']));
  if (!values.store && !process.env.LARS_STORE) mkdirSync(dir, { recursive: true });
  return openServiceStore(
    { ...values, store: values.store ?? process.env.LARS_STORE ?? `sqlite:${dir}/lars.db` },
    { notify: notifyOptions(values.notify, config.notify, log, { oneProcess: true }) },
  );
}

/** Starts a service, turning "address in use" into advice instead of a stack trace. */
async function starting<T>(what: string, flag: string, address: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw new CommandError(
      (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? `${what}: ${address} is already in use (another lars up, or lars ${what}?); pick another port with ${flag}`
        : `${what}: ${(err as Error).message}`,
    );
  }
}

interface Services {
  dns: DnsService;
  reporter: Reporter;
  agent: Agent;
  console: ConsoleServer;
}

/** dns, reporter, the agent wired to both, the console; each one's close is pushed to `stops` once it runs. */
async function startServices(store: Store, config: UpConfig, host: string, ports: Ports, metrics: MetricsRegistry, stops: (() => Promise<void>)[]): Promise<Services> {
  const at = (p: number) => formatEndpoint({ host, port: p });
  const started = <T extends { close(): Promise<void> }>(service: T): T => {
    stops.push(() => service.close());
    return service;
  };
  const dns = started(
    await starting('dns', '--dns-port', at(ports.dns), () => startDns({ ...config, store, host, port: ports.dns, logger: createLogger('dns'), metrics })),
  );
  const reporter = started(
    await starting('reporter', '--reporter-port', at(ports.reporter), () =>
      startReporter({ ...config, store, host, port: ports.reporter, logger: createLogger('reporter'), metrics }),
    ),
  );
  const agent = started(
    await starting('agent', '--udp-base-port', at(ports.udp), () =>
      startAgent({
        ...config,
        agent: { ...config.agent, dns: [{ host, port: dns.address!.port }], reporter: [{ host, port: reporter.address!.port }], udp_host: host, udp_base_port: ports.udp },
        logger: createLogger('agent'),
        metrics,
      }),
    ),
  );
  const consoleServer = started(
    await starting('console', '--console-port', at(ports.console), () =>
      startConsole({ ...config, store, host, port: ports.console, logger: createLogger('console'), metrics }),
    ),
  );
  return { dns, reporter, agent, console: consoleServer };
}

function combinedHealth(services: Services) {
  const parts = { dns: services.dns.health(), reporter: services.reporter.health(), agent: services.agent.health() };
  return { ok: Object.values(parts).every((p) => p.ok), ...parts };
}

interface Summary {
  store: Store;
  host: string;
  services: Services;
  admin: AdminServer | undefined;
  demoSeeded: boolean;
  adminUser: { created: boolean; password?: string };
}

/** What runs where, the demo route and how to log in: the lines `lars up` prints. */
function summaryLines({ store, host, services, admin, demoSeeded, adminUser }: Summary): string[] {
  const at = (p: number) => formatEndpoint({ host, port: p });
  const { agent } = services;
  const agentFlag = agent.ports[0] === DEFAULT_AGENT_BASE_PORT ? '' : ` --agent ${host}:${agent.ports[0]}`;
  return [
    'lars up: every service is running',
    `  data        ${store.describe()}`,
    `  dns         ${at(services.dns.address!.port)}`,
    `  reporter    ${at(services.reporter.address!.port)}`,
    `  agent       udp ${host}:${agent.ports.join(',')}`,
    `  console     ${services.console.url}`,
    `  admin       ${admin ? `http://${formatEndpoint({ host: admin.address.address, port: admin.address.port })}/metrics` : 'off'}`,
    `  demo route  modid ${DEMO_ROUTE.modid} cmdid ${DEMO_ROUTE.cmdid}${demoSeeded ? ' (created now)' : ''}: try  lars gethost ${DEMO_ROUTE.modid} ${DEMO_ROUTE.cmdid}${agentFlag}`,
    adminUser.created
      ? `  console login  admin / ${adminUser.password}   (shown once; change it with lars user passwd admin)`
      : '  console login  an existing user (forgot the password? lars user passwd admin; a new admin: lars user add NAME --role admin)',
    'Stop with Ctrl-C.',
  ];
}

export async function run(argv: string[]): Promise<number> {
  const values = parseServiceArgs(argv, OPTIONS, USAGE);
  if (!values) return 0;
  const log = createLogger('up');
  const host = values.host ?? '127.0.0.1';
  const ports = parsePorts(values);
  const config = loadUpConfig(values, host, ports, log);
  const store = await openUpStore(values, config, log);
  const stops: (() => Promise<void>)[] = [() => store.close()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => log.error('stop_failed', { error: err }));
  };

  try {
    const demoSeeded = values['no-demo'] ? false : await seedDemo(store);
    const metrics = new MetricsRegistry();
    const services = await startServices(store, config, host, ports, metrics, stops);
    const admin = await startAdmin(values.admin, DEFAULT_UP_ADMIN, metrics, () => combinedHealth(services));
    if (admin) stops.push(() => admin.close());
    // Only once everything listens: a start that fails must not make an admin whose password nobody saw.
    const adminUser = await ensureAdminUser(store);
    process.stdout.write(summaryLines({ store, host, services, admin, demoSeeded, adminUser }).join('\n') + '\n');
    logNotify(log, store);
    log.info('ready', {
      dns: formatEndpoint({ host, port: services.dns.address!.port }),
      reporter: formatEndpoint({ host, port: services.reporter.address!.port }),
      agent: services.agent.ports.join(','),
      console: services.console.url,
    });
  } catch (err) {
    await stopAll();
    throw err;
  }
  return runUntilSignal(log, stopAll);
}
