/**
 * API tokens for scripts: list, create (the secret is in that answer only),
 * revoke. A token acts as its user with the user's current role. Admins see
 * and revoke every token; other users their own.
 */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth.js';
import type { ConsoleContext } from '../context.js';
import { newTokenSchema, tokenBody, tokenListSchema, tokenParams, tokenSchema, withErrors, type TokenBody, type TokenParams } from '../schemas.js';

export function registerTokenRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const ownerFilter = (request: Parameters<typeof principalOf>[0]) => {
    const { user } = principalOf(request);
    return user.role === 'admin' ? undefined : user.name;
  };

  app.get(
    '/api/v1/tokens',
    {
      config: { access: 'user' },
      schema: { summary: "API tokens (admins: everyone's), newest first", response: withErrors({ 200: tokenListSchema }, [401, 503]) },
    },
    async (request) => ({ tokens: await ctx.users.listTokens(ownerFilter(request)) }),
  );

  app.post<{ Body: TokenBody }>(
    '/api/v1/tokens',
    {
      config: { access: 'user' },
      schema: {
        summary: 'Create an API token for the caller; use it as Authorization: Bearer <token>',
        body: tokenBody,
        response: withErrors({ 201: newTokenSchema }, [400, 401, 403, 503]),
      },
    },
    async (request, reply) => {
      const { user } = principalOf(request);
      const { name, expiresInDays, scope } = request.body;
      const token = await ctx.users.createToken(user.name, name, { expiresInDays, scope });
      ctx.logger.info('token_created', { user: user.name, token: token.id, scope: token.scope, expiresAt: token.expiresAt ?? 'never' });
      const lifetime = token.expiresAt === null ? 'until revoked' : `expires ${new Date(token.expiresAt * 1000).toISOString()}`;
      await ctx.audit.record({ kind: 'token_created', actor: user.name, subject: token.name, address: request.ip, detail: `token ${token.id}, scope ${token.scope}, ${lifetime}` });
      return reply.code(201).send(token);
    },
  );

  app.delete<{ Params: TokenParams }>(
    '/api/v1/tokens/:id',
    {
      config: { access: 'user' },
      schema: { summary: 'Revoke an API token', params: tokenParams, response: withErrors({ 200: tokenSchema }, [400, 401, 403, 404, 503]) },
    },
    async (request) => {
      const token = await ctx.users.revokeToken(request.params.id, ownerFilter(request));
      ctx.logger.info('token_revoked', { user: principalOf(request).user.name, token: token.id });
      await ctx.audit.record({ kind: 'token_revoked', actor: principalOf(request).user.name, subject: token.name, address: request.ip, detail: `token ${token.id} of ${token.user}` });
      return token;
    },
  );
}
