import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { assertFailure, assertUsageError, jsonOutput, lars } from '../support/cli.js';
import { MIGRATIONS } from '../../src/store/migrations.js';

describe('lars module / route / db against a SQLite store', () => {
  let dir = '';
  let store = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lars-cli-'));
    store = `sqlite:${join(dir, 'data', 'lars.db')}`;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('db migrate from two processes at once: both succeed, one applies the schema', async () => {
    const runs = await Promise.all([lars(['db', 'migrate', '--store', store, '--json']), lars(['db', 'migrate', '--store', store, '--json'])]);
    const docs = runs.map((r) => jsonOutput(r) as { store: string; applied: string[] });
    assert.deepEqual(docs.map((d) => d.applied.length).sort(), [0, MIGRATIONS.length]);
    assert.equal(docs[0]!.store, `sqlite:${join(dir, 'data', 'lars.db')}`);
    const again = await lars(['db', 'migrate', '--store', store]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /: up to date\n$/);
  });

  test('module add and route add/update/list/del with --json print one JSON document', async () => {
    const module = jsonOutput(await lars(['module', 'add', '10', '1', '--description', 'pay service', '--store', store, '--json']));
    assert.deepEqual(module, { action: 'add', modid: 10, cmdid: 1, description: 'pay service', version: 1 });
    const added = jsonOutput(await lars(['route', 'add', '10', '1', '200.1.2.3', '9000', '--weight', '5', '--store', store, '--json']));
    const note =
      'module 10:1 names no strategy, so each agent runs its [loadbalance] strategy; lars, the default, honours weight 0 (drain) only: lars module update 10 1 --strategy weighted_round_robin (or another weighted one) to use it';
    assert.deepEqual(added, { action: 'add', modid: 10, cmdid: 1, ip: '200.1.2.3', port: 9000, weight: 5, version: 2, note });
    jsonOutput(await lars(['route', 'add', '10', '1', '10.0.0.1', '9000', '--store', store, '--json']));
    const updated = jsonOutput(await lars(['route', 'update', '10', '1', '10.0.0.1', '9000', '--weight', '2', '--store', store, '--json']));
    assert.deepEqual(updated, { action: 'update', modid: 10, cmdid: 1, ip: '10.0.0.1', port: 9000, weight: 2, version: 4, note });
    const listed = jsonOutput(await lars(['route', 'list', '10', '1', '--store', store, '--json'])) as { version: number; routes: unknown[] };
    assert.equal(listed.version, 4);
    assert.deepEqual(
      listed.routes.map((r) => {
        const { modid, cmdid, ip, port, weight } = r as Record<string, unknown>;
        return { modid, cmdid, ip, port, weight };
      }),
      [
        { modid: 10, cmdid: 1, ip: '10.0.0.1', port: 9000, weight: 2 },
        { modid: 10, cmdid: 1, ip: '200.1.2.3', port: 9000, weight: 5 },
      ],
    );
    const modules = jsonOutput(await lars(['module', 'list', '--store', store, '--json'])) as { modules: { modid: number; hosts: number; description: string }[] };
    assert.deepEqual(modules.modules.map((m) => [m.modid, m.hosts, m.description]), [[10, 2, 'pay service']]);
    const deleted = jsonOutput(await lars(['route', 'del', '10', '1', '10.0.0.1', '9000', '--store', store, '--json']));
    assert.deepEqual(deleted, { action: 'del', modid: 10, cmdid: 1, ip: '10.0.0.1', port: 9000, version: 5 });
  });

  test('route drain and undrain: served with weight 0 while its weight is kept; twice is a conflict', async () => {
    // A store of its own: the other tests count the shared one's route versions.
    const store = `sqlite:${join(dir, 'drain', 'lars.db')}`;
    jsonOutput(await lars(['module', 'add', '10', '1', '--store', store, '--json']));
    jsonOutput(await lars(['route', 'add', '10', '1', '200.1.2.3', '9000', '--weight', '5', '--store', store, '--json']));
    const key = ['10', '1', '200.1.2.3', '9000'];
    const drained = await lars(['route', 'drain', ...key, '--store', store]);
    assert.equal(drained.code, 0, drained.stderr);
    assert.match(drained.stdout, /^drained host 200\.1\.2\.3:9000 of module 10:1 \(route version \d+\); dns serves it with weight 0 until lars route undrain\n$/);
    const listed = await lars(['route', 'list', '10', '1', '--store', store]);
    assert.match(listed.stdout, /\n10 +1 +200\.1\.2\.3 +9000 +5 \(drained: 0\) +static /);
    const json = jsonOutput(await lars(['route', 'list', '10', '1', '--store', store, '--json'])) as { routes: { ip: string; weight: number; drained: boolean }[] };
    assert.deepEqual(json.routes.find((r) => r.ip === '200.1.2.3'), { ...json.routes.find((r) => r.ip === '200.1.2.3'), weight: 5, drained: true });
    assertFailure(await lars(['route', 'drain', ...key, '--store', store]), /^lars route: host 200\.1\.2\.3:9000 of module 10:1 is already drained$/);
    const undrained = jsonOutput(await lars(['route', 'undrain', ...key, '--store', store, '--json'])) as { action: string };
    assert.equal(undrained.action, 'undrain');
    assert.deepEqual(jsonOutput(await lars(['route', 'list', '10', '1', '--store', store, '--json'])).routes.find((r: { ip: string }) => r.ip === '200.1.2.3').drained, false);
  });

  test('route revert: --dry-run prints the diff and writes nothing; the revert puts the module back; an unrecorded version exits 1', async () => {
    const store = `sqlite:${join(dir, 'revert', 'lars.db')}`;
    jsonOutput(await lars(['module', 'add', '12', '1', '--store', store, '--json']));
    const good = (jsonOutput(await lars(['route', 'add', '12', '1', '10.12.0.1', '80', '--weight', '4', '--store', store, '--json'])) as { version: number }).version;
    jsonOutput(await lars(['route', 'update', '12', '1', '10.12.0.1', '80', '--weight', '8', '--store', store, '--json']));
    jsonOutput(await lars(['route', 'add', '12', '1', '10.12.0.2', '80', '--store', store, '--json']));
    const dry = await lars(['route', 'revert', '12', '1', String(good), '--dry-run', '--store', store]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(
      dry.stdout.split('\n').map((l) => l.split(/\s{2,}/).join(' | ')).join('\n'),
      `ACTION | DETAIL\nupdate | 10.12.0.1:80 weight 8 -> 4; reverted to version ${good}\ndel | 10.12.0.2:80 weight 1; not in version ${good}\ndry run: 2 edits would put module 12:1 back to version ${good}\n`,
    );
    const done = await lars(['route', 'revert', '12', '1', String(good), '--store', store]);
    assert.match(done.stdout, new RegExp(`module 12:1 is back to version ${good} \\(route version ${good + 4}\\)\\n$`));
    const routes = jsonOutput(await lars(['route', 'list', '12', '1', '--store', store, '--json'])) as { routes: { ip: string; weight: number }[] };
    assert.deepEqual(routes.routes.map((r) => [r.ip, r.weight]), [['10.12.0.1', 4]]);
    assert.equal((await lars(['route', 'revert', '12', '1', String(good), '--store', store])).stdout, `module 12:1 is already as it was at version ${good}\n`);
    assertFailure(await lars(['route', 'revert', '13', '1', '1', '--store', store]), /^lars route: no recorded state of module 13:1 at version 1 /);
  });

  test('route find IP[:PORT]: that host in every module; nothing found says so; a bad address exits 1', async () => {
    const found = jsonOutput(await lars(['route', 'find', '200.1.2.3', '--store', store, '--json'])) as { routes: { modid: number; ip: string; port: number }[] };
    assert.deepEqual(found.routes.map((r) => [r.modid, r.ip, r.port]), [[10, '200.1.2.3', 9000]]);
    const narrowed = await lars(['route', 'find', '200.1.2.3:9001', '--store', store]);
    assert.equal(narrowed.code, 0, narrowed.stderr);
    assert.match(narrowed.stdout, /^route version \d+ in sqlite:\S+\n\(200\.1\.2\.3:9001 is in no route\)\n$/);
    assertFailure(await lars(['route', 'find', '200.1.2', '--store', store]), /^lars route: ip: must be a dotted IPv4 address, got "200\.1\.2"$/);
    assertUsageError(await lars(['route', 'find', '--store', store]), /expected find IP\[:PORT\]/);
  });

  test('human output: a confirmation line, and tables with the route version', async () => {
    const added = await lars(['module', 'add', '20', '2', '--store', store]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, 'added module 20:2 (route version 6)\n');
    const host = await lars(['route', 'add', '20', '2', '10.9.9.9', '80', '--store', store]);
    assert.equal(host.stdout, 'added host 10.9.9.9:80 of module 20:2 (route version 7)\n');
    const routes = await lars(['route', 'list', '--store', store]);
    assert.deepEqual(routes.stdout.split('\n').map((l) => l.split(/\s+/).join(' ')), [
      `route version 7 in ${store}`,
      'MODID CMDID IP PORT WEIGHT SOURCE HEARTBEAT LOAD',
      '10 1 200.1.2.3 9000 5 static - -',
      '20 2 10.9.9.9 80 1 static - -',
      '',
    ]);
    const modules = await lars(['module', 'list'], { LARS_STORE: store });
    assert.ok(modules.stdout.startsWith(`route version 7 in ${store}\n`), modules.stdout);
    assert.match(modules.stdout, /^route version 7 in .*\nMODID +CMDID +HOSTS +STRATEGY +DESCRIPTION\n10 +1 +1 +default +pay service\n20 +2 +1 +default +\n$/);
    const removed = await lars(['module', 'del', '20', '2', '--store', store]);
    assert.equal(removed.stdout, 'deleted module 20:2 (route version 8)\n');
    const empty = await lars(['route', 'list', '20', '2', '--store', store]);
    assert.equal(empty.stdout, `route version 8 in ${store}\n(no routes)\n`);
  });

  test("module add and update --strategy: the module's strategy, in the JSON answers and the STRATEGY column; default clears it", async () => {
    // A store of its own: the other tests count the shared one's route versions.
    const store = `sqlite:${join(dir, 'strategy', 'lars.db')}`;
    const added = jsonOutput(await lars(['module', 'add', '30', '1', '--strategy', 'least_request', '--store', store, '--json'])) as { version: number };
    assert.deepEqual(added, { action: 'add', modid: 30, cmdid: 1, strategy: 'least_request', version: added.version });
    const listed = () => lars(['module', 'list', '--store', store]).then((run) => run.stdout.split('\n').find((line) => line.startsWith('30 '))?.split(/\s+/));
    assert.deepEqual(await listed(), ['30', '1', '0', 'least_request', '']);
    const changed = jsonOutput(await lars(['module', 'update', '30', '1', '--strategy', 'consistent_hash', '--description', 'sticky', '--store', store, '--json']));
    assert.deepEqual(changed, { action: 'update', modid: 30, cmdid: 1, description: 'sticky', strategy: 'consistent_hash', version: added.version + 1 });
    const modules = jsonOutput(await lars(['module', 'list', '--store', store, '--json'])) as { modules: { modid: number; strategy: string | null; description: string }[] };
    assert.deepEqual(modules.modules.filter((m) => m.modid === 30).map((m) => [m.strategy, m.description]), [['consistent_hash', 'sticky']]);
    const cleared = jsonOutput(await lars(['module', 'update', '30', '1', '--strategy', 'default', '--store', store, '--json']));
    assert.deepEqual(cleared, { action: 'update', modid: 30, cmdid: 1, strategy: null, version: added.version + 2 });
    assert.deepEqual(await listed(), ['30', '1', '0', 'default', 'sticky']);
    const human = await lars(['module', 'update', '30', '1', '--strategy', 'lars', '--store', store]);
    assert.equal(human.stdout, `updated module 30:1 (route version ${added.version + 3})\n`);
    // A weight other than 0 on a lars route is said to do nothing; on a weighted strategy nothing is said.
    const ignored = await lars(['route', 'add', '30', '1', '10.3.0.1', '80', '--weight', '5', '--store', store]);
    assert.equal(ignored.code, 0, ignored.stderr);
    assert.equal(ignored.stderr, 'note: module 30:1 runs the lars strategy, which honours weight 0 (drain) only: lars module update 30 1 --strategy weighted_round_robin (or another weighted one) to use it\n');
    const drained = await lars(['route', 'update', '30', '1', '10.3.0.1', '80', '--weight', '0', '--store', store]);
    assert.equal(drained.stderr, '', 'weight 0 drains under every strategy');
    jsonOutput(await lars(['module', 'update', '30', '1', '--strategy', 'weighted_round_robin', '--store', store, '--json']));
    const honoured = await lars(['route', 'update', '30', '1', '10.3.0.1', '80', '--weight', '5', '--store', store]);
    assert.equal(honoured.stderr, '');
    jsonOutput(await lars(['module', 'del', '30', '1', '--store', store, '--json']));
  });

  test('failures exit 1 with one clear line: unknown module, bad value, duplicate, unreachable database', async () => {
    const cases: [string[], RegExp][] = [
      [['route', 'add', '99', '1', '10.0.0.1', '80'], /^lars route: module 99:1 does not exist; add it first: lars module add 99 1$/],
      [['route', 'add', '10', '1', '10.0.0.1', '70000'], /^lars route: port: must be between 1 and 65535, got 70000$/],
      [['route', 'add', '10', '1', '10.0.0.300', '80'], /^lars route: ip: must be a dotted IPv4 address/],
      [['route', 'update', '10', '1', '200.1.2.3', '9000', '--weight', '1001'], /^lars route: weight: must be between 0 and 1000/],
      [['route', 'add', '10', '1', '200.1.2.3', '9000'], /^lars route: host 200\.1\.2\.3:9000 is already in module 10:1$/],
      [['module', 'add', '10', '1'], /^lars module: module 10:1 already exists$/],
    ];
    // Independent and read-only in effect: run them side by side to keep the test short.
    const runs = await Promise.all(cases.map(([args]) => lars([...args, '--store', store])));
    runs.forEach((run, i) => assertFailure(run, cases[i]![1]));
    const unreachable = await lars(['route', 'list', '--store', 'mysql://root:hunter2@127.0.0.1:1/lars']);
    assertFailure(unreachable, /^lars route: cannot reach mysql at 127\.0\.0\.1:1\/lars: /);
    assert.ok(!unreachable.stderr.includes('hunter2'));
  });

  test('usage errors exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['route', 'add', '10', '1', '10.0.0.1', '--store', store], /^lars route: expected MODID CMDID IP PORT/],
      [['route', 'update', '10', '1', '10.0.0.1', '80', '--store', store], /update needs --weight W/],
      [['route', 'frob'], /unknown route command "frob"/],
      [['module', 'frob'], /unknown module command "frob"/],
      [['module'], /^lars module: lars module add MODID CMDID/],
      [['module', 'add', 'ten', '1', '--store', store], /MODID must be an integer, got "ten"/],
      [['module', 'add', '31', '1', '--strategy', 'random', '--store', store], /^lars module: --strategy: must be one of lars, consistent_hash, .*default, got "random"$/],
      [['module', 'update', '10', '1', '--strategy', 'LARS', '--store', store], /^lars module: --strategy: must be one of /],
      [['module', 'update', '10', '1', '--store', store], /^lars module: update needs --description TEXT or --strategy NAME: /],
      [['module', 'del', '10', '1', '--strategy', 'lars', '--store', store], /^lars module: del takes no --description or --strategy: /],
      [['module', 'list', '--bogus'], /Unknown option '--bogus'/],
      [['route', 'list', '--store', 'redis://x'], /unknown store URL/],
      [['db', 'upgrade', '--store', store], /expected: lars db migrate/],
    ];
    const runs = await Promise.all(cases.map(([args]) => lars(args)));
    runs.forEach((run, i) => assertUsageError(run, cases[i]![1]));
  });

  test('route adds from two processes at once get distinct versions', async () => {
    const runs = await Promise.all(
      ['10.1.0.1', '10.1.0.2', '10.1.0.3'].map((ip) => lars(['route', 'add', '10', '1', ip, '80', '--store', store, '--json'])),
    );
    const versions = runs.map((r) => (jsonOutput(r) as { version: number }).version).sort((a, b) => a - b);
    assert.deepEqual(versions, [9, 10, 11]);
  });
});

