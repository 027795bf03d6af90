/**
 * Every error the console answers with becomes `{"error": "...", "field"?: "..."}`
 * and a status chosen by the error's class: request validation and store
 * ValidationError 400 (naming the field), NotFoundError 404, ConflictError
 * 409, an unreachable store 503, anything unexpected 500 (logged, not shown).
 */
import { ConflictError, errorReason, NotFoundError, StoreUnavailableError, ValidationError } from '../store/errors.js';

/** An error with its HTTP status, thrown by the console's own checks. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ErrorBody {
  error: string;
  field?: string;
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** True for 500s: the cause goes to the log, not to the client. */
  unexpected: boolean;
}

/** One failed keyword of fastify's (ajv) request validation. */
interface SchemaFailure {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** "/hosts/0/port" -> "hosts.0.port"; a missing or unknown property names itself. */
function failedField(failure: SchemaFailure): string {
  const path = failure.instancePath.split('/').filter(Boolean);
  const extra = failure.params.missingProperty ?? failure.params.additionalProperty;
  if (typeof extra === 'string') path.push(extra);
  return path.join('.');
}

/** The value a failure is about, looked up by its path in the part of the request that failed (body, params, query). */
function failedValue(failure: SchemaFailure, input: unknown): unknown {
  let value = input;
  for (const step of failure.instancePath.split('/').filter(Boolean)) value = (value as Record<string, unknown> | undefined)?.[step];
  return value;
}

/** What an IPv4 field got wrong: nothing typed, a port typed along, or something else. */
function ipv4Requirement(value: unknown): string {
  if (value === '') return 'is required: a dotted IPv4 address such as 10.0.0.1';
  const withPort = typeof value === 'string' ? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(value.trim()) : null;
  if (withPort) return `takes the address only (${withPort[1]}): the port (${withPort[2]}) goes in its own field`;
  return `must be a dotted IPv4 address such as 10.0.0.1${typeof value === 'string' ? `, got ${JSON.stringify(value)}` : ''}`;
}

/** What a failed keyword asks for, in words; ajv's own message otherwise. */
function requirement(failure: SchemaFailure, value: unknown): string {
  const { keyword, params } = failure;
  if (keyword === 'type') return `must be ${params.type === 'integer' || params.type === 'object' ? 'an' : 'a'} ${String(params.type)}`;
  if (keyword === 'format' && params.format === 'ipv4') return ipv4Requirement(value);
  if (keyword === 'enum' && Array.isArray(params.allowedValues)) return `must be one of ${params.allowedValues.map(String).join(', ')}`;
  if (keyword === 'minLength') return params.limit === 1 ? 'is required' : `must be at least ${String(params.limit)} characters`;
  if (keyword === 'maxLength') return `must be at most ${String(params.limit)} characters`;
  if (keyword === 'minimum') return `must be at least ${String(params.limit)}`;
  if (keyword === 'maximum') return `must be at most ${String(params.limit)}`;
  return failure.message ?? 'is invalid';
}

/** The failures of each branch of the anyOf that failed with `failure`, when it is one of them (ajv lists the branches, then the anyOf). */
function anyOfBranches(failure: SchemaFailure, failures: readonly SchemaFailure[]): SchemaFailure[] {
  const anyOf = failures.find((f) => f.keyword === 'anyOf' && f.instancePath === failure.instancePath && failure.schemaPath.startsWith(`${f.schemaPath}/`));
  return anyOf ? failures.filter((f) => f.instancePath === anyOf.instancePath && f.schemaPath.startsWith(`${anyOf.schemaPath}/`)) : [failure];
}

function validationResponse(failures: readonly SchemaFailure[], part: string | undefined, input: unknown): ErrorResponse {
  const failure = failures[0]!;
  const field = failedField(failure);
  let message: string;
  if (failure.keyword === 'additionalProperties') message = `${field} is not a known field`;
  else if (failure.keyword === 'required') message = `${field} is required`;
  else {
    const value = failedValue(failure, input);
    message = `${field || part || 'request'} ${anyOfBranches(failure, failures).map((f) => requirement(f, value)).join(', or ')}`;
  }
  return { status: 400, body: field ? { error: message, field } : { error: message }, headers: {}, unexpected: false };
}

/** SQLite result codes that mean "not now" rather than "not this". */
const SQLITE_UNAVAILABLE = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_READONLY'];
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR',
]);
/** pg reports a lost or refused connection with these messages and no code. */
const PG_CONNECTION_MESSAGES = /connection terminated|timeout exceeded when trying to connect|not queryable|connection error/i;

/** True when the store could not be reached or used for now (the request may be retried). */
export function isStoreUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  if (err instanceof AggregateError) return err.errors.some(isStoreUnavailable);
  const e = err as { code?: unknown; fatal?: unknown; message?: unknown };
  if (typeof e?.code === 'string') {
    if (NETWORK_CODES.has(e.code) || SQLITE_UNAVAILABLE.some((c) => (e.code as string).startsWith(c))) return true;
    // PostgreSQL SQLSTATE class 08 (connection exception), 57P0x (shutting down), 53300 (too many connections).
    if (/^08[0-9A-Z]{3}$|^57P0[1-3]$|^53300$/.test(e.code)) return true;
  }
  if (e?.fatal === true) return true; // mysql2: the connection is gone
  return typeof e?.message === 'string' && (PG_CONNECTION_MESSAGES.test(e.message) || /driver has already been destroyed/.test(e.message));
}

/**
 * The response for any error a route or hook threw. request: the parts a
 * schema checked, so a message can say what was typed.
 */
export function errorResponse(err: unknown, request: { body?: unknown; params?: unknown; query?: unknown } = {}): ErrorResponse {
  const plain = (status: number, error: string, headers: Record<string, string> = {}): ErrorResponse => ({
    status,
    body: { error },
    headers,
    unexpected: false,
  });
  const e = err as { validation?: SchemaFailure[]; validationContext?: string; statusCode?: unknown; message?: string };
  if (Array.isArray(e?.validation) && e.validation.length > 0) {
    const part = e.validationContext;
    const input = part === 'body' ? request.body : part === 'params' ? request.params : part === 'querystring' ? request.query : undefined;
    return validationResponse(e.validation, part, input);
  }
  if (err instanceof HttpError) return plain(err.statusCode, err.message, err.headers);
  if (err instanceof ValidationError) return { status: 400, body: { error: err.message, field: err.field }, headers: {}, unexpected: false };
  if (err instanceof NotFoundError) return plain(404, err.message);
  if (err instanceof ConflictError) return plain(409, err.message);
  if (isStoreUnavailable(err)) return { ...plain(503, `store unavailable: ${errorReason(err)} (edits are all-or-nothing; try again)`), headers: { 'retry-after': '5' } };
  // fastify's own client errors: bad JSON, unsupported media type, body too large.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return plain(e.statusCode, e.message ?? 'bad request');
  return { status: 500, body: { error: 'internal error (see the console log)' }, headers: {}, unexpected: true };
}
