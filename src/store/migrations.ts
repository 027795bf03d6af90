/**
 * The schema, as an ordered list of migrations, applied by Kysely's Migrator
 * (which records them in kysely_migration). Append new migrations, with ids
 * that sort after the last one; never edit one that has shipped.
 */
import {
  DEFAULT_MIGRATION_LOCK_TABLE,
  DEFAULT_MIGRATION_TABLE,
  MIGRATION_LOCK_ID,
  Migrator,
  sql,
  type CreateTableBuilder,
  type Kysely,
  type MigrationProvider,
} from 'kysely';
import type { Dialect } from './dialects/dialect.js';
import type { Database } from './schema.js';
import type { StoreKind } from './url.js';

interface Statement {
  execute(): Promise<unknown>;
}

interface Migration {
  id: string;
  statements(db: Kysely<Database>, kind: StoreKind): Statement[];
}

const UINT32_MAX = 4294967295;

/**
 * CREATE TABLE IF NOT EXISTS, with MySQL told to use InnoDB (foreign keys)
 * and full UTF-8 compared byte-wise like the others. A table keyed by a
 * natural composite key is stored in key order on SQLite (WITHOUT ROWID, as
 * InnoDB does anyway), so reading all routes in key order is one sequential scan.
 */
function createTable(db: Kysely<Database>, kind: StoreKind, name: string, keyOrdered = false): CreateTableBuilder<string, never> {
  const table = db.schema.createTable(name).ifNotExists();
  if (kind === 'mysql') return table.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`);
  return kind === 'sqlite' && keyOrdered ? table.modifyEnd(sql`without rowid`) : table;
}

/** An auto-increment BIGINT primary key in each engine's own spelling. */
function withAutoId<C extends string>(table: CreateTableBuilder<string, C>, kind: StoreKind): CreateTableBuilder<string, C | 'id'> {
  if (kind === 'postgres') return table.addColumn('id', 'bigserial', (c) => c.primaryKey());
  // SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
  return table.addColumn('id', kind === 'sqlite' ? 'integer' : 'bigint', (c) => c.primaryKey().autoIncrement());
}

/** The routes table under `name`, its weight CHECK named `weightCheck` and allowing `minWeight` up. */
function routesTable(db: Kysely<Database>, kind: StoreKind, name: string, weightCheck: string, minWeight: number) {
  return (
    createTable(db, kind, name, true)
      .addColumn('modid', 'integer', (c) => c.notNull())
      .addColumn('cmdid', 'integer', (c) => c.notNull())
      .addColumn('ip', 'bigint', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('weight', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('routes_pk', ['modid', 'cmdid', 'ip', 'port'])
      .addForeignKeyConstraint('routes_module_fk', ['modid', 'cmdid'], 'modules', ['modid', 'cmdid'])
      // The unsigned value only: a sign-flipped (wire int32) IP is refused by the database itself.
      .addCheckConstraint('routes_ip_unsigned', sql`ip >= 0 and ip <= ${sql.lit(UINT32_MAX)}`)
      .addCheckConstraint('routes_port_range', sql`port >= 1 and port <= 65535`)
      .addCheckConstraint(weightCheck, sql`weight >= ${sql.lit(minWeight)}`)
  );
}

const initialSchema: Migration = {
  id: '0001_initial',
  statements: (db, kind) => [
    createTable(db, kind, 'modules', true)
      .addColumn('modid', 'integer', (c) => c.notNull())
      .addColumn('cmdid', 'integer', (c) => c.notNull())
      .addColumn('description', 'varchar(255)', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('modules_pk', ['modid', 'cmdid']),
    routesTable(db, kind, 'routes', 'routes_weight_positive', 1),
    createTable(db, kind, 'route_version')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('version', 'bigint', (c) => c.notNull()),
    {
      // The single version row; checked first so re-running after a half-applied MySQL migration works.
      async execute() {
        const row = await db.selectFrom('route_version').select('id').where('id', '=', 1).executeTakeFirst();
        if (!row) await db.insertInto('route_version').values({ id: 1, version: 0 }).execute();
      },
    },
    withAutoId(createTable(db, kind, 'route_changes'), kind)
      .addColumn('version', 'bigint', (c) => c.notNull())
      .addColumn('modid', 'integer', (c) => c.notNull())
      .addColumn('cmdid', 'integer', (c) => c.notNull())
      .addColumn('action', 'varchar(16)', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .addColumn('actor', 'varchar(64)')
      .addColumn('changed_at', 'bigint', (c) => c.notNull()),
    // One change row per version: readers can tell a pruned gap from a quiet period.
    db.schema.createIndex('route_changes_version').on('route_changes').column('version').unique(),
    db.schema.createIndex('route_changes_changed_at').on('route_changes').column('changed_at'),
    createTable(db, kind, 'call_status', true)
      .addColumn('modid', 'integer', (c) => c.notNull())
      .addColumn('cmdid', 'integer', (c) => c.notNull())
      .addColumn('ip', 'bigint', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('caller', 'bigint', (c) => c.notNull())
      .addColumn('succ', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('err', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('overload', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('reported_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('call_status_pk', ['modid', 'cmdid', 'ip', 'port', 'caller']),
    createTable(db, kind, 'call_series', true)
      .addColumn('modid', 'integer', (c) => c.notNull())
      .addColumn('cmdid', 'integer', (c) => c.notNull())
      .addColumn('ip', 'bigint', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('caller', 'bigint', (c) => c.notNull())
      .addColumn('window_ts', 'bigint', (c) => c.notNull())
      .addColumn('succ', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('err', 'bigint', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('call_series_pk', ['modid', 'cmdid', 'ip', 'port', 'caller', 'window_ts']),
    db.schema.createIndex('call_series_window_ts').on('call_series').column('window_ts'),
    createTable(db, kind, 'users')
      .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('role', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull()),
    withAutoId(createTable(db, kind, 'api_tokens'), kind)
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('token_hash', 'varchar(128)', (c) => c.notNull())
      .addColumn('user_name', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addUniqueConstraint('api_tokens_token_hash', ['token_hash'])
      .addForeignKeyConstraint('api_tokens_user_fk', ['user_name'], 'users', ['name'], (fk) => fk.onDelete('cascade')),
    createTable(db, kind, 'sessions')
      .addColumn('id_hash', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('user_name', 'varchar(64)', (c) => c.notNull())
      .addColumn('csrf_token', 'varchar(128)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addForeignKeyConstraint('sessions_user_fk', ['user_name'], 'users', ['name'], (fk) => fk.onDelete('cascade')),
    db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at'),
  ],
};

/**
 * Weight 0 drains a host (docs/balancer.md): the CHECK allows 0 up. SQLite
 * cannot alter a CHECK, so there the table is rebuilt under the same name.
 */
const weightZero: Migration = {
  id: '0002_weight_zero_drains',
  statements: (db, kind) => {
    if (kind !== 'sqlite') {
      return [{ execute: () => sql`alter table routes drop constraint routes_weight_positive, add constraint routes_weight_range check (weight >= 0)`.execute(db) }];
    }
    return [
      routesTable(db, kind, 'routes_0002', 'routes_weight_range', 0),
      { execute: () => sql`insert into routes_0002 select modid, cmdid, ip, port, weight, created_at, updated_at from routes`.execute(db) },
      db.schema.dropTable('routes'),
      db.schema.alterTable('routes_0002').renameTo('routes'),
    ];
  },
};

/**
 * A module may name the balancing strategy every agent runs for its route
 * (docs/balancer.md, "Per-route strategy"); null leaves it to each agent's
 * [loadbalance] strategy. No CHECK on the name: a strategy added later needs
 * no migration, and route-admin.ts validates what is written.
 */
const moduleStrategy: Migration = {
  id: '0003_module_strategy',
  statements: (db) => [db.schema.alterTable('modules').addColumn('strategy', 'varchar(32)')],
};

/**
 * Self-registration (docs/registry.md): the live instances, operators'
 * weights for them, the load counter, and each dns's liveness row. No
 * foreign key to modules: an instance of a module deleted meanwhile is
 * simply not served (route-reader.ts joins modules), and expires with its lease.
 */
const registry: Migration = {
  id: '0004_registry',
  statements: (db, kind) => [
    createTable(db, kind, 'instances', true)
      .addColumn('modid', 'integer', (c) => c.notNull())
      .addColumn('cmdid', 'integer', (c) => c.notNull())
      .addColumn('ip', 'bigint', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('weight', 'integer', (c) => c.notNull())
      .addColumn('ttl_ms', 'integer', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('owner', 'varchar(64)', (c) => c.notNull())
      .addColumn('registered_at', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
      .addColumn('load_in_flight', 'bigint')
      .addColumn('load_connections', 'bigint')
      .addColumn('load_cpu_permille', 'bigint')
      .addColumn('load_score', 'bigint')
      .addColumn('revision', 'bigint', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('instances_pk', ['modid', 'cmdid', 'ip', 'port'])
      .addCheckConstraint('instances_ip_unsigned', sql`ip >= 0 and ip <= ${sql.lit(UINT32_MAX)}`)
      .addCheckConstraint('instances_port_range', sql`port >= 1 and port <= 65535`)
      .addCheckConstraint('instances_weight_range', sql`weight >= 0`),
    db.schema.createIndex('instances_revision').on('instances').column('revision'),
    db.schema.createIndex('instances_owner').on('instances').column('owner'),
    createTable(db, kind, 'instance_overrides', true)
      .addColumn('modid', 'integer', (c) => c.notNull())
      .addColumn('cmdid', 'integer', (c) => c.notNull())
      .addColumn('ip', 'bigint', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('weight', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('instance_overrides_pk', ['modid', 'cmdid', 'ip', 'port']),
    createTable(db, kind, 'registry_version')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('version', 'bigint', (c) => c.notNull()),
    {
      async execute() {
        const row = await db.selectFrom('registry_version').select('id').where('id', '=', 1).executeTakeFirst();
        if (!row) await db.insertInto('registry_version').values({ id: 1, version: 0 }).execute();
      },
    },
    createTable(db, kind, 'dns_nodes')
      .addColumn('node_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('address', 'varchar(255)', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
      .addColumn('beats', 'bigint', (c) => c.notNull()),
  ],
};

/**
 * Maintenance of a configured host (docs/store.md, "Draining a host"): a
 * drained host keeps its weight and dns serves it with weight 0 until it is
 * undrained, so the operator's weight survives the maintenance.
 */
const routeDrain: Migration = {
  id: '0005_route_drain',
  statements: (db) => [db.schema.alterTable('routes').addColumn('drained', 'integer', (c) => c.notNull().defaultTo(0))],
};

/** What each route edit left the module as (docs/store.md, "Reverting a route"): the change log can then put a route back as it was. */
const changeSnapshots: Migration = {
  id: '0006_change_snapshots',
  statements: (db) => [db.schema.alterTable('route_changes').addColumn('snapshot', 'text')],
};

/** The console's audit trail (src/store/audit.ts): sign-ins and account changes, pruned by age. */
const auditEvents: Migration = {
  id: '0007_audit_events',
  statements: (db, kind) => [
    withAutoId(createTable(db, kind, 'audit_events'), kind)
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'varchar(32)', (c) => c.notNull())
      .addColumn('actor', 'varchar(64)')
      .addColumn('subject', 'varchar(64)')
      .addColumn('address', 'varchar(64)')
      .addColumn('detail', 'varchar(255)', (c) => c.notNull().defaultTo('')),
    db.schema.createIndex('audit_events_at').on('audit_events').column('at'),
  ],
};

/** API tokens that expire, and read-only ones (docs/console.md, "Security model"); existing tokens keep working as before. */
const tokenLimits: Migration = {
  id: '0008_token_expiry_scope',
  statements: (db) => [
    db.schema.alterTable('api_tokens').addColumn('expires_at', 'bigint'),
    db.schema.alterTable('api_tokens').addColumn('scope', 'varchar(16)', (c) => c.notNull().defaultTo('full')),
  ],
};

/** Each dns writes what it serves and to whom with its liveness beat (docs/console.md, "Connected"), so the console can show it. */
const dnsReport: Migration = {
  id: '0009_dns_report',
  statements: (db) => [db.schema.alterTable('dns_nodes').addColumn('report', 'text')],
};

/** An account an admin disabled (docs/console.md, "Security model"): kept with its tokens, but it cannot act until enabled. */
const userDisabled: Migration = {
  id: '0010_user_disabled',
  statements: (db) => [db.schema.alterTable('users').addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))],
};

/**
 * Call durations beside the counts (docs/reporter.md, "Call durations"): how
 * many calls carried one, their sum and the longest, µs. One column per
 * statement: SQLite adds one at a time.
 */
const callDurations: Migration = {
  id: '0011_call_durations',
  statements: (db) =>
    ['call_status', 'call_series'].flatMap((table) =>
      ['timed', 'duration_us', 'max_duration_us'].map((column) => db.schema.alterTable(table).addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0))),
    ),
};

/**
 * What an editor may change (docs/console.md, "Roles"): a user's grants, each
 * one module or every cmdid of a modid (cmdid null). No engine finds two
 * NULLs equal in a unique key, so the key takes cmdid_key, the cmdid with
 * NULL written as a number no int32 cmdid can be: a grant is stored once on
 * every engine. (A generated column may not be in SQLite's primary key, so
 * it is a unique key.) The grants go with their user, like sessions and tokens.
 */
const userGrants: Migration = {
  id: '0012_user_grants',
  statements: (db, kind) => [
    createTable(db, kind, 'user_grants')
      .addColumn('user_name', 'varchar(64)', (c) => c.notNull())
      .addColumn('modid', 'integer', (c) => c.notNull())
      .addColumn('cmdid', 'integer')
      .addColumn('cmdid_key', 'bigint', (c) => c.generatedAlwaysAs(sql`coalesce(cmdid, ${sql.lit(UINT32_MAX + 1)})`).stored())
      .addUniqueConstraint('user_grants_once', ['user_name', 'modid', 'cmdid_key'])
      .addForeignKeyConstraint('user_grants_user_fk', ['user_name'], 'users', ['name'], (fk) => fk.onDelete('cascade')),
  ],
};

export const MIGRATIONS: readonly Migration[] = [
  initialSchema,
  weightZero,
  moduleStrategy,
  registry,
  routeDrain,
  changeSnapshots,
  auditEvents,
  tokenLimits,
  dnsReport,
  userDisabled,
  callDurations,
  userGrants,
];

/** Before Kysely's Migrator, applied ids were kept here. */
const LEGACY_TABLE = 'lars_migrations';

interface BookkeepingTables {
  lars_migrations: { id: string; applied_at: number };
  kysely_migration: { name: string; timestamp: string };
}

/**
 * A store created before the switch to Kysely's Migrator recorded its
 * applied migrations in lars_migrations(id, applied_at). Those records move
 * to Kysely's table (created here in Kysely's own shape) and the old table
 * goes, under the same adapter lock the Migrator takes, so processes adopting
 * at once do it once. Every step can be repeated, as MySQL commits DDL on its own.
 */
async function adoptLegacyRecords(db: Kysely<BookkeepingTables>): Promise<void> {
  const hasLegacyTable = async (conn: Kysely<BookkeepingTables>) =>
    (await conn.introspection.getTables()).some((t) => t.name === LEGACY_TABLE);
  if (!(await hasLegacyTable(db))) return;
  const adapter = db.getExecutor().adapter;
  const lock = { lockTable: DEFAULT_MIGRATION_LOCK_TABLE, lockRowId: MIGRATION_LOCK_ID };
  await db.connection().execute(async (conn) => {
    await adapter.acquireMigrationLock(conn, lock);
    try {
      await conn.transaction().execute(async (trx) => {
        // Another process may have adopted them while this one waited for the lock.
        if (!(await hasLegacyTable(trx))) return;
        await trx.schema
          .createTable(DEFAULT_MIGRATION_TABLE)
          .ifNotExists()
          .addColumn('name', 'varchar(255)', (c) => c.notNull().primaryKey())
          .addColumn('timestamp', 'varchar(255)', (c) => c.notNull())
          .execute();
        const adopted = new Set((await trx.selectFrom('kysely_migration').select('name').execute()).map((r) => r.name));
        for (const { id, applied_at } of await trx.selectFrom('lars_migrations').select(['id', 'applied_at']).execute()) {
          if (adopted.has(id)) continue;
          await trx.insertInto('kysely_migration').values({ name: id, timestamp: new Date(Number(applied_at) * 1000).toISOString() }).execute();
        }
        await trx.schema.dropTable(LEGACY_TABLE).ifExists().execute();
      });
    } finally {
      await adapter.releaseMigrationLock(conn, lock);
    }
  });
}

/** Each migration as Kysely's Migrator runs it; on MySQL a half-applied one can be run again. */
function migrationProvider(dialect: Dialect, kind: StoreKind): MigrationProvider {
  const up = (migration: Migration) => async (db: Kysely<any>) => {
    for (const statement of migration.statements(db as Kysely<Database>, kind)) {
      try {
        await statement.execute();
      } catch (err) {
        if (!dialect.isAlreadyExists?.(err)) throw err;
      }
    }
  };
  return { getMigrations: async () => Object.fromEntries(MIGRATIONS.map((m) => [m.id, { up: up(m) }])) };
}

/**
 * Applies the pending migrations with Kysely's Migrator, which holds the
 * adapter's migration lock (GET_LOCK on MySQL, an advisory lock on
 * PostgreSQL, the IMMEDIATE transaction's write lock on SQLite) so several
 * services starting at once apply each migration once. Returns the ids
 * applied now (empty when up to date).
 */
export async function runMigrations(dialect: Dialect, kind: StoreKind): Promise<string[]> {
  await adoptLegacyRecords(dialect.db as unknown as Kysely<BookkeepingTables>);
  const migrator = new Migrator({ db: dialect.db, provider: migrationProvider(dialect, kind) });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) throw error;
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
