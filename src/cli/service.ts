/**
 * What every long-running service command shares: config flags (--config,
 * --set), the admin HTTP port (--admin), the "listening" line scripts parse,
 * and a clean stop on SIGINT/SIGTERM. What only the store-backed services
 * need (the store, --workers) is store-service.ts, so `lars agent` loads
 * neither the store nor the dispatcher.
 */
import { DISPATCH_SOCKET_ENV } from '../dispatcher/protocol.js';
import { startAdminServer, type AdminServer, type Health } from '../reactor/admin-http.js';
import { ConfigError, loadConfig, parseSettings, type ConfigOf, type Section } from '../reactor/config.js';
import { formatEndpoint } from '../reactor/endpoint.js';
import type { Logger } from '../reactor/log.js';
import type { MetricsRegistry } from '../reactor/metrics.js';
import { CommandError, parseCommand, parseEndpointArg, UsageError, type ParsedCommand } from './args.js';

/** parseArgs options every service command accepts. */
export const SERVICE_OPTIONS = {
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  admin: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
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
    // The command's form is fine; the configuration it found is not: exit 1, one line.
    if (err instanceof ConfigError) throw new CommandError(err.problems.join('; '));
    throw err;
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

/** True in a worker started by superviseWorkers: connections come from the dispatcher, not a port. */
export function isDispatcherWorker(): boolean {
  return process.env[DISPATCH_SOCKET_ENV] !== undefined;
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
