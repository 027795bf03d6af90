/** The route change log, newest first: who changed what and when. */
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../context.js';
import { changeListSchema, changesQuery, withErrors, type ChangesQuery } from '../schemas.js';

export function registerChangeRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Querystring: ChangesQuery }>(
    '/api/v1/changes',
    {
      config: { access: 'user' },
      schema: {
        summary: 'Route changes, newest first; page with ?before=<oldest version seen>',
        querystring: changesQuery,
        response: withErrors({ 200: changeListSchema }, [400, 401, 503]),
      },
    },
    async (request) => {
      return ctx.changes.list({ limit: request.query.limit, beforeVersion: request.query.before });
    },
  );
}
