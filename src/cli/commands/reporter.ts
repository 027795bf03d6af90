/**
 * lars reporter [--store URL] [--listen HOST:PORT] [--workers N] [--admin HOST:PORT|off]
 *               [--config FILE] [--set section.key=value ...] [--no-migrate]
 * Runs the reporter service until SIGINT/SIGTERM, then flushes its queue and
 * exits 0. A second signal exits at once (1).
 */
import { reactorSection, tcpServerLimits } from '../../reactor/config.js';
import { formatEndpoint } from '../../reactor/endpoint.js';
import { createLogger } from '../../reactor/log.js';
import { MetricsRegistry } from '../../reactor/metrics.js';
import { DEFAULT_REPORTER_ADMIN_PORT, DEFAULT_REPORTER_PORT, reporterSection } from '../../reporter/config.js';
import { startReporter } from '../../reporter/service.js';
import { CommandError, parseHostPort } from '../args.js';
import {
  announce,
  attachWorker,
  isDispatcherWorker,
  openServiceStore,
  runUntilSignal,
  serviceConfig,
  startAdmin,
  STORE_SERVICE_OPTIONS,
  superviseWorkers,
  WORKERS_OPTION,
  parseServiceArgs,
} from '../service.js';

const USAGE = `usage: lars reporter --store URL [--listen HOST:PORT] [--workers N] [--admin HOST:PORT|off] [--config FILE] [--set reporter.KEY=VALUE ...] [--no-migrate]
  --listen   default 0.0.0.0:${DEFAULT_REPORTER_PORT}
  --workers  N processes behind a least-connections dispatcher
  --admin    /healthz, /metrics and /stats, default 127.0.0.1:${DEFAULT_REPORTER_ADMIN_PORT}`;

/** Network stores get a pool with room for every writer plus the odd read. */
const MIN_POOL_SIZE = 10;

export async function run(argv: string[]): Promise<number> {
  const values = parseServiceArgs(argv, { ...STORE_SERVICE_OPTIONS, ...WORKERS_OPTION, listen: { type: 'string' } }, USAGE);
  if (!values) return 0;
  const log = createLogger('reporter');
  const config = serviceConfig([reporterSection, reactorSection], values, log);
  const listen = parseHostPort(values.listen ?? `0.0.0.0:${DEFAULT_REPORTER_PORT}`, '0.0.0.0');
  if (values.workers !== undefined) return superviseWorkers('reporter', argv, listen, values.workers, values.admin, log);

  const store = await openServiceStore(values, { poolSize: Math.max(MIN_POOL_SIZE, config.reporter.db_thread_cnt + 2) });
  const metrics = new MetricsRegistry();
  const worker = isDispatcherWorker();
  const reporter = await startReporter({
    store,
    ...listen,
    listen: !worker,
    config: config.reporter,
    tcp: tcpServerLimits(config.reactor),
    logger: log,
    metrics,
  }).catch(async (err: Error) => {
    await store.close();
    throw new CommandError(`listen ${formatEndpoint(listen)}: ${err.message}`);
  });
  const attachment = worker ? attachWorker((socket) => reporter.adopt(socket)) : undefined;
  const admin = await startAdmin(values.admin, `127.0.0.1:${DEFAULT_REPORTER_ADMIN_PORT}`, metrics, () => reporter.health(), {
    '/stats': () => reporter.stats(),
  });
  const addr = reporter.address ? formatEndpoint({ host: reporter.address.address, port: reporter.address.port }) : 'dispatcher';
  announce(log, { addr, store: store.describe() }, admin);
  return runUntilSignal(log, async () => {
    await attachment?.close();
    await reporter.close();
    await admin?.close();
    await store.close();
  });
}
