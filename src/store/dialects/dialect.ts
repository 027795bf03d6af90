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
  /** Its adapter also provides the lock Kysely's Migrator holds while migrating (docs/store.md). */
  readonly db: Kysely<Database>;
  /**
   * Only where DDL is not transactional (MySQL): true for "already exists"
   * errors, so a migration that stopped half way can be run again.
   */
  isAlreadyExists?(err: unknown): boolean;
  /** Called once per open. */
  close(): Promise<void>;
}
