/**
 * Export and import of every module and configured host as one JSON
 * document (docs/store.md, "Export and import"), the same document as `lars
 * export` and `lars import json`. An import is checked whole, then applied
 * in one transaction through RouteAdmin; dryRun answers with the plan only.
 */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth.js';
import type { ConsoleContext } from '../context.js';
import { importQuery, importResultSchema, routeDocumentSchema, withErrors, type ImportQuery } from '../schemas.js';

/** A document of 10,000 routes is about 600 KB; the console's other bodies stay at its small default. */
export const IMPORT_BODY_LIMIT = 16 * 1024 * 1024;

export function registerTransferRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Querystring: { download?: boolean } }>(
    '/api/v1/export',
    {
      config: { access: 'user' },
      schema: {
        summary: 'Every module with its configured hosts as one document (registered instances are left out)',
        querystring: { type: 'object', properties: { download: { type: 'boolean', default: false } }, additionalProperties: false },
        response: withErrors({ 200: routeDocumentSchema }, [400, 401, 503]),
      },
    },
    async (request, reply) => {
      const document = await ctx.routes.exportRoutes();
      if (request.query.download) reply.header('content-disposition', `attachment; filename="lars-routes-v${document.version}.json"`);
      return document;
    },
  );

  app.post<{ Body: unknown; Querystring: ImportQuery }>(
    '/api/v1/import',
    {
      config: { access: 'admin' },
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        summary: 'Make the store hold what a document states: checked whole, applied in one transaction (dryRun: the plan only)',
        body: routeDocumentSchema,
        querystring: importQuery,
        response: withErrors({ 200: importResultSchema }),
      },
    },
    async (request) => ctx.routes.importRoutes(request.body, principalOf(request).user.name, { dryRun: request.query.dryRun, prune: request.query.prune }),
  );
}
