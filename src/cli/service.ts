/**
 * What every long-running service command shares: config flags (--config,
 * --set), the admin HTTP port (--admin), store opening (--store,
 * --no-migrate), the "listening" line scripts parse, and a clean stop on
 * SIGINT/SIGTERM.
 */
import { startAdminServer, type AdminServer, type Health } from '../reactor/admin-http.js';
import { ConfigError, loadConfig, parseSettings, type ConfigOf, type Section } from '../reactor/config.js';
import { formatEndpoint } from '../reactor/endpoint.js';
import type { Logger } from '../reactor/log.js';
import type { MetricsRegistry } from '../reactor/metrics.js';
import { openStore, type Store } from '../store/index.js';
import { CommandError, parseHostPort, storeUrl, UsageError } from './args.js';

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
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

export async function openServiceStore(flags: { store?: string; 'no-migrate'?: boolean }): Promise<Store> {
  const url = storeUrl(flags.store);
  try {
    return await openStore(url, { migrate: !flags['no-migrate'] });
  } catch (err) {
    throw new CommandError((err as Error).message);
  }
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
  const { host, port } = parseHostPort(text, '127.0.0.1');
  try {
    return await startAdminServer({ host, port, metrics, health, json });
  } catch (err) {
    throw new CommandError(`admin HTTP on ${text}: ${(err as Error).message} (use --admin HOST:PORT or --admin off)`);
  }
}

/** The line tests and scripts wait for: "<service> listening addr=HOST:PORT ...". */
export function announce(logger: Logger, fields: Record<string, unknown>, admin: AdminServer | undefined): void {
  logger.info('ready', { ...fields, admin: admin ? formatEndpoint({ host: admin.address.address, port: admin.address.port }) : 'off' });
}

/**
 * Resolves with exit code 0 after SIGINT or SIGTERM once `stop` finished; a
 * second signal while stopping exits at once with 1.
 */
export function runUntilSignal(logger: Logger, stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn('forced_exit', { signal });
        process.exit(1);
      }
      stopping = true;
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
