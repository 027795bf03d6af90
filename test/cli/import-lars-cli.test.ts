/**
 * `lars import lars --from mysql://…` end to end (docs/store.md, "Moving from
 * Lars"): the real command against a Lars database in MariaDB, read with a
 * user and password that no output shows, into a SQLite store.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertFailure, assertUsageError, jsonOutput, lars, type Run } from '../support/cli.js';
import { createLarsSource, larsSourceServer } from '../support/lars-source.js';

const PASSWORD = 'pw-Lars-7f3e';
const server = await larsSourceServer();

if ('skip' in server) {
  test('lars import lars', { skip: server.skip }, () => {});
} else {
  const source = await createLarsSource(server.serverUrl, {
    password: PASSWORD,
    routes: [
      { id: 1, modid: 3, cmdid: 1, ip: '192.168.1.177', port: 7777 },
      { id: 2, modid: 3, cmdid: 1, ip: '10.0.0.5', port: 7778 },
      { id: 3, modid: 3, cmdid: 1, ip: '192.168.1.177', port: 7777 },
    ],
    status: [{ modid: 3, cmdid: 1, ip: '192.168.1.177', port: 7777, caller: '172.16.0.1', succ: 40, err: 3, ts: 1_764_740_000, overload: 'N' }],
  });
  const dir = await mkdtemp(join(tmpdir(), 'lars-cli-import-lars-'));
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await source.drop();
  });
  const store = ['--store', `sqlite:${join(dir, 'lars.db')}`];
  const shown = source.url.replace(PASSWORD, '***');
  const noPassword = (run: Run) => assert.equal(`${run.stdout}${run.stderr}`.includes(PASSWORD), false, 'the password is never printed');

  test('dry run, import, second run: what each did, in a table and a summary or as JSON; the password never shows', async () => {
    const dry = await lars(['import', 'lars', '--from', source.url, '--dry-run', ...store]);
    assert.equal(dry.code, 0, dry.stderr);
    noPassword(dry);
    assert.equal(
      dry.stdout.replace(/ +/g, ' '),
      [
        'ACTION MODULE DETAIL',
        'module-add 3:1 imported from Lars',
        'add 3:1 192.168.1.177:7777 weight 1; imported from Lars',
        'add 3:1 10.0.0.5:7778 weight 1; imported from Lars',
        `read 3 RouteData rows (1 module) and 1 ServerCallStatus row from ${shown}`,
        'skipped 1 duplicate RouteData row: id 3 (same host as id 1)',
        'dry run: 3 edits and 1 status row would be written; nothing was written',
        '',
      ].join('\n'),
    );
    assert.equal(jsonOutput(await lars(['route', 'list', '--json', ...store])).routes.length, 0, 'the dry run wrote nothing');

    const applied = await lars(['import', 'lars', '--from', source.url, '--json', ...store]);
    noPassword(applied);
    const result = jsonOutput(applied) as { version: number; source: string; duplicates: unknown; status: unknown; edits: unknown[] };
    assert.deepEqual(
      { version: result.version, source: result.source, duplicates: result.duplicates, status: result.status, edits: result.edits.length },
      { version: 3, source: shown, duplicates: [{ id: 3, sameAs: 1 }], status: { rows: 1, written: 1, unchanged: 0 }, edits: 3 },
    );
    const routes = jsonOutput(await lars(['route', 'list', '3', '1', '--json', ...store])) as { routes: { ip: string; port: number }[] };
    assert.deepEqual(routes.routes.map((h) => `${h.ip}:${h.port}`).sort(), ['10.0.0.5:7778', '192.168.1.177:7777']);
    const status = await lars(['status', '3', '1', '--json', ...store]);
    assert.match(status.stdout, /"caller": "172\.16\.0\.1"/);

    const again = await lars(['import', 'lars', '--from', source.url, ...store]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /\nnothing to change: the store already holds what the Lars database holds \(route version 3\)\n$/);
  });

  test('a wrong password, an unreachable server or a missing --from: a clear error, no password, nothing written', async () => {
    const wrong = source.url.replace(PASSWORD, 'not-the-password');
    const denied = await lars(['import', 'lars', '--from', wrong, ...store]);
    assertFailure(denied, /^lars import: cannot reach mysql at 127\.0\.0\.1:3306\/lars_src_\w+: Access denied for user/);
    assert.equal(denied.stderr.includes('not-the-password'), false);
    const unreachable = await lars(['import', 'lars', '--from', `mysql://root:${PASSWORD}@127.0.0.1:1/lars_dns`, ...store]);
    assertFailure(unreachable, /^lars import: cannot reach mysql at 127\.0\.0\.1:1\/lars_dns: /);
    noPassword(unreachable);
    assertUsageError(await lars(['import', 'lars', ...store]), /^lars import: expected lars import json FILE\|- \[--dry-run\] \[--prune\] \[--json\] or lars import lars --from mysql:/);
    assertUsageError(await lars(['import', 'lars', '--from', source.url, '--prune', ...store]), /expected lars import json/);
    assertUsageError(await lars(['import', 'lars', '--from', 'sqlite:x.db', ...store]), /^lars import: a Lars database is MySQL or MariaDB/);
    assert.equal(jsonOutput(await lars(['route', 'list', '--json', ...store])).version, 3);
  });
}
