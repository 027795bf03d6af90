/**
 * The command line's edges (issue 14): negative ids and weights typed as
 * they are, integers without leading zeros, and --help on every command.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopSignals } from '../../src/cli/service.js';
import { lars, REPO } from '../support/cli.js';

const COMMANDS = ['up', 'dns', 'reporter', 'agent', 'console', 'dispatch', 'db', 'module', 'route', 'instances', 'user', 'status', 'export', 'import', 'connected', 'token', 'serve', 'gethost', 'getroute', 'report', 'simulator', 'qps', 'simulate'];

let dir: string;
let store: string[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-cli-edges-'));
  store = ['--store', `sqlite:${join(dir, 'lars.db')}`];
});
after(() => rm(dir, { recursive: true, force: true }));

test('a negative cmdid is typed as it is, before or after --, and a negative weight gets the range error, not "ambiguous"', async () => {
  const added = await lars(['module', 'add', '1', '-1', ...store]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /added module 1:-1/);
  const afterDashes = await lars(['module', 'add', ...store, '--', '-2', '-3']);
  assert.equal(afterDashes.code, 0, afterDashes.stderr);
  assert.match(afterDashes.stdout, /added module -2:-3/);
  for (const weight of [['--weight', '-1'], ['--weight=-1']]) {
    const refused = await lars(['route', 'add', '1', '-1', '10.0.0.1', '80', ...weight, ...store]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /weight: must be between 0 and 1000, got -1/);
  }
  const listed = await lars(['route', 'list', '1', '-1', '--json', ...store]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual((JSON.parse(listed.stdout) as { routes: unknown[] }).routes, []);
});

test('a port with a leading zero is refused as an IP octet with one is', async () => {
  const port = await lars(['route', 'add', '1', '-1', '10.0.0.1', '080', ...store]);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /PORT must be written without leading zeros, got "080"/);
  const octet = await lars(['route', 'add', '1', '-1', '10.0.0.04', '80', ...store]);
  assert.equal(octet.code, 1);
  assert.match(octet.stderr, /ip: must be a dotted IPv4 address/);
});

test('--help on every command and sub-command prints its form and exits 0', async () => {
  for (const name of COMMANDS) {
    const help = await lars([name, '--help']);
    assert.equal(help.code, 0, `${name}: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`lars ${name}\\b|\\| ${name} `), name);
  }
  for (const argv of [['route', 'add', '--help'], ['module', 'list', '-h'], ['dispatch', '--help'], ['instances', 'drain', '--help']]) {
    const help = await lars(argv);
    assert.equal(help.code, 0, `${argv.join(' ')}: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`lars ${argv[0]}`));
  }
});

test('lars --version prints the package version; a misspelt command gets a suggestion, an unrelated one none', async () => {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const shown = await lars(['--version']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(shown.stdout, `lars ${pkg.version} (node ${process.version})\n`);
  const typo = await lars(['rout', 'list']);
  assert.equal(typo.code, 2);
  assert.equal(typo.stderr.split('\n')[0], 'lars: unknown command "rout"; did you mean "route"? (lars route --help)');
  assert.equal((await lars(['instance'])).stderr.split('\n')[0], 'lars: unknown command "instance"; did you mean "instances"? (lars instances --help)');
  assert.equal((await lars(['xyzzy'])).stderr.split('\n')[0], 'lars: unknown command "xyzzy"');
});

test('lars --help shows the flags operators look for: status --window/--series, simulator --fail/--rate, up ports', async () => {
  const help = (await lars(['--help'])).stdout;
  for (const flag of ['--window', '--series', '--fail IP:PORT', '--rate CALLS_PER_S', '--gethost-only', '--dns-port', '--console-port', '--udp-base-port', '--no-demo', '--version']) {
    assert.ok(help.includes(flag), `lars --help names ${flag}`);
  }
  assert.match((await lars(['status', '--help'])).stdout, /--window 5m[\s\S]*--series/);
});

test('stopSignals: the first stop signal, its echo within a second (a group signal npm forwards again), and a real second request', () => {
  let now = 1_000;
  const classify = stopSignals(() => now);
  assert.equal(classify(), 'first');
  now += 200;
  assert.equal(classify(), 'echo');
  now += 1_000;
  assert.equal(classify(), 'again');
});
