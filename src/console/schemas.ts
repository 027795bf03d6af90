/**
 * JSON schemas shared by the API routes, with the TypeScript shape each one
 * validates. fastify checks requests against them (a failure is a 400 naming
 * the field), serializes responses with them, and the OpenAPI document is
 * built from them. Limits come from the store's own validation.
 */
import { STRATEGY_NAMES } from '../balancer/types.js';
import { AUDIT_KINDS } from '../store/audit.js';
import { ROUTE_DOCUMENT_FORMAT, ROUTE_DOCUMENT_VERSION } from '../store/route-document.js';
import { DEFAULT_STRATEGY, LIMITS } from '../store/validate.js';
import { EVERY_CMDID } from '../store/grants.js';
import { ROLES, TOKEN_MAX_DAYS, TOKEN_SCOPES, USER_LIMITS, type Role } from '../store/users.js';

export const int32 = { type: 'integer', minimum: LIMITS.idMin, maximum: LIMITS.idMax } as const;
const port = { type: 'integer', minimum: LIMITS.portMin, maximum: LIMITS.portMax } as const;
const weight = { type: 'integer', minimum: LIMITS.weightMin, maximum: LIMITS.weightMax } as const;
const ipv4 = { type: 'string', format: 'ipv4', description: 'dotted IPv4 address' } as const;
const unixSeconds = { type: 'integer', description: 'unix seconds' } as const;
const description = { type: 'string', maxLength: LIMITS.descriptionMax } as const;
const AGENTS_OWN = "each agent's own [loadbalance] strategy";
/** A module's strategy as an edit gives it (RouteAdmin checks it again). */
const strategy = {
  enum: [...STRATEGY_NAMES, DEFAULT_STRATEGY, null],
  description: `the balancing strategy every agent runs for this route; "${DEFAULT_STRATEGY}" or null: ${AGENTS_OWN}`,
} as const;
const storedStrategy = { type: ['string', 'null'], description: `the balancing strategy every agent runs for this route; null: ${AGENTS_OWN}` } as const;

/** A closed object: every listed property required unless named optional; unknown properties are refused. */
export function object(properties: Record<string, object>, optional: readonly string[] = []) {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: false,
  } as const;
}

const arrayOf = (items: object) => ({ type: 'array', items }) as const;

export const errorSchema = {
  type: 'object',
  description: 'what went wrong; field names the offending input field',
  properties: { error: { type: 'string' }, field: { type: 'string' } },
  required: ['error'],
} as const;

/** The error answers every API route may give (the route adds its own success responses). */
export function withErrors(success: Record<number, object>, errors: readonly number[] = [400, 401, 403, 404, 409, 429, 503]) {
  return { ...success, ...Object.fromEntries(errors.map((status) => [status, errorSchema])) };
}

// ---------------------------------------------------------------- params and bodies

export interface ModuleParams {
  modid: number;
  cmdid: number;
}
export const moduleParams = object({ modid: int32, cmdid: int32 });

export interface HostParams extends ModuleParams {
  ip: string;
  port: number;
}
export const hostParams = object({ modid: int32, cmdid: int32, ip: ipv4, port });

export interface ModuleBody {
  modid: number;
  cmdid: number;
  description?: string;
  strategy?: string | null;
}
export const moduleBody = object({ modid: int32, cmdid: int32, description, strategy }, ['description', 'strategy']);

/** At least one of them (RouteAdmin.updateModule says so otherwise). */
export interface ModulePatchBody {
  description?: string;
  strategy?: string | null;
}
export const modulePatchBody = object({ description, strategy }, ['description', 'strategy']);

export interface HostBody {
  ip: string;
  port: number;
  weight?: number;
}
export const hostBody = object({ ip: ipv4, port, weight }, ['weight']);

export interface HostPatchBody {
  weight: number;
}
export const hostPatchBody = object({ weight });

export interface LoginBody {
  username: string;
  password: string;
}
export const loginBody = object({
  username: { type: 'string', minLength: 1, maxLength: USER_LIMITS.nameMax },
  password: { type: 'string', minLength: 1, maxLength: USER_LIMITS.passwordMax },
});

export interface TokenBody {
  name: string;
  expiresInDays?: number | null;
  scope?: 'full' | 'read';
}
export const tokenBody = object(
  {
    name: { type: 'string', minLength: 1, maxLength: USER_LIMITS.tokenNameMax },
    expiresInDays: { type: ['integer', 'null'], minimum: 1, maximum: TOKEN_MAX_DAYS, description: 'the token stops working after this many days; null or absent: until revoked' },
    scope: { type: 'string', enum: [...TOKEN_SCOPES], description: 'full: acts with its user\'s role; read: reads only (as a viewer)' },
  },
  ['expiresInDays', 'scope'],
);

