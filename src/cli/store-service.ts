/**
 * What the store-backed services share (dns, reporter, console, up): opening
 * the store (--store, --no-migrate), how route edits are announced
 * (--notify), and running as several processes behind the dispatcher
 * (--workers).
 */
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachFromEnvironment, larsCommand, Supervisor, watchSupervisor, type DispatcherAttachment } from '../dispatcher/index.js';
import type { Health } from '../reactor/admin-http.js';
import type { ConfigOf, Section } from '../reactor/config.js';
import { formatEndpoint } from '../reactor/endpoint.js';
import { createLogger, type Logger } from '../reactor/log.js';
import { MetricsRegistry } from '../reactor/metrics.js';
import { NotifySettingError, openStore, StoreUrlError, type NotifyOptions, type Store } from '../store/index.js';
import { notifyOptions, notifySection } from '../store/config.js';
import { CommandError, parseEndpointArg, storeUrl, UsageError } from './args.js';
import { announce, isDispatcherWorker, parseServiceArgs, runUntilSignal, SERVICE_OPTIONS, serviceConfig, startAdmin } from './service.js';

/** ...and the ones that use the store. */
export const STORE_SERVICE_OPTIONS = {
  ...SERVICE_OPTIONS,
  store: { type: 'string' },
  'no-migrate': { type: 'boolean' },
} as const;

/** The services that edit or serve routes: how edits are announced (docs/dns.md, "Notification"). */
export const NOTIFY_OPTION = { notify: { type: 'string' } } as const;

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

/** parseArgs option of the services that can run as several processes behind the dispatcher. */
export const WORKERS_OPTION = { workers: { type: 'string' } } as const;

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
