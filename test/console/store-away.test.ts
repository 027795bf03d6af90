/**
 * The store going away under a running console: requests answer 503 with a
 * clear message, nothing is half-written, and the console serves again once
 * the store is back. MariaDB and PostgreSQL are cut through a TCP proxy;
 * SQLite is held by another connection's write lock past the busy timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import SqliteDatabase from 'better-sqlite3';
import { startConsole } from '../../src/console/server.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { openStore } from '../../src/store/store.js';
import { parseStoreUrl } from '../../src/store/url.js';
import { forEachEngine } from '../support/engines.js';
import { waitFor } from '../support/net.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { ADMIN, ApiClient, addTestUsers, storeSnapshot } from './helpers.js';

const NEW_HOST = { ip: '10.1.1.1', port: 8080 };

await forEachEngine('console with the store away', (store, engine, { url }) => {
  test('503 with a clear message, nothing written, and service again once the store is back', async () => {
    await addTestUsers(store);
    await new RouteAdmin(store).addModule({ modid: 3, cmdid: 1 }, 'fixture');
    const location = parseStoreUrl(url);
    const proxy = location.kind === 'sqlite' ? undefined : new TcpProxy(location.host, location.port);
    await proxy?.start();
    const consoleStore = proxy ? await openStore(proxy.proxiedUrl(url), { migrate: false, connectTimeoutMs: 2000 }) : store;
    const server = await startConsole({ store: consoleStore, port: 0 });
    const lock = location.kind === 'sqlite' ? new SqliteDatabase(location.path) : undefined;
    try {
      const client = new ApiClient(server.url);
      assert.equal((await client.login(ADMIN)).status, 200);
      const before = await storeSnapshot(store);

      if (proxy) await proxy.stop();
      else lock!.exec('begin immediate');
      const edit = await client.request('POST', '/api/v1/modules/3/1/hosts', { body: NEW_HOST });
      assert.equal(edit.status, 503, JSON.stringify(edit.body));
      assert.match(edit.body.error, /^store unavailable: .+ \(edits are all-or-nothing; try again\)$/);
      assert.equal(edit.headers.get('retry-after'), '5');
      if (proxy) {
        const read = await client.request('GET', '/api/v1/modules');
        assert.equal(read.status, 503);
        assert.equal((await client.request('GET', '/healthz', { auth: { kind: 'none' } })).status, 503);
      }

      if (proxy) await proxy.start();
      else lock!.exec('rollback');
      assert.equal(await storeSnapshot(store), before, `${engine}: nothing was written`);
      await waitFor(async () => (await client.request('GET', '/healthz', { auth: { kind: 'none' } })).status === 200, {
        timeoutMs: 30_000,
        message: 'the console to reach the store again',
      });
      const retry = await client.request('POST', '/api/v1/modules/3/1/hosts', { body: NEW_HOST });
      assert.equal(retry.status, 201, JSON.stringify(retry.body));
    } finally {
      lock?.close();
      await server.close();
      if (proxy) {
        await consoleStore.close();
        await proxy.stop();
      }
    }
  });
});
