/**
 * openStore(url): the one entry to the SQL store. The URL picks the engine;
 * everything above this file sees the same Store whatever the engine.
 */
import type { Kysely } from 'kysely';
import type { Dialect, DialectOptions } from './dialects/dialect.js';
import { runMigrations } from './migrations.js';
import type { Database } from './schema.js';
import { describeLocation, parseStoreUrl, type StoreKind, type StoreLocation } from './url.js';

export interface Store {
  readonly kind: StoreKind;
  readonly db: Kysely<Database>;
  /** The URL with any password replaced by ***, for logs and messages. */
  describe(): string;
  /** Applies pending migrations (safe to run from several processes at once); returns the ids applied. */
  migrate(): Promise<string[]>;
  /** Idempotent. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** Network engines: connect timeout (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** Network engines: pool size (default 10). */
  poolSize?: number;
}

async function openDialect(location: StoreLocation, options: DialectOptions): Promise<Dialect> {
  // Loaded on demand so a process only loads the driver it uses.
  switch (location.kind) {
    case 'sqlite':
      return (await import('./dialects/sqlite.js')).openSqlite(location);
    case 'mysql':
      return (await import('./dialects/mysql.js')).openMysql(location, options);
    case 'postgres':
      return (await import('./dialects/postgres.js')).openPostgres(location, options);
  }
}

/**
 * Opens (and by default migrates) the store at url. Throws StoreUrlError for
 * an unknown or malformed URL, StoreUnavailableError when the database cannot
 * be reached.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  const dialect = await openDialect(location, {
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    poolSize: options.poolSize ?? 10,
  });
  let closing: Promise<void> | undefined;
  const store: Store = {
    kind: location.kind,
    db: dialect.db,
    describe: () => describeLocation(location),
    migrate: () => runMigrations(dialect, location.kind),
    close: () => (closing ??= dialect.close()),
  };
  if (options.migrate ?? true) {
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}
