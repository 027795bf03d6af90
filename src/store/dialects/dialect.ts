/** What each engine folder provides behind the one Store interface. */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface DialectOptions {
  /** How long to wait for a network database to accept a connection. */
  connectTimeoutMs: number;
  /** Connections in the pool of a network database. */
  poolSize: number;
}

export interface Dialect {
  readonly db: Kysely<Database>;
  /**
   * Runs work while holding a lock that other processes migrating the same
   * database wait for; on SQLite and PostgreSQL inside one transaction.
   */
  withMigrationLock<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Only where DDL is not transactional (MySQL): true for "already exists"
   * errors, so a migration that stopped half way can be run again.
   */
  isAlreadyExists?(err: unknown): boolean;
  /** Called once per open. */
  close(): Promise<void>;
}
