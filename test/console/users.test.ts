import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError, ValidationError } from '../../src/store/errors.js';
import { AccountDisabledError, ensureAdminUser, hashPassword, Users, verifyPassword } from '../../src/store/users.js';
import { kyselyOf } from '../../src/store/store.js';
import { forEachEngine } from '../support/engines.js';

test('password hashes: scrypt with a random salt, verified only by the same password', async () => {
  const a = await hashPassword('correct horse');
  const b = await hashPassword('correct horse');
  assert.match(a, /^scrypt\$15\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.notEqual(a, b, 'salted');
  assert.ok(!a.includes('correct horse'));
  assert.equal(await verifyPassword('correct horse', a), true);
  assert.equal(await verifyPassword('correct horsE', a), false);
  assert.equal(await verifyPassword('correct horse', 'plain-text'), false, 'a malformed hash never matches');
});

await forEachEngine('console users', (store) => {
  const users = new Users(store);

  test('ensureAdminUser creates admin once, with a random password that logs in', async () => {
    const first = await ensureAdminUser(store);
    assert.equal(first.created, true);
    assert.ok(first.password && first.password.length >= 20);
    assert.deepEqual(await ensureAdminUser(store), { created: false });
    assert.deepEqual(await users.authenticate('admin', first.password!), { name: 'admin', role: 'admin', grants: [] });
    const row = await kyselyOf(store).selectFrom('users').select('password_hash').where('name', '=', 'admin').executeTakeFirstOrThrow();
    assert.ok(!row.password_hash.includes(first.password!), 'never stored in clear');
  });

  test('add validates name, role and password before touching the store', async () => {
    await assert.rejects(users.add({ name: 'bad name', role: 'viewer', password: 'long enough' }), (e) => e instanceof ValidationError && e.field === 'username');
    await assert.rejects(users.add({ name: 'x', role: 'root', password: 'long enough' }), (e) => e instanceof ValidationError && e.field === 'role');
    await assert.rejects(users.add({ name: 'x', role: 'viewer', password: 'short' }), (e) => e instanceof ValidationError && e.field === 'password');
    assert.equal((await users.list()).length, 1);
  });

  test('add, duplicate, authenticate, wrong password, unknown user', async () => {
    await users.add({ name: 'vera', role: 'viewer', password: 'vera-password' });
    await assert.rejects(users.add({ name: 'vera', role: 'admin', password: 'other-password' }), ConflictError);
    assert.deepEqual(await users.authenticate('vera', 'vera-password'), { name: 'vera', role: 'viewer', grants: [] });
    assert.equal(await users.authenticate('vera', 'wrong-password'), undefined);
    assert.equal(await users.authenticate('nobody', 'vera-password'), undefined);
  });

  test('sessions: found by the cookie value only, with the live role; passwd ends them', async () => {
    const session = await users.createSession({ name: 'vera', role: 'viewer', grants: [] }, 3600);
    const found = await users.findSession(session.id);
    assert.equal(found?.user.name, 'vera');
    assert.equal(found?.csrfToken, session.csrfToken);
    const stored = await kyselyOf(store).selectFrom('sessions').select('id_hash').where('user_name', '=', 'vera').execute();
    assert.ok(stored.every((r) => r.id_hash !== session.id), 'only the hash is stored');
    assert.equal(await users.findSession(session.id + 'x'), undefined);
    await users.setPassword('vera', 'new-vera-password');
    assert.equal(await users.findSession(session.id), undefined);
    assert.deepEqual(await users.authenticate('vera', 'new-vera-password'), { name: 'vera', role: 'viewer', grants: [] });
    await assert.rejects(users.setPassword('ghost', 'whatever-long'), NotFoundError);
  });

  test('expired sessions are not found and are pruned', async () => {
    let now = Date.now();
    const timed = new Users(store, { clock: () => now });
    const session = await timed.createSession({ name: 'vera', role: 'viewer', grants: [] }, 60);
    assert.ok(await timed.findSession(session.id));
    now += 61_000;
    assert.equal(await timed.findSession(session.id), undefined);
    assert.ok((await timed.pruneSessions()) >= 1);
  });

  test('API tokens: shown once, stored hashed, found until revoked, owner-scoped revoke', async () => {
    const token = await users.createToken('vera', 'ci');
    assert.match(token.token, /^lars_[A-Za-z0-9_-]{43}$/);
    const rows = await kyselyOf(store).selectFrom('api_tokens').select('token_hash').execute();
    assert.ok(rows.every((r) => r.token_hash !== token.token));
    assert.deepEqual(await users.findToken(token.token), { id: token.id, user: { name: 'vera', role: 'viewer', grants: [] }, scope: 'full' });
    await assert.rejects(users.revokeToken(token.id, 'admin'), NotFoundError, 'another user cannot revoke it');
    const revoked = await users.revokeToken(token.id, 'vera');
    assert.ok(revoked.revokedAt !== null);
    assert.equal(await users.findToken(token.token), undefined);
    assert.deepEqual((await users.listTokens('vera')).map((t) => t.id), [token.id]);
  });

  test('a token stops working when it expires; a read-only token acts as a viewer whatever its user\'s role; limits are checked', async () => {
    let now = 1_700_000_000_000;
    const timed = new Users(store, { clock: () => now });
    const expiring = await timed.createToken('admin', 'nightly', { expiresInDays: 7 });
    assert.deepEqual([expiring.expiresAt, expiring.scope], [1_700_000_000 + 7 * 86_400, 'full']);
    assert.equal((await timed.findToken(expiring.token))?.user.role, 'admin');
    now += 7 * 86_400_000 + 1000;
    assert.equal(await timed.findToken(expiring.token), undefined, 'expired');
    const reader = await timed.createToken('admin', 'dashboard', { scope: 'read' });
    assert.deepEqual(await timed.findToken(reader.token), { id: reader.id, user: { name: 'admin', role: 'viewer', grants: [] }, scope: 'read' });
    assert.equal(reader.expiresAt, null, 'until revoked unless asked');
    await assert.rejects(timed.createToken('admin', 'x', { expiresInDays: 0 }), (e) => e instanceof ValidationError && e.field === 'expiresInDays');
    await assert.rejects(timed.createToken('admin', 'x', { scope: 'write' }), (e) => e instanceof ValidationError && e.field === 'scope');
  });

  test('a disabled account cannot sign in (the right password says why), its sessions end, its tokens are refused; enabling restores the tokens; the last enabled admin stays', async () => {
    await users.add({ name: 'dora', role: 'admin', password: 'dora-password-1' });
    const session = await users.createSession({ name: 'dora', role: 'admin', grants: [] }, 3600);
    const token = await users.createToken('dora', 'ci');
    const disabled = await users.setDisabled('dora', true);
    assert.equal(disabled.disabled, true);
    await assert.rejects(users.authenticate('dora', 'dora-password-1'), AccountDisabledError);
    assert.equal(await users.authenticate('dora', 'wrong-password'), undefined, 'a wrong password learns nothing');
    assert.equal(await users.findSession(session.id), undefined);
    assert.equal(await users.findToken(token.token), undefined);
    assert.equal((await users.list()).find((u) => u.name === 'dora')?.disabled, true);
    await users.setDisabled('dora', false);
    assert.equal((await users.findToken(token.token))?.user.name, 'dora');
    assert.ok(await users.authenticate('dora', 'dora-password-1'));
    // admin and dora are the admins; with dora disabled, admin is the last one who can act.
    await users.setDisabled('dora', true);
    await assert.rejects(users.setDisabled('admin', true), (e) => e instanceof ConflictError && /last admin/.test(e.message));
    await assert.rejects(users.setRole('admin', 'viewer'), ConflictError);
    await users.delete('dora');
  });

  test('grants: kept once each, in order; they come with an editor\'s session and full token, not with a read-only token or another role; revoke names what is held', async () => {
    await users.add({ name: 'eddie', role: 'editor', password: 'eddie-password-1' });
    assert.equal(await users.grant('eddie', { modid: 8, cmdid: 1 }), true);
    assert.equal(await users.grant('eddie', { modid: 7 }), true, 'no cmdid: every cmdid of 7');
    assert.equal(await users.grant('eddie', { modid: 7, cmdid: null }), false, 'the same grant again is kept once');
    assert.equal(await users.grant('eddie', { modid: 8, cmdid: 1 }), false);
    assert.equal(await users.grant('eddie', { modid: 7, cmdid: 3 }), true, 'a single cmdid beside the whole modid is its own grant');
    assert.deepEqual(await users.grants('eddie'), [{ modid: 7, cmdid: null }, { modid: 7, cmdid: 3 }, { modid: 8, cmdid: 1 }]);
    const rows = await kyselyOf(store).selectFrom('user_grants').select(['modid', 'cmdid']).where('user_name', '=', 'eddie').execute();
    assert.equal(rows.length, 3, 'stored once each');
    // The unique key holds without Users' own check, for every cmdid (NULL) too.
    for (const cmdid of [null, 1]) {
      await assert.rejects(kyselyOf(store).insertInto('user_grants').values({ user_name: 'eddie', modid: cmdid === null ? 7 : 8, cmdid }).execute(), `a second ${cmdid === null ? '7:*' : '8:1'} row`);
    }

    const editor = await users.authenticate('eddie', 'eddie-password-1');
    assert.deepEqual(editor, { name: 'eddie', role: 'editor', grants: [{ modid: 7, cmdid: null }, { modid: 7, cmdid: 3 }, { modid: 8, cmdid: 1 }] });
    const session = await users.createSession(editor!, 3600);
    assert.deepEqual((await users.findSession(session.id))?.user, editor);
    const full = await users.createToken('eddie', 'deploy');
    assert.deepEqual((await users.findToken(full.token))?.user, editor);
    const reader = await users.createToken('eddie', 'dashboard', { scope: 'read' });
    assert.deepEqual((await users.findToken(reader.token))?.user, { name: 'eddie', role: 'viewer', grants: [] }, 'a read-only token is a viewer');
    assert.deepEqual((await users.list()).find((u) => u.name === 'eddie')?.grants, editor!.grants);

    // Another role keeps the grants (for when it is an editor again) but does not act with them.
    await users.setRole('eddie', 'viewer');
    assert.deepEqual((await users.findSession(session.id))?.user, { name: 'eddie', role: 'viewer', grants: [] });
    assert.equal((await users.find('eddie'))?.grants.length, 3);
    assert.equal(await users.grant('vera', { modid: 9 }), true, 'a viewer may hold a grant');
    assert.deepEqual((await users.authenticate('vera', 'new-vera-password'))?.grants, []);
    await users.setRole('eddie', 'editor');
    assert.equal((await users.findSession(session.id))?.user.grants.length, 3);

    await users.revoke('eddie', { modid: 7, cmdid: 3 });
    await assert.rejects(users.revoke('eddie', { modid: 7, cmdid: 3 }), (e) => e instanceof NotFoundError && e.message === 'user eddie has no grant 7:3 (their grants: 7:*, 8:1)');
    await assert.rejects(users.revoke('eddie', { modid: 8 }), NotFoundError, '8:* is not 8:1');
    await users.revoke('eddie', { modid: 7 });
    assert.deepEqual(await users.grants('eddie'), [{ modid: 8, cmdid: 1 }]);
    await assert.rejects(users.grant('ghost', { modid: 1 }), NotFoundError);
    await assert.rejects(users.revoke('ghost', { modid: 1 }), NotFoundError);
    await assert.rejects(users.grants('ghost'), NotFoundError);
    await assert.rejects(users.grant('eddie', { modid: 2 ** 31 }), (e) => e instanceof ValidationError && e.field === 'modid');
    await assert.rejects(users.grant('eddie', { modid: 1, cmdid: 1.5 }), (e) => e instanceof ValidationError && e.field === 'cmdid');

    await users.delete('eddie');
    assert.equal((await kyselyOf(store).selectFrom('user_grants').select('modid').where('user_name', '=', 'eddie').execute()).length, 0, 'a deleted user\'s grants go with it');
    await users.revoke('vera', { modid: 9 });
  });

  test('the same grant given twice at once is made once, and neither caller fails', async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => users.grant('vera', { modid: 11, cmdid: 2 })));
    assert.deepEqual(results.filter(Boolean).length, 1, `one call inserts, the others find it held: ${results}`);
    const rows = await kyselyOf(store).selectFrom('user_grants').select('modid').where('user_name', '=', 'vera').where('modid', '=', 11).execute();
    assert.equal(rows.length, 1);
    await users.revoke('vera', { modid: 11, cmdid: 2 });
  });

  test('del removes sessions and tokens; the last admin stays', async () => {
    await users.createSession({ name: 'vera', role: 'viewer', grants: [] }, 3600);
    await users.createToken('vera', 'x');
    await users.delete('vera');
    assert.equal((await kyselyOf(store).selectFrom('sessions').select('id_hash').where('user_name', '=', 'vera').execute()).length, 0);
    assert.equal((await kyselyOf(store).selectFrom('api_tokens').select('id').where('user_name', '=', 'vera').execute()).length, 0);
    await assert.rejects(users.delete('admin'), (e) => e instanceof ConflictError && /last admin/.test(e.message));
    await assert.rejects(users.delete('vera'), NotFoundError);
  });
});
