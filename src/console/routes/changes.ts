/** The route change log, newest first: who changed what and when; and putting a route back as a change left it. */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth.js';
import type { ConsoleContext } from '../context.js';
import { changeListSchema, changesQuery, moduleParams, revertBody, revertResultSchema, withErrors, type ChangesQuery, type ModuleParams, type RevertBody } from '../schemas.js';

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

  app.post<{ Params: ModuleParams; Body: RevertBody }>(
    '/api/v1/modules/:modid/:cmdid/revert',
    {
      config: { access: 'module-write' },
      schema: {
        summary: 'Put a module back as the change log recorded it at a version (dryRun: the edits only, as a diff); one transaction',
        params: moduleParams,
        body: revertBody,
        response: withErrors({ 200: revertResultSchema }),
      },
    },
    async (request) => {
      const { modid, cmdid } = request.params;
      return ctx.routes.revertModule(modid, cmdid, request.body.version, principalOf(request).user.name, { dryRun: request.body.dryRun });
    },
  );
}
