/**
 * openStore(url): the one entry to the SQL store. The URL picks the engine;
 * everything above this file sees the same Store whatever the engine, and
 * reaches the tables only through the store's operation classes (RouteAdmin,
 * RouteReader, ChangeLog, CallStatus, Users), each built over a Store. The
 * Kysely handle stays inside src/store (docs/store.md).
 */
import type { Kysely } from 'kysely';
import { chooseChangeFeed, DEFAULT_FEED_RETRY, FEED_CONNECT_TIMEOUT_MS, InProcessFeed, noFeed, type ChangeFeed, type NotifyOptions } from './change-feed.js';
import type { Dialect, DialectOptions } from './dialects/dialect.js';
import { runMigrations } from './migrations.js';
import type { Database } from './schema.js';
import { describeLocation, parseStoreUrl, type StoreKind, type StoreLocation } from './url.js';

export interface Store {
  readonly kind: StoreKind;
  /** The URL with any password replaced by ***, for logs and messages. */
  describe(): string;
  /** Where route edits made through this store are announced (docs/dns.md, "Notification"); none unless openStore was given notify. */
  readonly changes: ChangeFeed;
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
  /** Announce route edits, and hear them (dns): the feed is chosen from these and the engine, and the choice logged. */
  notify?: NotifyOptions;
}

const handles = new WeakMap<Store, Kysely<Database>>();

/**
 * The Kysely handle behind a store: for the store's own operation modules,
 * and for tests and benchmark seeding that must reach the tables behind the
 * operations (a change the change log never saw). Nothing else imports it
 * (test/store/layering.test.ts checks src/).
 */
export function kyselyOf(store: Store): Kysely<Database> {
  const db = handles.get(store);
  if (!db) throw new TypeError('not a store opened by openStore()');
  return db;
}

/**
 * Several reads that must agree with each other: one read-only transaction
 * at REPEATABLE READ, since PostgreSQL's default READ COMMITTED would let each
 * statement see edits committed after the one before (MySQL's default is
 * already REPEATABLE READ; a SQLite transaction reads one snapshot).
 */
export function readConsistently<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(work);
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

/** The feed chooseChangeFeed picks, carrying its reason for the service to log. */
async function openFeed(location: StoreLocation, db: Kysely<Database>, notify: NotifyOptions, connectTimeoutMs: number): Promise<ChangeFeed> {
  const choice = chooseChangeFeed(notify.setting, location.kind, notify.oneProcess ?? false);
  const logger = notify.logger;
  const options = { logger, retry: notify.retry ?? DEFAULT_FEED_RETRY, connectTimeoutMs, reason: choice.reason };
  switch (choice.transport) {
    case 'none':
      return noFeed(choice.reason);
    case 'in-process':
      return new InProcessFeed(logger, choice.reason);
    case 'postgres':
      if (location.kind !== 'postgres') throw new Error('chooseChangeFeed picked postgres for another engine');
      return (await import('./postgres-feed.js')).postgresFeed(location, db, options);
    case 'redis': {
      const { parseRedisUrl, redisFeed } = await import('./redis-feed.js');
      return redisFeed(parseRedisUrl(choice.url), options);
    }
  }
}

/**
 * Opens (and by default migrates) the store at url. Throws StoreUrlError for
 * an unknown or malformed URL, NotifySettingError for a notify setting that
 * cannot be used, StoreUnavailableError when the database cannot be reached.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const dialect = await openDialect(location, { connectTimeoutMs, poolSize: options.poolSize ?? 10 });
  let changes: ChangeFeed;
  try {
    changes = options.notify ? await openFeed(location, dialect.db, options.notify, Math.min(connectTimeoutMs, FEED_CONNECT_TIMEOUT_MS)) : noFeed('opened without notify');
  } catch (err) {
    await dialect.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  const store: Store = {
    kind: location.kind,
    changes,
    describe: () => describeLocation(location),
    migrate: () => runMigrations(dialect, location.kind),
    // The feed first: what it is still publishing goes through the pool.
    close: () => (closing ??= changes.close().then(() => dialect.close())),
  };
  handles.set(store, dialect.db);
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
