/**
 * lars reporter [--store URL] [--listen HOST:PORT] [--admin HOST:PORT|off]
 *               [--config FILE] [--set section.key=value ...] [--no-migrate]
 * Runs the reporter service until SIGINT/SIGTERM, then flushes its queue and
 * exits 0. A second signal exits at once (1).
 */
import { startAdminServer, type AdminServer } from '../../reactor/admin-http.js';
import { ConfigError, loadConfig, parseSettings, reactorSection, tcpServerLimits } from '../../reactor/config.js';
import { formatPeer } from '../../reactor/endpoint.js';
import { createLogger, type Logger } from '../../reactor/log.js';
import { MetricsRegistry } from '../../reactor/metrics.js';
import { DEFAULT_REPORTER_ADMIN_PORT, DEFAULT_REPORTER_PORT, reporterSection } from '../../reporter/config.js';
import { startReporter, type Reporter } from '../../reporter/service.js';
import { StoreUrlError } from '../../store/errors.js';
import { openStore, type Store } from '../../store/store.js';
import { CommandError, UsageError, parseCommand, parseHostPort, storeUrl } from '../args.js';

const OPTIONS = {
  store: { type: 'string' },
  'data-dir': { type: 'string' },
  listen: { type: 'string' },
  admin: { type: 'string' },
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  'no-migrate': { type: 'boolean' },
} as const;

/** Network stores get a pool with room for every writer plus the odd read. */
const MIN_POOL_SIZE = 10;

function loadSettings(file: string | undefined, settings: string[]) {
  try {
    return loadConfig({ sections: [reporterSection, reactorSection], file, overrides: parseSettings(settings) });
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(err.problems.join('; '));
    throw err;
  }
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
function stopSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn('forced_stop', { signal });
        process.exit(1);
      }
      stopping = true;
      log.info('stopping', { signal });
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function openReporterStore(url: string, migrate: boolean, writers: number): Promise<Store> {
  try {
    return await openStore(url, { migrate, poolSize: Math.max(MIN_POOL_SIZE, writers + 2) });
  } catch (err) {
    if (err instanceof StoreUrlError) throw new UsageError(err.message);
    throw new CommandError((err as Error).message);
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const listen = parseHostPort(values.listen ?? `0.0.0.0:${DEFAULT_REPORTER_PORT}`, '0.0.0.0');
  const adminAddress = values.admin === 'off' ? undefined : parseHostPort(values.admin ?? `127.0.0.1:${DEFAULT_REPORTER_ADMIN_PORT}`, '127.0.0.1');
  const config = loadSettings(values.config, values.set ?? []);
  const log = createLogger('reporter');
  const stopped = stopSignal(log);

  const store = await openReporterStore(storeUrl(values.store, values['data-dir']), !values['no-migrate'], config.reporter.db_thread_cnt);
  let reporter: Reporter | undefined;
  let admin: AdminServer | undefined;
  try {
    const metrics = new MetricsRegistry();
    reporter = await startReporter({
      store,
      ...listen,
      config: config.reporter,
      tcp: tcpServerLimits(config.reactor),
      logger: log,
      metrics,
    }).catch((err: Error) => {
      throw new CommandError(`listen ${formatPeer(listen.host, listen.port)}: ${err.message}`);
    });
    if (adminAddress) {
      const service = reporter;
      admin = await startAdminServer({
        ...adminAddress,
        metrics,
        health: () => service.health(),
        json: { '/stats': () => service.stats() },
      }).catch((err: Error) => {
        throw new CommandError(`admin ${formatPeer(adminAddress.host, adminAddress.port)}: ${err.message}`);
      });
      log.info('admin_listening', { addr: formatPeer(admin.address.address, admin.address.port) });
    }
    await stopped;
  } finally {
    await reporter?.close();
    await admin?.close();
    await store.close();
  }
  return 0;
}
