/**
 * The console's REST API over real HTTP, on every reachable engine:
 * authentication, CSRF, roles, validation (400 naming the field), store
 * errors (404, 409, 503), tokens, the login rate limit, status and series,
 * the OpenAPI document, and that a refused request changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConsole, type ConsoleServer } from '../../src/console/server.js';
import { STRATEGY_NAMES } from '../../src/balancer/types.js';
import { ChangeLog } from '../../src/store/change-log.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { captureLogs } from '../support/net.js';
import { forEachEngine } from '../support/engines.js';
import { ADMIN, ApiClient, VIEWER, addTestUsers, insertSeries, insertStatus, storeSnapshot } from './helpers.js';

await forEachEngine('console REST API', (store) => {
  let server: ConsoleServer;
  const admin = () => new ApiClient(server.url);
  let asAdmin: ApiClient;
  let asViewer: ApiClient;

  before(async () => {
    await addTestUsers(store);
    const routes = new RouteAdmin(store);
    await routes.addModule({ modid: 1, cmdid: 1, description: 'fixture' }, 'fixture');
    await routes.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 }, 'fixture');
    server = await startConsole({ store, port: 0 });
    asAdmin = admin();
    asViewer = admin();
    assert.equal((await asAdmin.login(ADMIN)).status, 200);
    assert.equal((await asViewer.login(VIEWER)).status, 200);
  });
  after(() => server.close());

  /** Every state-changing request, each one valid for an admin with a session and CSRF token. */
  const edits: { method: string; path: string; body?: unknown; adminOnly: boolean }[] = [
    { method: 'POST', path: '/api/v1/modules', body: { modid: 2, cmdid: 2 }, adminOnly: true },
    { method: 'PATCH', path: '/api/v1/modules/1/1', body: { description: 'changed' }, adminOnly: true },
    { method: 'DELETE', path: '/api/v1/modules/1/1', adminOnly: true },
    { method: 'POST', path: '/api/v1/modules/1/1/hosts', body: { ip: '10.0.0.2', port: 80 }, adminOnly: true },
    { method: 'PATCH', path: '/api/v1/modules/1/1/hosts/10.0.0.1/80', body: { weight: 7 }, adminOnly: true },
    { method: 'DELETE', path: '/api/v1/modules/1/1/hosts/10.0.0.1/80', adminOnly: true },
    { method: 'PUT', path: '/api/v1/modules/1/1/hosts/10.0.0.1/80/drain', adminOnly: true },
    { method: 'DELETE', path: '/api/v1/modules/1/1/hosts/10.0.0.1/80/drain', adminOnly: true },
    { method: 'POST', path: '/api/v1/import', body: { format: 'lars-routes', formatVersion: 1, modules: [{ modid: 2, cmdid: 3 }] }, adminOnly: true },
    { method: 'POST', path: '/api/v1/tokens', body: { name: 'x' }, adminOnly: false },
    { method: 'DELETE', path: '/api/v1/tokens/1', adminOnly: false },
    { method: 'DELETE', path: '/api/v1/session', adminOnly: false },
  ];

  test('refused state-changing requests: 401 without credentials, 403 without the CSRF token or the role; nothing changes', async () => {
    const snapshot = await storeSnapshot(store);
    const anonymous = admin();
    for (const edit of edits) {
      const label = `${edit.method} ${edit.path}`;
      const none = await anonymous.request(edit.method, edit.path, { body: edit.body, auth: { kind: 'none' } });
      assert.equal(none.status, 401, `${label} without credentials: ${JSON.stringify(none.body)}`);
      assert.match(none.body.error, /log in/);
      const badToken = await anonymous.request(edit.method, edit.path, { body: edit.body, auth: { kind: 'token', token: 'lars_not-a-real-token' } });
      assert.equal(badToken.status, 401, `${label} with an unknown token`);
      const noCsrf = await asAdmin.request(edit.method, edit.path, { body: edit.body, auth: { kind: 'session', csrf: false } });
      assert.equal(noCsrf.status, 403, `${label} without X-CSRF-Token`);
      assert.match(noCsrf.body.error, /CSRF/);
      const wrongCsrf = await asAdmin.request(edit.method, edit.path, { body: edit.body, headers: { 'x-csrf-token': asViewer.csrfToken }, auth: { kind: 'session', csrf: false } });
      assert.equal(wrongCsrf.status, 403, `${label} with another session's CSRF token`);
      if (edit.adminOnly) {
        const viewer = await asViewer.request(edit.method, edit.path, { body: edit.body });
        assert.equal(viewer.status, 403, `${label} as a viewer`);
        assert.match(viewer.body.error, /viewer role; this needs admin/);
      }
    }
    assert.equal(await storeSnapshot(store), snapshot);
    assert.equal((await asAdmin.request('GET', '/api/v1/session')).status, 200, 'the admin session survived');
  });

  test('reads need a login too', async () => {
    for (const path of ['/api/v1/connections', '/api/v1/export', '/api/v1/hosts?ip=10.0.0.1', '/api/v1/modules', '/api/v1/strategies', '/api/v1/modules/1/1/hosts', '/api/v1/modules/1/1/status', '/api/v1/changes', '/api/v1/tokens', '/api/v1/session']) {
      assert.equal((await admin().request('GET', path, { auth: { kind: 'none' } })).status, 401, path);
      assert.equal((await asViewer.request('GET', path)).status, 200, `${path} as a viewer`);
    }
  });

  test('bad input: 400 naming the field, and nothing changes', async () => {
    const snapshot = await storeSnapshot(store);
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1/modules', { modid: 'x', cmdid: 1 }, 'modid'],
      ['POST', '/api/v1/modules', { modid: 1 }, 'cmdid'],
      ['POST', '/api/v1/modules', { modid: 2147483648, cmdid: 1 }, 'modid'],
      ['POST', '/api/v1/modules', { modid: 3, cmdid: 1, descripton: 'typo' }, 'descripton'],
      ['POST', '/api/v1/modules', { modid: 3, cmdid: 1, description: 'd'.repeat(256) }, 'description'],
      ['PATCH', '/api/v1/modules/1/1', {}, 'description'],
      ['POST', '/api/v1/modules', { modid: 3, cmdid: 1, strategy: 'random' }, 'strategy'],
      ['PATCH', '/api/v1/modules/1/1', { strategy: 'LARS' }, 'strategy'],
      ['PATCH', '/api/v1/modules/1/1', { strategy: 5 }, 'strategy'],
      ['PATCH', '/api/v1/modules/1/1', { description: 'x', strategy: '' }, 'strategy'],
      ['POST', '/api/v1/modules/1/1/hosts', { ip: '10.0.0.256', port: 80 }, 'ip'],
      ['POST', '/api/v1/modules/1/1/hosts', { ip: '10.0.0.9', port: 0 }, 'port'],
      ['POST', '/api/v1/modules/1/1/hosts', { ip: '10.0.0.9', port: 65536 }, 'port'],
      ['POST', '/api/v1/modules/1/1/hosts', { ip: '10.0.0.9', port: 80, weight: -1 }, 'weight'],
      ['POST', '/api/v1/modules/1/1/hosts', { ip: '10.0.0.9', port: 80, weight: 1001 }, 'weight'],
      ['POST', '/api/v1/modules/1/1/hosts', { port: 80 }, 'ip'],
      ['POST', '/api/v1/modules/abc/1/hosts', { ip: '10.0.0.9', port: 80 }, 'modid'],
      ['PATCH', '/api/v1/modules/1/1/hosts/10.0.0.1/80', { weight: 'heavy' }, 'weight'],
      ['DELETE', '/api/v1/modules/1/1/hosts/10.0.0/80', undefined, 'ip'],
      ['DELETE', '/api/v1/modules/1/1/hosts/10.0.0.1/99999', undefined, 'port'],
      ['GET', '/api/v1/changes?limit=1000', undefined, 'limit'],
      ['GET', '/api/v1/modules/1/1/series?range=year', undefined, 'range'],
      ['POST', '/api/v1/tokens', { name: '' }, 'name'],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await asAdmin.request(method, path, { body });
      assert.equal(answer.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.field, field, `${method} ${path}: ${answer.body.error}`);
      assert.match(answer.body.error, new RegExp(`^${field}\\b`));
    }
    // The message says what to type, in words, not the schema's.
    const worded: [string, string, unknown, string][] = [
      ['POST', '/api/v1/modules/1/1/hosts', { ip: '', port: 80 }, 'ip is required: a dotted IPv4 address such as 10.0.0.1'],
      ['POST', '/api/v1/modules/1/1/hosts', { ip: '10.0.0.1:80', port: 80 }, 'ip takes the address only (10.0.0.1): the port (80) goes in its own field'],
      ['POST', '/api/v1/modules/1/1/hosts', { ip: 'ten', port: 80 }, 'ip must be a dotted IPv4 address such as 10.0.0.1, got "ten"'],
      ['POST', '/api/v1/modules/1/1/hosts', { ip: '10.0.0.9', port: 0 }, 'port must be at least 1'],
      ['POST', '/api/v1/modules/1/1/hosts', { ip: '10.0.0.9', port: 80, weight: 1001 }, 'weight must be at most 1000'],
      ['POST', '/api/v1/modules', { modid: 3, cmdid: 1, description: 'd'.repeat(256) }, 'description must be at most 255 characters'],
      ['POST', '/api/v1/tokens', { name: '' }, 'name is required'],
      ['DELETE', '/api/v1/modules/1/1/hosts/10.0.0/80', undefined, 'ip must be a dotted IPv4 address such as 10.0.0.1, got "10.0.0"'],
    ];
    for (const [method, path, body, message] of worded) assert.equal((await asAdmin.request(method, path, { body })).body.error, message, `${method} ${path}`);
    const badName = await asAdmin.request('POST', '/api/v1/modules', { body: { modid: 3, cmdid: 1, strategy: 'random' } });
    assert.equal(badName.body.error, `strategy must be one of ${[...STRATEGY_NAMES, 'default', 'null'].join(', ')}`);
    const broken = await asAdmin.request('POST', '/api/v1/modules', { rawBody: '{"modid": 1,' });
    assert.equal(broken.status, 400);
    const wrongType = await asAdmin.request('POST', '/api/v1/modules', { rawBody: 'modid=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(wrongType.status, 415, 'a cross-site form post cannot even be parsed');
    const plainText = await asAdmin.request('POST', '/api/v1/modules', { rawBody: '{"modid": 3, "cmdid": 1}', headers: { 'content-type': 'text/plain' } });
    assert.equal(plainText.status, 415, 'text/plain is not JSON either (docs/console.md)');
    assert.equal(await storeSnapshot(store), snapshot);
  });

  test('export and import: the CLI\'s document; a dry run writes nothing; an import is one transaction naming the user; a bad document is a 400 naming its place', async () => {
    const exported = await asViewer.request('GET', '/api/v1/export?download=true');
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-disposition') ?? '', /^attachment; filename="lars-routes-v\d+\.json"$/);
    assert.equal(exported.body.format, 'lars-routes');
    const document = { format: 'lars-routes', formatVersion: 1, modules: [{ modid: 60, cmdid: 1, description: 'imported', hosts: [{ ip: '10.6.0.1', port: 80, weight: 2 }] }] };
    const snapshot = await storeSnapshot(store);
    const dry = await asAdmin.request('POST', '/api/v1/import?dryRun=true', { body: document });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual(dry.body.edits.map((e: { action: string }) => e.action), ['module-add', 'add']);
    assert.equal(await storeSnapshot(store), snapshot, 'a dry run writes nothing');
    const applied = await asAdmin.request('POST', '/api/v1/import', { body: document });
    assert.deepEqual([applied.body.dryRun, applied.body.edits.length], [false, 2]);
    const [change] = (await new ChangeLog(store).list({ limit: 1 })).changes;
    assert.deepEqual([change?.action, change?.actor, change?.version], ['add', ADMIN.name, applied.body.version]);
    const again = await asAdmin.request('POST', '/api/v1/import', { body: document });
    assert.deepEqual(again.body.edits, []);

    const drained = await asAdmin.request('PUT', '/api/v1/modules/60/1/hosts/10.6.0.1/80/drain');
    assert.equal(drained.status, 200, JSON.stringify(drained.body));
    assert.deepEqual((await asViewer.request('GET', '/api/v1/modules/60/1/hosts')).body.hosts.map((h: { weight: number; drained: boolean }) => [h.weight, h.drained]), [[2, true]]);
    assert.equal((await asAdmin.request('PUT', '/api/v1/modules/60/1/hosts/10.6.0.1/80/drain')).status, 409);
    assert.equal((await asAdmin.request('DELETE', '/api/v1/modules/60/1/hosts/10.6.0.1/80/drain')).status, 200);
    assert.equal((await asAdmin.request('DELETE', '/api/v1/modules/60/1/hosts/10.6.0.1/80/drain')).status, 409);
    assert.equal((await asAdmin.request('PUT', '/api/v1/modules/60/1/hosts/10.6.0.9/80/drain')).status, 404);
    const found = await asViewer.request('GET', '/api/v1/hosts?ip=10.6.0.1');
    assert.deepEqual(found.body.hosts, [{ modid: 60, cmdid: 1, ip: '10.6.0.1', port: 80, weight: 2, source: 'static', lastHeartbeat: null }]);
    assert.deepEqual((await asViewer.request('GET', '/api/v1/hosts?ip=10.6.0.1&port=81')).body.hosts, []);
    const badAddress = await asViewer.request('GET', '/api/v1/hosts?ip=10.6.0.1:80');
    assert.deepEqual([badAddress.status, badAddress.body.field], [400, 'ip']);

    const afterImport = await storeSnapshot(store);
    const bad = { ...document, modules: [{ modid: 61, cmdid: 1 }, { modid: 62, cmdid: 1, hosts: [{ ip: '10.6.0.1:80', port: 80 }] }] };
    const refused = await asAdmin.request('POST', '/api/v1/import', { body: bad });
    assert.deepEqual([refused.status, refused.body.field], [400, 'modules.1.hosts.0.ip']);
    assert.match(refused.body.error, /^modules\.1\.hosts\.0\.ip takes the address only/);
    const twice = await asAdmin.request('POST', '/api/v1/import', { body: { ...document, modules: [{ modid: 63, cmdid: 1 }, { modid: 63, cmdid: 1 }] } });
    assert.deepEqual([twice.status, twice.body.field], [400, 'modules.1']);
    assert.equal(await storeSnapshot(store), afterImport, 'a refused import wrote nothing');
  });

  test('users, for admins: add, change the role, reset the password (ending the sessions), delete; the last admin and one\'s own account are kept', async () => {
    assert.equal((await asViewer.request('GET', '/api/v1/users')).status, 403);
    assert.equal((await asViewer.request('POST', '/api/v1/users', { body: { username: 'mallory', role: 'admin', password: 'long-enough-1' } })).status, 403);
    const added = await asAdmin.request('POST', '/api/v1/users', { body: { username: 'carol', role: 'viewer', password: 'carol-password-1' } });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual([added.body.name, added.body.role], ['carol', 'viewer']);
    assert.equal((await asAdmin.request('POST', '/api/v1/users', { body: { username: 'carol', role: 'viewer', password: 'carol-password-2' } })).status, 409);
    const short = await asAdmin.request('POST', '/api/v1/users', { body: { username: 'dave', role: 'viewer', password: 'short' } });
    assert.deepEqual([short.status, short.body.field], [400, 'password']);
    const badName = await asAdmin.request('POST', '/api/v1/users', { body: { username: 'dave smith', role: 'viewer', password: 'long-enough-1' } });
    assert.deepEqual([badName.status, badName.body.field], [400, 'username']);
    assert.deepEqual([(await asAdmin.request('PATCH', '/api/v1/users/carol', { body: {} })).status], [400]);

    const carol = admin();
    assert.equal((await carol.login({ name: 'carol', password: 'carol-password-1' })).status, 200);
    assert.equal((await carol.request('POST', '/api/v1/modules', { body: { modid: 64, cmdid: 1 } })).status, 403, 'a viewer');
    const promoted = await asAdmin.request('PATCH', '/api/v1/users/carol', { body: { role: 'admin' } });
    assert.deepEqual([promoted.status, promoted.body.role], [200, 'admin']);
    assert.equal((await carol.request('POST', '/api/v1/modules', { body: { modid: 64, cmdid: 1 } })).status, 201, 'the new role applies to the next request');
    assert.equal((await asAdmin.request('PATCH', '/api/v1/users/carol', { body: { password: 'carol-password-3' } })).status, 200);
    assert.equal((await carol.request('GET', '/api/v1/session')).status, 401, 'a reset password ends the sessions');
    assert.equal((await carol.login({ name: 'carol', password: 'carol-password-3' })).status, 200);
    assert.equal((await carol.request('DELETE', `/api/v1/users/carol`)).status, 409, 'not one\'s own account');
    assert.equal((await carol.request('PATCH', '/api/v1/users/carol', { body: { disabled: true } })).status, 409, 'nor disable it');
    const disabled = await asAdmin.request('PATCH', '/api/v1/users/carol', { body: { disabled: true } });
    assert.deepEqual([disabled.status, disabled.body.disabled], [200, true]);
    assert.equal((await carol.request('GET', '/api/v1/session')).status, 401, 'a disabled account is signed out');
    const refused = await admin().login({ name: 'carol', password: 'carol-password-3' });
    assert.deepEqual([refused.status, refused.body.error], [403, 'the account carol is disabled; an admin can enable it']);
    assert.equal((await asAdmin.request('PATCH', '/api/v1/users/carol', { body: { disabled: false } })).body.disabled, false);
    assert.equal((await carol.login({ name: 'carol', password: 'carol-password-3' })).status, 200);
    const names = (await asAdmin.request('GET', '/api/v1/users')).body.users.map((u: { name: string }) => u.name);
    assert.ok(names.includes('carol') && names.includes(ADMIN.name), names.join(','));
    assert.equal((await asAdmin.request('DELETE', '/api/v1/users/carol')).status, 204);
    assert.equal((await carol.request('GET', '/api/v1/session')).status, 401, 'a deleted user is logged out');
    assert.equal((await asAdmin.request('DELETE', '/api/v1/users/carol')).status, 404);
    assert.equal((await asAdmin.request('PATCH', '/api/v1/users/nobody', { body: { role: 'admin' } })).status, 404);

    // The audit trail: account changes by the admin; failed sign-ins name an existing account only (a typed password is no name).
    assert.equal((await admin().login({ name: VIEWER.name, password: 'not-the-password' })).status, 401);
    assert.equal((await admin().login({ name: 'hunter2-typed-as-a-name', password: 'x' })).status, 401);
    assert.equal((await asViewer.request('GET', '/api/v1/audit')).status, 403);
    const events = (await asAdmin.request('GET', '/api/v1/audit?limit=20')).body.events as { kind: string; actor: string | null; subject: string | null; address: string | null; detail: string }[];
    const pick = (e: (typeof events)[number]) => [e.kind, e.actor, e.subject];
    assert.deepEqual(events.slice(0, 2).map(pick), [['login_failed', null, null], ['login_failed', null, VIEWER.name]]);
    assert.ok(events.every((e) => !JSON.stringify(e).includes('hunter2')), 'an unknown name is not recorded');
    assert.equal(events[0]!.address, '127.0.0.1');
    const changes = events.filter((e) => e.subject === 'carol').map((e) => [e.kind, e.actor, e.detail]).reverse();
    assert.deepEqual(changes.slice(0, 2), [['user_added', ADMIN.name, 'role viewer'], ['login', 'carol', '']]);
    assert.ok(changes.some(([kind]) => kind === 'user_role_changed') && changes.some(([kind]) => kind === 'user_password_reset'));
    assert.ok(changes.some(([kind]) => kind === 'user_disabled') && changes.some(([kind]) => kind === 'user_enabled'));
    assert.ok(events.some((e) => e.kind === 'login_failed' && e.subject === 'carol' && e.detail === 'account disabled'));
    assert.deepEqual(changes.at(-1), ['user_deleted', ADMIN.name, '']);
  });

  test('revert: the change log says which changes can be reverted to; a dry run is the diff; the revert is one transaction naming the admin', async () => {
    assert.equal((await asAdmin.request('POST', '/api/v1/modules', { body: { modid: 65, cmdid: 1 } })).status, 201);
    const good = (await asAdmin.request('POST', '/api/v1/modules/65/1/hosts', { body: { ip: '10.65.0.1', port: 80, weight: 2 } })).body.version;
    assert.equal((await asAdmin.request('PATCH', '/api/v1/modules/65/1/hosts/10.65.0.1/80', { body: { weight: 7 } })).status, 200);
    const listed = (await asViewer.request('GET', '/api/v1/changes?limit=5')).body.changes.find((c: { version: number }) => c.version === good);
    assert.deepEqual([listed.action, listed.revertible], ['add', true]);
    assert.equal((await asViewer.request('POST', '/api/v1/modules/65/1/revert', { body: { version: good, dryRun: true } })).status, 403);
    const snapshot = await storeSnapshot(store);
    const diff = await asAdmin.request('POST', '/api/v1/modules/65/1/revert', { body: { version: good, dryRun: true } });
    assert.equal(diff.status, 200, JSON.stringify(diff.body));
    assert.deepEqual([diff.body.revertedTo, diff.body.edits.map((e: { detail: string }) => e.detail)], [good, [`10.65.0.1:80 weight 7 -> 2; reverted to version ${good}`]]);
    assert.equal(await storeSnapshot(store), snapshot);
    const done = await asAdmin.request('POST', '/api/v1/modules/65/1/revert', { body: { version: good } });
    assert.equal(done.body.dryRun, false);
    assert.deepEqual((await asViewer.request('GET', '/api/v1/modules/65/1/hosts')).body.hosts.map((h: { weight: number }) => h.weight), [2]);
    const [newest] = (await new ChangeLog(store).list({ limit: 1 })).changes;
    assert.deepEqual([newest?.action, newest?.actor], ['update', ADMIN.name]);
    assert.equal((await asAdmin.request('POST', '/api/v1/modules/66/1/revert', { body: { version: good } })).status, 404);
    const bad = await asAdmin.request('POST', '/api/v1/modules/65/1/revert', { body: { version: 0 } });
    assert.deepEqual([bad.status, bad.body.error], [400, 'version must be at least 1']);
  });

  test('edits go through RouteAdmin: one version each, change log names the user, 404 and 409 mapped', async () => {
    const start = await new RouteAdmin(store).version();
    const added = await asAdmin.request('POST', '/api/v1/modules', { body: { modid: 7, cmdid: 1, description: 'seven' } });
    assert.equal(added.status, 201);
    assert.deepEqual(added.body, { version: start + 1, module: { modid: 7, cmdid: 1, description: 'seven' } });
    const host = await asAdmin.request('POST', '/api/v1/modules/7/1/hosts', { body: { ip: '192.168.0.10', port: 9000 } });
    assert.equal(host.status, 201);
    assert.deepEqual(host.body, { version: start + 2, host: { ip: '192.168.0.10', port: 9000, weight: 1 } });
    assert.equal((await asAdmin.request('POST', '/api/v1/modules/7/1/hosts', { body: { ip: '192.168.0.10', port: 9000 } })).status, 409);
    assert.equal((await asAdmin.request('POST', '/api/v1/modules/8/1/hosts', { body: { ip: '192.168.0.10', port: 9000 } })).status, 404);
    assert.equal((await asAdmin.request('POST', '/api/v1/modules', { body: { modid: 7, cmdid: 1 } })).status, 409);
    const weight = await asAdmin.request('PATCH', '/api/v1/modules/7/1/hosts/192.168.0.10/9000', { body: { weight: 5 } });
    assert.equal(weight.body.version, start + 3);
    assert.equal((await asAdmin.request('PATCH', '/api/v1/modules/7/1/hosts/192.168.0.11/9000', { body: { weight: 5 } })).status, 404);

    const hosts = await asViewer.request('GET', '/api/v1/modules/7/1/hosts');
    assert.equal(hosts.status, 200);
    assert.equal(hosts.body.version, start + 3);
    assert.deepEqual(hosts.body.hosts.map((h: { ip: string; port: number; weight: number }) => [h.ip, h.port, h.weight]), [['192.168.0.10', 9000, 5]]);
    assert.equal((await asViewer.request('GET', '/api/v1/modules/8/1/hosts')).status, 404);

    const modules = await asViewer.request('GET', '/api/v1/modules');
    const seven = modules.body.modules.find((m: { modid: number }) => m.modid === 7);
    assert.equal(seven.hosts, 1);
    assert.equal(seven.description, 'seven');
    assert.equal(seven.health.state, 'none');

    assert.equal((await asAdmin.request('DELETE', '/api/v1/modules/7/1/hosts/192.168.0.10/9000')).body.version, start + 4);
    const changes = await asViewer.request('GET', `/api/v1/changes?limit=4`);
    assert.deepEqual(
      changes.body.changes.map((c: { version: number; action: string; actor: string; modid: number }) => [c.version, c.action, c.actor, c.modid]),
      [
        [start + 4, 'del', ADMIN.name, 7],
        [start + 3, 'update', ADMIN.name, 7],
        [start + 2, 'add', ADMIN.name, 7],
        [start + 1, 'module-add', ADMIN.name, 7],
      ],
    );
    const older = await asViewer.request('GET', `/api/v1/changes?limit=2&before=${start + 3}`);
    assert.deepEqual(older.body.changes.map((c: { version: number }) => c.version), [start + 2, start + 1]);
    assert.equal((await asAdmin.request('DELETE', '/api/v1/modules/7/1')).status, 200);
    assert.equal((await asViewer.request('GET', '/api/v1/modules/7/1')).status, 404);
  });

  test("a module's strategy: set on add, shown by every module read, changed and cleared (a version and a change row each); the names come from the server", async () => {
    const strategies = await asViewer.request('GET', '/api/v1/strategies');
    assert.deepEqual(strategies.body, { strategies: [...STRATEGY_NAMES] });
    const start = await new RouteAdmin(store).version();
    const added = await asAdmin.request('POST', '/api/v1/modules', { body: { modid: 12, cmdid: 1, strategy: 'least_request' } });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual(added.body, { version: start + 1, module: { modid: 12, cmdid: 1, description: '', strategy: 'least_request' } });
    const listed = async () => (await asViewer.request('GET', '/api/v1/modules')).body.modules.find((m: { modid: number }) => m.modid === 12)?.strategy;
    assert.equal(await listed(), 'least_request');
    assert.equal((await asViewer.request('GET', '/api/v1/modules/12/1')).body.module.strategy, 'least_request');

    const changed = await asAdmin.request('PATCH', '/api/v1/modules/12/1', { body: { strategy: 'consistent_hash' } });
    assert.deepEqual(changed.body, { version: start + 2, module: { modid: 12, cmdid: 1, strategy: 'consistent_hash' } });
    assert.equal(await listed(), 'consistent_hash');
    const cleared = await asAdmin.request('PATCH', '/api/v1/modules/12/1', { body: { strategy: 'default' } });
    assert.equal(cleared.body.version, start + 3);
    assert.equal(await listed(), null);
    const both = await asAdmin.request('PATCH', '/api/v1/modules/12/1', { body: { description: 'twelve', strategy: 'lars' } });
    assert.equal(both.status, 200);
    await asAdmin.request('PATCH', '/api/v1/modules/12/1', { body: { strategy: null } });
    const route = (await asViewer.request('GET', '/api/v1/modules/12/1')).body;
    assert.deepEqual([route.version, route.module.description, route.module.strategy], [start + 5, 'twelve', null]);
    const changes = await asViewer.request('GET', '/api/v1/changes?limit=5');
    assert.deepEqual(
      changes.body.changes.map((c: { action: string; detail: string; actor: string }) => [c.action, c.detail, c.actor]),
      [
        ['module-update', 'strategy lars -> default', ADMIN.name],
        ['module-update', 'description "" -> "twelve"; strategy default -> lars', ADMIN.name],
        ['module-update', 'strategy consistent_hash -> default', ADMIN.name],
        ['module-update', 'strategy least_request -> consistent_hash', ADMIN.name],
        ['module-add', 'strategy least_request', ADMIN.name],
      ],
    );
    assert.equal((await asAdmin.request('PATCH', '/api/v1/modules/13/1', { body: { strategy: 'lars' } })).status, 404);
    assert.equal((await asAdmin.request('DELETE', '/api/v1/modules/12/1')).status, 200);
  });

  test('API tokens: returned once, Bearer needs no CSRF header, the role applies, revoked tokens stop working', async () => {
    const created = await asAdmin.request('POST', '/api/v1/tokens', { body: { name: 'deploy' } });
    assert.equal(created.status, 201);
    const token = created.body.token as string;
    assert.match(token, /^lars_/);
    const bearer = { kind: 'token', token } as const;
    const anonymous = admin();
    const edit = await anonymous.request('POST', '/api/v1/modules', { body: { modid: 9, cmdid: 9 }, auth: bearer });
    assert.equal(edit.status, 201, JSON.stringify(edit.body));
    const changes = await anonymous.request('GET', '/api/v1/changes?limit=1', { auth: bearer });
    assert.equal(changes.body.changes[0].actor, ADMIN.name, 'the token acts as its user');
    const session = await anonymous.request('GET', '/api/v1/session', { auth: bearer });
    assert.deepEqual(session.body, { user: { name: ADMIN.name, role: 'admin', grants: [] }, via: 'token' });
    const listed = await asAdmin.request('GET', '/api/v1/tokens');
    const entry = listed.body.tokens.find((t: { id: number }) => t.id === created.body.id);
    assert.deepEqual(Object.keys(entry).sort(), ['createdAt', 'expiresAt', 'id', 'name', 'revokedAt', 'scope', 'user'], 'the secret is never listed');
    const reader = await asAdmin.request('POST', '/api/v1/tokens', { body: { name: 'dashboard', scope: 'read', expiresInDays: 30 } });
    assert.deepEqual([reader.status, reader.body.scope, reader.body.expiresAt - reader.body.createdAt], [201, 'read', 30 * 86_400]);
    const readOnly = { kind: 'token', token: reader.body.token as string } as const;
    assert.equal((await anonymous.request('GET', '/api/v1/modules', { auth: readOnly })).status, 200);
    assert.equal((await anonymous.request('POST', '/api/v1/modules', { body: { modid: 9, cmdid: 11 }, auth: readOnly })).status, 403, "a read-only token of an admin cannot edit");
    const badLimit = await asAdmin.request('POST', '/api/v1/tokens', { body: { name: 'x', expiresInDays: 0 } });
    assert.deepEqual([badLimit.status, badLimit.body.field], [400, 'expiresInDays']);

    const viewerToken = (await asViewer.request('POST', '/api/v1/tokens', { body: { name: 'read-only' } })).body.token;
    const denied = await anonymous.request('POST', '/api/v1/modules', { body: { modid: 9, cmdid: 10 }, auth: { kind: 'token', token: viewerToken } });
    assert.equal(denied.status, 403);
    const viewerList = await asViewer.request('GET', '/api/v1/tokens');
    assert.deepEqual(viewerList.body.tokens.map((t: { user: string }) => t.user), [VIEWER.name], 'a viewer sees only their own tokens');
    assert.equal((await asViewer.request('DELETE', `/api/v1/tokens/${created.body.id}`)).status, 404, "nor revokes another user's");

    const revoked = await asAdmin.request('DELETE', `/api/v1/tokens/${created.body.id}`);
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.revokedAt !== null);
    const after = await anonymous.request('GET', '/api/v1/modules', { auth: bearer });
    assert.equal(after.status, 401);
    assert.match(after.body.error, /revoked/);
    assert.equal((await asAdmin.request('DELETE', '/api/v1/modules/9/9')).status, 200);
  });

  test('status and series: latest per host and caller with health and call durations; counts and durations per host over time', async () => {
    const now = Math.floor(Date.now() / 1000);
    await asAdmin.request('POST', '/api/v1/modules/1/1/hosts', { body: { ip: '10.0.0.3', port: 81 } });
    await insertStatus(store, [
      { modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80, caller: '10.9.0.1', succ: 90, err: 1, reportedAt: now - 5, timed: 50, durationUs: 50 * 1250, maxDurationUs: 7000 },
      { modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80, caller: '10.9.0.2', succ: 80, err: 2, reportedAt: now - 7 },
      { modid: 1, cmdid: 1, ip: '10.0.0.3', port: 81, caller: '10.9.0.1', succ: 1, err: 30, overload: true, reportedAt: now - 5 },
      { modid: 1, cmdid: 1, ip: '10.0.0.200', port: 80, caller: '10.9.0.1', succ: 5, err: 0, reportedAt: now - 9 },
    ]);
    await insertSeries(store, { modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80, caller: '10.9.0.1' }, 10, now, (m) => ({ succ: 100 + m, err: m % 2, timed: 10, durationUs: 10 * 5000, maxDurationUs: 9000 + m }));
    await insertSeries(store, { modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80, caller: '10.9.0.2' }, 10, now, () => ({ succ: 1, err: 0 }));

    const status = await asViewer.request('GET', '/api/v1/modules/1/1/status');
    assert.equal(status.status, 200);
    assert.equal(status.body.health.state, 'degraded', 'one of two reporting hosts is overloaded');
    const byHost = new Map(status.body.hosts.map((h: { ip: string; port: number }) => [`${h.ip}:${h.port}`, h]));
    const first = byHost.get('10.0.0.1:80') as any;
    assert.equal(first.inRoute, true);
    assert.equal(first.health.state, 'ok');
    assert.deepEqual(first.callers.map((c: { caller: string; succ: number; latencyMs: number | null; maxLatencyMs: number | null }) => [c.caller, c.succ, c.latencyMs, c.maxLatencyMs]), [
      ['10.9.0.1', 90, 1.25, 7],
      ['10.9.0.2', 80, null, null],
    ]);
    assert.equal((byHost.get('10.0.0.3:81') as any).health.state, 'down');
    assert.equal((byHost.get('10.0.0.200:80') as any).inRoute, false, 'a host that left the route still shows its last reports');

    const modules = await asViewer.request('GET', '/api/v1/modules');
    const one = modules.body.modules.find((m: { modid: number; cmdid: number }) => m.modid === 1 && m.cmdid === 1);
    assert.deepEqual({ ...one.health, lastReportAt: undefined }, { state: 'degraded', reporting: 2, overloaded: 1, succ: 171, err: 33, lastReportAt: undefined });

    const series = await asViewer.request('GET', '/api/v1/modules/1/1/series?range=hour');
    assert.equal(series.status, 200);
    assert.equal(series.body.bucketSeconds, 60);
    assert.equal(series.body.to - series.body.from, 3600);
    const points = series.body.points.filter((p: { ip: string }) => p.ip === '10.0.0.1');
    assert.ok(points.length >= 9, `points: ${points.length}`);
    assert.equal(points.reduce((n: number, p: { succ: number }) => n + p.succ, 0) > 0, true);
    const latest = points[points.length - 1];
    assert.equal(latest.succ, 101, 'the callers are summed per bucket');
    assert.deepEqual([latest.latencyMs, latest.maxLatencyMs], [5, 9], 'durations of the caller that reports them: the mean over its timed calls, the longest');
    const week = await asViewer.request('GET', '/api/v1/modules/1/1/series?range=week');
    assert.equal(week.body.bucketSeconds, 3600);
  });

  test('login: wrong password 401 (one message for every cause), session cookie flags, logout ends the session', async () => {
    const client = admin();
    const wrong = await client.login({ name: ADMIN.name, password: 'not-the-password' });
    assert.equal(wrong.status, 401);
    const unknown = await client.login({ name: 'no-such-user', password: 'not-the-password' });
    assert.deepEqual(unknown.body, wrong.body, 'an unknown name looks like a wrong password');
    const missing = await client.request('POST', '/api/v1/session', { body: { username: ADMIN.name }, auth: { kind: 'none' } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.field, 'password');
    const empty = await client.request('POST', '/api/v1/session', { body: { username: '', password: 'x' }, auth: { kind: 'none' } });
    assert.deepEqual(empty.body, { error: 'username is required', field: 'username' });

    const ok = await client.login(ADMIN);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.user, { name: ADMIN.name, role: 'admin', grants: [] });
    const cookie = ok.headers.get('set-cookie')!;
    assert.match(cookie, /^lars_session=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\//);
    const me = await client.request('GET', '/api/v1/session');
    assert.equal(me.body.csrfToken, ok.body.csrfToken);
    assert.equal((await client.request('DELETE', '/api/v1/session')).status, 204);
    assert.equal((await client.request('GET', '/api/v1/modules')).status, 401);
  });

  test('unknown routes, pages, assets, headers, /healthz, /metrics and the OpenAPI document', async () => {
    const client = admin();
    const missing = await client.request('GET', '/api/v1/nothing-here', { auth: { kind: 'none' } });
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /no such endpoint: GET \/api\/v1\/nothing-here/);
    assert.equal((await client.request('PUT', '/api/v1/modules', { auth: { kind: 'none' } })).status, 404);
    assert.equal((await client.request('GET', '/no-such-page', { auth: { kind: 'none' } })).status, 404);

    for (const path of ['/', '/login', '/modules', '/modules/1/1', '/changes', '/tokens', '/users']) {
      const page = await client.request('GET', path, { auth: { kind: 'none' } });
      assert.equal(page.status, 200, path);
      assert.match(page.body, /<script type="module" src="\/assets\/js\/app.js">/);
    }
    const script = await client.request('GET', '/assets/js/app.js', { auth: { kind: 'none' } });
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type')!, /text\/javascript/);
    const cached = await client.request('GET', '/assets/js/app.js', { auth: { kind: 'none' }, headers: { 'if-none-match': script.headers.get('etag')! } });
    assert.equal(cached.status, 304);
    assert.equal((await client.request('GET', '/assets/../server.ts', { auth: { kind: 'none' } })).status, 404);

    const headers = (await client.request('GET', '/modules', { auth: { kind: 'none' } })).headers;
    assert.match(headers.get('content-security-policy')!, /default-src 'self'.*frame-ancestors 'none'/);
    assert.equal(headers.get('x-frame-options'), 'DENY');
    assert.equal(headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await asViewer.request('GET', '/api/v1/modules')).headers.get('cache-control'), 'no-store');

    const health = await client.request('GET', '/healthz', { auth: { kind: 'none' } });
    assert.equal(health.status, 200);
    assert.equal(health.body.ok, true);
    const metrics = await client.request('GET', '/metrics', { auth: { kind: 'none' } });
    assert.match(metrics.headers.get('content-type')!, /^text\/plain/);
    assert.match(metrics.body, /lars_console_requests_total\{method="GET",route="\/api\/v1\/modules",status="200"\} \d+/);
    assert.match(metrics.body, /lars_console_logins_total \d+/);

    const doc = (await client.request('GET', '/api/v1/openapi.json', { auth: { kind: 'none' } })).body;
    assert.equal(doc.openapi, '3.1.0');
    const expected: [string, string][] = [
      ['/api/v1/session', 'post'],
      ['/api/v1/session', 'delete'],
      ['/api/v1/modules', 'get'],
      ['/api/v1/modules', 'post'],
      ['/api/v1/strategies', 'get'],
      ['/api/v1/modules/{modid}/{cmdid}/hosts', 'get'],
      ['/api/v1/modules/{modid}/{cmdid}/hosts', 'post'],
      ['/api/v1/modules/{modid}/{cmdid}/hosts/{ip}/{port}', 'delete'],
      ['/api/v1/modules/{modid}/{cmdid}/status', 'get'],
      ['/api/v1/changes', 'get'],
      ['/api/v1/tokens', 'post'],
    ];
    for (const [path, method] of expected) assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} documented`);
    const addHost = doc.paths['/api/v1/modules/{modid}/{cmdid}/hosts'].post;
    assert.deepEqual(addHost.requestBody.content['application/json'].schema.required, ['ip', 'port']);
    assert.deepEqual(addHost.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`), ['path:modid', 'path:cmdid']);
    assert.ok(addHost.responses['201'] && addHost.responses['400'] && addHost.responses['403']);
    assert.deepEqual(doc.paths['/api/v1/session'].post.security, []);
    assert.equal(doc.paths['/modules'], undefined, 'pages are not API');
  });

  test("a browser asking for a path that is no page gets the app with status 404; the front end's files log at debug, API calls at info", async () => {
    const logs = captureLogs('info');
    const quiet = await startConsole({ store, port: 0 });
    try {
      const client = new ApiClient(quiet.url);
      const html = 'text/html,application/xhtml+xml;q=0.9';
      const page = await client.request('GET', '/settings', { auth: { kind: 'none' }, headers: { accept: html } });
      assert.equal(page.status, 404);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(page.body, /<script type="module" src="\/assets\/js\/app.js">/, 'the app draws "No such page" in its navigation');
      const plain = await client.request('GET', '/settings', { auth: { kind: 'none' } });
      assert.equal(plain.status, 404);
      assert.equal(plain.body, 'not found\n', 'a script gets a plain 404');
      const before = logs.lines.length;
      for (const path of ['/modules', '/assets/js/app.js', '/assets/app.css']) assert.equal((await client.request('GET', path, { auth: { kind: 'none' } })).status, 200);
      assert.equal((await client.login(ADMIN)).status, 200);
      assert.equal((await client.request('GET', '/assets/nope.js', { auth: { kind: 'none' } })).status, 404);
      const logged = logs.lines.slice(before).join('\n');
      assert.doesNotMatch(logged, /path=\/modules |path=\/assets\/js\/app\.js|path=\/assets\/app\.css/, 'pages and files served fine stay out of the info log');
      assert.match(logged, /request method=POST path=\/api\/v1\/session status=200/);
      assert.match(logged, /request method=GET path=\/assets\/nope\.js status=404/, 'a missing file is still worth a line');
    } finally {
      logs.restore();
      await quiet.close();
    }
  });

  test('failed logins are rate-limited per user and per address (429, Retry-After); passwords are never logged', async () => {
    let now = Date.now();
    const logs = captureLogs('info');
    const limited = await startConsole({
      store,
      port: 0,
      clock: () => now,
      console: { login_failures_per_user_address: 3, login_failures_per_address: 5, login_window_s: 60 },
    });
    try {
      const client = new ApiClient(limited.url);
      for (let i = 0; i < 3; i++) assert.equal((await client.login({ name: VIEWER.name, password: `guess-${i}-secret` })).status, 401);
      const blocked = await client.login(VIEWER);
      assert.equal(blocked.status, 429, 'even the right password waits once the user is limited');
      assert.equal(blocked.headers.get('retry-after'), '20');
      assert.match(blocked.body.error, /too many failed logins; try again in 20 s/);
      assert.equal((await client.login({ name: ADMIN.name, password: 'guess-x-secret' })).status, 401, 'another user from the same address still may try');
      assert.equal((await client.login({ name: ADMIN.name, password: 'guess-y-secret' })).status, 401);
      assert.equal((await client.login(ADMIN)).status, 429, 'five failures from this address limit every user here');
      now += 20_000;
      assert.equal((await client.login(VIEWER)).status, 200, 'one attempt earned back');
      const lines = logs.lines.join('\n');
      assert.doesNotMatch(lines, /secret|password-1/, 'no password in any log line');
      assert.match(lines, /login_failed address=127\.0\.0\.1/);
      assert.match(lines, /request method=POST path=\/api\/v1\/session status=429/);
    } finally {
      logs.restore();
      await limited.close();
    }
  });
});
