/**
 * RouteSync over the store's RouteReader on every reachable engine: which
 * polls report which routes as changed, the periodic full reload that catches
 * edits the change log never saw, and a store whose version went backwards.
 * The clock is injected, so "the full reload is due" is a step, not a wait.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteSync, type RouteSource } from '../../src/dns/route-sync.js';
import type { RouteSnapshot } from '../../src/dns/route-snapshot.js';
import { ipToUint32 } from '../../src/protocol/ip.js';
import { createLogger } from '../../src/reactor/log.js';
import { routeKey } from '../../src/protocol/route-key.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { RouteReader } from '../../src/store/route-reader.js';
import { kyselyOf, type Store } from '../../src/store/store.js';
import { forEachEngine } from '../support/engines.js';
import { captureLogs } from '../support/net.js';

const logs = captureLogs('info');
after(() => logs.restore());

const FULL_RELOAD_MS = 60_000;

/** A sync over the store with its own clock; `reported` collects each onChange's routes, sorted, `loadReports` each onLoads's. */
function syncOver(store: Store, source: RouteSource = new RouteReader(store)) {
  const clock = { now: 0 };
  const reported: string[][] = [];
  const loadReports: string[][] = [];
  let loads = 0;
  const sync = new RouteSync({
    source,
    pollIntervalMs: 1000,
    fullReloadIntervalMs: FULL_RELOAD_MS,
    maxRetryMs: 1000,
    logger: createLogger('test'),
    now: () => clock.now,
    onLoaded: () => (loads += 1),
    onChange: (_snapshot: RouteSnapshot, changed) => reported.push([...changed].sort()),
    onLoads: (_snapshot: RouteSnapshot, changed) => loadReports.push([...changed].sort()),
  });
  return { sync, reported, loadReports, clock, loads: () => loads };
}

/** A host row written behind the change log's back: no version bump, no change row. */
async function insertHostByHand(store: Store, modid: number, cmdid: number, ip: string, port: number): Promise<void> {
  await kyselyOf(store).insertInto('routes').values({ modid, cmdid, ip: ipToUint32(ip), port, weight: 1, created_at: 0, updated_at: 0 }).execute();
}

const hostsOf = (snapshot: RouteSnapshot, modid: number, cmdid: number) => snapshot.get(routeKey(modid, cmdid))?.hosts.map((h) => h.port) ?? [];

