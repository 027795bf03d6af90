/**
 * lars dispatch --listen HOST:PORT [--listen ...] --socket PATH [--admin HOST:PORT]
 * lars dispatch --listen HOST:PORT [--listen ...] --workers N [--socket PATH] [--drain-timeout S] [-- COMMAND...]
 * lars dispatch status --socket PATH [--json]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAdminServer } from '../../reactor/admin-http.js';
import type { Endpoint } from '../../reactor/endpoint.js';
import { createLogger, type Logger } from '../../reactor/log.js';
import { Dispatcher, requestStatus, Supervisor, watchSupervisor } from '../../dispatcher/index.js';
import {
  CommandError,
  parseCommand,
  parseEndpointArg,
  parseEndpointListArg,
  parseIntArg,
  printJson,
  printTable,
  UsageError,
  type ParsedCommand,
} from '../args.js';
import { stopSignals } from '../service.js';

const OPTIONS = {
  listen: { type: 'string', multiple: true },
  socket: { type: 'string' },
  workers: { type: 'string' },
  admin: { type: 'string' },
  'drain-timeout': { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Values = ParsedCommand<typeof OPTIONS>['values'];

export async function run(argv: string[]): Promise<number | void> {
  const split = argv.indexOf('--');
  const command = split < 0 ? undefined : argv.slice(split + 1);
  const { values, positionals } = parseCommand(split < 0 ? argv : argv.slice(0, split), OPTIONS);
  if (positionals[0] === 'status') {
    if (positionals.length > 1 || command) throw new UsageError('dispatch status takes only --socket PATH [--json]');
    return showStatus(values);
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.json) throw new UsageError('--json belongs to `lars dispatch status`');
  if (!values.listen?.length) throw new UsageError('dispatch needs --listen HOST:PORT');
  const listen = values.listen.flatMap((text) => parseEndpointListArg(text, '0.0.0.0'));
  if (command && command.length === 0) throw new UsageError('nothing after --: give the worker COMMAND or drop the --');
  if (values.workers === undefined) {
    if (command) throw new UsageError('-- COMMAND needs --workers N');
    if (!values.socket) throw new UsageError('dispatch needs --socket PATH (or --workers N to start its own workers)');
    if (values['drain-timeout'] !== undefined) throw new UsageError('--drain-timeout needs --workers N');
    return serveDispatcher(listen, values.socket, values.admin);
  }
  return superviseWorkers(listen, values, command);
}

async function showStatus(values: Values): Promise<void> {
  if (!values.socket) throw new UsageError('dispatch status needs --socket PATH');
  if (values.listen || values.workers || values.admin || values['drain-timeout']) {
    throw new UsageError('dispatch status takes only --socket PATH [--json]');
  }
  const status = await requestStatus(values.socket).catch((err: Error) => {
    throw new CommandError(err.message);
  });
  if (values.json) {
    const { workers, handedOver, dropped, ...dispatcher } = status;
    printJson({ workers, handedOver, dropped, ...dispatcher });
    return;
  }
  printTable(['PID', 'CONNECTIONS'], status.workers.map((w) => [w.pid, w.connections]), '(no workers attached)');
  process.stdout.write(
    `handed over ${status.handedOver}, dropped ${status.dropped}; dispatcher pid ${status.pid} on ${status.listening.join(', ')}\n`,
  );
}

/** Socket mode: workers started elsewhere attach to PATH. */
async function serveDispatcher(listen: Endpoint[], socketPath: string, adminFlag: string | undefined): Promise<void> {
  const log = createLogger('dispatch');
  const stop = listenForStop(log);
  process.on('SIGHUP', () => log.info('sighup_ignored', { reason: 'no managed workers to reload' }));
  const dispatcher = await Dispatcher.start({ listen, socketPath, log }).catch((err: Error) => {
    throw new CommandError(err.message);
  });
  const admin = adminFlag
    ? await startAdminServer({
        ...parseEndpointArg(adminFlag, '127.0.0.1'),
        metrics: dispatcher.registry,
        health: () => ({ ok: dispatcher.workerCount > 0, workers: dispatcher.workerCount }),
        json: { '/status': () => dispatcher.status() },
      }).catch(async (err: Error) => {
        await dispatcher.close();
        throw new CommandError(`admin ${adminFlag}: ${err.message}`);
      })
    : undefined;
  if (admin) log.info('admin_listening', { addr: `${admin.address.address}:${admin.address.port}` });
  await stop.stopped;
  await dispatcher.close();
  await admin?.close();
}

/** Managed mode: start the dispatcher and N workers, keep them running. */
async function superviseWorkers(listen: Endpoint[], values: Values, command: string[] | undefined): Promise<void> {
  const workers = parseIntArg('--workers', values.workers, 1, 1024);
  const drainSeconds = values['drain-timeout'] === undefined ? 30 : parseIntArg('--drain-timeout', values['drain-timeout'], 0, 86_400);
  if (values.admin) parseEndpointArg(values.admin, '127.0.0.1');
  const log = createLogger('dispatch.supervisor');
  const stop = listenForStop(log);
  let supervisor: Supervisor | undefined;
  process.on('SIGHUP', () => (supervisor ? void supervisor.reload() : log.info('sighup_ignored', { reason: 'still starting' })));
  supervisor = await Supervisor.start({
    listen,
    socketPath: values.socket ?? join(tmpdir(), `lars-dispatch-${process.pid}.sock`),
    workers,
    ...(command ? { command } : {}),
    dispatcherArgs: values.admin ? ['--admin', values.admin] : [],
    drainTimeoutMs: drainSeconds * 1000,
    log,
  }).catch((err: Error) => {
    throw new CommandError(err.message);
  });
  const started = supervisor;
  stop.force = () => {
    log.warn('forced_stop');
    void started.kill();
  };
  await stop.stopped;
  await started.stop();
}

/**
 * Listens for SIGTERM/SIGINT from the start, so a signal during startup is
 * not fatal. `stopped` resolves on the first one, or when the supervisor that
 * started this process is gone; a second signal (not its echo) calls `force`.
 */
interface StopControl {
  stopped: Promise<void>;
  force: () => void;
}

function listenForStop(log: Logger): StopControl {
  let resolveStopped!: () => void;
  const control: StopControl = { stopped: new Promise<void>((resolve) => (resolveStopped = resolve)), force: () => {} };
  const classify = stopSignals();
  const onSignal = (signal: string) => {
    const kind = classify();
    if (kind === 'echo') return;
    if (kind === 'again') return control.force();
    log.info('stopping', { signal });
    resolveStopped();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  watchSupervisor(() => onSignal('orphaned'));
  return control;
}
