/**
 * The npm package as an operator gets it (docs/deploy.md, "Installing"):
 * `npm pack` (which builds), what the tarball holds, `npm install -g` of it
 * into a fresh prefix, and `lars up` from there answering its health
 * endpoints and stopping cleanly, far from this repository and its
 * node_modules.
 *
 * The install compiles better-sqlite3 from source when its prebuilt binary
 * cannot be downloaded, about a minute of CPU, so `npm test` leaves this file
 * out and `.ci/run` runs it as its own step with LARS_TEST_PACKAGE=1. By hand:
 *   LARS_TEST_PACKAGE=1 node scripts/run-tests.mjs test/up/package.test.ts
 * npm's cache serves what `npm ci` fetched (--prefer-offline); a tarball's
 * dependency ranges are resolved afresh, so the registry is asked for their
 * metadata.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { LarsClient } from '../../src/client/lars-client.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { parseSummary, REPO, startLars, type LarsProcess } from '../support/cli.js';
import { waitFor } from '../support/net.js';

const run = promisify(execFile);
const ENABLED = process.env.LARS_TEST_PACKAGE === '1';
const PACKAGE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: { lars: string };
  devDependencies: Record<string, string>;
};

/** The packages whose install scripts build native code (docs/deploy.md, "Installing"). */
const SCRIPTED = 'lars-ts,better-sqlite3,usocket';

/** Every file below dir, as paths relative to it. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** Tarball entries below a folder of the package, relative to it. */
function entriesBelow(entries: readonly string[], folder: string): string[] {
  return entries.filter((path) => path.startsWith(`${folder}/`)).map((path) => path.slice(folder.length + 1)).sort();
}

// A test, not a suite, when left out: the runner's summary counts it as skipped.
if (!ENABLED) test('the npm package', { skip: 'set LARS_TEST_PACKAGE=1 (.ci/run does, as its own step after npm test)' }, () => {});
else describe('the npm package', () => {
  let dir = '';
  let prefix = '';
  let entries: string[] = [];
  let installOutput = '';
  let up: LarsProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lars-package-'));
    prefix = join(dir, 'prefix');
    const packStarted = Date.now();
    await run('npm', ['pack', '--pack-destination', dir], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
    const tarball = join(dir, `${PACKAGE.name}-${PACKAGE.version}.tgz`);
    const packMs = Date.now() - packStarted;
    entries = (await run('tar', ['-tzf', tarball], { maxBuffer: 16 * 1024 * 1024 })).stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.replace(/^package\//, ''));
    const installStarted = Date.now();
    const installed = await run('npm', ['install', '-g', '--prefix', prefix, `--allow-scripts=${SCRIPTED}`, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
    });
    installOutput = installed.stdout + installed.stderr;
    console.log(`npm pack (with its build) ${packMs} ms, ${entries.length} files; npm install -g of the tarball ${Date.now() - installStarted} ms`);
  });

  after(async () => {
    await up?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('the tarball holds the build, the addon sources and the unit files, and nothing else', () => {
    const strays = entries.filter(
      (path) => !/^(package\.json|README\.md|LICENSE|binding\.gyp|native\/[\w-]+\.c|deploy\/systemd\/[\w./-]+|dist\/src\/.+)$/.test(path) || /\.map$/.test(path) || /(?<!\.d)\.ts$/.test(path),
    );
    assert.deepEqual(strays, [], 'no tests, benches, TypeScript sources or source maps');
    assert.ok(entries.includes(PACKAGE.bin.lars), `the bin, ${PACKAGE.bin.lars}`);
    assert.ok(entries.includes('LICENSE'), 'the licence package.json names');
    // Modules loaded by URL rather than imported: the worker threads.
    for (const module of ['dist/src/agent/port-thread.js', 'dist/src/reactor/worker-entry.js', 'dist/src/reporter/sqlite-tasks.js']) assert.ok(entries.includes(module), module);
    const served = filesBelow(join(REPO, 'src/console/web')).filter((path) => !path.endsWith('tsconfig.json') && !path.endsWith('.d.ts'));
    assert.deepEqual(entriesBelow(entries, 'dist/src/console/web'), served, "the console's front end, as src/console/static.ts serves it");
    assert.deepEqual(entriesBelow(entries, 'deploy'), filesBelow(join(REPO, 'deploy')), 'the systemd units (docs/deploy.md)');
  });

  test('installs into a fresh prefix with its native addons and without the development tools', () => {
    const root = join(prefix, 'lib', 'node_modules', PACKAGE.name);
    assert.ok(existsSync(join(prefix, 'bin', 'lars')), installOutput);
    const built = ['lars_udp', 'lars_fd'].every((name) => existsSync(join(root, 'build', 'Release', `${name}.node`)));
    // Without a compiler the install script says so and goes on (CI=true makes it fail instead).
    assert.ok(built || installOutput.includes('lars: native addons not built'), installOutput);
    // @types/* come with some runtime dependencies of their own; the tools must not.
    const tools = Object.keys(PACKAGE.devDependencies).filter((name) => !name.startsWith('@types/'));
    assert.deepEqual(tools.filter((name) => existsSync(join(root, 'node_modules', name))), []);
  });

  test('lars up from the installed package answers its health endpoints and stops cleanly', async () => {
    const data = join(dir, 'data');
    up = await startLars(
      ['up', '--data-dir', data, '--dns-port', '0', '--reporter-port', '0', '--udp-base-port', '0', '--console-port', '0', '--admin', '127.0.0.1:0'],
      {},
      { bin: join(prefix, 'bin', 'lars'), cwd: dir, timeoutMs: 60_000 },
    );
    await waitFor(() => up!.stdout().includes('Stop with Ctrl-C.'), { message: 'the summary on stdout' });
    const summary = parseSummary(up.stdout());
    const adminBase = summary.admin!.replace(/\/metrics$/, '');

    const health = await fetch(`${adminBase}/healthz`);
    const body = (await health.json()) as { ok: boolean; dns: { ok: boolean }; reporter: { ok: boolean }; agent: { ok: boolean } };
    assert.equal(health.status, 200, JSON.stringify(body));
    assert.deepEqual([body.ok, body.dns.ok, body.reporter.ok, body.agent.ok], [true, true, true, true]);
    assert.match(await (await fetch(`${adminBase}/metrics`)).text(), /^lars_dns_routes 1$/m);
    const consoleHealth = await fetch(`${summary.console}healthz`);
    assert.equal(consoleHealth.status, 200, await consoleHealth.text());
    // uPlot comes from the installed dependency, the rest from the build's web folder.
    for (const path of ['', 'assets/js/app.js', 'assets/app.css', 'assets/vendor/uplot.js', 'assets/vendor/uplot.css']) {
      assert.equal((await fetch(`${summary.console}${path}`)).status, 200, `/${path}`);
    }

    const client = new LarsClient({ host: '127.0.0.1', basePort: Number(/udp 127\.0\.0\.1:(\d+)/.exec(summary.agent!)![1]), timeoutMs: 2000 });
    try {
      assert.equal((await client.getHost(1, 1)).retcode, RetCode.SUCC, 'the demo route through the installed agent');
    } finally {
      await client.close();
    }
    assert.equal(await up.stop(), 0, 'lars up stops cleanly on SIGTERM');
  });
});
