/**
 * RouteSync against an in-memory route source: which polls report which
 * routes as changed. The store-backed source is covered by dns-service.test.ts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteSync, type RouteSource } from '../../src/dns/route-sync.js';
import type { RouteSnapshot } from '../../src/dns/route-snapshot.js';
import { createLogger } from '../../src/reactor/log.js';
import { routeKey, type RouteKey } from '../../src/protocol/route-key.js';
import type { RouteHost, RouteTable } from '../../src/store/index.js';
import type { ChangeAction } from '../../src/store/schema.js';
import type { RouteChange } from '../../src/store/change-log.js';
import { captureLogs } from '../support/net.js';

const logs = captureLogs('info');
after(() => logs.restore());

/** Routes and a change log held in memory; every edit bumps the version and logs one row. */
class MemorySource implements RouteSource {
  private version = 0;
  private readonly routes = new Map<RouteKey, RouteHost[]>();
  private readonly changes: RouteChange[] = [];

  edit(modid: number, cmdid: number, action: ChangeAction, hosts?: RouteHost[]): void {
    if (hosts) this.routes.set(routeKey(modid, cmdid), hosts);
    this.version += 1;
    this.changes.push({ version: this.version, modid, cmdid, action });
  }

  async readVersion(): Promise<number> {
    return this.version;
  }
  async loadRoutes(): Promise<RouteTable> {
    return { version: this.version, routes: new Map([...this.routes].filter(([, hosts]) => hosts.length > 0)) };
  }
  async loadRoutesOf(keys: readonly { modid: number; cmdid: number }[]): Promise<Map<RouteKey, RouteHost[]>> {
    const found = new Map<RouteKey, RouteHost[]>();
    for (const { modid, cmdid } of keys) {
      const hosts = this.routes.get(routeKey(modid, cmdid));
      if (hosts?.length) found.set(routeKey(modid, cmdid), hosts);
    }
    return found;
  }
  async changesSince(version: number): Promise<RouteChange[]> {
    return this.changes.filter((c) => c.version > version);
  }
}

function syncOver(source: RouteSource) {
  const reported: string[][] = [];
  const sync = new RouteSync({
    source,
    pollIntervalMs: 1000,
    fullReloadIntervalMs: 3_600_000,
    maxRetryMs: 1000,
    logger: createLogger('test'),
    onChange: (_snapshot: RouteSnapshot, changed) => reported.push([...changed].sort()),
  });
  return { sync, reported };
}

const host = (ip: number, port: number) => ({ ip, port, weight: 1 });

test('a change row whose route kept its hosts is applied without reporting that route', async () => {
  const source = new MemorySource();
  source.edit(1, 1, 'add', [host(1, 80)]);
  const { sync, reported } = syncOver(source);
  await sync.poll();
  assert.deepEqual(reported, [['1:1']], 'the first load reports every route');
  assert.equal(logs.matching('routes_loaded').length, 1);

  source.edit(5, 5, 'module-add');
  source.edit(1, 1, 'module-update');
  await sync.poll();
  assert.equal(sync.snapshot.version, 3, 'the version moves on');
  assert.deepEqual(reported, [['1:1']], 'a module added or described is no route change');

  source.edit(5, 5, 'add', [host(5, 5)]);
  source.edit(1, 1, 'update', [host(1, 80)]);
  await sync.poll();
  assert.deepEqual(reported.at(-1), ['5:5'], 'only the route whose hosts changed');

  source.edit(1, 1, 'del', []);
  await sync.poll();
  assert.deepEqual(reported.at(-1), ['1:1'], 'a route losing its last host is a change');
  assert.equal(sync.snapshot.get(routeKey(1, 1)), undefined);
});
