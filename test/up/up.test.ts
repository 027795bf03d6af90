/**
 * `lars up` tried as a new user would: start it, read what it prints, log in
 * to the console with the printed password, add a host to the demo route,
 * and see it through the agent with `lars getroute`; and a busy port named
 * with the flag that moves it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lars, type LarsProcess } from '../support/cli.js';
import { occupiedPort, waitFor } from '../support/net.js';
import { consoleSession, startUp } from '../support/up.js';

let dir: string;
let up: LarsProcess;
let output: Record<string, string>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-up-'));
  ({ up, output } = await startUp(dir));
});

after(async () => {
  assert.equal(await up.stop(), 0, 'lars up stops cleanly on SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

const agentFlag = () => `127.0.0.1:${/udp 127\.0\.0\.1:(\d+)/.exec(output.agent!)![1]}`;

test('prints where everything runs, the demo route and a one-time admin password', () => {
  assert.match(output.data!, new RegExp(`^sqlite:${dir}/lars\\.db$`));
  for (const key of ['dns', 'reporter']) assert.match(output[key]!, /^127\.0\.0\.1:\d+$/);
  assert.match(output.agent!, /^udp 127\.0\.0\.1:\d+,\d+,\d+$/);
  assert.match(output.console!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(output['demo route']!, /^modid 1 cmdid 1 \(created now\)/);
  assert.match(output['console login']!, /^admin \/ \S{12,}/);
  assert.ok(!up.lines.some((line) => line.includes(output['console login']!.split(' ')[2]!)), 'the password never reaches the log');
});

test('the demo route answers through the agent', async () => {
  const run = await lars(['gethost', '1', '1', '--agent', agentFlag(), '--json']);
  assert.equal(run.code, 0, run.stderr);
  const answer = JSON.parse(run.stdout) as { retcode: number; host: { ip: string; port: number } };
  assert.equal(answer.retcode, 0);
  assert.equal(answer.host.ip, '127.0.0.1');
  assert.ok([9001, 9002, 9003].includes(answer.host.port));
});

test('a host added in the console reaches lars getroute', async (t) => {
  const added = await fetch(`${output.console!}api/v1/modules/1/1/hosts`, {
    method: 'POST',
    headers: await consoleSession(output),
    body: JSON.stringify({ ip: '127.0.0.1', port: 9004 }),
  });
  assert.equal(added.status, 201, await added.text());
  const since = Date.now();
  const seen = await waitFor(
    async () => {
      const run = await lars(['getroute', '1', '1', '--agent', agentFlag(), '--json']);
      return run.code === 0 && run.stdout.includes('9004') ? Date.now() - since : undefined;
    },
    { timeoutMs: 30_000, message: 'the new host in lars getroute' },
  );
  // Each lars getroute is a new process (~1 s to start under tsx), so this is an upper bound; no timing assertion.
  t.diagnostic(`new host visible in lars getroute ${seen} ms after the console answered`);
});

test('a port already in use stops lars up with one line naming the address and the flag that moves it', async () => {
  const taken = await occupiedPort();
  try {
    const run = await lars(['up', '--data-dir', join(dir, 'second'), '--dns-port', String(taken.port), '--reporter-port', '0', '--udp-base-port', '0', '--console-port', '0', '--admin', 'off']);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(
      run.stderr.trimEnd().split('\n').at(-1),
      `lars up: dns: 127.0.0.1:${taken.port} is already in use (another lars up, or lars dns?); pick another port with --dns-port`,
    );
    // The failed start made no admin, so the next one makes it and shows its password.
    assert.equal((await lars(['user', 'list', '--data-dir', join(dir, 'second')])).stdout, `(no users in sqlite:${join(dir, 'second', 'lars.db')})\n`);
  } finally {
    await taken.close();
  }
});
