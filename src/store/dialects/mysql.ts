/** MySQL and MariaDB through a mysql2 pool. */
import { createPool } from 'mysql2';
import { Kysely, MysqlDialect, sql } from 'kysely';
import { StoreUnavailableError, errorReason } from '../errors.js';
import type { Database } from '../schema.js';
import { locationAddress, type MysqlLocation } from '../url.js';
import type { Dialect, DialectOptions } from './dialect.js';

const MIGRATION_LOCK_WAIT_SECONDS = 60;

/** ER_TABLE_EXISTS_ERROR, ER_DUP_KEYNAME, ER_FK_DUP_NAME. */
const ALREADY_EXISTS_ERRNOS = new Set([1050, 1061, 1826]);

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
  // GET_LOCK names are server wide: include the database so two databases do not wait for each other.
  const lockName = `lars_migrate:${location.database}`.slice(0, 64);
  return {
    db,
    withMigrationLock: (work) =>
      db.connection().execute(async (conn) => {
        const { rows } = await sql<{ got: number | null }>`select get_lock(${lockName}, ${MIGRATION_LOCK_WAIT_SECONDS}) as got`.execute(conn);
        if (rows[0]?.got !== 1) {
          throw new Error(`another process held the migration lock for more than ${MIGRATION_LOCK_WAIT_SECONDS} s`);
        }
        try {
          return await work(conn);
        } finally {
          await sql`select release_lock(${lockName})`.execute(conn);
        }
      }),
    isAlreadyExists: (err) => ALREADY_EXISTS_ERRNOS.has(errno(err) ?? 0),
    close: () => db.destroy(),
  };
}
