/**
 * The real command line: `lars user ...` with the password piped on stdin,
 * and `lars console` as a service (ready line, loopback-only unless
 * --allow-remote, TLS with --tls-cert/--tls-key, clean stop on SIGTERM).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOutput, lars, larsArgs, REPO, startLars, type Run } from '../support/cli.js';

/** `lars ARGS` with text on stdin (what a script pipes in). */
function larsWithInput(args: string[], input: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      larsArgs(args),
      { cwd: REPO, env: { ...process.env, LARS_STORE: undefined }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('lars user and lars console', () => {
  let dir = '';
  let store = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lars-console-cli-'));
    store = `sqlite:${join(dir, 'lars.db')}`;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('user add / list / passwd / del with the password on stdin; it never appears in the output', async () => {
    const added = await larsWithInput(['user', 'add', 'ops', '--role', 'admin', '--store', store, '--json'], 'first-password\n');
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(JSON.parse(added.stdout), { action: 'add', name: 'ops', role: 'admin' });
    assert.equal((await larsWithInput(['user', 'add', 'eve', '--role', 'viewer', '--store', store], 'second-password')).code, 0);

    const duplicate = await larsWithInput(['user', 'add', 'ops', '--role', 'viewer', '--store', store], 'another-password\n');
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /user ops already exists/);
    const short = await larsWithInput(['user', 'add', 'bob', '--role', 'viewer', '--store', store], 'short\n');
    assert.equal(short.code, 1);
    assert.match(short.stderr, /password: must be 8 to 1024 characters/);
    const badRole = await larsWithInput(['user', 'add', 'bob', '--role', 'root', '--store', store], 'long-enough\n');
    assert.equal(badRole.code, 2);
    const empty = await larsWithInput(['user', 'passwd', 'ops', '--store', store], '');
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no password on stdin/);

    const list = await lars(['user', 'list', '--store', store, '--json']);
    assert.deepEqual(JSON.parse(list.stdout).users.map((u: { name: string; role: string }) => [u.name, u.role]), [['eve', 'viewer'], ['ops', 'admin']]);

    const passwd = await larsWithInput(['user', 'passwd', 'eve', '--store', store], 'third-password\r\n');
    assert.equal(passwd.code, 0, passwd.stderr);
    assert.match(passwd.stdout, /changed the password of eve/);
    const demoted = await lars(['user', 'role', 'ops', 'viewer', '--store', store]);
    assert.deepEqual([demoted.code, demoted.stderr.trim()], [1, 'lars user: user ops is the last admin; make another user admin first']);
    const promoted = jsonOutput(await lars(['user', 'role', 'eve', 'admin', '--store', store, '--json']));
    assert.deepEqual(promoted, { action: 'role', name: 'eve', role: 'admin' });
    assert.equal((await lars(['user', 'role', 'eve', 'viewer', '--store', store])).stdout, 'eve is now a viewer (from their next request)\n');
    assert.equal((await lars(['user', 'role', 'eve', 'root', '--store', store])).code, 2);
    assert.equal((await lars(['user', 'role', 'nobody', 'admin', '--store', store])).code, 1);
    assert.equal((await lars(['user', 'disable', 'eve', '--store', store])).stdout, 'disabled eve: their console sessions were ended and their API tokens are refused\n');
    assert.match((await lars(['user', 'list', '--store', store])).stdout, /\neve +viewer +\S+ +\S+ +disabled +-\n/);
    assert.deepEqual(jsonOutput(await lars(['user', 'enable', 'eve', '--store', store, '--json'])), { action: 'enable', name: 'eve' });
    assert.equal((await lars(['user', 'disable', 'ops', '--store', store])).code, 1, 'the last admin stays enabled');
    // API tokens from the command line: the secret once, then listed without it; revoked.
    const token = jsonOutput(await lars(['token', 'add', 'nightly', '--user', 'eve', '--scope', 'read', '--expires-days', '7', '--store', store, '--json'])) as { id: number; token: string; scope: string; expiresAt: number; createdAt: number };
    assert.deepEqual([token.scope, token.expiresAt - token.createdAt], ['read', 7 * 86_400]);
    assert.match(token.token, /^lars_/);
    const human = await lars(['token', 'add', 'forever', '--user', 'ops', '--expires-days', 'never', '--store', store]);
    assert.match(human.stdout, /^lars_\S+\ntoken \d+ "forever" of ops, scope full, expires never; shown only now/);
    const tokens = await lars(['token', 'list', '--store', store]);
    assert.match(tokens.stdout, /nightly +eve +read +\S+ +\S+ +active/);
    assert.doesNotMatch(tokens.stdout, /lars_/, 'secrets are never listed');
    assert.match((await lars(['token', 'revoke', String(token.id), '--store', store])).stdout, /^revoked token \d+ "nightly" of eve\n$/);
    assert.equal((await lars(['token', 'add', 'x', '--user', 'nobody', '--store', store])).code, 1);
    assert.equal((await lars(['token', 'add', 'x', '--user', 'eve', '--scope', 'write', '--store', store])).code, 2);
    // Account and token changes made here are in the audit trail too, by cli:<login>.
    const trail = jsonOutput(await lars(['user', 'audit', '--limit', '100', '--store', store, '--json'])) as { events: { kind: string; actor: string; subject: string }[] };
    const kinds = trail.events.map((e) => `${e.kind} ${e.subject}`);
    for (const expected of ['user_added ops', 'user_password_reset eve', 'user_role_changed eve', 'user_disabled eve', 'user_enabled eve', 'token_created nightly', 'token_revoked nightly']) {
      assert.ok(kinds.includes(expected), `${expected} in ${kinds.join(', ')}`);
    }
    assert.ok(trail.events.every((e) => e.actor.startsWith('cli:')));
    assert.match((await lars(['user', 'audit', '--store', store])).stdout, /^WHEN +WHAT +WHO +ACCOUNT +FROM +DETAIL\n\S+ +token_revoked +cli:\S+ +nightly +- +token \d+ of eve\n/);
    const lastAdmin = await lars(['user', 'del', 'ops', '--store', store]);
    assert.equal(lastAdmin.code, 1);
    assert.match(lastAdmin.stderr, /last admin/);
    assert.equal((await lars(['user', 'del', 'eve', '--store', store])).code, 0);
    assert.equal((await lars(['user', 'del', 'eve', '--store', store])).code, 1);
    for (const run of [added, duplicate, passwd, list]) assert.doesNotMatch(run.stdout + run.stderr, /first-password|third-password|another-password/);
  });

  test('user add --role editor, grant and ungrant MODID[:CMDID], list shows the grants; bad forms are usage errors; changes are audited', async () => {
    assert.equal((await larsWithInput(['user', 'add', 'ed', '--role', 'editor', '--store', store], 'editor-password\n')).code, 0);
    const granted = jsonOutput(await lars(['user', 'grant', 'ed', '7', '--store', store, '--json']));
    assert.deepEqual(granted, { action: 'grant', name: 'ed', grant: { modid: 7, cmdid: null }, changed: true, grants: [{ modid: 7, cmdid: null }] });
    assert.equal((await lars(['user', 'grant', 'ed', '8:1', '--store', store])).stdout, 'ed may change 8:1 (from their next request)\n');
    assert.equal((await lars(['user', 'grant', 'ed', '7:*', '--store', store])).stdout, 'ed may change 7:* already; nothing changed\n', '7 and 7:* are one grant');
    assert.match((await lars(['user', 'list', '--store', store])).stdout, /\ned +editor +\S+ +\S+ +enabled +7:\*,8:1\n/);
    const listed = jsonOutput(await lars(['user', 'list', '--store', store, '--json'])) as { users: { name: string; grants: unknown[] }[] };
    assert.deepEqual(listed.users.find((u) => u.name === 'ed')?.grants, [{ modid: 7, cmdid: null }, { modid: 8, cmdid: 1 }]);
    assert.equal((await lars(['user', 'ungrant', 'ed', '8:1', '--store', store])).stdout, 'ed may no longer change 8:1\n');
    const notHeld = await lars(['user', 'ungrant', 'ed', '8:1', '--store', store]);
    assert.deepEqual([notHeld.code, notHeld.stderr.trim()], [1, 'lars user: user ed has no grant 8:1 (their grants: 7:*)']);
    assert.match((await lars(['user', 'grant', 'ops', '9', '--store', store])).stdout, /^ops may change 9:\* \(from their next request\); it applies while they are an editor, and they are an admin\n$/);
    assert.equal((await lars(['user', 'ungrant', 'ops', '9:*', '--store', store])).code, 0);
    for (const bad of [['grant', 'ed', '7:x'], ['grant', 'ed', '07'], ['grant', 'ed'], ['ungrant', 'ed', '1:2:3'], ['grant', 'ed', '2147483648']]) {
      const run = await lars(['user', ...bad, '--store', store]);
      assert.equal(run.code, 2, `${bad.join(' ')}: ${run.stderr}`);
    }
    assert.equal((await lars(['user', 'grant', 'nobody', '1', '--store', store])).code, 1);
    assert.equal((await lars(['user', 'role', 'ed', 'viewer', '--store', store])).stdout, 'ed is now a viewer (from their next request)\n');
    assert.equal((await lars(['user', 'role', 'ed', 'editor', '--store', store])).stdout, 'ed is now an editor (from their next request)\n');
    const trail = jsonOutput(await lars(['user', 'audit', '--limit', '20', '--store', store, '--json'])) as { events: { kind: string; subject: string; detail: string }[] };
    const grants = trail.events.filter((e) => e.kind === 'user_granted' || e.kind === 'user_ungranted').map((e) => `${e.kind} ${e.subject} ${e.detail}`).reverse();
    assert.deepEqual(grants, ['user_granted ed grant 7:*', 'user_granted ed grant 8:1', 'user_ungranted ed grant 8:1', 'user_granted ops grant 9:*', 'user_ungranted ops grant 9:*']);
    assert.equal((await lars(['user', 'del', 'ed', '--store', store])).code, 0);
  });

  test('lars console: ready line with its address, serves the API, stops cleanly on SIGTERM', async () => {
    const service = await startLars(['console', '--store', store, '--listen', '127.0.0.1:0']);
    try {
      assert.match(service.ready.addr!, /^127\.0\.0\.1:\d+$/);
      assert.equal(service.ready.url, `http://${service.ready.addr}/`);
      const health = await fetch(`${service.ready.url}healthz`);
      assert.equal(health.status, 200);
      const login = await fetch(`${service.ready.url}api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'ops', password: 'first-password' }),
      });
      assert.equal(login.status, 200);
      await service.waitForLine(/info console request method=POST path=\/api\/v1\/session status=200 ms=\S+ user=ops/);
    } finally {
      assert.equal(await service.stop(), 0);
    }
  });

  test('a non-loopback address needs --allow-remote (usage error otherwise)', async () => {
    const refused = await lars(['console', '--store', store, '--listen', '0.0.0.0:0']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /reachable from other machines on 0\.0\.0\.0; pass --allow-remote/);
    const service = await startLars(['console', '--store', store, '--listen', '0.0.0.0:0', '--allow-remote']);
    try {
      assert.ok(service.lines.some((line) => /warn console plain_http_remote/.test(line)), 'plain HTTP off loopback is warned about');
    } finally {
      await service.stop();
    }
  });

  test('--tls-cert and --tls-key serve HTTPS with Secure cookies', { skip: hasOpenssl() ? false : 'openssl is not installed' }, async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await new Promise<void>((resolve, reject) => {
      const openssl = spawn('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      openssl.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`openssl exited with ${code}`))));
    });
    assert.equal((await lars(['console', '--store', store, '--listen', '127.0.0.1:0', '--tls-cert', cert])).code, 2, 'the key is needed too');
    const service = await startLars(['console', '--store', store, '--listen', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key]);
    try {
      assert.match(service.ready.url!, /^https:\/\//);
      const answer = await new Promise<{ status: number; cookie: string; hsts: string }>((resolve, reject) => {
        const body = JSON.stringify({ username: 'ops', password: 'first-password' });
        const req = request(
          `${service.ready.url}api/v1/session`,
          { method: 'POST', ca: readFileSync(cert), headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, cookie: String(res.headers['set-cookie']), hsts: String(res.headers['strict-transport-security']) }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(answer.status, 200);
      assert.match(answer.cookie, /; Secure/);
      assert.match(answer.hsts, /max-age=/);
    } finally {
      await service.stop();
    }
  });
});
