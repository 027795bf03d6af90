/** The hosts of one route: list, add, change the weight, delete; and one host found in every route. Reads and edits through RouteAdmin. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalOf } from '../auth.js';
import type { ConsoleContext } from '../context.js';
import { HttpError } from '../errors.js';
import {
  editSchema,
  foundHostListSchema,
  hostBody,
  hostListSchema,
  hostParams,
  hostPatchBody,
  hostSearchQuery,
  moduleParams,
  withErrors,
  type HostBody,
  type HostParams,
  type HostPatchBody,
  type HostSearchQuery,
  type ModuleParams,
} from '../schemas.js';

const HOSTS = '/api/v1/modules/:modid/:cmdid/hosts';

export function registerHostRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Querystring: HostSearchQuery }>(
    '/api/v1/hosts',
    {
      config: { access: 'user' },
      schema: {
        summary: 'A host found by its address (and port) in every module, configured or registered (lars route find)',
        querystring: hostSearchQuery,
        response: withErrors({ 200: foundHostListSchema }, [400, 401, 503]),
      },
    },
    async (request) => {
      const { version, hosts } = await ctx.routes.findServedHosts(request.query);
      return { version, hosts: hosts.map(({ modid, cmdid, ip, port, weight, source, lastHeartbeat }) => ({ modid, cmdid, ip, port, weight, source, lastHeartbeat })) };
    },
  );

  app.get<{ Params: ModuleParams }>(
    HOSTS,
    {
      config: { access: 'user' },
      schema: { summary: 'The hosts of a route, by ip then port', params: moduleParams, response: withErrors({ 200: hostListSchema }, [400, 401, 404, 503]) },
    },
    async (request) => {
      const { modid, cmdid } = request.params;
      const route = await ctx.routes.readRoute(modid, cmdid);
      if (!route) throw new HttpError(404, `module ${modid}:${cmdid} does not exist`);
      return { version: route.version, hosts: route.hosts };
    },
  );

  app.post<{ Params: ModuleParams; Body: HostBody }>(
    HOSTS,
    {
      config: { access: 'module-write' },
      schema: { summary: 'Add a host to a route (weight defaults to 1)', params: moduleParams, body: hostBody, response: withErrors({ 201: editSchema }) },
    },
    async (request, reply) => {
      const { modid, cmdid } = request.params;
      const { ip, port, weight = 1 } = request.body;
      const version = await ctx.routes.addHost({ modid, cmdid, ip, port, weight }, principalOf(request).user.name);
      return reply.code(201).send({ version, host: { ip, port, weight } });
    },
  );

  app.patch<{ Params: HostParams; Body: HostPatchBody }>(
    `${HOSTS}/:ip/:port`,
    {
      config: { access: 'module-write' },
      schema: { summary: "Change a host's weight", params: hostParams, body: hostPatchBody, response: withErrors({ 200: editSchema }) },
    },
    async (request) => {
      const { modid, cmdid, ip, port } = request.params;
      const { weight } = request.body;
      const version = await ctx.routes.updateHost({ modid, cmdid, ip, port, weight }, principalOf(request).user.name);
      return { version, host: { ip, port, weight } };
    },
  );

  for (const drain of [true, false]) {
    const handler = async (request: FastifyRequest<{ Params: HostParams }>) => {
      const { modid, cmdid, ip, port } = request.params;
      const actor = principalOf(request).user.name;
      const version = drain ? await ctx.routes.drainHost({ modid, cmdid, ip, port }, actor) : await ctx.routes.undrainHost({ modid, cmdid, ip, port }, actor);
      return { version, host: { ip, port } };
    };
    const options = {
      config: { access: 'module-write' as const },
      schema: {
        summary: drain ? 'Drain a host for maintenance: served with weight 0, its weight kept (409 when drained already)' : 'Undrain a host: served with its weight again (409 when not drained)',
        params: hostParams,
        response: withErrors({ 200: editSchema }),
      },
    };
    if (drain) app.put<{ Params: HostParams }>(`${HOSTS}/:ip/:port/drain`, options, handler);
    else app.delete<{ Params: HostParams }>(`${HOSTS}/:ip/:port/drain`, options, handler);
  }

  app.delete<{ Params: HostParams }>(
    `${HOSTS}/:ip/:port`,
    {
      config: { access: 'module-write' },
      schema: { summary: 'Remove a host from a route', params: hostParams, response: withErrors({ 200: editSchema }) },
    },
    async (request) => {
      const { modid, cmdid, ip, port } = request.params;
      const version = await ctx.routes.delHost({ modid, cmdid, ip, port }, principalOf(request).user.name);
      return { version, host: { ip, port } };
    },
  );
}