export interface TokenParams {
  id: number;
}
export const tokenParams = object({ id: { type: 'integer', minimum: 1 } });

export interface ChangesQuery {
  limit: number;
  before?: number;
}
export const changesQuery = object(
  {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    before: { type: 'integer', minimum: 1, description: 'only changes older than this version (paging)' },
  },
  ['limit', 'before'],
);

export const SERIES_RANGES = { hour: 3600, day: 86_400, week: 7 * 86_400 } as const;
export type SeriesRange = keyof typeof SERIES_RANGES;
export interface SeriesQuery {
  range: SeriesRange;
}
export const seriesQuery = object({ range: { type: 'string', enum: Object.keys(SERIES_RANGES), default: 'hour' } }, ['range']);

// ---------------------------------------------------------------- responses

const roleSchema = { type: 'string', enum: [...ROLES], description: 'admin: everything; editor: the modules of its grants; viewer: reads only' } as const;
/** A module an editor may change (docs/console.md, "Roles"). */
const grantSchema = object({ modid: int32, cmdid: { type: ['integer', 'null'], minimum: LIMITS.idMin, maximum: LIMITS.idMax, description: 'null: every cmdid of the modid' } });
export const userSchema = object({
  name: { type: 'string' },
  role: roleSchema,
  grants: { ...arrayOf(grantSchema), description: 'the modules this caller may change as an editor; empty for every other role and for a read-only token' },
});

const userName = { type: 'string', minLength: 1, maxLength: USER_LIMITS.nameMax } as const;
export interface UserParams {
  name: string;
}
export const userParams = object({ name: userName });

export interface GrantParams extends UserParams {
  modid: number;
  /** "*": every cmdid of the modid. */
  cmdid: number | typeof EVERY_CMDID;
}
export const grantParams = object({
  name: userName,
  modid: int32,
  cmdid: { anyOf: [int32, { type: 'string', enum: [EVERY_CMDID] }], description: `a cmdid, or ${EVERY_CMDID} for every cmdid of the modid` },
});

export interface NewUserBody {
  username: string;
  role: Role;
  password: string;
}
/** Users checks the name's characters and the password's length again, naming the field (as login does: username). */
export const newUserBody = object({
  username: { type: 'string', minLength: 1, maxLength: USER_LIMITS.nameMax },
  role: roleSchema,
  password: { type: 'string', minLength: 1, maxLength: USER_LIMITS.passwordMax },
});
export interface UserPatchBody {
  role?: Role;
  password?: string;
  disabled?: boolean;
}
export const userPatchBody = {
  ...object(
    { role: roleSchema, password: { type: 'string', minLength: 1, maxLength: USER_LIMITS.passwordMax }, disabled: { type: 'boolean', description: 'true: may not sign in, sessions ended, tokens refused' } },
    ['role', 'password', 'disabled'],
  ),
  minProperties: 1,
} as const;
export const userInfoSchema = object({
  name: { type: 'string' },
  role: roleSchema,
  createdAt: unixSeconds,
  updatedAt: unixSeconds,
  disabled: { type: 'boolean' },
  grants: { ...arrayOf(grantSchema), description: 'the modules it may change, kept whatever the role; they apply while the role is editor' },
});
export const userListSchema = object({ users: arrayOf(userInfoSchema) });

export const connectionsSchema = object({
  now: unixSeconds,
  version: { type: 'integer', description: 'the store\'s route version now' },
  dns: arrayOf(
    object(
      {
        nodeId: { type: 'string' },
        address: { type: 'string' },
        startedAt: unixSeconds,
        heartbeatAt: unixSeconds,
        beats: { type: 'integer' },
        report: {
          type: ['object', 'null'],
          properties: {
            routeVersion: { type: 'integer', description: 'the route version it serves; the store\'s minus this is its lag' },
            connections: { type: 'integer' },
            subscribedRoutes: { type: 'integer' },
            peers: arrayOf(object({ address: { type: 'string' }, since: unixSeconds, routes: { type: 'integer' }, lastPushAt: { type: ['integer', 'null'] } })),
            morePeers: { type: 'integer' },
          },
          required: ['routeVersion', 'connections', 'subscribedRoutes', 'peers', 'morePeers'],
        },
      },
    ),
  ),
  callers: arrayOf(object({ caller: ipv4, hosts: { type: 'integer' }, routes: { type: 'integer' }, lastReportAt: unixSeconds })),
});

