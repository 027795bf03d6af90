/**
 * lars serve --listen HOST:PORT --register MODID CMDID --dns HOST:PORT[,...] [--ttl SECONDS] [--weight W] [--drain-timeout SECONDS] [--auth-token-file FILE]
 * A line-echo server that registers itself with dns and keeps its lease
 * (docs/registry.md, "The server side"); on SIGTERM/SIGINT it deregisters,
 * lets its clients finish, then exits 0.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { registerInstance, RegistrationRefusedError, RegistrationTimeoutError, type InstanceHandle } from '../../client/register-instance.js';
import { serveLineEcho } from '../../dispatcher/line-echo.js';
import { formatEndpoint, type Endpoint } from '../../reactor/endpoint.js';
import { createLogger } from '../../reactor/log.js';
import { CommandError, parseCommand, parseEndpointArg, parseEndpointListArg, parseIntArg, UsageError } from '../args.js';
import { announce, runUntilSignal } from '../service.js';

const USAGE = `usage: lars serve --listen HOST:PORT --register MODID CMDID --dns HOST:PORT[,...] [--ttl SECONDS] [--weight W] [--drain-timeout SECONDS] [--auth-token-file FILE]
  a line-echo server that registers itself as an instance of MODID CMDID
  --dns            dns addresses, tried in order (failover)
  --ttl            lease TTL, renewed every third of it; default 3
  --weight         default 1; 0 registers the instance drained
  --drain-timeout  after SIGTERM: how long open connections get to finish; default 10
  --auth-token-file  the token for a dns that requires one (docs/reactor.md, "Authentication");
                   default: LARS_REACTOR_AUTH_TOKEN, else none`;

const OPTIONS = {
  listen: { type: 'string' },
  dns: { type: 'string' },
  ttl: { type: 'string' },
  weight: { type: 'string' },
  'drain-timeout': { type: 'string' },
  'auth-token-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--register MODID CMDID` takes two values, which parseArgs cannot: it is taken out of argv first. */
function takeRegister(argv: string[]): { rest: string[]; modid: number; cmdid: number } {
  const at = argv.indexOf('--register');
  if (at < 0) throw new UsageError(`serve needs --register MODID CMDID\n${USAGE}`);
  const [modidText, cmdidText] = argv.slice(at + 1, at + 3);
  if (cmdidText === undefined || modidText!.startsWith('--') || cmdidText.startsWith('--')) throw new UsageError('--register takes MODID CMDID');
  return {
    rest: [...argv.slice(0, at), ...argv.slice(at + 3)],
    modid: parseIntArg('MODID', modidText),
    cmdid: parseIntArg('CMDID', cmdidText),
  };
}

/** From a file (kept off the command line, where `ps` shows it), else the agent's environment variable. */
function authToken(file: string | undefined): string | undefined {
  if (file === undefined) return process.env.LARS_REACTOR_AUTH_TOKEN || undefined;
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new CommandError(`cannot read --auth-token-file ${file}: ${(err as Error).message}`);
  }
  if (token === '') throw new CommandError(`--auth-token-file ${file} is empty`);
  return token;
}

function listenOn(server: Server, address: Endpoint): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new CommandError(`cannot listen on ${formatEndpoint(address)}: ${err.message}`)));
    server.listen(address.port, address.host, () => resolve((server.address() as { port: number }).port));
  });
}

async function register(options: Parameters<typeof registerInstance>[0]): Promise<InstanceHandle> {
  try {
    return await registerInstance(options);
  } catch (err) {
    if (err instanceof RegistrationRefusedError || err instanceof RegistrationTimeoutError) throw new CommandError(err.message);
    throw err;
  }
}

/** Closes the listener and destroys what is still open (after the drain had its time). */
function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets) socket.destroy();
  return closed;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const { rest, modid, cmdid } = takeRegister(argv);
  const { values, positionals } = parseCommand(rest, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}\n${USAGE}`);
  if (values.listen === undefined) throw new UsageError('serve needs --listen HOST:PORT');
  if (values.dns === undefined) throw new UsageError('serve needs --dns HOST:PORT[,...]');
  const listen = parseEndpointArg(values.listen, '0.0.0.0');
  const dns = parseEndpointListArg(values.dns, '127.0.0.1');
  if (dns.length === 0) throw new UsageError('--dns needs at least one HOST:PORT');
  const ttlSeconds = values.ttl === undefined ? 3 : parseIntArg('--ttl', values.ttl, 1, 4_294_967);
  const weight = values.weight === undefined ? undefined : parseIntArg('--weight', values.weight, 0, 0xffffffff);
  const drainSeconds = values['drain-timeout'] === undefined ? 10 : parseIntArg('--drain-timeout', values['drain-timeout'], 0, 86_400);
  const token = authToken(values['auth-token-file']);

  const log = createLogger('serve');
  let handle: InstanceHandle | undefined;
  const sockets = new Set<Socket>();
  // Each open connection is a call in flight: close() waits for the clients to finish theirs.
  const server = createServer((socket) => {
    sockets.add(socket);
    handle?.begin();
    log.info('connected', { peer: formatEndpoint({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }), connections: sockets.size });
    socket.once('close', () => {
      sockets.delete(socket);
      handle?.end();
      log.info('disconnected', { connections: sockets.size });
    });
    serveLineEcho(socket);
  });
  const port = await listenOn(server, listen);
  handle = await register({
    dns,
    modid,
    cmdid,
    port,
    weight,
    ttlMs: ttlSeconds * 1000,
    connections: () => sockets.size,
    drainTimeoutMs: drainSeconds * 1000,
    authToken: token,
    logger: log.child('registration'),
  }).catch(async (err: unknown) => {
    await closeServer(server, sockets);
    throw err;
  });
  // Connections accepted while registering are counted now; their close ends them like the others.
  for (let i = 0; i < sockets.size; i += 1) handle.begin();
  announce(log, { addr: formatEndpoint({ host: listen.host, port }), modid, cmdid, instance: `${handle.ip}:${port}`, lease: handle.lease }, undefined);
  return runUntilSignal(log, async () => {
    await handle.close();
    await closeServer(server, sockets);
  });
}
export const ownHelp = true;
