/**
 * `npm start` as a supervisor or a container runs it: SIGTERM goes to the
 * top process (npm) only, not to its process group. Every service must stop
 * and no process of the group may be left holding the ports
 * (README.md, "Operations": Stopping).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../support/cli.js';
import { waitFor } from '../support/net.js';

/** The pids still in a process group (ps exits 1 when there are none). */
function processesInGroup(pgid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** False (and the test skipped) when there is no build for npm start to run. */
function haveBuild(t: { skip(reason: string): void }): boolean {
  if (existsSync(join(REPO, 'dist', 'src', 'cli', 'main.js'))) return true;
  if (process.env.CI === 'true') assert.fail('dist/ is missing: npm start runs the build (npm test builds it first)');
  t.skip('dist/ is missing: npm start runs the build; run npm run build (npm test does)');
  return false;
}

for (const [who, signalGroup] of [
  ['to the npm start process only', false],
  ['to its whole process group, as systemd, timeout or a Ctrl-C do (npm forwards it once more)', true],
] as const) {
  test(`kill -TERM ${who} stops lars up cleanly and leaves no process behind`, async (t) => {
    if (!haveBuild(t)) return;
    await stopsCleanly(signalGroup);
  });
}

async function stopsCleanly(signalGroup: boolean): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lars-npm-start-'));
  // detached: npm leads a process group of its own, which is what the check counts.
  const npm = spawn('npm', ['start', '--', '--data-dir', dir, '--dns-port', '0', '--reporter-port', '0', '--udp-base-port', '0', '--console-port', '0', '--admin', 'off'], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LARS_STORE: undefined },
  });
  const pgid = npm.pid!;
  let stdout = '';
  let stderr = '';
  npm.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  npm.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => stdout.includes('Stop with Ctrl-C.'), { timeoutMs: 60_000, message: 'lars up started by npm start' });
    const dnsPort = Number(/^ {2}dns\s+127\.0\.0\.1:(\d+)$/m.exec(stdout)![1]);
    assert.ok(processesInGroup(pgid).length >= 2, 'npm and lars up');

    process.kill(signalGroup ? -pgid : npm.pid!, 'SIGTERM');
    assert.equal(await exited, 0, `npm start exits 0 once lars up stopped cleanly: ${stderr.split('\n').slice(-5).join(' | ')}`);
    assert.match(stderr, /info up stopped/);
    assert.doesNotMatch(stderr, /forced_exit/, 'the echoed signal is the same request, not a second one');
    await waitFor(() => processesInGroup(pgid).length === 0, { timeoutMs: 15_000, message: 'every process of npm start gone' });
    assert.equal(await refused(dnsPort), true, 'the dns port is free');
  } finally {
    for (const pid of processesInGroup(pgid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}