/** A temporary folder made before the suite's tests and removed after them; the getter gives its path. */
function tempDirForSuite(prefix: string): () => string {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  return () => dir;
}

describe('which store an admin command uses, run from a folder without one', () => {
  const folder = tempDirForSuite('lars-cli-nostore-');

  test('read-only commands refuse a store that does not exist and create nothing', async () => {
    const dir = folder();
    for (const args of [['route', 'list'], ['module', 'list'], ['status'], ['instances'], ['user', 'list'], ['route', 'list', '--data-dir', 'elsewhere']]) {
      const run = await lars(args, {}, dir);
      assertFailure(run, /^lars [a-z]+: no store at \/\S+\/lars\.db; run this where lars up keeps its lars-data, or name the store with --store URL/);
    }
    assertFailure(await lars(['module', 'list', '--store', `sqlite:${join(dir, 'typo.db')}`]), new RegExp(`no store at ${join(dir, 'typo.db')};`));
    assert.deepEqual(await readdir(dir), [], 'no lars-data, no database file');
  });

  test('an edit made where no store is named does not create one; with the store named it does, and lists name it', async () => {
    const dir = folder();
    assertFailure(await lars(['module', 'add', '1', '1'], {}, dir), /^lars module: no store at .*lars-data\/lars\.db; /);
    assert.deepEqual(await readdir(dir), []);
    const added = await lars(['module', 'add', '1', '1', '--data-dir', 'here'], {}, dir);
    assert.equal(added.code, 0, added.stderr);
    const listed = await lars(['module', 'list'], { LARS_DATA_DIR: 'here' }, dir);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.split('\n')[0], `route version 1 in sqlite:${join(dir, 'here', 'lars.db')}`);
    const noStatus = await lars(['status', '--data-dir', 'here'], {}, dir);
    assert.equal(noStatus.stdout, `(no status reported in sqlite:${join(dir, 'here', 'lars.db')})\n`);
  });
});