export interface AuditQuery {
  limit: number;
  before?: number;
}
export const auditQuery = object(
  { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, before: { type: 'integer', minimum: 1, description: 'only events older than this id (paging)' } },
  ['limit', 'before'],
);
export const auditListSchema = object({
  events: arrayOf(
    object({
      id: { type: 'integer' },
      at: unixSeconds,
      kind: { type: 'string', enum: [...AUDIT_KINDS] },
      actor: { type: ['string', 'null'], description: 'who did it; null for a failed sign-in' },
      subject: { type: ['string', 'null'], description: 'the account or token it was about; a failed sign-in names an existing account only' },
      address: { type: ['string', 'null'] },
      detail: { type: 'string' },
    }),
  ),
});

export const sessionSchema = object(
  {
    user: userSchema,
    via: { type: 'string', enum: ['session', 'token'] },
    csrfToken: { type: 'string', description: 'send back in X-CSRF-Token on every state-changing request (sessions only)' },
    expiresAt: unixSeconds,
  },
  ['csrfToken', 'expiresAt'],
);

export const healthSchema = object(
  {
    state: { type: 'string', enum: ['none', 'ok', 'degraded', 'down', 'stale'] },
    reporting: { type: 'integer', description: 'hosts (or callers) with a status report' },
    overloaded: { type: 'integer' },
    succ: { type: 'integer' },
    err: { type: 'integer' },
    lastReportAt: { type: ['integer', 'null'], description: 'unix seconds' },
  },
);

export const moduleSchema = object({
  modid: int32,
  cmdid: int32,
  description: { type: 'string' },
  strategy: storedStrategy,
  hosts: { type: 'integer' },
  createdAt: unixSeconds,
  updatedAt: unixSeconds,
  health: healthSchema,
});

export const moduleListSchema = object({ version: { type: 'integer' }, now: unixSeconds, modules: arrayOf(moduleSchema) });

export const hostSchema = object({
  ip: ipv4,
  port,
  weight,
  drained: { type: 'boolean', description: 'out of rotation for maintenance: dns serves weight 0, and weight waits for the undrain' },
  createdAt: unixSeconds,
  updatedAt: unixSeconds,
});

/** The export/import document (docs/store.md, "Export and import"); RouteAdmin checks an imported one again, naming the place of a problem. */
export const routeDocumentSchema = object(
  {
    format: { type: 'string', enum: [ROUTE_DOCUMENT_FORMAT] },
    formatVersion: { type: 'integer', enum: [ROUTE_DOCUMENT_VERSION] },
    version: { type: 'integer', description: 'the route version when exported; informative' },
    exportedAt: unixSeconds,
    modules: arrayOf(
      object(
        { modid: int32, cmdid: int32, description, strategy, hosts: arrayOf(object({ ip: ipv4, port, weight, drained: { type: 'boolean' } }, ['weight', 'drained'])) },
        ['description', 'strategy', 'hosts'],
      ),
    ),
  },
  ['version', 'exportedAt'],
);

export interface ImportQuery {
  dryRun: boolean;
  prune: boolean;
}
export const importQuery = object(
  {
    dryRun: { type: 'boolean', default: false, description: 'plan only: answer with the edits an import would make, write nothing' },
    prune: { type: 'boolean', default: false, description: 'also remove hosts of the listed modules that the document does not list' },
  },
  ['dryRun', 'prune'],
);

export const importResultSchema = object({
  dryRun: { type: 'boolean' },
  version: { type: 'integer', description: 'the route version after the import (before it, in a dry run)' },
  edits: arrayOf(object({ action: { type: 'string' }, modid: int32, cmdid: int32, detail: { type: 'string' } })),
});

export const routeSchema = object({
  version: { type: 'integer' },
  module: object({ modid: int32, cmdid: int32, description: { type: 'string' }, strategy: storedStrategy, createdAt: unixSeconds, updatedAt: unixSeconds }),
  hosts: arrayOf(hostSchema),
});

export const strategyListSchema = object({
  strategies: { type: 'array', items: { type: 'string' }, description: `the names a module may give; "${DEFAULT_STRATEGY}" (or null) leaves it to ${AGENTS_OWN}` },
});

export const hostListSchema = object({ version: { type: 'integer' }, hosts: arrayOf(hostSchema) });

export interface HostSearchQuery {
  ip: string;
  port?: number;
}
export const hostSearchQuery = object({ ip: ipv4, port }, ['port']);
/** A host as dns serves it, found by its address in any module. */
export const foundHostListSchema = object({
  version: { type: 'integer' },
  hosts: arrayOf(
    object({
      modid: int32,
      cmdid: int32,
      ip: ipv4,
      port,
      weight,
      source: { type: 'string', enum: ['static', 'registered'] },
      lastHeartbeat: { type: ['integer', 'null'], description: 'unix seconds of a registered instance\'s last heartbeat; null for a configured host' },
    }),
  ),
});

