/** Log in (POST), who am I (GET), log out (DELETE): /api/v1/session. */
import type { FastifyInstance } from 'fastify';
import { clearSessionCookie, principalOf, setSessionCookie } from '../auth.js';
import type { ConsoleContext } from '../context.js';
import { HttpError } from '../errors.js';
import { loginBody, sessionSchema, withErrors, type LoginBody } from '../schemas.js';
import { AccountDisabledError } from '../../store/users.js';

export function registerSessionRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const logins = ctx.metrics.counter('lars_console_logins_total', 'console logins that succeeded');
  const failures = ctx.metrics.counter('lars_console_login_failures_total', 'console logins refused (wrong credentials, throttled, or a disabled account)');
  const ttlSeconds = ctx.config.session_ttl_hours * 3600;

  app.post<{ Body: LoginBody }>(
    '/api/v1/session',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Log in: sets the session cookie and returns the CSRF token',
        body: loginBody,
        response: withErrors({ 200: sessionSchema }, [400, 401, 403, 429, 503]),
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const address = request.ip;
      const waitMs = ctx.throttle.retryAfterMs(username, address);
      if (waitMs > 0) {
        failures.inc(1, { reason: 'throttled' });
        await ctx.audit.record({ kind: 'login_throttled', actor: null, subject: (await ctx.users.exists(username)) ? username : null, address });
        const seconds = Math.ceil(waitMs / 1000);
        throw new HttpError(429, `too many failed logins; try again in ${seconds} s`, { 'retry-after': String(seconds) });
      }
      const user = await ctx.users.authenticate(username, password).catch(async (err: unknown) => {
        if (!(err instanceof AccountDisabledError)) throw err;
        failures.inc(1, { reason: 'disabled' });
        ctx.logger.warn('login_failed', { address, reason: 'disabled' });
        await ctx.audit.record({ kind: 'login_failed', actor: null, subject: err.user, address, detail: 'account disabled' });
        throw new HttpError(403, err.message);
      });
      if (!user) {
        ctx.throttle.recordFailure(username, address);
        failures.inc(1, { reason: 'credentials' });
        // The attempted name is not logged: people type passwords into the name field. The audit names an existing account only.
        ctx.logger.warn('login_failed', { address });
        await ctx.audit.record({ kind: 'login_failed', actor: null, subject: (await ctx.users.exists(username)) ? username : null, address, detail: 'wrong user name or password' });
        throw new HttpError(401, 'wrong user name or password');
      }
      await ctx.users.pruneSessions();
      await ctx.audit.prune(ctx.config.audit_retention_days * 86_400);
      const session = await ctx.users.createSession(user, ttlSeconds);
      setSessionCookie(reply, session.id, ttlSeconds, ctx.secureCookies);
      // From here the request acted as this user (the request log names them).
      request.principal = { user, via: 'session', session: { id: session.id, csrfToken: session.csrfToken, expiresAt: session.expiresAt } };
      logins.inc();
      ctx.logger.info('login', { user: user.name, address });
      await ctx.audit.record({ kind: 'login', actor: user.name, subject: user.name, address });
      return { user, via: 'session', csrfToken: session.csrfToken, expiresAt: session.expiresAt };
    },
  );

  app.get(
    '/api/v1/session',
    {
      config: { access: 'user' },
      schema: { summary: 'The caller: user, role, what an editor may change, and (for sessions) the CSRF token', response: withErrors({ 200: sessionSchema }, [401, 503]) },
    },
    async (request) => {
      const principal = principalOf(request);
      return { user: principal.user, via: principal.via, csrfToken: principal.session?.csrfToken, expiresAt: principal.session?.expiresAt };
    },
  );

  app.delete(
    '/api/v1/session',
    {
      config: { access: 'user' },
      schema: { summary: 'Log out: ends the session', response: withErrors({ 204: { type: 'null', description: 'logged out' } }, [400, 401, 403, 503]) },
    },
    async (request, reply) => {
      const { session, user } = principalOf(request);
      if (!session) throw new HttpError(400, 'an API token has no session to end; revoke it with DELETE /api/v1/tokens/{id}');
      await ctx.users.deleteSession(session.id);
      clearSessionCookie(reply, ctx.secureCookies);
      ctx.logger.info('logout', { user: user.name });
      await ctx.audit.record({ kind: 'logout', actor: user.name, subject: user.name, address: request.ip });
      return reply.code(204).send();
    },
  );
}
