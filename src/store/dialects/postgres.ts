/** PostgreSQL through a pg pool. */
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { StoreUnavailableError, errorReason } from '../errors.js';
import { createLogger } from '../../reactor/log.js';
import type { Database } from '../schema.js';
import { locationAddress, type PostgresLocation } from '../url.js';
import type { Dialect, DialectOptions } from './dialect.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

const log = createLogger('store');

/**
 * pg returns BIGINT and NUMERIC as strings; every caller wants numbers (all
 * our BIGINTs are counters, versions, timestamps and IPs, far below 2^53).
 * Set per pool, not globally, so other pg users in the process are unaffected.
 */
const numericTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return Number;
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid);
  },
} as pg.CustomTypesConfig;

export async function openPostgres(location: PostgresLocation, options: DialectOptions): Promise<Dialect> {
  const pool = new pg.Pool({
    connectionString: location.connectionString,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    types: numericTypes,
  });
  // An idle connection dropped by the server emits 'error' on the pool; unhandled, it would end the process.
  pool.on('error', (err) => log.warn('postgres_idle_connection_error', { error: errorReason(err) }));
  // A connection that breaks while checked out also emits 'error' on its client,
  // which pg-pool only listens to while the client is idle; the query in
  // progress fails on its own, so this listener only keeps the process alive.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw new StoreUnavailableError('postgres', locationAddress(location), errorReason(err));
  }
  return {
    db,
    close: () => db.destroy(),
  };
}
