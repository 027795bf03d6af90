/** /healthz (is the store reachable), /metrics (Prometheus text) and the OpenAPI document. */
import type { FastifyInstance } from 'fastify';
import { errorReason } from '../../store/errors.js';
import type { ConsoleContext } from '../context.js';
import type { ApiCatalog } from '../openapi.js';
import { object } from '../schemas.js';

/** /healthz answers within this even when the store hangs. */
const HEALTH_TIMEOUT_MS = 3000;

const healthzSchema = object({ ok: { type: 'boolean' }, version: { type: 'integer' }, error: { type: 'string' } }, ['version', 'error']);

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function registerMetaRoutes(app: FastifyInstance, ctx: ConsoleContext, catalog: ApiCatalog): void {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: { summary: 'Health: 200 when the store answers, 503 otherwise', response: { 200: healthzSchema, 503: healthzSchema } },
    },
    async (_request, reply) => {
      try {
        return { ok: true, version: await withTimeout(ctx.routes.version(), HEALTH_TIMEOUT_MS) };
      } catch (err) {
        return reply.code(503).send({ ok: false, error: `store: ${errorReason(err)}` });
      }
    },
  );

  app.get(
    '/metrics',
    { config: { access: 'public' }, schema: { summary: 'Metrics in the Prometheus text format', response: { 200: { type: 'string' } } } },
    async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(ctx.metrics.render()),
  );

  let document: string | undefined;
  app.get(
    '/api/v1/openapi.json',
    { config: { access: 'public' }, schema: { summary: 'This API as an OpenAPI 3.1 document', response: { 200: { type: 'object', additionalProperties: true } } } },
    // Built on first use, once every route is registered; sent as text so the serializer does not prune it.
    async (_request, reply) => reply.type('application/json; charset=utf-8').send((document ??= JSON.stringify(catalog.document('v1')))),
  );
}
