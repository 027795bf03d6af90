/**
 * Export and import of modules and routes as one JSON document
 * (docs/store.md, "Export and import"): the pure check and plan, then
 * RouteAdmin.exportRoutes/importRoutes on every engine — a round trip, a
 * second import that changes nothing, a dry run that writes nothing, prune,
 * and a bad document that writes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipToUint32 } from '../../src/protocol/ip.js';
import { ChangeLog } from '../../src/store/change-log.js';
import { ConflictError, NotFoundError, ValidationError } from '../../src/store/errors.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { checkRouteDocument, planImport, type CurrentModule } from '../../src/store/route-document.js';
import { kyselyOf, type Store } from '../../src/store/store.js';
import { forEachEngine } from '../support/engines.js';

const doc = (modules: unknown[]) => ({ format: 'lars-routes', formatVersion: 1, modules });

function fieldOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return `${err.field}: ${err.message}`;
  }
  assert.fail('no ValidationError');
}

test('checkRouteDocument names the place of the first problem', () => {
  assert.equal(fieldOf(() => checkRouteDocument([])), 'document: document: must be a JSON object with "format": "lars-routes"');
  assert.equal(fieldOf(() => checkRouteDocument({ format: 'other', formatVersion: 1, modules: [] })), 'format: format: must be "lars-routes", got "other"');
  assert.match(fieldOf(() => checkRouteDocument({ format: 'lars-routes', formatVersion: 2, modules: [] })), /^formatVersion: .*must be 1/);
  assert.equal(fieldOf(() => checkRouteDocument(doc([{ modid: 1, cmdid: 1 }, { modid: 2, cmdid: 'x' }]))), 'modules.1.cmdid: modules.1.cmdid: must be an integer, got "x"');
  assert.equal(
    fieldOf(() => checkRouteDocument(doc([{ modid: 1, cmdid: 1, hosts: [{ ip: '10.0.0.1', port: 80 }, { ip: '10.0.0.300', port: 80 }] }]))),
    'modules.0.hosts.1.ip: modules.0.hosts.1.ip: must be a dotted IPv4 address, got "10.0.0.300"',
  );
  assert.match(fieldOf(() => checkRouteDocument(doc([{ modid: 1, cmdid: 1, hosts: [{ ip: '10.0.0.1', port: 80, weight: 1001 }] }]))), /^modules\.0\.hosts\.0\.weight: .*between 0 and 1000/);
  assert.match(fieldOf(() => checkRouteDocument(doc([{ modid: 1, cmdid: 1, hosts: [{ ip: '10.0.0.1', port: 80 }, { ip: '10.0.0.1', port: 80 }] }]))), /^modules\.0\.hosts\.1: .*10\.0\.0\.1:80 is listed twice/);
  assert.match(fieldOf(() => checkRouteDocument(doc([{ modid: 1, cmdid: 1 }, { modid: 1, cmdid: 1 }]))), /^modules\.1: .*module 1:1 is listed twice/);
  assert.match(fieldOf(() => checkRouteDocument(doc([{ modid: 1, cmdid: 1, weight: 3 }]))), /^modules\.0\.weight: .*is not a known field/);
  assert.match(fieldOf(() => checkRouteDocument(doc([{ modid: 1, cmdid: 1, strategy: 'random' }]))), /^modules\.0\.strategy: /);
});

test('planImport: absent fields leave the store alone, weights and new hosts are edits, prune removes unlisted hosts of listed modules', () => {
  const ip = (text: string) => ipToUint32(text);
  const current = new Map<string, CurrentModule>([
    ['1:1', { description: 'orders', strategy: null, hosts: new Map([[`${ip('10.0.0.1')}:80`, { weight: 1, drained: false }], [`${ip('10.0.0.2')}:80`, { weight: 3, drained: true }]]) }],
  ]);
  const wanted = checkRouteDocument(
    doc([
      { modid: 1, cmdid: 1, hosts: [{ ip: '10.0.0.1', port: 80 }, { ip: '10.0.0.3', port: 80, weight: 2 }] },
      { modid: 2, cmdid: 1, strategy: 'weighted_round_robin' },
    ]),
  );
  assert.deepEqual(
    planImport(wanted, current).map((e) => [e.action, e.detail]),
    [
      ['add', '10.0.0.3:80 weight 2; imported'],
      ['module-add', 'strategy weighted_round_robin; imported'],
    ],
  );
  assert.deepEqual(
    planImport(wanted, current, { prune: true }).map((e) => [e.action, e.detail]),
    [
      ['add', '10.0.0.3:80 weight 2; imported'],
      ['del', '10.0.0.2:80 weight 3; not in the imported document'],
      ['module-add', 'strategy weighted_round_robin; imported'],
    ],
  );
  const renamed = checkRouteDocument(doc([{ modid: 1, cmdid: 1, description: 'orders v2', strategy: 'default', hosts: [{ ip: '10.0.0.2', port: 80, weight: 3 }] }]));
  assert.deepEqual(planImport(renamed, current).map((e) => e.detail), ['description "orders" -> "orders v2"; imported'], 'drained left alone when the document does not say');
  const drains = checkRouteDocument(doc([{ modid: 1, cmdid: 1, hosts: [{ ip: '10.0.0.1', port: 80, drained: true }, { ip: '10.0.0.2', port: 80, drained: false }, { ip: '10.0.0.4', port: 80, drained: true }] }]));
  assert.deepEqual(
    planImport(drains, current).map((e) => [e.action, e.detail]),
    [
      ['drain', '10.0.0.1:80 drained (weight 1 kept); imported'],
      ['undrain', '10.0.0.2:80 undrained: weight 3; imported'],
      ['add', '10.0.0.4:80 weight 1, drained; imported'],
    ],
  );
  assert.match(fieldOf(() => checkRouteDocument(doc([{ modid: 1, cmdid: 1, hosts: [{ ip: '10.0.0.1', port: 80, drained: 'yes' }] }]))), /^modules\.0\.hosts\.0\.drained: .*must be true or false/);
});

async function tables(store: Store) {
  const db = kyselyOf(store);
  return {
    modules: await db.selectFrom('modules').select(['modid', 'cmdid', 'description', 'strategy']).orderBy('modid').orderBy('cmdid').execute(),
    routes: await db.selectFrom('routes').select(['modid', 'cmdid', 'ip', 'port', 'weight']).orderBy('modid').orderBy('cmdid').orderBy('ip').orderBy('port').execute(),
    version: (await db.selectFrom('route_version').select('version').executeTakeFirstOrThrow()).version,
  };
}

await forEachEngine('route export and import', (store) => {
  const admin = new RouteAdmin(store, { clock: () => 1_700_000_000_000 });

  test('export, then import into the same store changes nothing; into an edited one it puts back what was exported, one change row per edit', async () => {
    await admin.addModule({ modid: 70, cmdid: 1, description: 'pay', strategy: 'least_request' }, 'fixture');
    await admin.addHost({ modid: 70, cmdid: 1, ip: '200.1.2.3', port: 9000, weight: 5 }, 'fixture');
    await admin.addHost({ modid: 70, cmdid: 1, ip: '10.0.0.1', port: 9000 }, 'fixture');
    await admin.addModule({ modid: 71, cmdid: -1 }, 'fixture');
    await admin.drainHost({ modid: 70, cmdid: 1, ip: '10.0.0.1', port: 9000 }, 'fixture');
    const exported = await admin.exportRoutes();
    assert.equal(exported.format, 'lars-routes');
    assert.deepEqual(exported.modules.find((m) => m.modid === 70), {
      modid: 70, cmdid: 1, description: 'pay', strategy: 'least_request',
      hosts: [{ ip: '10.0.0.1', port: 9000, weight: 1, drained: true }, { ip: '200.1.2.3', port: 9000, weight: 5 }],
    });
    const same = await admin.importRoutes(JSON.parse(JSON.stringify(exported)), 'tester');
    assert.deepEqual(same.edits, [], 'a second import of the same document changes nothing');

    await admin.updateHost({ modid: 70, cmdid: 1, ip: '200.1.2.3', port: 9000, weight: 9 }, 'fixture');
    await admin.delModule(71, -1, 'fixture');
    await admin.addHost({ modid: 70, cmdid: 1, ip: '10.0.0.9', port: 9000 }, 'fixture');
    await admin.undrainHost({ modid: 70, cmdid: 1, ip: '10.0.0.1', port: 9000 }, 'fixture');
    const before = await admin.version();
    const restored = await admin.importRoutes(exported, 'tester', { prune: true });
    assert.deepEqual(restored.edits.map((e) => [e.action, e.modid, e.cmdid]), [['drain', 70, 1], ['update', 70, 1], ['del', 70, 1], ['module-add', 71, -1]]);
    assert.equal(restored.version, before + 4, 'one route version per edit');
    const { changes } = await new ChangeLog(store).list({ limit: 4 });
    assert.deepEqual(changes.map((c) => [c.version, c.action, c.actor]), [[before + 4, 'module-add', 'tester'], [before + 3, 'del', 'tester'], [before + 2, 'update', 'tester'], [before + 1, 'drain', 'tester']]);
    assert.deepEqual((await admin.exportRoutes()).modules, exported.modules);
  });

  test('a dry run writes nothing and reports what a real run does; a bad entry anywhere writes nothing', async () => {
    const before = await tables(store);
    const wanted = doc([{ modid: 72, cmdid: 1, hosts: [{ ip: '10.7.0.1', port: 80 }] }]);
    const dry = await admin.importRoutes(wanted, 'tester', { dryRun: true });
    assert.deepEqual(dry.edits.map((e) => e.action), ['module-add', 'add']);
    assert.equal(dry.dryRun, true);
    assert.deepEqual(await tables(store), before);
    await assert.rejects(admin.importRoutes(doc([{ modid: 73, cmdid: 1 }, { modid: 74, cmdid: 1, hosts: [{ ip: 'nope', port: 80 }] }]), 'tester'), ValidationError);
    assert.deepEqual(await tables(store), before, 'the valid first module was not written either');
    const real = await admin.importRoutes(wanted, 'tester');
    assert.deepEqual(real.edits, dry.edits);
  });

  test('revertModule puts a module back as a change left it, with a dry run as the diff; an import\'s every version can be reverted to', async () => {
    await admin.addModule({ modid: 75, cmdid: 1, description: 'cart' }, 'fixture');
    await admin.addHost({ modid: 75, cmdid: 1, ip: '10.75.0.1', port: 80, weight: 2 }, 'fixture');
    const good = await admin.addHost({ modid: 75, cmdid: 1, ip: '10.75.0.2', port: 80 }, 'fixture');
    const goodState = (await admin.exportRoutes()).modules.find((m) => m.modid === 75);
    await admin.updateHost({ modid: 75, cmdid: 1, ip: '10.75.0.1', port: 80, weight: 9 }, 'fixture');
    await admin.drainHost({ modid: 75, cmdid: 1, ip: '10.75.0.2', port: 80 }, 'fixture');
    await admin.addHost({ modid: 75, cmdid: 1, ip: '10.75.0.3', port: 80 }, 'fixture');
    await admin.updateModule({ modid: 75, cmdid: 1, description: 'cart v2', strategy: 'least_request' }, 'fixture');

    const before = await tables(store);
    const diff = await admin.revertModule(75, 1, good, 'tester', { dryRun: true });
    assert.equal(diff.revertedTo, good);
    assert.deepEqual(diff.edits.map((e) => [e.action, e.detail]), [
      ['module-update', `description "cart v2" -> "cart"; strategy least_request -> default; reverted to version ${good}`],
      ['update', `10.75.0.1:80 weight 9 -> 2; reverted to version ${good}`],
      ['undrain', `10.75.0.2:80 undrained: weight 1; reverted to version ${good}`],
      ['del', `10.75.0.3:80 weight 1; not in version ${good}`],
    ]);
    assert.deepEqual(await tables(store), before, 'the diff wrote nothing');
    const done = await admin.revertModule(75, 1, good, 'tester');
    assert.deepEqual(done.edits, diff.edits);
    assert.deepEqual((await admin.exportRoutes()).modules.find((m) => m.modid === 75), goodState);
    const [newest] = (await new ChangeLog(store).list({ limit: 1 })).changes;
    assert.deepEqual([newest?.actor, newest?.revertible], ['tester', true]);

    // An import records its last edit per module: its end can be reverted to, a step inside it cannot.
    const imported = await admin.importRoutes(doc([{ modid: 76, cmdid: 1, hosts: [{ ip: '10.76.0.1', port: 80 }, { ip: '10.76.0.2', port: 80 }] }]), 'tester');
    await admin.addHost({ modid: 76, cmdid: 1, ip: '10.76.0.3', port: 80 }, 'tester');
    await assert.rejects(admin.revertModule(76, 1, imported.version - 1, 'tester'), /inside an import/);
    await admin.revertModule(76, 1, imported.version, 'tester');
    assert.deepEqual((await admin.exportRoutes()).modules.find((m) => m.modid === 76)?.hosts, [{ ip: '10.76.0.1', port: 80, weight: 1 }, { ip: '10.76.0.2', port: 80, weight: 1 }]);

    await assert.rejects(admin.revertModule(75, 1, 1, 'tester'), NotFoundError, 'nothing recorded of 75:1 that early');
    await admin.delModule(76, 1, 'tester');
    const gone = await admin.version();
    await admin.addModule({ modid: 76, cmdid: 1 }, 'tester');
    await assert.rejects(admin.revertModule(76, 1, gone, 'tester'), ConflictError);
    await assert.rejects(admin.revertModule(75, 1, 0, 'tester'), ValidationError);
  });

  test('an import bigger than one statement: 2,500 hosts of two modules go in as multi-row inserts, each its own version and change row', async () => {
    const admin = new RouteAdmin(store);
    const before = await admin.version();
    const hosts = (third: number) => Array.from({ length: 1250 }, (_, i) => ({ ip: `10.${third}.${i >> 8}.${i & 255}`, port: 8000 + (i % 7) }));
    const result = await admin.importRoutes(doc([{ modid: 90, cmdid: 1, hosts: hosts(90) }, { modid: 90, cmdid: 2, hosts: hosts(91) }]), 'tester');
    assert.equal(result.version, before + 2502);
    assert.equal(result.edits.length, 2502);
    assert.equal((await admin.listHosts({ modid: 90, cmdid: 1 })).hosts.length, 1250);
    assert.equal((await admin.listHosts({ modid: 90, cmdid: 2 })).hosts.length, 1250);
    assert.equal((await new ChangeLog(store).list({ limit: 1 })).changes[0]?.version, before + 2502);
  });
});
