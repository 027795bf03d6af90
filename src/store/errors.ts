/**
 * Typed errors of the store and of route administration. Callers (CLI, web
 * console) turn them into exit codes or HTTP statuses by class, never by
 * parsing messages.
 */

/** Input rejected before the store was touched; `field` names the culprit. */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ValidationError';
  }
}

/** The module or host an edit refers to does not exist. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The module or host an edit would create already exists. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** The store URL cannot be understood (unknown scheme, missing database name). */
export class StoreUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUrlError';
  }
}

/** The database could not be reached or opened. The message never holds a password. */
export class StoreUnavailableError extends Error {
  constructor(
    readonly engine: string,
    readonly address: string,
    reason: string,
  ) {
    super(`cannot reach ${engine} at ${address}: ${reason}`);
    this.name = 'StoreUnavailableError';
  }
}

/** A readable reason from a driver error; Node's AggregateError (IPv4+IPv6 connect) has an empty message. */
export function errorReason(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map((e) => errorReason(e)).join('; ');
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return err.message || (typeof code === 'string' ? code : err.name);
  }
  return String(err);
}

/** The notify setting (--notify, LARS_NOTIFY, [notify] url) cannot be used: unknown, malformed, or not for this store. */
export class NotifySettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotifySettingError';
  }
}
