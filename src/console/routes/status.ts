/**
 * Call status of one route: the latest report per host and caller with
 * health summaries, and success/error counts per host over time for charts.
 */
import type { FastifyInstance } from 'fastify';
import type { HostStatus } from '../../store/status.js';
import type { ConsoleContext } from '../context.js';
import { HttpError } from '../errors.js';
import { mergeSamples, summarizeHealth } from '../health.js';
import { moduleParams, SERIES_RANGES, seriesQuery, seriesSchema, statusSchema, withErrors, type ModuleParams, type SeriesQuery } from '../schemas.js';

const hostKey = (h: { ip: string; port: number }) => `${h.ip}:${h.port}`;

const noSuchModule = ({ modid, cmdid }: ModuleParams) => new HttpError(404, `module ${modid}:${cmdid} does not exist`);

export function registerStatusRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Params: ModuleParams }>(
    '/api/v1/modules/:modid/:cmdid/status',
    {
      config: { access: 'user' },
      schema: {
        summary: 'Latest call status per host and caller, with host and route health',
        params: moduleParams,
        response: withErrors({ 200: statusSchema }, [400, 401, 404, 503]),
      },
    },
    async (request) => {
      const { modid, cmdid } = request.params;
      // Registered instances are in the route too (docs/registry.md): served hosts, not only the configured ones.
      const [module, { hosts }, rows] = await Promise.all([
        ctx.routes.findModule(modid, cmdid),
        ctx.routes.listServedHosts({ modid, cmdid }),
        ctx.status.list({ modid, cmdid }),
      ]);
      if (!module) throw noSuchModule(request.params);
      const callers = new Map<string, HostStatus[]>();
      for (const row of rows) {
        const list = callers.get(hostKey(row)) ?? [];
        list.push(row);
        callers.set(hostKey(row), list);
      }
      const now = ctx.now();
      const staleAfter = ctx.config.status_stale_after_s;
      const inRoute = new Set(hosts.map(hostKey));
      // Route hosts first (in route order), then hosts that still have reports but left the route.
      const entries = [
        ...hosts.map((h) => ({ ip: h.ip, port: h.port, inRoute: true })),
        ...[...callers.values()].filter((list) => !inRoute.has(hostKey(list[0]!))).map((list) => ({ ip: list[0]!.ip, port: list[0]!.port, inRoute: false })),
      ].map((host) => {
        const reports = callers.get(hostKey(host)) ?? [];
        return {
          ...host,
          health: summarizeHealth(reports, now, staleAfter),
          callers: reports.map(({ caller, succ, err, overload, reportedAt, latencyMs, maxLatencyMs }) => ({ caller, succ, err, overload, reportedAt, latencyMs, maxLatencyMs })),
        };
      });
      const routeSamples = entries.filter((e) => e.inRoute && e.callers.length > 0).map((e) => mergeSamples(e.callers));
      return { now, staleAfter, health: summarizeHealth(routeSamples, now, staleAfter), hosts: entries };
    },
  );

  app.get<{ Params: ModuleParams; Querystring: SeriesQuery }>(
    '/api/v1/modules/:modid/:cmdid/series',
    {
      config: { access: 'user' },
      schema: {
        summary: 'Success and error counts and mean and longest call duration per host over the last hour, day or week (buckets of 1 min, 5 min, 1 h)',
        params: moduleParams,
        querystring: seriesQuery,
        response: withErrors({ 200: seriesSchema }, [400, 401, 404, 503]),
      },
    },
    async (request) => {
      const { modid, cmdid } = request.params;
      if (!(await ctx.routes.findModule(modid, cmdid))) throw noSuchModule(request.params);
      const to = ctx.now();
      const from = to - SERIES_RANGES[request.query.range];
      const { bucketSeconds, points } = await ctx.status.series({ modid, cmdid, from, to });
      return { from, to, bucketSeconds, points };
    },
  );
}
