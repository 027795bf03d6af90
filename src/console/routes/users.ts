/**
 * Console accounts, for admins: list, add, change the role, reset the
 * password (which ends that user's sessions), delete (with their sessions
 * and tokens); and the audit trail of sign-ins and account changes. The same rules as `lars user` (src/store/users.ts): the last
 * admin stays an admin; an admin does not delete their own account here.
 */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth.js';
import type { ConsoleContext } from '../context.js';
import { HttpError } from '../errors.js';
import {
  auditListSchema,
  auditQuery,
  newUserBody,
  userInfoSchema,
  userListSchema,
  userParams,
  userPatchBody,
  withErrors,
  type AuditQuery,
  type NewUserBody,
  type UserParams,
  type UserPatchBody,
} from '../schemas.js';

const USER = '/api/v1/users/:name';

export function registerUserRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Querystring: AuditQuery }>(
    '/api/v1/audit',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'The audit trail, newest first: sign-ins (also failed and throttled ones), sign-outs, API tokens, account changes; page with ?before=<oldest id seen>',
        querystring: auditQuery,
        response: withErrors({ 200: auditListSchema }, [400, 401, 403, 503]),
      },
    },
    async (request) => ({ events: await ctx.audit.list({ limit: request.query.limit, before: request.query.before }) }),
  );

  app.get(
    '/api/v1/users',
    { config: { access: 'admin' }, schema: { summary: 'Every console account, by name', response: withErrors({ 200: userListSchema }, [401, 403, 503]) } },
    async () => ({ users: await ctx.users.list() }),
  );

  app.post<{ Body: NewUserBody }>(
    '/api/v1/users',
    { config: { access: 'admin' }, schema: { summary: 'Add an account (409 when the name is taken)', body: newUserBody, response: withErrors({ 201: userInfoSchema }) } },
    async (request, reply) => {
      const { username, role, password } = request.body;
      const user = await ctx.users.add({ name: username, role, password });
      ctx.logger.info('user_added', { user: user.name, role: user.role, by: principalOf(request).user.name });
      await ctx.audit.record({ kind: 'user_added', actor: principalOf(request).user.name, subject: user.name, address: request.ip, detail: `role ${user.role}` });
      return reply.code(201).send(user);
    },
  );

  app.patch<{ Params: UserParams; Body: UserPatchBody }>(
    USER,
    {
      config: { access: 'admin' },
      schema: { summary: "Change an account's role, reset its password (ending its sessions), disable or enable it", params: userParams, body: userPatchBody, response: withErrors({ 200: userInfoSchema }) },
    },
    async (request) => {
      const { name } = request.params;
      const by = principalOf(request).user.name;
      if (request.body.password !== undefined) {
        await ctx.users.setPassword(name, request.body.password);
        ctx.logger.info('user_password_reset', { user: name, by });
        await ctx.audit.record({ kind: 'user_password_reset', actor: by, subject: name, address: request.ip, detail: 'sessions ended' });
      }
      if (request.body.disabled !== undefined) {
        if (request.body.disabled && name === by) throw new HttpError(409, 'you cannot disable your own account; another admin can, or lars user disable');
        await ctx.users.setDisabled(name, request.body.disabled);
        ctx.logger.info(request.body.disabled ? 'user_disabled' : 'user_enabled', { user: name, by });
        await ctx.audit.record({ kind: request.body.disabled ? 'user_disabled' : 'user_enabled', actor: by, subject: name, address: request.ip });
      }
      if (request.body.role !== undefined) {
        await ctx.users.setRole(name, request.body.role);
        ctx.logger.info('user_role_changed', { user: name, role: request.body.role, by });
        await ctx.audit.record({ kind: 'user_role_changed', actor: by, subject: name, address: request.ip, detail: `role ${request.body.role}` });
      }
      const user = await ctx.users.find(name);
      if (!user) throw new HttpError(404, `user ${name} does not exist`);
      return user;
    },
  );

  app.delete<{ Params: UserParams }>(
    USER,
    { config: { access: 'admin' }, schema: { summary: 'Delete an account with its sessions and API tokens', params: userParams, response: withErrors({ 204: { type: 'null' } }) } },
    async (request, reply) => {
      const { name } = request.params;
      const by = principalOf(request).user.name;
      if (name === by) throw new HttpError(409, 'you cannot delete your own account here; another admin can, or lars user del');
      await ctx.users.delete(name);
      ctx.logger.info('user_deleted', { user: name, by });
      await ctx.audit.record({ kind: 'user_deleted', actor: by, subject: name, address: request.ip });
      return reply.code(204).send();
    },
  );
}
