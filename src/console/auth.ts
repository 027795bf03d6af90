/**
 * Who is calling, and may they. Every route declares `config.access`:
 * public, user (any logged-in user), module-write (an edit of one module:
 * admin, or an editor granted that module; docs/console.md, "Roles") or
 * admin. One onRequest hook, before the body is even read, authenticates
 * (Bearer API token, else the session cookie; 401 without either), enforces
 * CSRF on every state-changing request made with a session (403 without the
 * session's X-CSRF-Token) and the role (403). A Bearer token needs no CSRF
 * token: a browser never sends one by itself. A module-write route names its
 * module in the path, or in the body when it creates the module; the body is
 * read only after onRequest, so the grant is checked by a preHandler, once
 * the schema has made modid and cmdid integers.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { grantText, mayChangeModule } from '../store/grants.js';
import type { UserRef, Users } from '../store/users.js';
import type { ModuleKey } from '../store/validate.js';
import { HttpError } from './errors.js';

export type Access = 'public' | 'user' | 'module-write' | 'admin';

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
    const { user } = principal;
    if (access === 'admin' && user.role !== 'admin') throw new HttpError(403, `user ${user.name} has the ${user.role} role; this needs admin`);
    if (access === 'module-write' && user.role !== 'admin' && user.role !== 'editor') {
      throw new HttpError(403, `user ${user.name} has the ${user.role} role; this needs admin, or editor with a grant of the module`);
    }
    request.principal = principal;
  };
}

/** Where a module-write route names its module: the path, else (a module being created) the body. */
function moduleSource(schema: FastifySchema | undefined): 'params' | 'body' | undefined {
  const names = (part: unknown) => ['modid', 'cmdid'].every((key) => (part as { required?: string[] } | undefined)?.required?.includes(key));
  if (names(schema?.params)) return 'params';
  return names(schema?.body) ? 'body' : undefined;
}

/** Registration-time check: a module-write route whose schema names no module could not be judged. */
export function checkModuleWriteRoute(url: string, schema: FastifySchema | undefined): void {
  if (moduleSource(schema) === undefined) throw new Error(`console route ${url} is module-write, but neither its params nor its body schema requires modid and cmdid`);
}

/** "module 7:*", "modules 7:* and 8:1", "modules 7:*, 8:1 and 9:2". */
function grantList(user: UserRef): string {
  const texts = user.grants.map(grantText);
  if (texts.length === 0) return 'no module yet';
  const last = texts.pop()!;
  return texts.length === 0 ? `module ${last}` : `modules ${texts.join(', ')} and ${last}`;
}

/** The preHandler of module-write routes: admin passes, an editor only on a module its grants cover (other roles were refused on request). */
export async function moduleWriteHook(request: FastifyRequest): Promise<void> {
  if (request.routeOptions.config.access !== 'module-write') return;
  const { user } = principalOf(request);
  const source = request[moduleSource(request.routeOptions.schema)!] as ModuleKey;
  const module = { modid: source.modid, cmdid: source.cmdid };
  if (!mayChangeModule(user, module)) {
    throw new HttpError(403, `user ${user.name} (${user.role}) may change ${grantList(user)}; not ${module.modid}:${module.cmdid}`);
  }
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
