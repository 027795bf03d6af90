/**
 * One log line per request (method, path without the query, status, ms, and
 * the user when known; never headers, cookies or bodies) and request metrics
 * labelled by route pattern, so their number stays bounded. The front end's
 * files and pages served without error log at debug: a page view fetches a
 * dozen of them, and they would bury the API calls (docs/console.md, "Logs
 * and metrics").
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../reactor/log.js';
import type { MetricsRegistry } from '../reactor/metrics.js';
import { ASSET_ROUTE, PAGE_PATHS } from './static.js';

const FRONT_END_ROUTES = new Set<string>([...PAGE_PATHS, ASSET_ROUTE]);

export function addRequestLog(app: FastifyInstance, logger: Logger, metrics: MetricsRegistry): void {
  const requests = metrics.counter('lars_console_requests_total', 'console HTTP requests by method, route and status');
  const duration = metrics.histogram('lars_console_request_seconds', 'console HTTP request duration', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  app.addHook('onResponse', async (request, reply) => {
    const ms = reply.elapsedTime;
    const status = reply.statusCode;
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc(1, { method: request.method, route, status });
    duration.observe(ms / 1000);
    const path = request.url.split('?', 1)[0];
    const fields = { method: request.method, path, status, ms: Number(ms.toFixed(1)), user: request.principal?.user.name };
    if (status >= 500) logger.warn('request', fields);
    else if (status < 400 && FRONT_END_ROUTES.has(route)) logger.debug('request', fields);
    else logger.info('request', fields);
  });
}
