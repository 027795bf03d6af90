/**
 * The OpenAPI 3.1 document of the console's API, built from the routes
 * themselves (their JSON schemas and access levels) as they are registered,
 * so it cannot drift from what the server checks.
 */
import type { RouteOptions } from 'fastify';
import type { Access } from './auth.js';

declare module 'fastify' {
  interface FastifySchema {
    /** One line for the OpenAPI document. */
    summary?: string;
    /** Leave the route out of the OpenAPI document (pages, assets). */
    hide?: boolean;
  }
}

interface RouteSchema {
  summary?: string;
  hide?: boolean;
  params?: { properties?: Record<string, object> };
  querystring?: { properties?: Record<string, object>; required?: string[] };
  body?: object;
  response?: Record<string, { type?: unknown; description?: string }>;
}

interface Operation {
  method: string;
  path: string;
  access: Access;
  schema: RouteSchema;
}

const STATUS_TEXT: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No content',
  400: 'Bad input; `field` names the offending field',
  401: 'Not logged in, or the token is unknown or revoked',
  403: "Missing or wrong X-CSRF-Token (session requests), or the role (an editor's grants) does not allow it",
  404: 'No such module, host or token',
  409: 'Already exists',
  429: 'Too many failed logins; see Retry-After',
  503: 'The store is unavailable; nothing was changed',
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const ACCESS_NOTES: Record<Exclude<Access, 'public'>, string> = {
  user: 'Needs a logged-in user (any role).',
  'module-write': 'Needs the admin role, or the editor role with a grant of this modid:cmdid (or of every cmdid of the modid).',
  admin: 'Needs the admin role.',
};

function responseEntry(status: string, schema: { type?: unknown; description?: string }): object {
  const description = schema.description ?? STATUS_TEXT[status] ?? 'Response';
  if (schema.type === 'null') return { description };
  const mediaType = schema.type === 'string' ? 'text/plain' : 'application/json';
  return { description, content: { [mediaType]: { schema } } };
}

function operationOf(op: Operation): object {
  const { schema } = op;
  const parameters = [
    ...Object.entries(schema.params?.properties ?? {}).map(([name, s]) => ({ name, in: 'path', required: true, schema: s })),
    ...Object.entries(schema.querystring?.properties ?? {}).map(([name, s]) => ({
      name,
      in: 'query',
      required: schema.querystring?.required?.includes(name) ?? false,
      schema: s,
    })),
  ];
  const notes: string[] = [];
  if (op.access !== 'public') notes.push(ACCESS_NOTES[op.access]);
  if (op.access !== 'public' && !SAFE_METHODS.has(op.method)) notes.push('Session requests must send X-CSRF-Token; Bearer requests need not.');
  return {
    summary: schema.summary,
    ...(notes.length > 0 ? { description: notes.join(' ') } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(schema.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema.body } } } } : {}),
    responses: Object.fromEntries(Object.entries(schema.response ?? {}).map(([status, s]) => [status, responseEntry(status, s)])),
    security: op.access === 'public' ? [] : [{ session: [] }, { bearer: [] }],
  };
}

export class ApiCatalog {
  private readonly operations: Operation[] = [];

  /** Call from an onRoute hook; routes whose schema says hide (pages, assets) stay out. */
  record(route: RouteOptions): void {
    const schema = (route.schema ?? {}) as RouteSchema;
    if (schema.hide) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      this.operations.push({
        method,
        path: route.url.replace(/:(\w+)/g, '{$1}'),
        access: (route.config as { access?: Access } | undefined)?.access ?? 'public',
        schema,
      });
    }
  }

  document(version: string): object {
    const paths: Record<string, Record<string, object>> = {};
    for (const op of this.operations) (paths[op.path] ??= {})[op.method.toLowerCase()] = operationOf(op);
    return {
      openapi: '3.1.0',
      info: {
        title: 'Lars console API',
        version,
        description:
          'Log in with POST /api/v1/session (sets an HttpOnly cookie, returns csrfToken for X-CSRF-Token), or create an API token with POST /api/v1/tokens and send it as Authorization: Bearer. Errors are {"error": "...", "field"?: "..."}.',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'lars_session' },
          bearer: { type: 'http', scheme: 'bearer', description: 'an API token from POST /api/v1/tokens' },
        },
      },
      paths,
    };
  }
}