await forEachEngine('route sync', (store) => {
  const admin = new RouteAdmin(store);

  test('a burst of notifications is one poll, and one for a version already held is none', async () => {
    const reader = new RouteReader(store);
    let versionReads = 0;
    let storeAway = false;
    const counting: RouteSource = {
      readVersion: () => {
        versionReads += 1;
        return storeAway ? Promise.reject(new Error('store away')) : reader.readVersion();
      },
      loadRoutes: () => reader.loadRoutes(),
      loadRoutesOf: (routes) => reader.loadRoutesOf(routes),
      changesSince: (version) => reader.changesSince(version),
      readRegistryVersion: () => reader.readRegistryVersion(),
      loadsSince: (revision) => reader.loadsSince(revision),
    };
    const { sync, reported } = syncOver(store, counting);
    await sync.poll();
    await admin.addModule({ modid: 40, cmdid: 1 });
    let version = 0;
    for (let port = 1; port <= 20; port += 1) version = await admin.addHost({ modid: 40, cmdid: 1, ip: '10.4.0.1', port });
    for (let v = version - 19; v <= version; v += 1) sync.wake(v);
    await sync.poll();
    assert.equal(versionReads, 1, 'twenty wakes and a poll share one poll');
    assert.equal(sync.snapshot.version, version);
    assert.deepEqual(reported, [[routeKey(40, 1)]]);
    sync.wake(version);
    sync.wake(version - 5);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(versionReads, 1, 'the snapshot already holds those versions');
    sync.wake(undefined);
    await sync.poll();
    assert.equal(versionReads, 2, 'a wake without a version looks');

    storeAway = true;
    await assert.rejects(sync.poll());
    sync.wake(undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(versionReads, 3, 'while the store fails, only the paced retries ask it');
    storeAway = false;
    await sync.poll();
  });

  test('a change row whose route kept its hosts is applied without reporting that route', async () => {
    await admin.addModule({ modid: 1, cmdid: 1 });
    await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 });
    const { sync, reported, loads } = syncOver(store);
    const mine = logs.since();
    await sync.poll();
    assert.equal(loads(), 1, 'the first load is reported once');
    assert.deepEqual(reported, [], 'and is no change');
    assert.equal(mine.matching('routes_loaded').length, 1);

    await admin.addModule({ modid: 5, cmdid: 5 });
    await admin.updateModule({ modid: 1, cmdid: 1, description: 'described' });
    await sync.poll();
    assert.equal(sync.snapshot.version, await admin.version(), 'the version moves on');
    assert.deepEqual(reported, [], 'a module added or described is no route change');

    await admin.addHost({ modid: 5, cmdid: 5, ip: '10.0.0.5', port: 5 });
    await admin.updateHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80, weight: 1 });
    await sync.poll();
    assert.deepEqual(reported.at(-1), ['5:5'], 'only the route whose hosts changed');

    await admin.delHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 });
    await sync.poll();
    assert.deepEqual(reported.at(-1), ['1:1'], 'a route losing its last host is a change');
    assert.equal(sync.snapshot.get(routeKey(1, 1)), undefined);
    assert.equal(loads(), 1);
  });

  test('an edit the change log never saw is served once the periodic full reload is due, not before', async () => {
    await admin.addModule({ modid: 2, cmdid: 1 });
    await admin.addHost({ modid: 2, cmdid: 1, ip: '10.0.0.2', port: 20 });
    const { sync, reported, clock } = syncOver(store);
    await sync.poll();
    await insertHostByHand(store, 2, 1, '10.0.0.2', 21);
    clock.now = FULL_RELOAD_MS - 1;
    await sync.poll();
    assert.deepEqual(hostsOf(sync.snapshot, 2, 1), [20], 'the version did not move: nothing to read yet');
    clock.now = FULL_RELOAD_MS;
    await sync.poll();
    assert.deepEqual(hostsOf(sync.snapshot, 2, 1), [20, 21]);
    assert.deepEqual(reported, [['2:1']]);
  });

  test('a version bumped with no change row (pruned, or a hand edit) makes the next poll reload everything', async () => {
    await admin.addModule({ modid: 3, cmdid: 1 });
    const { sync, reported } = syncOver(store);
    await sync.poll();
    await insertHostByHand(store, 3, 1, '10.0.0.3', 30);
    await kyselyOf(store).updateTable('route_version').set((eb) => ({ version: eb('version', '+', 1) })).execute();
    const mine = logs.since();
    await sync.poll();
    assert.deepEqual(hostsOf(sync.snapshot, 3, 1), [30]);
    assert.deepEqual(reported, [['3:1']]);
    assert.equal(mine.matching('change_log_incomplete').length, 1);
  });

  test("a store version lower than the one applied (say, restored from a backup) is a full reload that serves the store's routes", async () => {
    await admin.addModule({ modid: 4, cmdid: 1 });
    await admin.addHost({ modid: 4, cmdid: 1, ip: '10.0.0.4', port: 40 });
    const { sync, reported } = syncOver(store);
    await sync.poll();
    const applied = sync.snapshot.version;
    // The backup: one host more, an older version and no change log after it.
    const db = kyselyOf(store);
    await insertHostByHand(store, 4, 1, '10.0.0.4', 41);
    await db.deleteFrom('route_changes').execute();
    await db.updateTable('route_version').set({ version: 1 }).execute();
    await sync.poll();
    assert.ok(applied > 1);
    assert.equal(sync.snapshot.version, 1);
    assert.deepEqual(hostsOf(sync.snapshot, 4, 1), [40, 41]);
    assert.deepEqual(reported, [['4:1']]);
    // Edits after the restore go on from its version.
    await admin.delHost({ modid: 4, cmdid: 1, ip: '10.0.0.4', port: 41 });
    await sync.poll();
    assert.deepEqual([sync.snapshot.version, hostsOf(sync.snapshot, 4, 1)], [2, [40]]);
  });
});
