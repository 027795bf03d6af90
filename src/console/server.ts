/**
 * The web console: a fastify server with the JSON API under /api/v1, the
 * browser app, /healthz and /metrics. `lars console` and `lars up` both
 * start it through startConsole().
 */
import type { AddressInfo } from 'node:net';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';
import { configFrom } from '../reactor/config.js';
import { formatEndpoint } from '../reactor/endpoint.js';
import { createLogger, type Logger } from '../reactor/log.js';
import { MetricsRegistry } from '../reactor/metrics.js';
import { AuditLog } from '../store/audit.js';
import { ChangeLog } from '../store/change-log.js';
import { InstanceRegistry } from '../store/registry.js';
import { RouteAdmin } from '../store/route-admin.js';
import { CallStatus } from '../store/status.js';
import type { Store } from '../store/store.js';
import { Users } from '../store/users.js';
import { accessHook, checkModuleWriteRoute, moduleWriteHook } from './auth.js';
import { CONSOLE_CONFIG_SECTIONS, DEFAULT_CONSOLE_HOST, DEFAULT_CONSOLE_PORT, isLoopback, type ConsoleConfigInput } from './config.js';
import type { ConsoleContext } from './context.js';
import { errorResponse } from './errors.js';
import { LoginThrottle } from './login-throttle.js';
import { ApiCatalog } from './openapi.js';
import { addRequestLog } from './request-log.js';
import { registerChangeRoutes } from './routes/changes.js';
import { registerConnectionRoutes } from './routes/connections.js';
import { registerHostRoutes } from './routes/hosts.js';
import { registerInstanceRoutes } from './routes/instances.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerModuleRoutes } from './routes/modules.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerStatusRoutes } from './routes/status.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerTransferRoutes } from './routes/transfer.js';
import { registerUserRoutes } from './routes/users.js';
import { addSecurityHeaders } from './security-headers.js';
import { DEFAULT_ASSETS_DIR, registerStaticRoutes } from './static.js';

/** [console] as loadConfig gives it, or some of its values (the rest take the defaults). */
export interface ConsoleOptions extends ConsoleConfigInput {
  store: Store;
  /** Default 127.0.0.1; any non-loopback address needs allowRemote. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Permits listening on a non-loopback address (the --allow-remote flag). */
  allowRemote?: boolean;
  /** PEM certificate chain and key: serve HTTPS (and mark cookies Secure). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** Unix milliseconds; injected by tests. */
  clock?: () => number;
  /** Where the front-end files are; defaults to web/ beside this module. */
  assetsDir?: string;
}

export interface ConsoleServer {
  readonly address: AddressInfo;
  /** e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  close(): Promise<void>;
}

/** Refused listen address (the CLI turns it into a usage error). */
export class ConsoleAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsoleAddressError';
  }
}

const API_OR_META = /^\/(api\/|healthz$|metrics$)/;

/** Registration-time checks: a route without an access level or (API) schema is a bug, caught at start. */
function checkRoute(route: RouteOptions): void {
  const access = (route.config as { access?: unknown } | undefined)?.access;
  if (access === undefined) throw new Error(`console route ${route.url} declares no config.access`);
  if (access === 'module-write') checkModuleWriteRoute(route.url, route.schema);
  if (API_OR_META.test(route.url) && !(route.schema as { response?: unknown } | undefined)?.response) {
    throw new Error(`console route ${route.url} has no response schema`);
  }
}

function createApp(options: ConsoleOptions): FastifyInstance {
  const common = {
    logger: false,
    // Bodies here are a few fields; anything larger is a mistake or an attack.
    bodyLimit: 64 * 1024,
    // Unknown body fields are refused (400 naming the field), not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    forceCloseConnections: true,
    return503OnClosing: true,
  } satisfies FastifyServerOptions;
  const app = options.tls ? Fastify({ ...common, https: { cert: options.tls.cert, key: options.tls.key } }) : Fastify(common);
  // The API takes JSON only (docs/console.md): without fastify's built-in text/plain parser, such a body is a 415, not a schema 400.
  app.removeContentTypeParser('text/plain');
  return app as unknown as FastifyInstance;
}