const instanceLoad = {
  ...object({
    inFlight: { type: 'integer', description: 'calls being served' },
    connections: { type: 'integer' },
    cpuPermille: { type: 'integer', description: 'CPU time per wall time, per mille of one core' },
    score: { type: 'integer', description: "the server's own figure: 0 idle, 1000 at capacity" },
  }),
  type: ['object', 'null'],
  description: 'the load the server last reported; null before its first report',
} as const;

/** A registered instance (docs/registry.md). */
export const instanceSchema = object({
  ip: ipv4,
  port,
  weight: { ...weight, description: "the weight served: the operator's when set, else the registered one" },
  registeredWeight: weight,
  overrideWeight: { type: ['integer', 'null'], description: "the operator's weight (0: drained); null when none" },
  drained: { type: 'boolean', description: 'the weight served is 0' },
  shadowed: { type: 'boolean', description: 'a configured host at the same ip:port serves instead (dns leaves the instance out)' },
  ttl: { type: 'number', description: 'lease TTL, seconds' },
  lastHeartbeat: { ...unixSeconds, description: 'unix seconds; the store refreshes it coarsely ([registry] heartbeat_store_s)' },
  registeredAt: unixSeconds,
  owner: { type: 'string', description: 'the dns node holding the lease' },
  metadata: { type: 'object', additionalProperties: { type: 'string' } },
  load: instanceLoad,
});

export const instanceListSchema = object({ version: { type: 'integer' }, now: unixSeconds, instances: arrayOf(instanceSchema) });

/** What an edit answers: the new route version, plus what was edited. */
export const editSchema = object(
  {
    version: { type: 'integer' },
    module: object({ modid: int32, cmdid: int32, description, strategy: { ...storedStrategy, description: 'as the edit gave it' } }, ['description', 'strategy']),
    host: object({ ip: ipv4, port, weight }, ['weight']),
    instance: object({ ip: ipv4, port, weight: { ...weight, description: "the operator's weight; absent when removed" } }, ['weight']),
  },
  ['module', 'host', 'instance'],
);

/** Mean and longest call duration, ms, of the calls that reported one; null when none did (docs/reporter.md, "Call durations"). */
const latencyFields = {
  latencyMs: { type: ['number', 'null'], description: 'mean duration, ms, of the calls whose report carried one; null when none did' },
  maxLatencyMs: { type: ['number', 'null'], description: 'the longest of those calls, ms' },
};

export const callerStatusSchema = object({
  caller: ipv4,
  succ: { type: 'integer' },
  err: { type: 'integer' },
  overload: { type: 'boolean' },
  reportedAt: unixSeconds,
  ...latencyFields,
});

export const hostStatusSchema = object({
  ip: ipv4,
  port,
  inRoute: { type: 'boolean', description: 'false for a host that reported but is no longer in the route' },
  health: healthSchema,
  callers: arrayOf(callerStatusSchema),
});

export const statusSchema = object({ now: unixSeconds, staleAfter: { type: 'integer' }, health: healthSchema, hosts: arrayOf(hostStatusSchema) });

export const seriesSchema = object({
  from: unixSeconds,
  to: unixSeconds,
  bucketSeconds: { type: 'integer' },
  points: arrayOf(object({ ip: ipv4, port, bucket: unixSeconds, succ: { type: 'integer' }, err: { type: 'integer' }, ...latencyFields })),
});

export const changeSchema = object({
  version: { type: 'integer' },
  modid: int32,
  cmdid: int32,
  action: { type: 'string' },
  detail: { type: 'string' },
  actor: { type: ['string', 'null'] },
  changedAt: unixSeconds,
  revertible: { type: 'boolean', description: 'the module as this change left it is recorded: POST .../revert {"version"} puts it back' },
});

export interface RevertBody {
  version: number;
  dryRun?: boolean;
}
export const revertBody = object({ version: { type: 'integer', minimum: 1 }, dryRun: { type: 'boolean' } }, ['dryRun']);
export const revertResultSchema = object({
  ...importResultSchema.properties,
  revertedTo: { type: 'integer', description: 'the version whose recorded state was applied: the newest recorded at or before the one asked for' },
});

export const changeListSchema = object({ version: { type: 'integer' }, changes: arrayOf(changeSchema) });

export const tokenSchema = object({
  id: { type: 'integer' },
  name: { type: 'string' },
  user: { type: 'string' },
  createdAt: unixSeconds,
  revokedAt: { type: ['integer', 'null'] },
  expiresAt: { type: ['integer', 'null'], description: 'unix seconds; null: until revoked' },
  scope: { type: 'string', enum: [...TOKEN_SCOPES] },
});

export const newTokenSchema = object({ ...tokenSchema.properties, token: { type: 'string', description: 'shown only in this answer' } });

export const tokenListSchema = object({ tokens: arrayOf(tokenSchema) });
