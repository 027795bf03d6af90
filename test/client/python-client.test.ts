/**
 * The Python client (clients/python, docs/client.md "Python"): pip installs it
 * from its folder into a temporary directory, offline, and its unittest suite
 * runs against that install, with a real `lars up` from dist/ (npm test builds
 * first). Without python3 >= 3.9 this is skipped, except under CI=true.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from '../support/cli.js';
import { describeIfAvailable } from '../support/prerequisites.js';

/** The interpreter under test; LARS_PYTHON picks another (say python3.9). */
const PYTHON = process.env.LARS_PYTHON ?? 'python3';
const CLIENT = join(REPO, 'clients', 'python');

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(PYTHON, args, { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
}

/** Why the Python client cannot be tested here, or false. */
function missingPython(): string | false {
  const version = run(['-c', 'import sys; print(*sys.version_info[:2])']);
  if (version.error || version.status !== 0) return `${PYTHON} is not available`;
  const [major, minor] = version.stdout.trim().split(' ').map(Number) as [number, number];
  return major > 3 || (major === 3 && minor >= 9) ? false : `${PYTHON} is ${major}.${minor}, the client needs 3.9 or later`;
}

function output(what: string, result: ReturnType<typeof run>): string {
  return `${what}: exit ${result.status}\n${result.stdout}\n${result.stderr}`;
}

describeIfAvailable('the Python client', missingPython(), () => {
  test('installs with pip offline and passes its tests against lars up', async () => {
    assert.ok(existsSync(join(REPO, 'dist', 'src', 'cli', 'main.js')), 'dist/ is missing: npm run build (npm test does)');
    const target = await mkdtemp(join(tmpdir(), 'lars-py-install-'));
    try {
      // PyPI may be unreachable: no build isolation, so pip uses the setuptools already installed.
      const install = run(['-m', 'pip', 'install', '--no-build-isolation', '--no-deps', '--quiet', '--target', target, CLIENT]);
      assert.equal(install.status, 0, output('pip install', install));
      const tests = run(['-m', 'unittest', 'discover', '-s', join(CLIENT, 'tests'), '-v'], {
        PYTHONPATH: target,
        LARS_REPO: REPO,
        LARS_NODE: process.execPath,
      });
      assert.equal(tests.status, 0, output('python3 -m unittest', tests));
      assert.match(tests.stderr, /^OK/m, output('python3 -m unittest', tests));
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });
});