export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const host = options.host ?? DEFAULT_CONSOLE_HOST;
  const port = options.port ?? DEFAULT_CONSOLE_PORT;
  const logger = options.logger ?? createLogger('console');
  if (!isLoopback(host) && !options.allowRemote) {
    throw new ConsoleAddressError(
      `the console would be reachable from other machines on ${host}; pass --allow-remote to mean it (and --tls-cert/--tls-key to encrypt it)`,
    );
  }
  if (!isLoopback(host) && !options.tls) {
    logger.warn('plain_http_remote', { host, hint: 'passwords and session cookies cross the network unencrypted; use --tls-cert and --tls-key' });
  }
  const clock = options.clock ?? Date.now;
  const config = configFrom(CONSOLE_CONFIG_SECTIONS, options).console;
  const ctx: ConsoleContext = {
    routes: new RouteAdmin(options.store, { clock }),
    users: new Users(options.store, { clock }),
    status: new CallStatus(options.store),
    changes: new ChangeLog(options.store, { clock }),
    audit: new AuditLog(options.store, { clock }),
    registry: new InstanceRegistry(options.store, { clock }),
    config,
    throttle: new LoginThrottle({
      perUserAddress: config.login_failures_per_user_address,
      perAddress: config.login_failures_per_address,
      perUser: config.login_failures_per_user,
      windowMs: config.login_window_s * 1000,
      clock,
    }),
    secureCookies: options.tls !== undefined,
    now: () => Math.floor(clock() / 1000),
    logger,
    metrics: options.metrics ?? new MetricsRegistry(),
  };

  const app = createApp(options);
  const catalog = new ApiCatalog();
  app.addHook('onRoute', (route) => {
    checkRoute(route);
    catalog.record(route);
  });
  app.decorateRequest('principal', null);
  await app.register(cookie);
  app.addHook('onRequest', accessHook(ctx.users));
  app.addHook('preHandler', moduleWriteHook);
  addSecurityHeaders(app, ctx.secureCookies);
  addRequestLog(app, logger, ctx.metrics);
  app.setErrorHandler((err, request, reply) => {
    const response = errorResponse(err, request);
    if (response.unexpected) logger.error('request_failed', { method: request.method, path: request.url.split('?', 1)[0], error: err, stack: (err as Error).stack });
    else if (response.status === 503) logger.warn('store_unavailable', { path: request.url.split('?', 1)[0], error: response.body.error });
    return reply.code(response.status).headers(response.headers).send(response.body);
  });
  const pageNotFound = registerStaticRoutes(app, options.assetsDir ?? DEFAULT_ASSETS_DIR);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    if (path.startsWith('/api/')) return reply.code(404).send({ error: `no such endpoint: ${request.method} ${path} (see /api/v1/openapi.json)` });
    // A person following a link gets the app's page for it; anything else a plain 404.
    if (request.method === 'GET' && /\btext\/html\b/.test(request.headers.accept ?? '')) return pageNotFound(reply);
    return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
  });

  registerSessionRoutes(app, ctx);
  registerModuleRoutes(app, ctx);
  registerHostRoutes(app, ctx);
  registerInstanceRoutes(app, ctx);
  registerStatusRoutes(app, ctx);
  registerChangeRoutes(app, ctx);
  registerTokenRoutes(app, ctx);
  registerTransferRoutes(app, ctx);
  registerUserRoutes(app, ctx);
  registerConnectionRoutes(app, ctx);
  registerMetaRoutes(app, ctx, catalog);

  await app.listen({ host, port });
  const address = app.server.address() as AddressInfo;
  const scheme = options.tls ? 'https' : 'http';
  return {
    address,
    url: `${scheme}://${formatEndpoint({ host: address.address, port: address.port })}/`,
    close: () => app.close(),
  };
}
