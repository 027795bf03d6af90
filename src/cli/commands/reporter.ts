/**
 * lars reporter [--store URL] [--listen HOST:PORT] [--workers N] [--admin HOST:PORT|off]
 *               [--config FILE] [--set section.key=value ...] [--no-migrate]
 * Runs the reporter service until SIGINT/SIGTERM, then flushes its queue and
 * exits 0. A second signal exits at once (1).
 */
import { DEFAULT_REPORTER_ADMIN_PORT, DEFAULT_REPORTER_PORT, REPORTER_CONFIG_SECTIONS } from '../../reporter/config.js';
import { startReporter } from '../../reporter/service.js';
import { runStoreService } from '../store-service.js';

const USAGE = `usage: lars reporter --store URL [--listen HOST:PORT] [--workers N] [--admin HOST:PORT|off] [--config FILE] [--set reporter.KEY=VALUE ...] [--no-migrate]
  --listen   default 0.0.0.0:${DEFAULT_REPORTER_PORT}
  --workers  N processes behind a least-connections dispatcher
  --admin    /healthz, /metrics and /stats, default 127.0.0.1:${DEFAULT_REPORTER_ADMIN_PORT}`;

/** Network stores get a pool with room for every writer plus the odd read. */
const MIN_POOL_SIZE = 10;

export function run(argv: string[]): Promise<number> {
  return runStoreService(argv, {
    name: 'reporter',
    usage: USAGE,
    sections: REPORTER_CONFIG_SECTIONS,
    defaultListen: `0.0.0.0:${DEFAULT_REPORTER_PORT}`,
    defaultAdmin: `127.0.0.1:${DEFAULT_REPORTER_ADMIN_PORT}`,
    poolSize: (config) => Math.max(MIN_POOL_SIZE, config.reporter.db_thread_cnt + 2),
    start: startReporter,
    adminPages: (reporter) => ({ '/stats': () => reporter.stats() }),
  });
}
