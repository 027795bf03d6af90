/**
 * Who is calling, and may they. Every route declares `config.access`:
 * public, user (any logged-in user) or admin. One onRequest hook, before the
 * body is even read, authenticates (Bearer API token, else the session
 * cookie; 401 without either), enforces CSRF on every state-changing request
 * made with a session (403 without the session's X-CSRF-Token) and the role
 * (403). A Bearer token needs no CSRF token: a browser never sends one by itself.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UserRef, Users } from '../store/users.js';
import { HttpError } from './errors.js';

export type Access = 'public' | 'user' | 'admin';

export interface Principal {
  user: UserRef;
  via: 'session' | 'token';
  /** Session logins: the cookie value, the CSRF token and the expiry (unix seconds). */
  session?: { id: string; csrfToken: string; expiresAt: number };
  tokenId?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

export const SESSION_COOKIE = 'lars_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CHALLENGE = { 'www-authenticate': 'Bearer realm="lars"' };

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function authenticate(request: FastifyRequest, users: Users): Promise<Principal> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    // A request that names a token is judged by it alone, never by a cookie riding along.
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (!token) throw new HttpError(401, 'the Authorization header must be "Bearer <token>"', CHALLENGE);
    const found = await users.findToken(token);
    if (!found) throw new HttpError(401, 'unknown or revoked API token', CHALLENGE);
    return { user: found.user, via: 'token', tokenId: found.id };
  }
  const id = request.cookies[SESSION_COOKIE];
  if (!id) throw new HttpError(401, 'log in first (POST /api/v1/session) or send Authorization: Bearer <token>', CHALLENGE);
  const session = await users.findSession(id);
  if (!session) throw new HttpError(401, 'the session has expired or was ended; log in again', CHALLENGE);
  return { user: session.user, via: 'session', session: { id, csrfToken: session.csrfToken, expiresAt: session.expiresAt } };
}

export function accessHook(users: Users) {
  return async (request: FastifyRequest): Promise<void> => {
    const access = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    const principal = await authenticate(request, users);
    if (principal.session && !SAFE_METHODS.has(request.method)) {
      const given = request.headers[CSRF_HEADER];
      if (typeof given !== 'string' || !sameSecret(given, principal.session.csrfToken)) {
        throw new HttpError(403, 'missing or wrong X-CSRF-Token header (it comes with the login answer and GET /api/v1/session)');
      }
    }
    if (access === 'admin' && principal.user.role !== 'admin') {
      throw new HttpError(403, `user ${principal.user.name} has the ${principal.user.role} role; this needs admin`);
    }
    request.principal = principal;
  };
}

/** The caller of a route whose access is not public. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.routeOptions.url} reads the principal but is public`);
  return request.principal;
}

export function setSessionCookie(reply: FastifyReply, id: string, maxAgeSeconds: number, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: maxAgeSeconds });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure, path: '/' });
}
