import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { startDispatch, testSocketDir } from './helpers.js';

const dir = testSocketDir();

async function runDispatch(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  const p = startDispatch(...args);
  const code = await p.exited;
  return { code, stderr: p.stderr() };
}

const usageErrors: [string, string[], RegExp][] = [
  ['no --listen', ['--socket', '/tmp/x.sock'], /needs --listen/],
  ['no --socket and no --workers', ['--listen', '127.0.0.1:0'], /needs --socket PATH/],
  ['a COMMAND without --workers', ['--listen', '127.0.0.1:0', '--socket', '/tmp/x.sock', '--', 'sleep', '1'], /needs --workers N/],
  ['nothing after --', ['--listen', '127.0.0.1:0', '--workers', '2', '--'], /nothing after --/],
  ['--workers 0', ['--listen', '127.0.0.1:0', '--workers', '0'], /--workers must be between 1/],
  ['a bad address', ['--listen', 'localhost', '--socket', '/tmp/x.sock'], /expected HOST:PORT/],
  ['status without --socket', ['status'], /needs --socket PATH/],
  ['status with --listen', ['status', '--socket', '/tmp/x.sock', '--listen', ':1'], /takes only --socket/],
];

for (const [what, args, message] of usageErrors) {
  test(`usage error (exit 2): ${what}`, async () => {
    const { code, stderr } = await runDispatch(...args);
    assert.equal(code, 2);
    assert.match(stderr, message);
  });
}

test('status of a dispatcher that is not there: exit 1 with one line', async () => {
  const { code, stderr } = await runDispatch('status', '--socket', dir.path('nobody.sock'));
  assert.equal(code, 1);
  assert.match(stderr, /^lars dispatch: no dispatcher at .*nobody\.sock: ENOENT\n$/);
});

test('a socket path that is a regular file is refused, not deleted', async () => {
  const path = dir.path('not-a-socket');
  writeFileSync(path, 'keep me');
  const { code, stderr } = await runDispatch('--listen', '127.0.0.1:0', '--socket', path);
  assert.equal(code, 1);
  assert.match(stderr, /exists and is not a socket/);
  assert.ok(existsSync(path));
});
