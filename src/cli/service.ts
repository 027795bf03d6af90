/**
 * What every long-running service command shares: config flags (--config,
 * --set), the admin HTTP port (--admin), store opening (--store,
 * --no-migrate), the "listening" line scripts parse, and a clean stop on
 * SIGINT/SIGTERM.
 */
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attachFromEnvironment,
  DISPATCH_SOCKET_ENV,
  larsCommand,
  Supervisor,
  watchSupervisor,
  type DispatcherAttachment,
} from '../dispatcher/index.js';
import { startAdminServer, type AdminServer, type Health } from '../reactor/admin-http.js';
import { ConfigError, loadConfig, parseSettings, type ConfigOf, type Section } from '../reactor/config.js';
import { formatEndpoint } from '../reactor/endpoint.js';
import { createLogger, type Logger } from '../reactor/log.js';
import { MetricsRegistry } from '../reactor/metrics.js';
import { NotifySettingError, openStore, StoreUrlError, type NotifyOptions, type Store } from '../store/index.js';
import { notifyOptions, notifySection } from '../store/config.js';
import { CommandError, parseCommand, parseEndpointArg, storeUrl, UsageError, type ParsedCommand } from './args.js';

/** parseArgs options every service command accepts. */
export const SERVICE_OPTIONS = {
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  admin: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** ...and the ones that use the store. */
export const STORE_SERVICE_OPTIONS = {
  ...SERVICE_OPTIONS,
  store: { type: 'string' },
  'no-migrate': { type: 'boolean' },
} as const;

/** The services that edit or serve routes: how edits are announced (docs/dns.md, "Notification"). */
export const NOTIFY_OPTION = { notify: { type: 'string' } } as const;

export interface ServiceFlags {
  config?: string;
  set?: string[];
  admin?: string;
}

/** Loads the sections from --config FILE, LARS_* and --set section.key=value. */
export function serviceConfig<const S extends readonly Section[]>(sections: S, flags: ServiceFlags, logger?: Logger): ConfigOf<S> {
  try {
    return loadConfig({ sections, file: flags.config, overrides: parseSettings(flags.set ?? []), logger });
  } catch (err) {
    // The command's form is fine; the configuration it found is not: exit 1, one line.
    if (err instanceof ConfigError) throw new CommandError(err.problems.join('; '));
    throw err;
  }
}

export async function openServiceStore(flags: { store?: string; 'no-migrate'?: boolean }, options: { poolSize?: number; notify?: NotifyOptions } = {}): Promise<Store> {
  const url = storeUrl(flags.store);
  try {
    return await openStore(url, { migrate: !flags['no-migrate'], ...options });
  } catch (err) {
    if (err instanceof StoreUrlError || err instanceof NotifySettingError) throw new UsageError(err.message);
    throw new CommandError((err as Error).message);
  }
}

/** Once the service runs: which transport tells it of route edits, and why (docs/dns.md, "Notification"). */
export function logNotify(logger: Logger, store: Store): void {
  logger.info('notify', { transport: store.changes.transport, reason: store.changes.reason });
}

/** --admin HOST:PORT, the default when absent, or "off". */
export async function startAdmin(
  flag: string | undefined,
  defaultAddress: string,
  metrics: MetricsRegistry,
  health: () => Health,
  json?: Record<string, () => unknown>,
): Promise<AdminServer | undefined> {
  const text = flag ?? defaultAddress;
  if (text === 'off') return undefined;
  const { host, port } = parseEndpointArg(text, '127.0.0.1');
  try {
    return await startAdminServer({ host, port, metrics, health, json });
  } catch (err) {
    throw new CommandError(`admin HTTP on ${text}: ${(err as Error).message} (use --admin HOST:PORT or --admin off)`);
  }
}

/**
 * The line tests and scripts wait for: "<service> ready addr=HOST:PORT ...".
 * A dispatcher worker says worker_ready instead: only its supervisor's line
 * means the service is reachable.
 */
export function announce(logger: Logger, fields: Record<string, unknown>, admin: AdminServer | undefined): void {
  logger.info(isDispatcherWorker() ? 'worker_ready' : 'ready', { ...fields, admin: admin ? formatEndpoint({ host: admin.address.address, port: admin.address.port }) : 'off' });
}

/**
 * A signal this soon after the first is the same request arriving twice: a
 * supervisor (systemd, timeout, a container runtime) or a terminal's Ctrl-C
 * signals the whole process group, and `npm start` forwards it again.
 */
const SIGNAL_ECHO_MS = 1000;

/** Tells each stop signal apart: the first, an echo of it (within SIGNAL_ECHO_MS), or a real second request. */
export function stopSignals(now: () => number = Date.now): () => 'first' | 'echo' | 'again' {
  let since: number | undefined;
  return () => {
    if (since === undefined) {
      since = now();
      return 'first';
    }
    return now() - since < SIGNAL_ECHO_MS ? 'echo' : 'again';
  };
}

/**
 * Resolves with exit code 0 after SIGINT or SIGTERM once `stop` finished; a
 * second signal while stopping, later than SIGNAL_ECHO_MS after the first,
 * exits at once with 1.
 */
export function runUntilSignal(logger: Logger, stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const classify = stopSignals();
    const onSignal = (signal: NodeJS.Signals) => {
      const kind = classify();
      if (kind === 'echo') return;
      if (kind === 'again') {
        logger.warn('forced_exit', { signal });
        process.exit(1);
      }
      logger.info('stopping', { signal });
      stop().then(
        () => {
          logger.info('stopped');
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(0);
        },
        (err) => {
          logger.error('stop_failed', { error: err });
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** parseArgs option of the services that can run as several processes behind the dispatcher. */
export const WORKERS_OPTION = { workers: { type: 'string' } } as const;

/** True in a worker started by superviseWorkers: connections come from the dispatcher, not a port. */
export function isDispatcherWorker(): boolean {
  return process.env[DISPATCH_SOCKET_ENV] !== undefined;
}

/**
 * In a dispatcher worker: hands each connection the dispatcher passes to
 * `adopt`, and stops this worker (as SIGTERM would) if its supervisor dies
 * without stopping it. Returns the attachment to close on stop.
 */
export function attachWorker(adopt: (socket: Socket) => void): DispatcherAttachment | undefined {
  watchSupervisor(() => process.kill(process.pid, 'SIGTERM'));
  return attachFromEnvironment((socket: Socket) => adopt(socket));
}

/**
 * `lars SERVICE --workers N ...`: this process becomes a supervisor that runs
 * a least-connections dispatcher on the service's address and N copies of
 * `lars SERVICE` (same flags) as its workers, restarting crashed ones,
 * reloading them one at a time on SIGHUP and draining them on SIGTERM.
 */
export async function superviseWorkers(
  service: string,
  argv: string[],
  listen: { host: string; port: number },
  workersText: string,
  adminFlag: string | undefined,
  log: Logger,
): Promise<number> {
  const workers = Number(workersText);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new UsageError(`--workers must be an integer from 1 to 64, got ${workersText}`);
  const workerArgv = argv.filter((arg, i) => !arg.startsWith('--workers') && argv[i - 1] !== '--workers');
  const supervisor = await Supervisor.start({
    listen: [listen],
    socketPath: join(tmpdir(), `lars-${service}-${process.pid}.sock`),
    workers,
    // Each worker would otherwise try to bind the same admin port; the dispatcher serves it instead.
    command: larsCommand(service, ...workerArgv, '--admin', 'off'),
    dispatcherArgs: adminFlag && adminFlag !== 'off' ? ['--admin', adminFlag] : [],
    log: log.child('supervisor'),
  }).catch((err) => {
    throw new CommandError(`starting ${workers} ${service} workers: ${(err as Error).message}`);
  });
  // With port 0 the dispatcher picked the port: announce what it actually listens on.
  const listening = (await supervisor.status())?.listening.join(',') || formatEndpoint(listen);
  log.info('ready', { addr: listening, workers, mode: 'dispatcher' });
  const onHangup = () => void supervisor.reload();
  process.on('SIGHUP', onHangup);
  return runUntilSignal(log, async () => {
    process.off('SIGHUP', onHangup);
    await supervisor.stop();
  });
}

/**
 * Parses a service command's flags; prints the usage and returns undefined
 * for --help. Services take no positional arguments.
 */
export function parseServiceArgs<O extends Parameters<typeof parseCommand>[1]>(
  argv: string[],
  options: O,
  usage: string,
): ParsedCommand<O>['values'] | undefined {
  const { values, positionals } = parseCommand(argv, options);
  if ((values as { help?: boolean }).help) {
    process.stdout.write(usage + '\n');
    return undefined;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}\n${usage}`);
  return values;
}

/** What a store-backed TCP service (dns, reporter) offers its command. */
export interface StoreTcpService {
  /** Undefined in a dispatcher worker, which takes no port. */
  readonly address: AddressInfo | undefined;
  adopt(socket: Socket): void;
  health(): Health;
  /** Stops taking work and finishes what it holds (the reporter flushes its queue). */
  close(): Promise<void>;
}

export interface StoreServiceCommand<S extends readonly Section[], T extends StoreTcpService> {
  name: string;
  usage: string;
  sections: S;
  defaultListen: string;
  defaultAdmin: string;
  poolSize?: (config: ConfigOf<S>) => number;
  /** The service hears of route edits: it takes --notify and [notify], and its store gets a change feed. */
  notifies?: boolean;
  /** Gets the loaded sections spread in, one option per section, as every service takes them. */
  start(
    context: {
      store: Store;
      host: string;
      port: number;
      /** False in a dispatcher worker: connections come through adopt(). */
      listen: boolean;
      logger: Logger;
      metrics: MetricsRegistry;
    } & ConfigOf<S>,
  ): Promise<T>;
  /** Extra JSON pages on the admin port. */
  adminPages?: (service: T) => Record<string, () => unknown>;
}

/**
 * `lars dns` and `lars reporter`: flags, config, --workers supervision, the
 * store, the service on its port (or on dispatcher hand-overs), the admin
 * port and the "ready" line; on SIGINT/SIGTERM the service, admin and store
 * are closed in that order, so health stays readable while it drains.
 */
export async function runStoreService<S extends readonly Section[], T extends StoreTcpService>(
  argv: string[],
  command: StoreServiceCommand<S, T>,
): Promise<number> {
  const values = parseServiceArgs(argv, { ...STORE_SERVICE_OPTIONS, ...WORKERS_OPTION, ...(command.notifies ? NOTIFY_OPTION : {}), listen: { type: 'string' } }, command.usage);
  if (!values) return 0;
  const log = createLogger(command.name);
  // One load of every section: a file or --set naming [notify] must not read as an unknown section.
  const config: ConfigOf<S> & Partial<ConfigOf<[typeof notifySection]>> = serviceConfig(command.notifies ? [...command.sections, notifySection] : command.sections, values, log);
  const notify = config.notify && notifyOptions((values as { notify?: string }).notify, config.notify, log);
  const listen = parseEndpointArg(values.listen ?? command.defaultListen, '0.0.0.0');
  if (values.workers !== undefined) return superviseWorkers(command.name, argv, listen, values.workers, values.admin, log);

  const store = await openServiceStore(values, { poolSize: command.poolSize?.(config), notify });
  const metrics = new MetricsRegistry();
  const worker = isDispatcherWorker();
  const service = await command.start({ ...config, store, ...listen, listen: !worker, logger: log, metrics }).catch(async (err: Error) => {
    await store.close();
    throw new CommandError(`cannot listen on ${formatEndpoint(listen)}: ${err.message}`);
  });
  const attachment = worker ? attachWorker((socket) => service.adopt(socket)) : undefined;
  const admin = await startAdmin(values.admin, command.defaultAdmin, metrics, () => service.health(), command.adminPages?.(service));
  const addr = service.address ? formatEndpoint({ host: service.address.address, port: service.address.port }) : 'dispatcher';
  if (notify) logNotify(log, store);
  announce(log, { addr, store: store.describe() }, admin);
  return runUntilSignal(log, async () => {
    await attachment?.close();
    await service.close();
    await admin?.close();
    await store.close();
  });
}