describe('lars export and lars import json', () => {
  const folder = tempDirForSuite('lars-cli-export-');

  test('export a store, import it into an empty one: the same routes; again: nothing to change; --dry-run writes nothing; a bad document writes nothing', async () => {
    const dir = folder();
    const from = ['--store', `sqlite:${join(dir, 'from.db')}`];
    const into = ['--store', `sqlite:${join(dir, 'into.db')}`];
    jsonOutput(await lars(['module', 'add', '5', '1', '--description', 'search', '--strategy', 'least_request', ...from, '--json']));
    jsonOutput(await lars(['route', 'add', '5', '1', '129.0.0.1', '80', '--weight', '3', ...from, '--json']));
    jsonOutput(await lars(['module', 'add', '6', '-2', ...from, '--json']));
    const file = join(dir, 'routes.json');
    const exported = await lars(['export', '--output', file, ...from]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /^exported 2 modules with 1 hosts \(route version 3\) to /);
    const stdout = jsonOutput(await lars(['export', ...from])) as { format: string; modules: unknown[] };
    assert.deepEqual(stdout.modules, (JSON.parse(await readFile(file, 'utf8')) as { modules: unknown[] }).modules);

    const dry = await lars(['import', 'json', file, '--dry-run', ...into]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /module-add +5:1 +description "search"; strategy least_request; imported\nadd +5:1 +129\.0\.0\.1:80 weight 3; imported\nmodule-add +6:-2 +imported\ndry run: 3 edits would be made; nothing was written\n$/);
    assert.equal((await lars(['route', 'list', '--json', ...into])).stdout.includes('129.0.0.1'), false);
    const applied = await lars(['import', 'json', file, ...into]);
    assert.match(applied.stdout, /made 3 edits in one transaction \(route version 3\)\n$/);
    const routes = (s: string[]) => lars(['route', 'list', '--json', ...s]).then((r) => (JSON.parse(r.stdout) as { routes: { ip: string; weight: number }[] }).routes.map((h) => [h.ip, h.weight]));
    assert.deepEqual(await routes(into), await routes(from));
    const again = jsonOutput(await lars(['import', 'json', file, '--json', ...into])) as { edits: unknown[]; version: number };
    assert.deepEqual([again.edits, again.version], [[], 3]);

    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ format: 'lars-routes', formatVersion: 1, modules: [{ modid: 7, cmdid: 1 }, { modid: 8, cmdid: 1, hosts: [{ ip: '10.0.0.1:80', port: 80 }] }] }));
    assertFailure(await lars(['import', 'json', bad, ...into]), /^lars import: modules\.1\.hosts\.0\.ip: must be a dotted IPv4 address, got "10\.0\.0\.1:80"$/);
    await writeFile(bad, '{"format": ');
    assertFailure(await lars(['import', 'json', bad, ...into]), /^lars import: .*bad\.json is not JSON: /);
    assertFailure(await lars(['import', 'json', join(dir, 'missing.json'), ...into]), /^lars import: cannot read .*missing\.json: /);
    assertUsageError(await lars(['import', 'csv', file, ...into]), /expected lars import json FILE/);
    assert.equal((await lars(['module', 'list', '--json', ...into])).stdout.includes('"modid": 7'), false, 'nothing of the bad document was written');
  });
});
