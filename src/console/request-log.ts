/**
 * One log line per request (method, path without the query, status, ms, and
 * the user when known; never headers, cookies or bodies) and request metrics
 * labelled by route pattern, so their number stays bounded.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../reactor/log.js';
import type { MetricsRegistry } from '../reactor/metrics.js';

export function addRequestLog(app: FastifyInstance, logger: Logger, metrics: MetricsRegistry): void {
  const requests = metrics.counter('lars_console_requests_total', 'console HTTP requests by method, route and status');
  const duration = metrics.histogram('lars_console_request_seconds', 'console HTTP request duration', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  app.addHook('onResponse', async (request, reply) => {
    const ms = reply.elapsedTime;
    const status = reply.statusCode;
    requests.inc(1, { method: request.method, route: request.routeOptions.url ?? 'unmatched', status });
    duration.observe(ms / 1000);
    const path = request.url.split('?', 1)[0];
    const fields = { method: request.method, path, status, ms: Number(ms.toFixed(1)), user: request.principal?.user.name };
    if (status >= 500) logger.warn('request', fields);
    else logger.info('request', fields);
  });
}
