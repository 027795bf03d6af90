/**
 * Importing a Lars database (docs/store.md, "Moving from Lars"): a real
 * MariaDB database with Lars's tables, imported into every engine. Addresses
 * at and above 128.0.0.0 survive, a duplicate row is skipped and counted,
 * the latest status lands in call_status, a dry run writes nothing, a second
 * run changes nothing, and a source that is not a Lars database or holds a
 * bad row is refused with nothing written.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog } from '../../src/store/audit.js';
import { ChangeLog } from '../../src/store/change-log.js';
import { StoreUnavailableError, StoreUrlError, ValidationError } from '../../src/store/errors.js';
import { LarsImport } from '../../src/store/lars-import.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { RouteReader } from '../../src/store/route-reader.js';
import { CallStatus } from '../../src/store/status.js';
import { openStore, type Store } from '../../src/store/store.js';
import { createLogger } from '../../src/reactor/log.js';
import { forEachEngine } from '../support/engines.js';
import { createLarsSource, larsSourceServer, type LarsRouteRow, type LarsSourceDb } from '../support/lars-source.js';

const TS = 1_764_740_000;
const ROUTES: LarsRouteRow[] = [
  { id: 1, modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 },
  { id: 2, modid: 1, cmdid: 1, ip: '200.1.2.3', port: 8080 },
  { id: 3, modid: 1, cmdid: 2, ip: '192.168.1.177', port: 7777 },
  { id: 4, modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 },
  { id: 5, modid: 7, cmdid: 3, ip: '255.255.255.254', port: 65535 },
  { id: 6, modid: 7, cmdid: 3, ip: '128.0.0.0', port: 1 },
];
const STATUS = [
  { modid: 1, cmdid: 1, ip: '200.1.2.3', port: 8080, caller: '192.168.0.5', succ: 10, err: 2, ts: TS, overload: 'Y' },
  { modid: 1, cmdid: 2, ip: '192.168.1.177', port: 7777, caller: '10.1.1.1', succ: 5, err: 0, ts: TS + 1, overload: 'N' },
];

const server = await larsSourceServer();
const sources: Record<'good' | 'noRouteData' | 'port0' | 'port70000' | 'negativeModid' | 'badOverload', LarsSourceDb> | undefined =
  'skip' in server
    ? undefined
    : {
        good: await createLarsSource(server.serverUrl, { routes: ROUTES, status: STATUS }),
        noRouteData: await createLarsSource(server.serverUrl, { without: ['RouteData'] }),
        port0: await createLarsSource(server.serverUrl, { routes: [ROUTES[0]!, { id: 9, modid: 2, cmdid: 1, ip: '10.0.0.9', port: 0 }] }),
        port70000: await createLarsSource(server.serverUrl, { routes: [ROUTES[0]!, { id: 10, modid: 2, cmdid: 1, ip: '10.0.0.9', port: 70000 }] }),
        negativeModid: await createLarsSource(server.serverUrl, { routes: [ROUTES[0]!, { id: 11, modid: -1, cmdid: 1, ip: '10.0.0.9', port: 80 }] }),
        badOverload: await createLarsSource(server.serverUrl, { routes: ROUTES, status: [{ ...STATUS[0]!, overload: 'X' }] }),
      };
after(async () => {
  for (const source of Object.values(sources ?? {})) await source.drop();
});

/** Everything an import may write, to show that a refused one wrote nothing. */
async function storeContents(store: Store) {
  const admin = new RouteAdmin(store);
  return {
    version: await admin.version(),
    modules: (await admin.listModules()).modules.length,
    status: (await new CallStatus(store).list()).length,
    changes: (await new ChangeLog(store).list()).changes.length,
    audit: (await new AuditLog(store).list()).length,
  };
}

