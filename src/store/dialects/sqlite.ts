/**
 * SQLite through better-sqlite3. One connection per file per process: SQLite
 * has a single writer, and two connections of one thread would make each other
 * wait in a blocking busy loop. So opening a file that is already open here
 * shares the connection, whose Kysely mutex then orders the transactions.
 *
 * A transaction that may write begins IMMEDIATE, taking the file's write lock
 * before its first read. Begun DEFERRED, it would read a snapshot first and,
 * when another process wrote meanwhile, fail at its first write with
 * SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait out.
 *
 * That write lock is also the migration lock across processes. Kysely's
 * SQLite adapter takes none (it counts on one connection per process) and
 * calls SQLite's DDL non-transactional, so its Migrator would run migrations
 * outside any transaction. SQLite's DDL is transactional: saying so makes the
 * Migrator run them in one transaction, begun IMMEDIATE (docs/store.md).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type SqliteDialectConfig,
  type TransactionSettings,
} from 'kysely';
import { StoreUnavailableError, errorReason } from '../errors.js';
import type { Database } from '../schema.js';
import { SQLITE_MEMORY, type SqliteLocation } from '../url.js';
import type { Dialect } from './dialect.js';

/** Another process holding the write lock is waited for this long before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
const WAL_RETRY_MS = 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Switches a file to WAL. When several processes create the store at once
 * (two `lars db migrate`, `lars up` beside a CLI command), this pragma can
 * meet another one's switch and return SQLITE_BUSY at once, without waiting
 * through busy_timeout; so it is retried for as long as busy_timeout would
 * have waited. Opening is synchronous in better-sqlite3, hence the blocking
 * sleep between tries.
 */
function enableWal(raw: SqliteDatabase.Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      raw.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      Atomics.wait(sleeper, 0, 0, WAL_RETRY_MS);
    }
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(settings?.accessMode === 'read only' ? 'begin' : 'begin immediate'));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly config: SqliteDialectConfig) {
    super(config);
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.config);
  }

  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

interface OpenFile {
  db: Kysely<Database>;
  users: number;
}

const openFiles = new Map<string, OpenFile>();

function openConnection(path: string): SqliteDatabase.Database {
  let raw: SqliteDatabase.Database | undefined;
  try {
    if (path !== SQLITE_MEMORY) mkdirSync(dirname(path), { recursive: true });
    raw = new SqliteDatabase(path);
    raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (path !== SQLITE_MEMORY) enableWal(raw);
    // WAL makes NORMAL durable against application crashes, and much faster than FULL.
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    return raw;
  } catch (err) {
    raw?.close();
    throw new StoreUnavailableError('sqlite', path, errorReason(err));
  }
}

function acquire(path: string): OpenFile {
  const shared = path === SQLITE_MEMORY ? undefined : openFiles.get(path);
  if (shared) {
    shared.users += 1;
    return shared;
  }
  const file = { db: new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: openConnection(path) }) }), users: 1 };
  if (path !== SQLITE_MEMORY) openFiles.set(path, file);
  return file;
}

export async function openSqlite(location: SqliteLocation): Promise<Dialect> {
  const file = acquire(location.path);
  return {
    db: file.db,
    async close() {
      file.users -= 1;
      if (file.users > 0) return;
      openFiles.delete(location.path);
      await file.db.destroy();
    },
  };
}
