/**
 * The console's registered-instance API over real HTTP, on every reachable
 * engine: the list (load, heartbeat, drained, shadowed), the operator's
 * weight set and removed (drain, undrain) through RouteAdmin, the access
 * rules (401, CSRF, admin role), 400 naming the field, 404, the status of a
 * registered instance counting as in the route, and the OpenAPI document.
 * Instances are written as the dns writes them (InstanceRegistry).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConsole, type ConsoleServer } from '../../src/console/server.js';
import { ipToUint32 } from '../../src/protocol/ip.js';
import { InstanceRegistry } from '../../src/store/registry.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { forEachEngine } from '../support/engines.js';
import { ADMIN, ApiClient, VIEWER, addTestUsers, insertStatus, storeSnapshot } from './helpers.js';

const INSTANCES = '/api/v1/modules/3/1/instances';
const WEIGHT = `${INSTANCES}/10.3.0.2/9000/weight`;

await forEachEngine('console registered-instance API', (store) => {
  let server: ConsoleServer;
  let asAdmin: ApiClient;
  let asViewer: ApiClient;
  const admin = new RouteAdmin(store);

  before(async () => {
    await addTestUsers(store);
    await admin.addModule({ modid: 3, cmdid: 1 }, 'fixture');
    await admin.addHost({ modid: 3, cmdid: 1, ip: '10.3.0.1', port: 9000 }, 'fixture');
    const registry = new InstanceRegistry(store);
    const instance = (ip: string, weight: number) => ({ modid: 3, cmdid: 1, ip: ipToUint32(ip), port: 9000, weight, ttlMs: 4000, metadata: { build: '7' } });
    await registry.write('dns-1', [
      { kind: 'register', instance: instance('10.3.0.1', 2) },
      { kind: 'register', instance: instance('10.3.0.2', 2) },
    ]);
    await registry.flushLoads('dns-1', [{ key: { modid: 3, cmdid: 1, ip: ipToUint32('10.3.0.2'), port: 9000 }, load: { inFlight: 5, connections: 3, cpuPermille: 300, score: 730 } }]);
    server = await startConsole({ store, port: 0 });
    asAdmin = new ApiClient(server.url);
    asViewer = new ApiClient(server.url);
    assert.equal((await asAdmin.login(ADMIN)).status, 200);
    assert.equal((await asViewer.login(VIEWER)).status, 200);
  });
  after(() => server.close());

  test('the list: every instance with its load, heartbeat, weights and flags; 404 for a missing module; a login needed', async () => {
    const answer = await asViewer.request('GET', INSTANCES);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.version, await admin.version());
    assert.ok(Math.abs(answer.body.now - Date.now() / 1000) < 600);
    const [shadowed, loaded] = answer.body.instances;
    assert.deepEqual(
      answer.body.instances.map((i: any) => [i.ip, i.port, i.weight, i.drained, i.shadowed]),
      [
        ['10.3.0.1', 9000, 2, false, true],
        ['10.3.0.2', 9000, 2, false, false],
      ],
    );
    assert.equal(shadowed.load, null);
    assert.deepEqual(loaded, {
      ip: '10.3.0.2',
      port: 9000,
      weight: 2,
      registeredWeight: 2,
      overrideWeight: null,
      drained: false,
      shadowed: false,
      ttl: 4,
      lastHeartbeat: loaded.lastHeartbeat,
      registeredAt: loaded.registeredAt,
      owner: 'dns-1',
      metadata: { build: '7' },
      load: { inFlight: 5, connections: 3, cpuPermille: 300, score: 730 },
    });
    assert.equal((await asViewer.request('GET', '/api/v1/modules/4/1/instances')).status, 404);
    assert.equal((await new ApiClient(server.url).request('GET', INSTANCES, { auth: { kind: 'none' } })).status, 401);
  });

  test('drain and undrain: refused without credentials, CSRF token or the admin role, and then nothing changes', async () => {
    const snapshot = await storeSnapshot(store);
    for (const [method, body] of [['PUT', { weight: 0 }], ['DELETE', undefined]] as const) {
      const label = `${method} ${WEIGHT}`;
      assert.equal((await new ApiClient(server.url).request(method, WEIGHT, { body, auth: { kind: 'none' } })).status, 401, label);
      const noCsrf = await asAdmin.request(method, WEIGHT, { body, auth: { kind: 'session', csrf: false } });
      assert.equal(noCsrf.status, 403, `${label} without X-CSRF-Token`);
      assert.match(noCsrf.body.error, /CSRF/);
      const viewer = await asViewer.request(method, WEIGHT, { body });
      assert.equal(viewer.status, 403, `${label} as a viewer`);
      assert.match(viewer.body.error, /viewer role; this needs admin/);
    }
    assert.equal(await storeSnapshot(store), snapshot);
    assert.equal((await admin.listInstances({ modid: 3, cmdid: 1 })).instances[1]!.overrideWeight, null);
  });

  test('bad input: 400 naming the field, and nothing changes', async () => {
    const snapshot = await storeSnapshot(store);
    const cases: [string, string, unknown, string][] = [
      ['PUT', WEIGHT, { weight: -1 }, 'weight'],
      ['PUT', WEIGHT, { weight: 1001 }, 'weight'],
      ['PUT', WEIGHT, { weight: 'heavy' }, 'weight'],
      ['PUT', WEIGHT, {}, 'weight'],
      ['PUT', WEIGHT, { weight: 0, wieght: 0 }, 'wieght'],
      ['PUT', `${INSTANCES}/10.3.0.256/9000/weight`, { weight: 0 }, 'ip'],
      ['PUT', `${INSTANCES}/10.3.0.2/0/weight`, { weight: 0 }, 'port'],
      ['DELETE', `${INSTANCES}/10.3.0.2/65536/weight`, undefined, 'port'],
      ['PUT', '/api/v1/modules/abc/1/instances/10.3.0.2/9000/weight', { weight: 0 }, 'modid'],
      ['GET', '/api/v1/modules/1/2147483648/instances', undefined, 'cmdid'],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await asAdmin.request(method, path, { body });
      assert.equal(answer.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.field, field, `${method} ${path}: ${answer.body.error}`);
      assert.match(answer.body.error, new RegExp(`^${field}\\b`));
    }
    assert.equal(await storeSnapshot(store), snapshot);
  });

  test('drain, weight, undrain: a route version each, the change log names the user, 404 for nothing to undrain or no module; a token needs no CSRF', async () => {
    const start = await admin.version();
    const drained = await asAdmin.request('PUT', WEIGHT, { body: { weight: 0 } });
    assert.equal(drained.status, 200, JSON.stringify(drained.body));
    assert.deepEqual(drained.body, { version: start + 1, instance: { ip: '10.3.0.2', port: 9000, weight: 0 } });
    const listed = async () => (await asViewer.request('GET', INSTANCES)).body.instances[1];
    assert.deepEqual(
      (({ weight, registeredWeight, overrideWeight, drained }) => ({ weight, registeredWeight, overrideWeight, drained }))(await listed()),
      { weight: 0, registeredWeight: 2, overrideWeight: 0, drained: true },
    );

    const token = (await asAdmin.request('POST', '/api/v1/tokens', { body: { name: 'drainer' } })).body.token;
    const weighted = await new ApiClient(server.url).request('PUT', WEIGHT, { body: { weight: 9 }, auth: { kind: 'token', token } });
    assert.deepEqual(weighted.body, { version: start + 2, instance: { ip: '10.3.0.2', port: 9000, weight: 9 } });
    assert.equal((await listed()).weight, 9);

    const undrained = await asAdmin.request('DELETE', WEIGHT);
    assert.deepEqual(undrained.body, { version: start + 3, instance: { ip: '10.3.0.2', port: 9000 } });
    assert.deepEqual([(await listed()).weight, (await listed()).overrideWeight], [2, null]);
    const again = await asAdmin.request('DELETE', WEIGHT);
    assert.equal(again.status, 404);
    assert.match(again.body.error, /has no operator weight/);
    assert.equal((await asAdmin.request('PUT', '/api/v1/modules/4/1/instances/10.3.0.2/9000/weight', { body: { weight: 0 } })).status, 404);

    const changes = await asViewer.request('GET', '/api/v1/changes?limit=3');
    assert.deepEqual(
      changes.body.changes.map((c: { version: number; action: string; actor: string; detail: string }) => [c.version, c.action, c.actor, c.detail]),
      [
        [start + 3, 'undrain', ADMIN.name, '10.3.0.2:9000 operator weight 9 removed'],
        [start + 2, 'drain', ADMIN.name, '10.3.0.2:9000 operator weight 0 -> 9'],
        [start + 1, 'drain', ADMIN.name, '10.3.0.2:9000 operator weight 0 (drained)'],
      ],
    );
  });

  test("a registered instance's call status counts as in the route", async () => {
    await insertStatus(store, [{ modid: 3, cmdid: 1, ip: '10.3.0.2', port: 9000, caller: '10.9.0.1', succ: 50, err: 0, reportedAt: Math.floor(Date.now() / 1000) - 2 }]);
    const status = await asViewer.request('GET', '/api/v1/modules/3/1/status');
    assert.equal(status.status, 200);
    const entry = status.body.hosts.find((h: { ip: string }) => h.ip === '10.3.0.2');
    assert.deepEqual([entry.inRoute, entry.health.state], [true, 'ok']);
    assert.equal(status.body.health.state, 'ok', 'the route health counts it');
  });

  test('the OpenAPI document has the instance routes, with the admin note and the body schema', async () => {
    const doc = (await asViewer.request('GET', '/api/v1/openapi.json')).body;
    const path = '/api/v1/modules/{modid}/{cmdid}/instances/{ip}/{port}/weight';
    assert.ok(doc.paths['/api/v1/modules/{modid}/{cmdid}/instances'].get);
    assert.deepEqual(doc.paths[path].put.requestBody.content['application/json'].schema.required, ['weight']);
    assert.match(doc.paths[path].put.description, /admin role[\s\S]*X-CSRF-Token/);
    assert.ok(doc.paths[path].delete.responses['404']);
  });
});
