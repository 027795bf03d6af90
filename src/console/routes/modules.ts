/**
 * Modules: list with host counts and health, add, read one route, change
 * the description or the strategy, delete; the strategies a module may name.
 * Reads and edits go through RouteAdmin (the CLI's own validation, one
 * transaction, version bump, change-log row naming the user).
 */
import type { FastifyInstance } from 'fastify';
import { STRATEGY_NAMES } from '../../balancer/types.js';
import { routeKey } from '../../protocol/route-key.js';
import { principalOf } from '../auth.js';
import type { ConsoleContext } from '../context.js';
import { HttpError } from '../errors.js';
import { summarizeHealth } from '../health.js';
import {
  editSchema,
  moduleBody,
  moduleListSchema,
  moduleParams,
  modulePatchBody,
  routeSchema,
  strategyListSchema,
  withErrors,
  type ModuleBody,
  type ModuleParams,
  type ModulePatchBody,
} from '../schemas.js';

export function registerModuleRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    '/api/v1/modules',
    {
      config: { access: 'user' },
      schema: { summary: 'Every module with its host count and a health summary of the latest call status', response: withErrors({ 200: moduleListSchema }, [401, 503]) },
    },
    async () => {
      const [{ version, modules }, samples] = await Promise.all([ctx.routes.listModules(), ctx.status.samplesByRoute()]);
      const now = ctx.now();
      return {
        version,
        now,
        modules: modules.map((m) => ({
          ...m,
          health: summarizeHealth(samples.get(routeKey(m.modid, m.cmdid)) ?? [], now, ctx.config.status_stale_after_s),
        })),
      };
    },
  );

  app.get(
    '/api/v1/strategies',
    { config: { access: 'user' }, schema: { summary: 'The balancing strategies a module may name', response: withErrors({ 200: strategyListSchema }, [401]) } },
    async () => ({ strategies: STRATEGY_NAMES }),
  );

  app.post<{ Body: ModuleBody }>(
    '/api/v1/modules',
    {
      config: { access: 'module-write' },
      schema: { summary: 'Add a module (a service without hosts yet)', body: moduleBody, response: withErrors({ 201: editSchema }) },
    },
    async (request, reply) => {
      const { modid, cmdid, description = '', strategy } = request.body;
      const version = await ctx.routes.addModule({ modid, cmdid, description, strategy }, principalOf(request).user.name);
      return reply.code(201).send({ version, module: { modid, cmdid, description, strategy } });
    },
  );

  app.get<{ Params: ModuleParams }>(
    '/api/v1/modules/:modid/:cmdid',
    {
      config: { access: 'user' },
      schema: { summary: 'One module and its hosts', params: moduleParams, response: withErrors({ 200: routeSchema }, [400, 401, 404, 503]) },
    },
    async (request) => {
      const { modid, cmdid } = request.params;
      const route = await ctx.routes.readRoute(modid, cmdid);
      if (!route) throw new HttpError(404, `module ${modid}:${cmdid} does not exist`);
      return route;
    },
  );

  app.patch<{ Params: ModuleParams; Body: ModulePatchBody }>(
    '/api/v1/modules/:modid/:cmdid',
    {
      config: { access: 'module-write' },
      schema: {
        summary: "Change a module's description, its strategy (dns pushes it to the agents) or both",
        params: moduleParams,
        body: modulePatchBody,
        response: withErrors({ 200: editSchema }),
      },
    },
    async (request) => {
      const { modid, cmdid } = request.params;
      const { description, strategy } = request.body;
      const version = await ctx.routes.updateModule({ modid, cmdid, description, strategy }, principalOf(request).user.name);
      return { version, module: { modid, cmdid, description, strategy } };
    },
  );

  app.delete<{ Params: ModuleParams }>(
    '/api/v1/modules/:modid/:cmdid',
    {
      config: { access: 'module-write' },
      schema: { summary: 'Delete a module and all its hosts', params: moduleParams, response: withErrors({ 200: editSchema }) },
    },
    async (request) => {
      const { modid, cmdid } = request.params;
      const version = await ctx.routes.delModule(modid, cmdid, principalOf(request).user.name);
      return { version, module: { modid, cmdid } };
    },
  );
}
