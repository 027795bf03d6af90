/**
 * The editor role over real HTTP, on every reachable engine: an editor
 * changes the modules its grants cover (every kind of module edit, and
 * creating one), is refused elsewhere with a 403 naming the user, role and
 * grants, and nothing changes there; a read-only token of an editor is a
 * viewer; admins grant and take back with PUT and DELETE
 * /users/{name}/grants/{modid}/{cmdid}, audited; a deleted user's grants go.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConsole, type ConsoleServer } from '../../src/console/server.js';
import { ChangeLog } from '../../src/store/change-log.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { Users } from '../../src/store/users.js';
import { forEachEngine } from '../support/engines.js';
import { ADMIN, ApiClient, EDITOR, VIEWER, addTestEditor, addTestUsers, storeSnapshot } from './helpers.js';

/** Every edit of one module's routes or settings, in an order that works on a module with the host 10.0.0.1:80; the module goes last. */
function moduleEdits(modid: number, cmdid: number, revertTo: number): { method: string; path: string; body?: unknown }[] {
  const base = `/api/v1/modules/${modid}/${cmdid}`;
  return [
    { method: 'PATCH', path: base, body: { description: 'edited by an editor' } },
    { method: 'POST', path: `${base}/hosts`, body: { ip: '10.0.0.2', port: 80 } },
    { method: 'PATCH', path: `${base}/hosts/10.0.0.1/80`, body: { weight: 3 } },
    { method: 'PUT', path: `${base}/hosts/10.0.0.1/80/drain` },
    { method: 'DELETE', path: `${base}/hosts/10.0.0.1/80/drain` },
    { method: 'PUT', path: `${base}/instances/10.0.0.9/90/weight`, body: { weight: 0 } },
    { method: 'DELETE', path: `${base}/instances/10.0.0.9/90/weight` },
    { method: 'POST', path: `${base}/revert`, body: { version: revertTo, dryRun: true } },
    { method: 'DELETE', path: `${base}/hosts/10.0.0.2/80` },
    { method: 'DELETE', path: base },
  ];
}

