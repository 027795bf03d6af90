/**
 * Who is connected (docs/console.md, "Connected"): every live dns with what
 * it serves and to which agents (its report, written with each liveness
 * beat), and every agent host that reports calls, from the store.
 */
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../context.js';
import { connectionsSchema, withErrors } from '../schemas.js';

export function registerConnectionRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    '/api/v1/connections',
    {
      config: { access: 'user' },
      schema: {
        summary: 'Every live dns with its subscribed agents (address, routes, last push) and route version, and every agent host that reports calls',
        response: withErrors({ 200: connectionsSchema }, [401, 503]),
      },
    },
    async () => {
      const [version, dns, callers] = await Promise.all([ctx.routes.version(), ctx.registry.nodeViews(), ctx.status.callers()]);
      return { now: ctx.now(), version, dns, callers };
    },
  );
}
