/**
 * Configuration as operators give it, end to end: each service started by the
 * real `lars` command reads its sections from --config, LARS_* and --set (the
 * strongest winning) through the one path every service shares, and a key
 * under a name it no longer has stops the command with one line listing the
 * known keys.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { Users } from '../../src/store/users.js';
import { lars, startLars, type LarsProcess } from '../support/cli.js';
import { unusedPort } from '../support/net.js';

let dir: string;
const started: LarsProcess[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-config-cli-'));
});
after(async () => {
  await Promise.all(started.map((p) => p.kill()));
  await rm(dir, { recursive: true, force: true });
});

async function service(args: string[], env: NodeJS.ProcessEnv = {}): Promise<LarsProcess> {
  const proc = await startLars(args, env);
  started.push(proc);
  return proc;
}

async function configFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

test('lars dns: [reactor] max_conn from the file, the environment and --set reaches its TCP server, the strongest source winning', async () => {
  const file = await configFile('dns.conf', '[reactor]\nmax_conn = 7\n');
  const dns = (...extra: string[]) => ['dns', '--store', 'sqlite::memory:', '--listen', '127.0.0.1:0', '--admin', 'off', '--config', file, ...extra];
  const [fromFile, fromEnv, fromFlag] = await Promise.all([
    service(dns()),
    service(dns(), { LARS_REACTOR_MAX_CONN: '8' }),
    service(dns('--set', 'reactor.max_conn=9'), { LARS_REACTOR_MAX_CONN: '8' }),
  ]);
  const limit = (proc: LarsProcess) => /info dns listening address=\S+ maxConnections=(\d+)/.exec(proc.lines.join('\n'))?.[1];
  assert.deepEqual([fromFile, fromEnv, fromFlag].map(limit), ['7', '8', '9']);
});

test('lars reporter: [reporter] from the file reaches its queue and [reactor] from --set its TCP server', async () => {
  const file = await configFile('reporter.conf', '[reporter]\nbatch_max_results = 500\nqueue_max_results = 50000\n');
  const reporter = await service([
    'reporter', '--store', `sqlite:${join(dir, 'reporter.db')}`, '--listen', '127.0.0.1:0', '--admin', 'off', '--config', file, '--set', 'reactor.max_conn=6',
  ]);
  const log = reporter.lines.join('\n');
  assert.match(log, / info reporter listening .*queueMax=50000 batchMax=500\b/);
  assert.match(log, / info reporter\.tcp listening address=\S+ maxConnections=6\b/);
});

test('lars agent: an [agent] key from the environment reaches the agent', async () => {
  const dead = await unusedPort();
  const agent = await service(
    ['agent', '--dns', `127.0.0.1:${dead}`, '--reporter', `127.0.0.1:${dead}`, '--udp-base-port', '0', '--admin', 'off'],
    { LARS_AGENT_CALLER: '10.1.2.3' },
  );
  assert.ok(agent.lines.some((line) => / info agent listening .*caller=10\.1\.2\.3\b/.test(line)), agent.lines.join('\n'));
});

test('lars console: [console] session_ttl_hours from --set reaches the session cookie', async () => {
  const url = `sqlite:${join(dir, 'console.db')}`;
  const store = await openStore(url);
  try {
    await new Users(store).add({ name: 'ops', role: 'admin', password: 'long-enough-password' });
  } finally {
    await store.close();
  }
  const console = await service(['console', '--store', url, '--listen', '127.0.0.1:0', '--set', 'console.session_ttl_hours=2']);
  const login = await fetch(`${console.ready.url}api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'ops', password: 'long-enough-password' }),
  });
  assert.equal(login.status, 200, await login.text());
  assert.match(login.headers.get('set-cookie') ?? '', /Max-Age=7200\b/);
});

test('old key names stop each service with exit 1 and one line naming the known keys', async () => {
  const agentFile = await configFile('agent.conf', '[agent]\nreport_interval = 0.5\n');
  const [dns, reporter, agent, env] = await Promise.all([
    lars(['dns', '--store', 'sqlite::memory:', '--set', 'reactor.maxConn=5']),
    lars(['reporter', '--store', 'sqlite::memory:', '--set', 'reporter.prune_interval_seconds=60']),
    lars(['agent', '--dns', '127.0.0.1:1', '--reporter', '127.0.0.1:1', '--config', agentFile]),
    lars(['dns', '--store', 'sqlite::memory:'], { LARS_REACTOR_THREADNUM: '3' }),
  ]);
  for (const run of [dns, reporter, agent, env]) {
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
  }
  assert.match(dns.stderr, /^lars dns: config \[reactor\] maxConn: unknown key \(from overrides\); known keys: max_conn, max_frame_bytes, /);
  assert.match(reporter.stderr, /^lars reporter: config \[reporter\] prune_interval_seconds: unknown key \(from overrides\); known keys: .*\bprune_interval_s\b/);
  assert.match(agent.stderr, /^lars agent: config \[agent\] report_interval: unknown key \(from file \S+agent\.conf\); known keys: .*\breport_interval_s\b/);
  assert.match(env.stderr, /^lars dns: config \[reactor\]: unknown environment variable LARS_REACTOR_THREADNUM; known keys: max_conn, /);
});
