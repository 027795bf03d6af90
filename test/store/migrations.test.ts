import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { kyselyOf, openStore, type Store } from '../../src/store/store.js';
import type { StoreKind } from '../../src/store/url.js';
import { forEachEngine, type TestEngine } from '../support/engines.js';

/** The schema's tables; Kysely's own kysely_migration and kysely_migration_lock are not listed by introspection. */
const TABLES = [
  'api_tokens',
  'audit_events',
  'call_series',
  'call_status',
  'dns_nodes',
  'instance_overrides',
  'instances',
  'modules',
  'registry_version',
  'route_changes',
  'route_version',
  'routes',
  'sessions',
  'user_grants',
  'users',
];

async function tableNames(store: Store, withInternalKyselyTables = false): Promise<string[]> {
  return (await kyselyOf(store).introspection.getTables({ withInternalKyselyTables })).map((t) => t.name).sort();
}

/**
 * What the runner before Kysely's Migrator left behind: the schema (the same
 * migration code), its applied ids in lars_migrations(id, applied_at), no
 * kysely_migration table; and some routes.
 */
async function createLegacyStore(url: string, kind: StoreKind): Promise<void> {
  const store = await openStore(url, { migrate: false });
  try {
    const db = kyselyOf(store);
    for (const migration of MIGRATIONS) for (const statement of migration.statements(db, kind)) await statement.execute();
    await sql`create table lars_migrations (id varchar(64) primary key, applied_at bigint not null)`.execute(db);
    for (const migration of MIGRATIONS) await sql`insert into lars_migrations (id, applied_at) values (${migration.id}, ${1_700_000_000})`.execute(db);
    const admin = new RouteAdmin(store);
    await admin.addModule({ modid: 1, cmdid: 1, description: 'kept' });
    await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 });
  } finally {
    await store.close();
  }
}

/** Runs work on a new, empty database of the engine and drops it afterwards. */
async function withFreshDatabase(engine: TestEngine, work: (url: string) => Promise<void>): Promise<void> {
  const database = await engine.createDatabase();
  try {
    await work(database.url);
  } finally {
    await database.drop();
  }
}

await forEachEngine('migrations', (store, _engineName, { engine }) => {
  test('a fresh database gets every table once; running again applies nothing', async () => {
    await withFreshDatabase(engine, async (url) => {
      const store = await openStore(url, { migrate: false });
      try {
        assert.deepEqual(await tableNames(store), []);
        assert.deepEqual(await store.migrate(), MIGRATIONS.map((m) => m.id));
        assert.deepEqual(await store.migrate(), []);
        assert.deepEqual(await tableNames(store), TABLES);
        const version = await kyselyOf(store).selectFrom('route_version').selectAll().execute();
        assert.deepEqual(version, [{ id: 1, version: 0 }]);
      } finally {
        await store.close();
      }
    });
  });

  test('two stores migrating the same database at once apply each migration exactly once', async () => {
    await withFreshDatabase(engine, async (url) => {
      const [a, b] = await Promise.all([openStore(url, { migrate: false }), openStore(url, { migrate: false })]);
      try {
        const applied = await Promise.all([a.migrate(), b.migrate()]);
        assert.deepEqual(applied.flat().sort(), MIGRATIONS.map((m) => m.id).sort());
        const recorded = await sql<{ name: string }>`select name from kysely_migration`.execute(kyselyOf(a));
        assert.equal(recorded.rows.length, MIGRATIONS.length);
        assert.equal((await kyselyOf(b).selectFrom('route_version').selectAll().execute()).length, 1);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  test('a store created by the lars_migrations runner opens: its records are adopted, nothing runs twice, its data stays', async () => {
    await withFreshDatabase(engine, async (url) => {
      await createLegacyStore(url, store.kind);
      // Two processes starting at once on the old store: both adopt, neither applies anything.
      const [a, b] = await Promise.all([openStore(url, { migrate: false }), openStore(url, { migrate: false })]);
      try {
        assert.deepEqual(await Promise.all([a.migrate(), b.migrate()]), [[], []]);
        assert.deepEqual(await a.migrate(), []);
        const tables = await tableNames(a, true);
        assert.deepEqual(tables, [...TABLES, 'kysely_migration', 'kysely_migration_lock'].sort(), 'lars_migrations is gone');
        const recorded = await sql<{ name: string; timestamp: string }>`select name, timestamp from kysely_migration order by name`.execute(kyselyOf(a));
        assert.deepEqual(recorded.rows, MIGRATIONS.map((m) => ({ name: m.id, timestamp: new Date(1_700_000_000_000).toISOString() })));
        const admin = new RouteAdmin(b);
        assert.deepEqual((await admin.listHosts()).hosts.map((h) => `${h.ip}:${h.port}`), ['10.0.0.1:80']);
        assert.equal(await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.2', port: 80 }), 3, 'edits go on from the old version');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  test('BIGINT columns and aggregates come back as JS numbers', async () => {
    const big = 5_000_000_123;
    const row = { modid: 1, cmdid: 1, ip: 4294967295, port: 80, caller: 3355509251, succ: big, err: 1 };
    const db = kyselyOf(store);
    await db.insertInto('call_series').values([{ ...row, window_ts: 60 }, { ...row, window_ts: 120 }]).execute();
    const back = await db.selectFrom('call_series').selectAll().where('window_ts', '=', 60).executeTakeFirstOrThrow();
    assert.deepEqual(back, { ...row, window_ts: 60, timed: 0, duration_us: 0, max_duration_us: 0 }, 'durations default to 0 (migration 0011)');
    const totals = await db
      .selectFrom('call_series')
      .select((eb) => [eb.fn.sum<number>('succ').as('succ'), eb.fn.countAll<number>().as('windows'), eb.fn.max('window_ts').as('last')])
      .executeTakeFirstOrThrow();
    assert.deepEqual(totals, { succ: 2 * big, windows: 2, last: 120 });
  });

  test('openStore migrates unless told not to', async () => {
    await withFreshDatabase(engine, async (url) => {
      const bare = await openStore(url, { migrate: false });
      assert.deepEqual(await tableNames(bare), []);
      await bare.close();
      const migrated = await openStore(url);
      try {
        assert.deepEqual(await tableNames(migrated), TABLES);
      } finally {
        await migrated.close();
      }
    });
  });
});
