/**
 * lars up: every service on one machine, in this process, on the embedded
 * SQLite store in a data directory (or --store). Seeds a demo route into an
 * empty store and an admin user into a store without users, then prints what
 * runs where.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { AGENT_CONFIG_SECTIONS } from '../../agent/config.js';
import { agentOptionsFromConfig, startAgent } from '../../agent/service.js';
import { consoleSection } from '../../console/config.js';
import { startConsole } from '../../console/server.js';
import { dnsSection } from '../../dns/config.js';
import { startDns } from '../../dns/service.js';
import { tcpServerLimits } from '../../reactor/config.js';
import { formatEndpoint } from '../../reactor/endpoint.js';
import { createLogger } from '../../reactor/log.js';
import { MetricsRegistry } from '../../reactor/metrics.js';
import { reporterSection } from '../../reporter/config.js';
import { startReporter } from '../../reporter/service.js';
import { RouteAdmin, type Store } from '../../store/index.js';
import { ensureAdminUser } from '../../store/users.js';
import { CommandError, dataDir, parseIntArg } from '../args.js';
import { openServiceStore, runUntilSignal, serviceConfig, startAdmin, STORE_SERVICE_OPTIONS, parseServiceArgs } from '../service.js';

const USAGE = `usage: lars up [--data-dir DIR] [--store URL] [--host H] [--dns-port 7778] [--reporter-port 7779]
               [--udp-base-port 8888] [--console-port 8080] [--admin HOST:PORT|off] [--no-demo]
               [--config FILE] [--set SECTION.KEY=VALUE ...]
  --data-dir   where the embedded store lives, default ./lars-data (or $LARS_DATA_DIR)
  --host       address every service binds, default 127.0.0.1 (this machine only)
  --admin      combined /healthz and /metrics of all services, default 127.0.0.1:17777`;

const OPTIONS = {
  ...STORE_SERVICE_OPTIONS,
  'data-dir': { type: 'string' },
  host: { type: 'string' },
  'dns-port': { type: 'string' },
  'reporter-port': { type: 'string' },
  'udp-base-port': { type: 'string' },
  'console-port': { type: 'string' },
  'no-demo': { type: 'boolean' },
} as const;

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

function port(name: string, text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : parseIntArg(name, text, 0, 65535);
}

/** Starts a service, turning "address in use" into advice instead of a stack trace. */
async function starting<T>(what: string, flag: string, address: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' || /EADDRINUSE/.test((err as Error).message);
    throw new CommandError(
      inUse
        ? `${what}: ${address} is already in use (another lars up, or lars ${what}?); pick another port with ${flag}`
        : `${what}: ${(err as Error).message}`,
    );
  }
}

export async function run(argv: string[]): Promise<number> {
  const values = parseServiceArgs(argv, OPTIONS, USAGE);
  if (!values) return 0;
  const log = createLogger('up');
  const host = values.host ?? '127.0.0.1';
  const ports = {
    dns: port('--dns-port', values['dns-port'], 7778),
    reporter: port('--reporter-port', values['reporter-port'], 7779),
    udp: port('--udp-base-port', values['udp-base-port'], 8888),
    console: port('--console-port', values['console-port'], 8080),
  };
  // [agent] requires dns and reporter addresses; the agent here gets the real ones (maybe
  // picked by the OS when a port is 0) once dns and reporter listen, so these stand in.
  const wiring = [`agent.dns=${host}:${ports.dns || 7778}`, `agent.reporter=${host}:${ports.reporter || 7779}`];
  const config = serviceConfig([dnsSection, reporterSection, consoleSection, ...AGENT_CONFIG_SECTIONS], { ...values, set: [...wiring, ...(values.set ?? [])] }, log);

  const dir = resolve(dataDir(values['data-dir']));
  if (!values.store && !process.env.LARS_STORE) mkdirSync(dir, { recursive: true });
  const store = await openServiceStore({ ...values, store: values.store ?? process.env.LARS_STORE ?? `sqlite:${dir}/lars.db` });
  const stops: (() => Promise<void>)[] = [() => store.close()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => log.error('stop_failed', { error: err }));
  };

  try {
    const demoSeeded = values['no-demo'] ? false : await seedDemo(store);
    const adminUser = await ensureAdminUser(store);
    const metrics = new MetricsRegistry();
    const at = (p: number) => formatEndpoint({ host, port: p });

    const dns = await starting('dns', '--dns-port', at(ports.dns), () =>
      startDns({ store, host, port: ports.dns, dns: config.dns, reactor: config.reactor, logger: createLogger('dns'), metrics }),
    );
    stops.push(() => dns.close());
    const dnsAddress = { host, port: dns.address!.port };

    const reporter = await starting('reporter', '--reporter-port', at(ports.reporter), () =>
      startReporter({
        store,
        host,
        port: ports.reporter,
        config: config.reporter,
        tcp: tcpServerLimits(config.reactor),
        logger: createLogger('reporter'),
        metrics,
      }),
    );
    stops.push(() => reporter.close());

    const agent = await starting('agent', '--udp-base-port', at(ports.udp), () =>
      startAgent({
        ...agentOptionsFromConfig(config),
        dns: [dnsAddress],
        reporter: [{ host, port: reporter.address!.port }],
        udpHost: host,
        udpBasePort: ports.udp,
        logger: createLogger('agent'),
        metrics,
      }),
    );
    stops.push(() => agent.close());

    const consoleServer = await starting('console', '--console-port', at(ports.console), () =>
      startConsole({ store, host, port: ports.console, config: config.console, logger: createLogger('console'), metrics }),
    );
    stops.push(() => consoleServer.close());

    const health = () => {
      const parts = { dns: dns.health(), reporter: reporter.health(), agent: agent.health() };
      return { ok: Object.values(parts).every((p) => p.ok), ...parts };
    };
    const admin = await startAdmin(values.admin, '127.0.0.1:17777', metrics, health);
    if (admin) stops.push(() => admin.close());

    const lines = [
      'lars up: every service is running',
      `  data        ${store.describe()}`,
      `  dns         ${at(dns.address!.port)}`,
      `  reporter    ${at(reporter.address!.port)}`,
      `  agent       udp ${host}:${agent.ports.join(',')}`,
      `  console     ${consoleServer.url}`,
      `  admin       ${admin ? `http://${formatEndpoint({ host: admin.address.address, port: admin.address.port })}/metrics` : 'off'}`,
      `  demo route  modid ${DEMO_ROUTE.modid} cmdid ${DEMO_ROUTE.cmdid}${demoSeeded ? ' (created now)' : ''}: try  lars gethost ${DEMO_ROUTE.modid} ${DEMO_ROUTE.cmdid}${ports.udp === 8888 ? '' : ` --agent ${host}:${agent.ports[0]}`}`,
      adminUser.created
        ? `  console login  admin / ${adminUser.password}   (shown once; change it with lars user passwd admin)`
        : '  console login  an existing user (lars user add NAME --role admin to make one)',
      'Stop with Ctrl-C.',
    ];
    process.stdout.write(lines.join('\n') + '\n');
    log.info('ready', { dns: at(dns.address!.port), reporter: at(reporter.address!.port), agent: agent.ports.join(','), console: consoleServer.url });
  } catch (err) {
    await stopAll();
    throw err;
  }
  return runUntilSignal(log, stopAll);
}