if (sources === undefined) {
  test('lars import', { skip: (server as { skip: string }).skip }, () => {});
} else {
  const from = sources;
  await forEachEngine('lars import', (store, _engine, context) => {
    const empty = { version: 0, modules: 0, status: 0, changes: 0, audit: 0 };
    const larsImport = () => new LarsImport(store, { clock: () => TS * 1000 + 5000 });

    test('a source that is not a Lars database, or holds a bad row, is refused by name and nothing is written', async () => {
      const refusals: [LarsSourceDb, RegExp][] = [
        [from.noRouteData, /^from: mysql:\/\/root@127\.0\.0\.1:3306\/lars_src_\w+ is not a Lars database: it has no table RouteData \(a Lars database has RouteData, RouteVersion, RouteChange, ServerCallStatus\)$/],
        [from.port0, /^RouteData id=9: serverport: must be between 1 and 65535, got 0$/],
        [from.port70000, /^RouteData id=10: serverport: must be between 1 and 65535, got 70000$/],
        [from.negativeModid, /^RouteData id=11: modid: must be between 0 and 2147483647, got -1$/],
        [from.badOverload, /^ServerCallStatus modid=1 cmdid=1 ip=3355509251 port=8080 caller=3232235525: overload: must be Y or N, got "X"$/],
      ];
      for (const [source, message] of refusals) {
        await assert.rejects(larsImport().run(source.url, 'tester'), (err: Error) => err instanceof ValidationError && message.test(err.message), source.name);
        await assert.rejects(larsImport().run(source.url, 'tester', { dryRun: true }), ValidationError);
      }
      await assert.rejects(larsImport().run('mysql://root@127.0.0.1:1/lars_dns', 'tester', { connectTimeoutMs: 2000 }), StoreUnavailableError);
      await assert.rejects(larsImport().run('postgres://127.0.0.1/lars_dns', 'tester'), StoreUrlError);
      assert.deepEqual(await storeContents(store), empty);
    });

    test('a dry run reports every edit and status row and writes nothing', async () => {
      const dry = await larsImport().run(from.good.url, 'tester', { dryRun: true });
      assert.equal(dry.dryRun, true);
      assert.equal(dry.edits.length, 3 + 5);
      assert.deepEqual(dry.status, { rows: 2, written: 2, unchanged: 0 });
      assert.deepEqual(await storeContents(store), empty);
    });

    test('the import: modules and hosts (128.0.0.0 and above intact), the duplicate skipped, the latest status, one version and change row per edit, an audit event', async () => {
      const result = await larsImport().run(from.good.url, 'tester');
      assert.deepEqual(
        { routeRows: result.routeRows, modules: result.modules, duplicates: result.duplicates, status: result.status, version: result.version },
        { routeRows: 6, modules: 3, duplicates: [{ id: 4, sameAs: 1 }], status: { rows: 2, written: 2, unchanged: 0 }, version: 8 },
      );
      assert.deepEqual(
        result.edits.map((e) => `${e.action} ${e.modid}:${e.cmdid} ${e.detail}`),
        [
          'module-add 1:1 imported from Lars',
          'add 1:1 10.0.0.1:80 weight 1; imported from Lars',
          'add 1:1 200.1.2.3:8080 weight 1; imported from Lars',
          'module-add 1:2 imported from Lars',
          'add 1:2 192.168.1.177:7777 weight 1; imported from Lars',
          'module-add 7:3 imported from Lars',
          'add 7:3 255.255.255.254:65535 weight 1; imported from Lars',
          'add 7:3 128.0.0.0:1 weight 1; imported from Lars',
        ],
      );
      const { hosts } = await new RouteAdmin(store).listHosts();
      assert.deepEqual(
        hosts.map((h) => `${h.modid}:${h.cmdid} ${h.ip}:${h.port} w${h.weight}`),
        ['1:1 10.0.0.1:80 w1', '1:1 200.1.2.3:8080 w1', '1:2 192.168.1.177:7777 w1', '7:3 128.0.0.0:1 w1', '7:3 255.255.255.254:65535 w1'],
      );
      const loaded = await new RouteReader(store).loadRoutes();
      assert.equal(loaded.version, 8);
      assert.deepEqual([...loaded.routes.keys()].sort(), ['1:1', '1:2', '7:3']);
      const status = await new CallStatus(store).list();
      assert.deepEqual(
        status.map((s) => [`${s.modid}:${s.cmdid}`, s.ip, s.port, s.caller, s.succ, s.err, s.overload, s.reportedAt, s.latencyMs]),
        [
          ['1:1', '200.1.2.3', 8080, '192.168.0.5', 10, 2, true, TS, null],
          ['1:2', '192.168.1.177', 7777, '10.1.1.1', 5, 0, false, TS + 1, null],
        ],
      );
      const { changes } = await new ChangeLog(store).list();
      assert.deepEqual(changes.map((c) => c.version), [8, 7, 6, 5, 4, 3, 2, 1]);
      assert.ok(changes.every((c) => c.actor === 'tester'));
      const [event, ...others] = await new AuditLog(store).list();
      assert.equal(others.length, 0);
      assert.deepEqual(
        { kind: event!.kind, actor: event!.actor, detail: event!.detail, at: event!.at },
        { kind: 'lars_imported', actor: 'tester', detail: `8 route edits, 2 status rows from ${from.good.url}`, at: TS + 5 },
      );
    });

    test('a second run changes nothing and says so', async () => {
      const before = await storeContents(store);
      const again = await larsImport().run(from.good.url, 'tester');
      assert.deepEqual([again.edits, again.status, again.version], [[], { rows: 2, written: 0, unchanged: 2 }, 8]);
      assert.deepEqual(await storeContents(store), before);
    });

    test('an import that edits routes is announced on the change feed once, with its version; one that changes nothing is not', async () => {
      const announcing = await openStore(context.url, { notify: { setting: 'in-process', logger: createLogger('test') } });
      try {
        const heard: (number | undefined)[] = [];
        announcing.changes.subscribe((version) => heard.push(version));
        await new RouteAdmin(announcing).delModule(1, 2, 'tester');
        const result = await new LarsImport(announcing).run(from.good.url, 'tester');
        assert.deepEqual(result.edits.map((e) => e.action), ['module-add', 'add'], 'the deleted module comes back');
        await new LarsImport(announcing).run(from.good.url, 'tester');
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(heard, [result.version - 2, result.version], 'the delete, then the import; the second run says nothing');
      } finally {
        await announcing.close();
      }
    });
  });
}