await forEachEngine('console roles: editors and grants', (store) => {
  let server: ConsoleServer;
  const client = () => new ApiClient(server.url);
  let asAdmin: ApiClient;
  let asViewer: ApiClient;
  let asEditor: ApiClient;
  /** Per module, the version its fixture host was added at (a revert target). */
  const fixtureVersion = new Map<string, number>();

  before(async () => {
    await addTestUsers(store);
    await addTestEditor(store, [{ modid: 7 }, { modid: 8, cmdid: 1 }]);
    const routes = new RouteAdmin(store);
    for (const [modid, cmdid] of [[7, 1], [8, 1], [8, 2], [9, 1]] as const) {
      await routes.addModule({ modid, cmdid, description: 'fixture' }, 'fixture');
      fixtureVersion.set(`${modid}:${cmdid}`, await routes.addHost({ modid, cmdid, ip: '10.0.0.1', port: 80 }, 'fixture'));
    }
    server = await startConsole({ store, port: 0 });
    asAdmin = client();
    asViewer = client();
    asEditor = client();
    assert.equal((await asAdmin.login(ADMIN)).status, 200);
    assert.equal((await asViewer.login(VIEWER)).status, 200);
    const login = await asEditor.login(EDITOR);
    assert.deepEqual(login.body.user, { name: EDITOR.name, role: 'editor', grants: [{ modid: 7, cmdid: null }, { modid: 8, cmdid: 1 }] }, 'the login answer says what the editor may change');
  });
  after(() => server.close());

  test('an editor is refused every edit of a module its grants do not cover, with a 403 naming the user, role and grants; nothing changes', async () => {
    const snapshot = await storeSnapshot(store);
    for (const [modid, cmdid] of [[9, 1], [8, 2]] as const) {
      for (const edit of moduleEdits(modid, cmdid, fixtureVersion.get(`${modid}:${cmdid}`)!)) {
        const answer = await asEditor.request(edit.method, edit.path, { body: edit.body });
        assert.equal(answer.status, 403, `${edit.method} ${edit.path}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error, `user ${EDITOR.name} (editor) may change modules 7:* and 8:1; not ${modid}:${cmdid}`);
        const viewer = await asViewer.request(edit.method, edit.path, { body: edit.body });
        assert.deepEqual([viewer.status, viewer.body.error], [403, `user ${VIEWER.name} has the viewer role; this needs admin, or editor with a grant of the module`]);
      }
    }
    const created = await asEditor.request('POST', '/api/v1/modules', { body: { modid: 9, cmdid: 2 } });
    assert.deepEqual([created.status, created.body.error], [403, `user ${EDITOR.name} (editor) may change modules 7:* and 8:1; not 9:2`]);
    // What stays with admins: import, accounts, the audit trail.
    const adminOnly: [string, string, unknown][] = [
      ['POST', '/api/v1/import', { format: 'lars-routes', formatVersion: 1, modules: [{ modid: 7, cmdid: 9 }] }],
      ['GET', '/api/v1/users', undefined],
      ['POST', '/api/v1/users', { username: 'mallory', role: 'admin', password: 'long-enough-1' }],
      ['PUT', `/api/v1/users/${EDITOR.name}/grants/9/1`, undefined],
      ['GET', '/api/v1/audit', undefined],
    ];
    for (const [method, path, body] of adminOnly) {
      const answer = await asEditor.request(method, path, { body });
      assert.deepEqual([answer.status, answer.body.error], [403, `user ${EDITOR.name} has the editor role; this needs admin`], `${method} ${path}`);
    }
    assert.equal(await storeSnapshot(store), snapshot);
  });

  test('an editor makes every edit of a module its grants cover (a whole modid, or one cmdid), and creates one; the change log names the editor', async () => {
    for (const [modid, cmdid] of [[7, 1], [8, 1]] as const) {
      for (const edit of moduleEdits(modid, cmdid, fixtureVersion.get(`${modid}:${cmdid}`)!)) {
        const answer = await asEditor.request(edit.method, edit.path, { body: edit.body });
        assert.ok(answer.status === 200 || answer.status === 201, `${edit.method} ${edit.path}: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
      assert.equal((await asEditor.request('GET', `/api/v1/modules/${modid}/${cmdid}`)).status, 404, `${modid}:${cmdid} was deleted`);
    }
    const created = await asEditor.request('POST', '/api/v1/modules', { body: { modid: 7, cmdid: 5, description: 'the editor\'s own' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const [newest] = (await new ChangeLog(store).list({ limit: 1 })).changes;
    assert.deepEqual([newest?.action, newest?.modid, newest?.cmdid, newest?.actor], ['module-add', 7, 5, EDITOR.name]);
    assert.equal((await asEditor.request('POST', '/api/v1/modules', { body: { modid: 8, cmdid: 1 } })).status, 201, '8:1 again, as granted');
  });

  test('tokens: a full token of an editor acts with its grants, a read-only one is a viewer; GET /session says the role and grants', async () => {
    const full = (await asEditor.request('POST', '/api/v1/tokens', { body: { name: 'deploy' } })).body.token as string;
    const read = (await asEditor.request('POST', '/api/v1/tokens', { body: { name: 'dashboard', scope: 'read' } })).body.token as string;
    const anonymous = client();
    const fullSession = await anonymous.request('GET', '/api/v1/session', { auth: { kind: 'token', token: full } });
    assert.deepEqual(fullSession.body.user, { name: EDITOR.name, role: 'editor', grants: [{ modid: 7, cmdid: null }, { modid: 8, cmdid: 1 }] });
    assert.equal((await anonymous.request('PATCH', '/api/v1/modules/7/5', { body: { description: 'by token' }, auth: { kind: 'token', token: full } })).status, 200);
    const readSession = await anonymous.request('GET', '/api/v1/session', { auth: { kind: 'token', token: read } });
    assert.deepEqual(readSession.body.user, { name: EDITOR.name, role: 'viewer', grants: [] });
    const refused = await anonymous.request('PATCH', '/api/v1/modules/7/5', { body: { description: 'by a read token' }, auth: { kind: 'token', token: read } });
    assert.deepEqual([refused.status, refused.body.error], [403, `user ${EDITOR.name} has the viewer role; this needs admin, or editor with a grant of the module`]);
    assert.equal((await anonymous.request('GET', '/api/v1/modules/7/5', { auth: { kind: 'token', token: read } })).status, 200, 'it reads');
    const session = await asEditor.request('GET', '/api/v1/session');
    assert.deepEqual([session.body.user.role, session.body.user.grants], ['editor', [{ modid: 7, cmdid: null }, { modid: 8, cmdid: 1 }]]);
  });

  test('admins grant and take back (cmdid * for every cmdid): listed by GET /users, applied from the next request, audited once each; bad input 400, unknown user 404', async () => {
    const grants = `/api/v1/users/${EDITOR.name}/grants`;
    const granted = await asAdmin.request('PUT', `${grants}/9/1`);
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.deepEqual(granted.body.grants, [{ modid: 7, cmdid: null }, { modid: 8, cmdid: 1 }, { modid: 9, cmdid: 1 }]);
    assert.equal((await asAdmin.request('PUT', `${grants}/9/1`)).status, 200, 'granting one held already is no error');
    assert.equal((await asEditor.request('PATCH', '/api/v1/modules/9/1', { body: { description: 'granted now' } })).status, 200, 'from the next request');
    const listed = (await asAdmin.request('GET', '/api/v1/users')).body.users as { name: string; grants: unknown[] }[];
    assert.deepEqual(listed.find((u) => u.name === EDITOR.name)?.grants, granted.body.grants);
    assert.deepEqual(listed.find((u) => u.name === ADMIN.name)?.grants, []);

    assert.equal((await asAdmin.request('DELETE', `${grants}/9/1`)).status, 200);
    assert.equal((await asEditor.request('PATCH', '/api/v1/modules/9/1', { body: { description: 'not any more' } })).status, 403);
    const missing = await asAdmin.request('DELETE', `${grants}/9/1`);
    assert.deepEqual([missing.status, missing.body.error], [404, `user ${EDITOR.name} has no grant 9:1 (their grants: 7:*, 8:1)`]);

    const every = await asAdmin.request('PUT', `${grants}/9/*`);
    assert.deepEqual(every.body.grants.at(-1), { modid: 9, cmdid: null });
    assert.equal((await asEditor.request('PATCH', '/api/v1/modules/9/1', { body: { description: 'every cmdid of 9' } })).status, 200);
    assert.equal((await asAdmin.request('DELETE', `${grants}/9/*`)).status, 200);

    // A grant to another role is kept but does nothing until the user is an editor.
    assert.equal((await asAdmin.request('PUT', `/api/v1/users/${VIEWER.name}/grants/9/1`)).status, 200);
    assert.equal((await asViewer.request('PATCH', '/api/v1/modules/9/1', { body: { description: 'a viewer' } })).status, 403);
    assert.deepEqual((await asViewer.request('GET', '/api/v1/session')).body.user.grants, []);
    assert.equal((await asAdmin.request('DELETE', `/api/v1/users/${VIEWER.name}/grants/9/1`)).status, 200);

    const bad: [string, string][] = [
      [`${grants}/x/1`, 'modid'],
      [`${grants}/1/x`, 'cmdid'],
      [`${grants}/1/2147483648`, 'cmdid'],
    ];
    for (const [path, field] of bad) {
      const answer = await asAdmin.request('PUT', path);
      assert.deepEqual([answer.status, answer.body.field], [400, field], `${path}: ${JSON.stringify(answer.body)}`);
    }
    const starred = await asAdmin.request('PUT', `${grants}/1/**`);
    assert.deepEqual(starred.body, { error: 'cmdid must be an integer, or must be one of *', field: 'cmdid' }, 'a path cmdid names both ways to write one');
    const tooBig = await asAdmin.request('PUT', `${grants}/1/2147483648`);
    assert.equal(tooBig.body.error, 'cmdid must be at most 2147483647, or must be one of *');
    assert.equal((await asAdmin.request('PUT', '/api/v1/users/ghost/grants/1/1')).status, 404);
    assert.equal((await asAdmin.request('DELETE', '/api/v1/users/ghost/grants/1/*')).status, 404);
    assert.equal((await asViewer.request('PUT', `${grants}/9/1`)).status, 403);

    const events = (await asAdmin.request('GET', '/api/v1/audit?limit=50')).body.events as { kind: string; actor: string; subject: string; detail: string }[];
    const trail = events.filter((e) => e.kind === 'user_granted' || e.kind === 'user_ungranted').map((e) => [e.kind, e.actor, e.subject, e.detail]).reverse();
    assert.deepEqual(trail, [
      ['user_granted', ADMIN.name, EDITOR.name, 'grant 9:1'],
      ['user_ungranted', ADMIN.name, EDITOR.name, 'grant 9:1'],
      ['user_granted', ADMIN.name, EDITOR.name, 'grant 9:*'],
      ['user_ungranted', ADMIN.name, EDITOR.name, 'grant 9:*'],
      ['user_granted', ADMIN.name, VIEWER.name, 'grant 9:1'],
      ['user_ungranted', ADMIN.name, VIEWER.name, 'grant 9:1'],
    ]);
  });

  test('an account added as an editor gets grants; deleting it drops them, and a new account of that name starts with none', async () => {
    const added = await asAdmin.request('POST', '/api/v1/users', { body: { username: 'temp-editor', role: 'editor', password: 'temp-password-1' } });
    assert.deepEqual([added.status, added.body.role, added.body.grants], [201, 'editor', []]);
    assert.equal((await asAdmin.request('PUT', '/api/v1/users/temp-editor/grants/5/*')).status, 200);
    assert.equal((await asAdmin.request('DELETE', '/api/v1/users/temp-editor')).status, 204);
    await new Users(store).add({ name: 'temp-editor', role: 'editor', password: 'temp-password-2' });
    assert.deepEqual(await new Users(store).grants('temp-editor'), []);
    await new Users(store).delete('temp-editor');
  });

  test('the OpenAPI document: every edit under /modules is module-write, import and accounts need admin, the grant routes are there', async () => {
    const doc = (await client().request('GET', '/api/v1/openapi.json', { auth: { kind: 'none' } })).body as { paths: Record<string, Record<string, { description?: string }>> };
    const moduleWrite = /Needs the admin role, or the editor role with a grant of this modid:cmdid/;
    const edits = Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/v1/modules')).flatMap(([path, methods]) => Object.entries(methods).filter(([method]) => method !== 'get').map(([method, op]) => [`${method} ${path}`, op.description ?? ''] as const));
    assert.equal(edits.length, 11, edits.map(([name]) => name).join(', '));
    for (const [name, description] of edits) assert.match(description, moduleWrite, name);
    assert.match(doc.paths['/api/v1/import']!.post!.description!, /^Needs the admin role\./);
    for (const method of ['put', 'delete']) assert.match(doc.paths['/api/v1/users/{name}/grants/{modid}/{cmdid}']![method]!.description!, /^Needs the admin role\./);
  });
});
