import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { openStore, type Store } from '../../src/store/store.js';
import { forEachEngine, type TestEngine } from '../support/engines.js';

const TABLES = [
  'api_tokens',
  'call_series',
  'call_status',
  'lars_migrations',
  'modules',
  'route_changes',
  'route_version',
  'routes',
  'sessions',
  'users',
];

async function tableNames(store: Store): Promise<string[]> {
  return (await store.db.introspection.getTables()).map((t) => t.name).sort();
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
        const version = await store.db.selectFrom('route_version').selectAll().execute();
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
        const recorded = await a.db.selectFrom('lars_migrations').select('id').execute();
        assert.equal(recorded.length, MIGRATIONS.length);
        assert.equal((await b.db.selectFrom('route_version').selectAll().execute()).length, 1);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  test('BIGINT columns and aggregates come back as JS numbers', async () => {
    const big = 5_000_000_123;
    const row = { modid: 1, cmdid: 1, ip: 4294967295, port: 80, caller: 3355509251, succ: big, err: 1 };
    await store.db.insertInto('call_series').values([{ ...row, window_ts: 60 }, { ...row, window_ts: 120 }]).execute();
    const back = await store.db.selectFrom('call_series').selectAll().where('window_ts', '=', 60).executeTakeFirstOrThrow();
    assert.deepEqual(back, { ...row, window_ts: 60 });
    const totals = await store.db
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
