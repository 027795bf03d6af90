/**
 * The registered instances of one route (docs/registry.md): list them with
 * their load and heartbeat; set or remove the operator's weight for one (0
 * drains it), through RouteAdmin like every edit.
 */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth.js';
import type { ConsoleContext } from '../context.js';
import { HttpError } from '../errors.js';
import {
  editSchema,
  hostParams,
  hostPatchBody,
  instanceListSchema,
  moduleParams,
  withErrors,
  type HostParams,
  type HostPatchBody,
  type ModuleParams,
} from '../schemas.js';

const INSTANCES = '/api/v1/modules/:modid/:cmdid/instances';
const WEIGHT = `${INSTANCES}/:ip/:port/weight`;

export function registerInstanceRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Params: ModuleParams }>(
    INSTANCES,
    {
      config: { access: 'user' },
      schema: {
        summary: 'The instances servers registered into a route, by ip then port, with their load and last heartbeat',
        params: moduleParams,
        response: withErrors({ 200: instanceListSchema }, [400, 401, 404, 503]),
      },
    },
    async (request) => {
      const { modid, cmdid } = request.params;
      if (!(await ctx.routes.findModule(modid, cmdid))) throw new HttpError(404, `module ${modid}:${cmdid} does not exist`);
      const { version, instances } = await ctx.routes.listInstances({ modid, cmdid });
      return { version, now: ctx.now(), instances };
    },
  );

  app.put<{ Params: HostParams; Body: HostPatchBody }>(
    WEIGHT,
    {
      config: { access: 'module-write' },
      schema: {
        summary: "Set the operator's weight for a registered instance (0 drains it); it holds across re-registrations",
        params: hostParams,
        body: hostPatchBody,
        response: withErrors({ 200: editSchema }),
      },
    },
    async (request) => {
      const { modid, cmdid, ip, port } = request.params;
      const { weight } = request.body;
      const version = await ctx.routes.setInstanceWeight({ modid, cmdid, ip, port, weight }, principalOf(request).user.name);
      return { version, instance: { ip, port, weight } };
    },
  );

  app.delete<{ Params: HostParams }>(
    WEIGHT,
    {
      config: { access: 'module-write' },
      schema: {
        summary: "Remove the operator's weight (undrain): the instance serves with the weight it registers",
        params: hostParams,
        response: withErrors({ 200: editSchema }),
      },
    },
    async (request) => {
      const { modid, cmdid, ip, port } = request.params;
      const version = await ctx.routes.clearInstanceWeight({ modid, cmdid, ip, port }, principalOf(request).user.name);
      return { version, instance: { ip, port } };
    },
  );
}
