/** MySQL and MariaDB through a mysql2 pool. */
import { createPool } from 'mysql2';
import { Kysely, MysqlDialect, sql } from 'kysely';
import { StoreUnavailableError, errorReason } from '../errors.js';
import type { Database } from '../schema.js';
import { locationAddress, type MysqlLocation } from '../url.js';
import type { Dialect, DialectOptions } from './dialect.js';

/** ER_TABLE_EXISTS_ERROR, ER_DUP_FIELDNAME (a column added twice), ER_DUP_KEYNAME, ER_FK_DUP_NAME. */
const ALREADY_EXISTS_ERRNOS = new Set([1050, 1060, 1061, 1826]);

function errno(err: unknown): number | undefined {
  const value = (err as { errno?: unknown }).errno;
  return typeof value === 'number' ? value : undefined;
}

export async function openMysql(location: MysqlLocation, options: DialectOptions): Promise<Dialect> {
  const pool = createPool({
    host: location.host,
    port: location.port,
    user: location.user,
    password: location.password,
    database: location.database,
    connectionLimit: options.poolSize,
    connectTimeout: options.connectTimeoutMs,
    charset: 'utf8mb4',
    // BIGINT already arrives as a number (supportBigNumbers is off); SUM() and
    // other DECIMAL results would arrive as strings without this.
    decimalNumbers: true,
  });
  const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw new StoreUnavailableError('mysql', locationAddress(location), errorReason(err));
  }
  return {
    db,
    isAlreadyExists: (err) => ALREADY_EXISTS_ERRNOS.has(errno(err) ?? 0),
    close: () => db.destroy(),
  };
}
