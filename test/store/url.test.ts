import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { StoreUnavailableError, StoreUrlError } from '../../src/store/errors.js';
import { kyselyOf, openStore } from '../../src/store/store.js';
import { describeLocation, parseStoreUrl } from '../../src/store/url.js';

test('sqlite URLs: relative, absolute, triple slash and memory', () => {
  assert.deepEqual(parseStoreUrl('sqlite:./data/lars.db'), { kind: 'sqlite', path: resolve('data/lars.db') });
  assert.deepEqual(parseStoreUrl('sqlite:/var/lib/lars.db'), { kind: 'sqlite', path: '/var/lib/lars.db' });
  assert.deepEqual(parseStoreUrl('sqlite:///var/lib/lars.db'), { kind: 'sqlite', path: '/var/lib/lars.db' });
  assert.deepEqual(parseStoreUrl('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' });
});

test('mysql and mariadb URLs parse, with defaults, and describe without the password', () => {
  const mysql = parseStoreUrl('mysql://lars:s%40cret@db.example:3307/routes');
  assert.equal(mysql.kind, 'mysql');
  assert.ok(mysql.kind === 'mysql');
  assert.deepEqual(
    { host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password, database: mysql.database },
    { host: 'db.example', port: 3307, user: 'lars', password: 's@cret', database: 'routes' },
  );
  assert.equal(describeLocation(mysql), 'mysql://lars:***@db.example:3307/routes');
  const maria = parseStoreUrl('mariadb://root@127.0.0.1/test');
  assert.ok(maria.kind === 'mysql');
  assert.equal(maria.port, 3306);
  assert.equal(describeLocation(maria), 'mariadb://root@127.0.0.1/test');
});

test('postgres URLs keep the full connection string for pg and redact the description', () => {
  for (const scheme of ['postgres', 'postgresql']) {
    const text = `${scheme}://lars:pw@127.0.0.1/lars?sslmode=disable`;
    const location = parseStoreUrl(text);
    assert.ok(location.kind === 'postgres');
    assert.equal(location.connectionString, text);
    assert.equal(location.port, 5432);
    assert.equal(location.database, 'lars');
    assert.ok(!describeLocation(location).includes('pw'));
  }
});

test('unknown schemes, missing database names and malformed URLs are StoreUrlErrors that never echo a password', () => {
  assert.throws(() => parseStoreUrl('redis://x'), (e) => e instanceof StoreUrlError && /unknown store URL/.test(e.message));
  assert.throws(() => parseStoreUrl('lars.db'), StoreUrlError);
  assert.throws(() => parseStoreUrl('sqlite:'), StoreUrlError);
  assert.throws(() => parseStoreUrl('mysql://root@127.0.0.1'), /needs a database name/);
  assert.throws(
    () => parseStoreUrl('mysql://root:hunter2@[bad/x'),
    (e) => e instanceof StoreUrlError && !e.message.includes('hunter2'),
  );
});

test('an unreachable network database names engine and address, never the password', async () => {
  for (const url of ['mysql://root:hunter2@127.0.0.1:1/lars', 'postgres://root:hunter2@127.0.0.1:1/lars']) {
    await assert.rejects(openStore(url, { connectTimeoutMs: 2000 }), (err) => {
      assert.ok(err instanceof StoreUnavailableError);
      assert.match(err.message, /^cannot reach (mysql|postgres) at 127\.0\.0\.1:1\/lars: /);
      assert.ok(!err.message.includes('hunter2'));
      return true;
    });
  }
});

test('sqlite creates the parent directory, and a path it cannot open is StoreUnavailableError', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lars-url-'));
  try {
    const store = await openStore(`sqlite:${join(dir, 'a', 'b', 'lars.db')}`);
    assert.equal(store.kind, 'sqlite');
    assert.equal(store.describe(), `sqlite:${join(dir, 'a', 'b', 'lars.db')}`);
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(kyselyOf(store));
    assert.equal(mode.rows[0]?.journal_mode, 'wal');
    await store.close();
    await store.close();
    await writeFile(join(dir, 'file'), 'not a directory');
    await assert.rejects(openStore(`sqlite:${join(dir, 'file', 'lars.db')}`), (err) => {
      assert.ok(err instanceof StoreUnavailableError);
      assert.match(err.message, /^cannot reach sqlite at /);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
