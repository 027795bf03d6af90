import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { ChangeLog, coversVersions, type RouteChange } from '../../src/store/change-log.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { routeKey } from '../../src/protocol/route-key.js';
import { RouteReader } from '../../src/store/route-reader.js';
import { kyselyOf } from '../../src/store/store.js';
import { forEachEngine } from '../support/engines.js';

const DAY_MS = 86_400_000;

await forEachEngine('route reader', (store) => {
  let nowMs = Date.now();
  const admin = new RouteAdmin(store, { clock: () => nowMs });
  const reader = new RouteReader(store);
  const changeLog = new ChangeLog(store, { clock: () => nowMs });

  test('loadRoutes groups hosts by service with unsigned IPs, and reports the version', async () => {
    await admin.addModule({ modid: 1, cmdid: 1 });
    await admin.addModule({ modid: 1, cmdid: 2 });
    await admin.addModule({ modid: 2, cmdid: 1 });
    await admin.addHost({ modid: 1, cmdid: 1, ip: '200.0.0.1', port: 80, weight: 3 });
    await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 81 });
    await admin.addHost({ modid: 2, cmdid: 1, ip: '10.0.0.2', port: 82 });
    const table = await reader.loadRoutes();
    assert.equal(table.version, await reader.readVersion());
    assert.deepEqual(
      [...table.routes.entries()],
      [
        [routeKey(1, 1), { hosts: [{ ip: 167772161, port: 81, weight: 1, load: null, source: 'static' }, { ip: 3355443201, port: 80, weight: 3, load: null, source: 'static' }], strategy: null }],
        [routeKey(2, 1), { hosts: [{ ip: 167772162, port: 82, weight: 1, load: null, source: 'static' }], strategy: null }],
      ],
    );
  });

  test("loadRoutes and loadRoutesOf carry each route's module strategy; a module without hosts has no route", async () => {
    await admin.addModule({ modid: 9, cmdid: 1, strategy: 'least_request' });
    await admin.addModule({ modid: 9, cmdid: 2, strategy: 'consistent_hash' });
    await admin.addModule({ modid: 9, cmdid: 3, strategy: 'weighted_round_robin' });
    await admin.addHost({ modid: 9, cmdid: 1, ip: '10.9.0.1', port: 91 });
    await admin.addHost({ modid: 9, cmdid: 3, ip: '10.9.0.3', port: 93 });
    const all = (await reader.loadRoutes()).routes;
    assert.deepEqual(all.get(routeKey(9, 1)), { hosts: [{ ip: 0x0a090001, port: 91, weight: 1, load: null, source: 'static' }], strategy: 'least_request' });
    assert.equal(all.get(routeKey(9, 3))?.strategy, 'weighted_round_robin');
    assert.equal(all.has(routeKey(9, 2)), false, 'no hosts, no route, whatever its strategy');
    assert.equal(all.get(routeKey(1, 1))?.strategy, null);

    await admin.updateModule({ modid: 9, cmdid: 1, strategy: 'default' });
    const some = await reader.loadRoutesOf([{ modid: 9, cmdid: 1 }, { modid: 9, cmdid: 2 }, { modid: 9, cmdid: 3 }]);
    assert.deepEqual(
      [...some.entries()].map(([key, route]) => [key, route.strategy]),
      [
        [routeKey(9, 1), null],
        [routeKey(9, 3), 'weighted_round_robin'],
      ],
    );
    for (const cmdid of [1, 2, 3]) await admin.delModule(9, cmdid);
  });

  test('changesSince lists later changes in version order, and reading never consumes them', async () => {
    const since = await reader.readVersion();
    await admin.addHost({ modid: 1, cmdid: 2, ip: '10.0.0.3', port: 83 });
    await admin.updateHost({ modid: 1, cmdid: 2, ip: '10.0.0.3', port: 83, weight: 2 });
    await admin.delModule(2, 1);
    const expected: RouteChange[] = [
      { version: since + 1, modid: 1, cmdid: 2, action: 'add' },
      { version: since + 2, modid: 1, cmdid: 2, action: 'update' },
      { version: since + 3, modid: 2, cmdid: 1, action: 'module-del' },
    ];
    assert.deepEqual(await reader.changesSince(since), expected);
    // A second dns instance sharing the store sees the same rows.
    assert.deepEqual(await new RouteReader(store).changesSince(since), expected);
    assert.deepEqual(await reader.changesSince(since + 2), expected.slice(2));
    assert.deepEqual(await reader.changesSince(since + 3), []);
    assert.equal(coversVersions(expected, since, since + 3), true);
  });

  test('ChangeLog.prune deletes only rows older than the age, and readers can tell a pruned gap', async () => {
    const since = await reader.readVersion();
    nowMs -= 3 * DAY_MS;
    await admin.addModule({ modid: 3, cmdid: 1 });
    await admin.addModule({ modid: 3, cmdid: 2 });
    nowMs += 3 * DAY_MS;
    await admin.addModule({ modid: 3, cmdid: 3 });
    const pruned = await changeLog.prune(2 * 86_400);
    assert.equal(pruned, 2);
    const left = await reader.changesSince(since);
    assert.deepEqual(left.map((c) => [c.version, c.cmdid]), [[since + 3, 3]]);
    assert.equal(coversVersions(left, since, since + 3), false);
    assert.equal(coversVersions(left, since + 2, since + 3), true);
    assert.equal(await changeLog.prune(2 * 86_400), 0);
  });

  test('loadRoutes reads 100,000 hosts correctly (time reported as a diagnostic)', async (t) => {
    const services = 1000;
    const hostsEach = 100;
    const base = 100_000;
    const moduleRows = Array.from({ length: services }, (_, i) => ({ modid: base + i, cmdid: 1, created_at: 0, updated_at: 0 }));
    const routeRows = moduleRows.flatMap((m, i) =>
      Array.from({ length: hostsEach }, (_, h) => ({
        modid: m.modid,
        cmdid: 1,
        ip: 0xc0000000 + i * hostsEach + h,
        port: 1 + h,
        weight: 1 + (h % 10),
        created_at: 0,
        updated_at: 0,
      })),
    );
    await kyselyOf(store).transaction().execute(async (trx) => {
      await trx.insertInto('modules').values(moduleRows).execute();
      for (let i = 0; i < routeRows.length; i += 2000) {
        await trx.insertInto('routes').values(routeRows.slice(i, i + 2000)).execute();
      }
    });
    const started = performance.now();
    const table = await reader.loadRoutes();
    const elapsed = performance.now() - started;
    t.diagnostic(`${store.kind}: loadRoutes of ${table.routes.size} services took ${elapsed.toFixed(0)} ms`);
    let total = 0;
    for (const [key, { hosts }] of table.routes) {
      if (key.endsWith(':1') && Number(key.split(':')[0]) >= base) {
        assert.equal(hosts.length, hostsEach);
        total += hosts.length;
      }
    }
    assert.equal(total, services * hostsEach);
    const sample = table.routes.get(routeKey(base + 999, 1));
    assert.deepEqual(sample?.hosts[99], { ip: 0xc0000000 + 999 * hostsEach + 99, port: 100, weight: 10, load: null, source: 'static' });
  });
});
