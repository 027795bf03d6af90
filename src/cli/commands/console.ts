/** lars console --store URL [--listen HOST:PORT] [--allow-remote] [--tls-cert FILE --tls-key FILE] */
import { readFileSync } from 'node:fs';
import { CONSOLE_CONFIG_SECTIONS, DEFAULT_CONSOLE_HOST, DEFAULT_CONSOLE_PORT } from '../../console/config.js';
import { ConsoleAddressError, startConsole, type ConsoleOptions } from '../../console/server.js';
import { createLogger } from '../../reactor/log.js';
import { MetricsRegistry } from '../../reactor/metrics.js';
import { Users } from '../../store/users.js';
import { CommandError, parseEndpointArg, UsageError } from '../args.js';
import { notifyOptions, notifySection } from '../../store/config.js';
import { runUntilSignal, serviceConfig, parseServiceArgs } from '../service.js';
import { logNotify, NOTIFY_OPTION, openServiceStore, STORE_SERVICE_OPTIONS } from '../store-service.js';

const USAGE = `usage: lars console --store URL [--listen HOST:PORT] [--allow-remote] [--tls-cert FILE --tls-key FILE]
                    [--notify auto|off|postgres|redis://HOST:PORT] [--config FILE] [--set console.KEY=VALUE ...] [--no-migrate]
  --listen        default ${DEFAULT_CONSOLE_HOST}:${DEFAULT_CONSOLE_PORT}; /healthz and /metrics are served there too
  --allow-remote  required to listen on a non-loopback address (e.g. --listen 0.0.0.0:${DEFAULT_CONSOLE_PORT})
  --tls-cert, --tls-key  PEM files: serve HTTPS (cookies get the Secure flag)
  --notify        announce each edit to every dns at once (default $LARS_NOTIFY, then [notify] url, then auto)
Users: lars user add NAME --role admin|viewer`;

const OPTIONS = {
  config: STORE_SERVICE_OPTIONS.config,
  set: STORE_SERVICE_OPTIONS.set,
  help: STORE_SERVICE_OPTIONS.help,
  store: STORE_SERVICE_OPTIONS.store,
  'no-migrate': STORE_SERVICE_OPTIONS['no-migrate'],
  ...NOTIFY_OPTION,
  listen: { type: 'string' },
  'allow-remote': { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

function readTls(certFile: string | undefined, keyFile: string | undefined): ConsoleOptions['tls'] {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) throw new UsageError('--tls-cert and --tls-key go together');
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new CommandError(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
    }
  };
  return { cert: read(certFile, 'certificate'), key: read(keyFile, 'key') };
}

export async function run(argv: string[]): Promise<number> {
  const values = parseServiceArgs(argv, OPTIONS, USAGE);
  if (!values) return 0;
  const log = createLogger('console');
  const config = serviceConfig([...CONSOLE_CONFIG_SECTIONS, notifySection], values, log);
  const listen = parseEndpointArg(values.listen ?? `${DEFAULT_CONSOLE_HOST}:${DEFAULT_CONSOLE_PORT}`, DEFAULT_CONSOLE_HOST);
  const tls = readTls(values['tls-cert'], values['tls-key']);
  const store = await openServiceStore(values, { notify: notifyOptions(values.notify, config.notify, log) });
  const server = await startConsole({
    ...config,
    store,
    ...listen,
    allowRemote: values['allow-remote'],
    tls,
    logger: log,
    metrics: new MetricsRegistry(),
  }).catch(async (err) => {
    await store.close();
    if (err instanceof ConsoleAddressError) throw new UsageError(err.message);
    throw new CommandError(`cannot start the console on ${listen.host}:${listen.port}: ${(err as Error).message}`);
  });
  if (!(await new Users(store).hasAny())) log.warn('no_users', { hint: 'nobody can log in yet: lars user add NAME --role admin' });
  logNotify(log, store);
  log.info('ready', { addr: `${server.address.address}:${server.address.port}`, url: server.url, store: store.describe() });
  return runUntilSignal(log, async () => {
    await server.close();
    await store.close();
  });
}
