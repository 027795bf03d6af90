/**
 * Console accounts, for admins: list, add, change the role, reset the
 * password (which ends that user's sessions), grant and take back the
 * modules an editor may change, delete (with their grants, sessions and
 * tokens); and the audit trail of sign-ins and account changes. The same
 * rules as `lars user` (src/store/users.ts): the last admin stays an admin;
 * an admin does not delete their own account here.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EVERY_CMDID, grantText } from '../../store/grants.js';
import { principalOf } from '../auth.js';
import type { ConsoleContext } from '../context.js';
import { HttpError } from '../errors.js';
import {
  auditListSchema,
  auditQuery,
  grantParams,
  newUserBody,
  userInfoSchema,
  userListSchema,
  userParams,
  userPatchBody,
  withErrors,
  type AuditQuery,
  type GrantParams,
  type NewUserBody,
  type UserParams,
  type UserPatchBody,
} from '../schemas.js';

const USER = '/api/v1/users/:name';
const GRANT = `${USER}/grants/:modid/:cmdid`;

export function registerUserRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const account = async (name: string) => {
    const user = await ctx.users.find(name);
    if (!user) throw new HttpError(404, `user ${name} does not exist`);
    return user;
  };

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
    { config: { access: 'admin' }, schema: { summary: 'Every console account, by name, with its grants', response: withErrors({ 200: userListSchema }, [401, 403, 503]) } },
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
      return account(name);
    },
  );

  for (const granting of [true, false]) {
    const handler = async (request: FastifyRequest<{ Params: GrantParams }>) => {
      const { name, modid } = request.params;
      const grant = { modid, cmdid: request.params.cmdid === EVERY_CMDID ? null : request.params.cmdid };
      const by = principalOf(request).user.name;
      if (granting) {
        // A grant held already changes nothing, so nothing is recorded.
        if (!(await ctx.users.grant(name, grant))) return account(name);
      } else await ctx.users.revoke(name, grant);
      const kind = granting ? 'user_granted' : 'user_ungranted';
      ctx.logger.info(kind, { user: name, grant: grantText(grant), by });
      await ctx.audit.record({ kind, actor: by, subject: name, address: request.ip, detail: `grant ${grantText(grant)}` });
      return account(name);
    };
    const options = {
      config: { access: 'admin' as const },
      schema: {
        summary: granting
          ? `Let an account change a module (cmdid ${EVERY_CMDID}: every cmdid of the modid); it applies while the account is an editor. Granting one held already changes nothing`
          : 'Take back a grant exactly as it was given (404 when the account does not hold it)',
        params: grantParams,
        response: withErrors({ 200: userInfoSchema }),
      },
    };
    if (granting) app.put<{ Params: GrantParams }>(GRANT, options, handler);
    else app.delete<{ Params: GrantParams }>(GRANT, options, handler);
  }

  app.delete<{ Params: UserParams }>(
    USER,
    { config: { access: 'admin' }, schema: { summary: 'Delete an account with its grants, sessions and API tokens', params: userParams, response: withErrors({ 204: { type: 'null' } }) } },
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
