import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeLog } from '../../src/store/change-log.js';
import { ConflictError, NotFoundError, ValidationError } from '../../src/store/errors.js';
import { routeKey } from '../../src/protocol/route-key.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { RouteReader } from '../../src/store/route-reader.js';
import { kyselyOf, openStore, type Store } from '../../src/store/store.js';
import { forEachEngine } from '../support/engines.js';

const ACTOR = 'tester';

/** Everything an edit could touch, to prove a failed edit touched nothing. */
async function snapshot(store: Store) {
  const db = kyselyOf(store);
  return {
    version: (await db.selectFrom('route_version').select('version').executeTakeFirstOrThrow()).version,
    modules: await db.selectFrom('modules').selectAll().orderBy('modid').orderBy('cmdid').execute(),
    routes: await db.selectFrom('routes').selectAll().orderBy('modid').orderBy('cmdid').orderBy('ip').orderBy('port').execute(),
    changes: (await db.selectFrom('route_changes').select('id').execute()).length,
  };
}

async function latestChange(store: Store) {
  const [change] = (await new ChangeLog(store).list({ limit: 1 })).changes;
  assert.ok(change, 'a change row');
  return change;
}

await forEachEngine('route admin', (store, _engineName, { url }) => {
  let nowMs = 1_700_000_000_000;
  const admin = new RouteAdmin(store, { clock: () => nowMs });

  test('addModule bumps the version and logs module-add with actor and time', async () => {
    const before = await admin.version();
    const version = await admin.addModule({ modid: 1, cmdid: 1, description: 'orders' }, ACTOR);
    assert.equal(version, before + 1);
    assert.equal(await admin.version(), version);
    const module = (await admin.listModules()).modules.find((m) => m.modid === 1 && m.cmdid === 1);
    assert.deepEqual(module, { modid: 1, cmdid: 1, description: 'orders', strategy: null, hosts: 0, createdAt: 1_700_000_000, updatedAt: 1_700_000_000 });
    assert.deepEqual(await latestChange(store), {
      version,
      modid: 1,
      cmdid: 1,
      action: 'module-add',
      detail: 'description "orders"',
      actor: ACTOR,
      changedAt: 1_700_000_000,
      revertible: true,
    });
  });

  test('add, update and delete a host: one version and one change row each', async () => {
    await admin.addModule({ modid: 2, cmdid: 1 });
    nowMs += 5000;
    const added = await admin.addHost({ modid: 2, cmdid: 1, ip: '10.0.0.1', port: 8080 }, ACTOR);
    assert.deepEqual((await admin.listHosts({ modid: 2, cmdid: 1 })).hosts, [
      { modid: 2, cmdid: 1, ip: '10.0.0.1', port: 8080, weight: 1, drained: false, createdAt: nowMs / 1000, updatedAt: nowMs / 1000 },
    ]);
    assert.deepEqual(await latestChange(store), {
      version: added, modid: 2, cmdid: 1, action: 'add', detail: '10.0.0.1:8080 weight 1', actor: ACTOR, changedAt: nowMs / 1000, revertible: true,
    });

    const createdAt = nowMs / 1000;
    nowMs += 5000;
    const updated = await admin.updateHost({ modid: 2, cmdid: 1, ip: '10.0.0.1', port: 8080, weight: 7 }, ACTOR);
    assert.equal(updated, added + 1);
    const [route] = (await admin.listHosts({ modid: 2, cmdid: 1 })).hosts;
    assert.deepEqual([route?.weight, route?.createdAt, route?.updatedAt], [7, createdAt, nowMs / 1000]);
    const update = await latestChange(store);
    assert.deepEqual([update.version, update.action, update.detail], [updated, 'update', '10.0.0.1:8080 weight 1 -> 7']);

    const deleted = await admin.delHost({ modid: 2, cmdid: 1, ip: '10.0.0.1', port: 8080 }, null);
    assert.equal(deleted, updated + 1);
    assert.deepEqual((await admin.listHosts({ modid: 2, cmdid: 1 })).hosts, []);
    const del = await latestChange(store);
    assert.deepEqual([del.version, del.action, del.detail, del.actor], [deleted, 'del', '10.0.0.1:8080 weight 7', null]);
  });

  test('updateModule changes the description; delModule removes the module and its hosts in one edit', async () => {
    await admin.addModule({ modid: 3, cmdid: 1, description: 'old' });
    await admin.addHost({ modid: 3, cmdid: 1, ip: '10.0.0.1', port: 1 });
    await admin.addHost({ modid: 3, cmdid: 1, ip: '10.0.0.2', port: 1, weight: 3 });
    const updated = await admin.updateModule({ modid: 3, cmdid: 1, description: 'new' }, ACTOR);
    assert.equal((await admin.listModules()).modules.find((m) => m.modid === 3)?.description, 'new');
    assert.equal((await latestChange(store)).detail, 'description "old" -> "new"');

    assert.equal((await admin.listModules()).modules.find((m) => m.modid === 3)?.hosts, 2);
    const deleted = await admin.delModule(3, 1, ACTOR);
    assert.equal(deleted, updated + 1);
    assert.equal((await admin.listModules()).modules.find((m) => m.modid === 3), undefined);
    assert.deepEqual((await admin.listHosts({ modid: 3, cmdid: 1 })).hosts, []);
    const change = await latestChange(store);
    assert.deepEqual([change.version, change.action, change.detail], [deleted, 'module-del', 'removed with 2 hosts']);
  });

  test("a module's strategy: set on add, changed and cleared by updateModule, each a version and a change row; read back everywhere", async () => {
    const key = { modid: 11, cmdid: 1 };
    const added = await admin.addModule({ ...key, description: 'picky', strategy: 'least_request' }, ACTOR);
    assert.equal((await latestChange(store)).detail, 'description "picky"; strategy least_request');
    assert.equal((await admin.findModule(11, 1))?.strategy, 'least_request');
    assert.equal((await admin.listModules()).modules.find((m) => m.modid === 11)?.strategy, 'least_request');

    nowMs += 1000;
    const changed = await admin.updateModule({ ...key, strategy: 'consistent_hash' }, ACTOR);
    assert.equal(changed, added + 1, 'a strategy change bumps the route version');
    assert.deepEqual(await latestChange(store), {
      version: changed, modid: 11, cmdid: 1, action: 'module-update', detail: 'strategy least_request -> consistent_hash', actor: ACTOR, changedAt: nowMs / 1000, revertible: true,
    });
    const route = await admin.readRoute(11, 1);
    assert.deepEqual([route?.version, route?.module.strategy, route?.module.description, route?.module.updatedAt], [changed, 'consistent_hash', 'picky', nowMs / 1000]);

    const cleared = await admin.updateModule({ ...key, strategy: 'default' }, ACTOR);
    assert.equal(cleared, changed + 1);
    assert.equal((await latestChange(store)).detail, 'strategy consistent_hash -> default');
    assert.equal((await admin.findModule(11, 1))?.strategy, null);

    await admin.updateModule({ ...key, description: 'both', strategy: 'weighted_round_robin' });
    assert.equal((await latestChange(store)).detail, 'description "picky" -> "both"; strategy default -> weighted_round_robin');
    await admin.updateModule({ ...key, strategy: null });
    assert.equal((await admin.findModule(11, 1))?.strategy, null, 'null clears it too');
    await admin.updateModule({ ...key, description: 'description only' });
    assert.equal((await admin.findModule(11, 1))?.strategy, null, 'a description change leaves the strategy');
    await admin.addModule({ modid: 11, cmdid: 2, strategy: 'default' });
    assert.deepEqual([(await latestChange(store)).detail, (await admin.findModule(11, 2))?.strategy], ['', null]);
  });

  test('invalid input is a ValidationError naming the field, and changes nothing', async () => {
    await admin.addModule({ modid: 4, cmdid: 1 });
    await admin.addHost({ modid: 4, cmdid: 1, ip: '10.0.0.1', port: 80 });
    const before = await snapshot(store);
    const host = { modid: 4, cmdid: 1, ip: '10.0.0.9', port: 80 };
    const cases: [string, () => Promise<unknown>][] = [
      ['ip', () => admin.addHost({ ...host, ip: '256.0.0.1' })],
      ['ip', () => admin.addHost({ ...host, ip: 'example.com' })],
      ['ip', () => admin.delHost({ ...host, ip: '10.0.0' })],
      ['port', () => admin.addHost({ ...host, port: 0 })],
      ['port', () => admin.addHost({ ...host, port: 65536 })],
      ['port', () => admin.addHost({ ...host, port: 80.5 })],
      ['modid', () => admin.addHost({ ...host, modid: 2 ** 31 })],
      ['cmdid', () => admin.addModule({ modid: 4, cmdid: -(2 ** 31) - 1 })],
      ['weight', () => admin.addHost({ ...host, weight: -1 })],
      ['weight', () => admin.updateHost({ ...host, ip: '10.0.0.1', weight: 1001 })],
      ['description', () => admin.addModule({ modid: 4, cmdid: 2, description: 'x'.repeat(256) })],
      ['description', () => admin.updateModule({ modid: 4, cmdid: 1, description: 'a\u0000b' })],
      ['description', () => admin.updateModule({ modid: 4, cmdid: 1 })],
      ['strategy', () => admin.addModule({ modid: 4, cmdid: 2, strategy: 'random' })],
      ['strategy', () => admin.updateModule({ modid: 4, cmdid: 1, strategy: 'LARS' })],
      ['strategy', () => admin.updateModule({ modid: 4, cmdid: 1, strategy: '' })],
      ['strategy', () => admin.updateModule({ modid: 4, cmdid: 1, strategy: 7 as unknown as string })],
      ['actor', () => admin.addModule({ modid: 4, cmdid: 3 }, 'a'.repeat(65))],
      ['modid', () => admin.listHosts({ modid: 1.5, cmdid: 1 })],
      ['cmdid', () => admin.readRoute(1, 2 ** 31)],
      ['modid', () => admin.findModule(0.5, 1)],
    ];
    for (const [field, call] of cases) {
      await assert.rejects(call(), (err) => {
        assert.ok(err instanceof ValidationError, `${field}: ${err}`);
        assert.equal(err.field, field);
        assert.ok(err.message.startsWith(`${field}: `));
        return true;
      });
    }
    await assert.rejects(admin.addModule({ modid: 4, cmdid: 2, strategy: 'random' }), /^ValidationError: strategy: must be one of lars, consistent_hash, .*, default, got "random"$/);
    assert.deepEqual(await snapshot(store), before);
    // The limits themselves are accepted (255 characters counted as characters, not UTF-16 units).
    await admin.addModule({ modid: 4, cmdid: 2, description: '路'.repeat(200) + '😀'.repeat(55) });
    await admin.addHost({ ...host, port: 65535, weight: 1000 });
    await admin.addHost({ ...host, port: 65534, weight: 0 });
  });

  test('unknown modules and hosts are NotFoundError; duplicates are ConflictError; neither changes anything', async () => {
    await admin.addModule({ modid: 5, cmdid: 1 });
    await admin.addHost({ modid: 5, cmdid: 1, ip: '10.0.0.1', port: 80 });
    const before = await snapshot(store);
    const missingHost = { modid: 5, cmdid: 1, ip: '10.0.0.2', port: 80 };
    for (const call of [
      () => admin.addHost({ modid: 5, cmdid: 99, ip: '10.0.0.1', port: 80 }),
      () => admin.updateHost({ ...missingHost, weight: 2 }),
      () => admin.delHost(missingHost),
      () => admin.delModule(5, 99),
      () => admin.updateModule({ modid: 5, cmdid: 99, description: 'x' }),
    ]) {
      await assert.rejects(call(), NotFoundError);
    }
    await assert.rejects(admin.addModule({ modid: 5, cmdid: 1 }), (err) => err instanceof ConflictError && /module 5:1 already exists/.test(err.message));
    await assert.rejects(admin.addHost({ modid: 5, cmdid: 1, ip: '10.0.0.1', port: 80, weight: 9 }), ConflictError);
    assert.deepEqual(await snapshot(store), before);
  });

  test('a failure in the middle of an edit transaction rolls everything back', async () => {
    await admin.addModule({ modid: 6, cmdid: 1 });
    await admin.addHost({ modid: 6, cmdid: 1, ip: '10.0.0.1', port: 80 });
    const before = await snapshot(store);
    // A stray change row at the next version makes the edit's own change-log
    // insert (its last statement) violate the unique version index.
    await kyselyOf(store)
      .insertInto('route_changes')
      .values({ version: before.version + 1, modid: 0, cmdid: 0, action: 'add', detail: 'injected', actor: null, changed_at: 0 })
      .execute();
    const injected = await snapshot(store);
    const databaseError = (err: unknown) => !(err instanceof ValidationError || err instanceof NotFoundError || err instanceof ConflictError);
    await assert.rejects(admin.addHost({ modid: 6, cmdid: 1, ip: '10.0.0.2', port: 80 }), databaseError);
    await assert.rejects(admin.delModule(6, 1), databaseError);
    await assert.rejects(admin.updateHost({ modid: 6, cmdid: 1, ip: '10.0.0.1', port: 80, weight: 5 }), databaseError);
    assert.deepEqual(await snapshot(store), injected);
    await kyselyOf(store).deleteFrom('route_changes').where('detail', '=', 'injected').execute();
    assert.deepEqual(await snapshot(store), before);
    assert.equal(await admin.addHost({ modid: 6, cmdid: 1, ip: '10.0.0.2', port: 80 }), before.version + 1);
  });

  test('concurrent edits from two stores get distinct, consecutive versions', async () => {
    await admin.addModule({ modid: 7, cmdid: 1 });
    const other = await openStore(url);
    try {
      const admins = [admin, new RouteAdmin(other)];
      const start = await admin.version();
      const versions = await Promise.all(
        Array.from({ length: 20 }, (_, i) => admins[i % 2]!.addHost({ modid: 7, cmdid: 1, ip: `10.0.1.${i}`, port: 80 })),
      );
      assert.deepEqual([...versions].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => start + 1 + i));
      const logged = await kyselyOf(store).selectFrom('route_changes').select('version').where('version', '>', start).orderBy('version').execute();
      assert.deepEqual(logged.map((r) => r.version), Array.from({ length: 20 }, (_, i) => start + 1 + i));
      assert.equal(((await admin.listHosts({ modid: 7, cmdid: 1 })).hosts).length, 20);
    } finally {
      await other.close();
    }
  });

  test('addresses at and above 128.0.0.0 are stored unsigned and read back dotted', async () => {
    await admin.addModule({ modid: 8, cmdid: 1 });
    for (const ip of ['200.1.2.3', '255.255.255.255', '128.0.0.0', '0.0.0.0']) {
      await admin.addHost({ modid: 8, cmdid: 1, ip, port: 80 });
    }
    const raw = await kyselyOf(store).selectFrom('routes').select('ip').where('modid', '=', 8).orderBy('ip').execute();
    assert.deepEqual(raw.map((r) => r.ip), [0, 2147483648, 3355509251, 4294967295]);
    assert.deepEqual(((await admin.listHosts({ modid: 8, cmdid: 1 })).hosts).map((r) => r.ip), ['0.0.0.0', '128.0.0.0', '200.1.2.3', '255.255.255.255']);
    // The database itself refuses a sign-flipped (wire int32) value.
    await assert.rejects(
      kyselyOf(store).insertInto('routes').values({ modid: 8, cmdid: 1, ip: -939458045, port: 80, created_at: 0, updated_at: 0 }).execute(),
    );
  });

  test('listModules counts hosts and lists in key order; listHosts filters by module', async () => {
    await admin.addModule({ modid: 9, cmdid: 2 });
    await admin.addModule({ modid: 9, cmdid: 1 });
    await admin.addHost({ modid: 9, cmdid: 2, ip: '10.0.0.2', port: 2 });
    await admin.addHost({ modid: 9, cmdid: 2, ip: '10.0.0.1', port: 3 });
    await admin.addHost({ modid: 9, cmdid: 2, ip: '10.0.0.1', port: 2 });
    const nines = (await admin.listModules()).modules.filter((m) => m.modid === 9);
    assert.deepEqual(nines.map((m) => [m.cmdid, m.hosts]), [[1, 0], [2, 3]]);
    const routes = (await admin.listHosts({ modid: 9, cmdid: 2 })).hosts;
    assert.deepEqual(routes.map((r) => `${r.ip}:${r.port}`), ['10.0.0.1:2', '10.0.0.1:3', '10.0.0.2:2']);
    const all = (await admin.listHosts()).hosts;
    assert.ok(all.length > routes.length);
    assert.ok(all.every((r, i) => i === 0 || r.modid > all[i - 1]!.modid || (r.modid === all[i - 1]!.modid && r.cmdid >= all[i - 1]!.cmdid)));
  });

  test('readRoute gives one module with its hosts and the version read; findModule the module; both undefined for a missing one', async () => {
    nowMs = 1_700_000_100_000;
    await admin.addModule({ modid: 10, cmdid: 1, description: 'ten' });
    const version = await admin.addHost({ modid: 10, cmdid: 1, ip: '10.0.0.10', port: 10, weight: 4 });
    const module = { modid: 10, cmdid: 1, description: 'ten', strategy: null, createdAt: 1_700_000_100, updatedAt: 1_700_000_100 };
    assert.deepEqual(await admin.readRoute(10, 1), {
      version,
      module,
      hosts: [{ modid: 10, cmdid: 1, ip: '10.0.0.10', port: 10, weight: 4, drained: false, createdAt: 1_700_000_100, updatedAt: 1_700_000_100 }],
    });
    assert.deepEqual(await admin.findModule(10, 1), module);
    assert.equal(await admin.readRoute(10, 2), undefined);
    assert.equal(await admin.findModule(10, 2), undefined);
    assert.equal((await admin.listHosts({ modid: 10, cmdid: 1 })).version, version);
    assert.equal((await admin.listModules()).version, version);
  });

  test('findServedHosts finds one address in every module, narrowed by port; a bad address is a ValidationError', async () => {
    await admin.addModule({ modid: 90, cmdid: 1 });
    await admin.addModule({ modid: 91, cmdid: 2 });
    await admin.addHost({ modid: 90, cmdid: 1, ip: '172.16.9.9', port: 80 });
    await admin.addHost({ modid: 91, cmdid: 2, ip: '172.16.9.9', port: 81, weight: 4 });
    await admin.addHost({ modid: 91, cmdid: 2, ip: '172.16.9.10', port: 80 });
    const everywhere = await admin.findServedHosts({ ip: '172.16.9.9' });
    assert.deepEqual(everywhere.hosts.map((h) => [h.modid, h.cmdid, h.ip, h.port, h.weight, h.source]), [
      [90, 1, '172.16.9.9', 80, 1, 'static'],
      [91, 2, '172.16.9.9', 81, 4, 'static'],
    ]);
    assert.equal(everywhere.version, await admin.version());
    assert.deepEqual((await admin.findServedHosts({ ip: '172.16.9.9', port: 81 })).hosts.map((h) => h.modid), [91]);
    assert.deepEqual((await admin.findServedHosts({ ip: '172.16.9.11' })).hosts, []);
    await assert.rejects(admin.findServedHosts({ ip: '172.16.9' }), ValidationError);
    await assert.rejects(admin.findServedHosts({ ip: '172.16.9.9', port: 0 }), ValidationError);
  });

  test('drainHost keeps the weight and dns reads 0 until undrainHost; a second drain is a conflict; each is one change row', async () => {
    await admin.addModule({ modid: 92, cmdid: 1 });
    await admin.addHost({ modid: 92, cmdid: 1, ip: '10.92.0.1', port: 80, weight: 5 });
    await admin.addHost({ modid: 92, cmdid: 1, ip: '10.92.0.2', port: 80, weight: 2 });
    const served = async () => {
      const { routes } = await new RouteReader(store).loadRoutes();
      return routes.get(routeKey(92, 1))!.hosts.map((h) => [h.port, h.weight, h.ip]);
    };
    const key = { modid: 92, cmdid: 1, ip: '10.92.0.1', port: 80 };
    const drained = await admin.drainHost(key, ACTOR);
    assert.deepEqual((await latestChange(store)).detail, '10.92.0.1:80 drained (weight 5 kept)');
    assert.deepEqual((await admin.listHosts({ modid: 92, cmdid: 1 })).hosts.map((h) => [h.ip, h.weight, h.drained]), [['10.92.0.1', 5, true], ['10.92.0.2', 2, false]]);
    assert.deepEqual((await served()).map(([, weight]) => weight), [0, 2], 'dns serves the drained host with weight 0');
    await assert.rejects(admin.drainHost(key, ACTOR), ConflictError);
    await admin.updateHost({ ...key, weight: 7 }, ACTOR);
    assert.match((await latestChange(store)).detail, /weight 5 -> 7 \(drained: served 0 until undrained\)/);
    assert.deepEqual((await served()).map(([, weight]) => weight), [0, 2], 'a weight set while drained waits');
    const undrained = await admin.undrainHost(key, ACTOR);
    assert.equal(undrained, drained + 2);
    assert.deepEqual([(await latestChange(store)).action, (await latestChange(store)).detail], ['undrain', '10.92.0.1:80 undrained: weight 7']);
    assert.deepEqual((await served()).map(([, weight]) => weight), [7, 2]);
    await assert.rejects(admin.undrainHost(key, ACTOR), ConflictError);
    await assert.rejects(admin.drainHost({ ...key, port: 81 }, ACTOR), NotFoundError);
  });
});
