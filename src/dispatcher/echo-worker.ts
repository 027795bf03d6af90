/**
 * The built-in worker of `lars dispatch --workers N` without a COMMAND: a
 * line-echo server fed by the dispatcher. SIGTERM/SIGINT detach it and let
 * its connections finish before it exits.
 */
import { createServer } from 'node:net';
import { createLogger } from '../reactor/log.js';
import { attachFromEnvironment } from './attach.js';
import { DISPATCH_SOCKET_ENV } from './protocol.js';
import { serveLineEcho } from './line-echo.js';
import { watchSupervisor } from './orphan-watch.js';

/** Without a supervisor nobody enforces a drain deadline, so an orphan sets its own. */
const ORPHAN_DRAIN_MS = 10_000;

const log = createLogger('dispatch.echo');
const attachment = attachFromEnvironment(createServer((socket) => serveLineEcho(socket)), { log });
if (!attachment) {
  log.error('no_dispatcher', { reason: `${DISPATCH_SOCKET_ENV} is not set` });
  process.exit(2);
}

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info('draining', { signal, connections: attachment.connections });
  void attachment.drain().then(() => {
    log.info('stopped');
    process.exit(0);
  });
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
watchSupervisor(() => {
  stop('orphaned');
  setTimeout(() => process.exit(1), ORPHAN_DRAIN_MS).unref();
});
