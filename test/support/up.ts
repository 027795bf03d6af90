/** Starting `lars up` in tests and reading what it prints: the summary, and a console session with the printed password. */
import assert from 'node:assert/strict';
import { parseSummary, startLars, type LarsProcess } from './cli.js';
import { waitFor } from './net.js';

/** lars up in `dir` on ports the OS picks (a test must not collide with a lars up someone is running), once it printed its summary. */
export async function startUp(dir: string, extra: string[] = []): Promise<{ up: LarsProcess; output: Record<string, string> }> {
  const up = await startLars([
    'up', '--data-dir', dir, '--dns-port', '0', '--reporter-port', '0', '--udp-base-port', '0', '--console-port', '0', '--admin', '127.0.0.1:0', ...extra,
  ]);
  await waitFor(() => up.stdout().includes('Stop with Ctrl-C.'), { message: 'the summary on stdout' });
  return { up, output: parseSummary(up.stdout()) };
}

/** Logs in as the admin lars up created; returns the headers a state-changing console request needs. */
export async function consoleSession(output: Record<string, string>): Promise<Record<string, string>> {
  const password = output['console login']!.split(' ')[2]!;
  const login = await fetch(`${output.console!}api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  assert.equal(login.status, 200);
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  return { 'content-type': 'application/json', cookie: login.headers.get('set-cookie')!.split(';')[0]!, 'x-csrf-token': csrfToken };
}
