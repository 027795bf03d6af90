/**
 * `lars dns` as operators run it: a real process, edits through `lars route
 * add`, and clients that know only the wire format of docs/protocol.md.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableEngines } from '../support/engines.js';
import { assertUsageError, lars, portOf, startLars, type LarsProcess } from '../support/cli.js';
import { hexBytes, occupiedPort, RawTcpClient, waitFor } from '../support/net.js';
import { requestStatus } from '../../src/dispatcher/index.js';
import { MsgId } from '../../src/protocol/msgid.js';

const engines = await availableEngines();
const sqlite = engines.find((e) => e.name === 'sqlite')!;
// Two instances on one network store is the deployment docs/store.md is about; SQLite when none is reachable.
const shared = engines.find((e) => e.name === 'mysql') ?? engines.find((e) => e.name === 'postgres') ?? sqlite;

const started: LarsProcess[] = [];
const clients: RawTcpClient[] = [];
const drops: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(started.map((p) => p.kill()));
  for (const drop of drops) await drop();
});

async function database(engine = sqlite): Promise<string> {
  const db = await engine.createDatabase();
  drops.push(db.drop);
  const migrated = await lars(['db', 'migrate', '--store', db.url]);
  assert.equal(migrated.code, 0, migrated.stderr);
  return db.url;
}

async function dns(store: string, ...extra: string[]): Promise<LarsProcess> {
  const proc = await startLars(['dns', '--store', store, '--listen', '127.0.0.1:0', '--admin', 'off', '--set', 'dns.poll_interval_ms=200', ...extra]);
  started.push(proc);
  return proc;
}

/** GetRouteRequest for modid 1, cmdid 1, written out by hand. */
const GET_ROUTE_1_1 = hexBytes('01000000 04000000 0801 1001');

async function subscribe(port: number): Promise<RawTcpClient> {
  const client = await RawTcpClient.connect(port);
  clients.push(client);
  client.write(GET_ROUTE_1_1);
  return client;
}

async function edit(store: string, ...args: string[]): Promise<void> {
  const run = await lars([...args, '--store', store]);
  assert.equal(run.code, 0, run.stderr);
}

test('an independent client gets the route, and the route pushed after lars route add', async () => {
  const store = await database();
  await edit(store, 'module', 'add', '1', '1');
  await edit(store, 'route', 'add', '1', '1', '10.0.0.1', '80');
  const server = await dns(store);
  const client = await subscribe(portOf(server.ready.addr!));
  // 10.0.0.1 = 0x0A000001 = varint 81 80 80 50; port 80 = 0x50.
  const first = await client.nextFrame();
  assert.equal(first.msgid, MsgId.GetRouteResponse);
  assert.deepEqual(first.body, hexBytes('0801 1001 1a07 0881808050 1050'));

  const linesBefore = server.lines.length;
  await edit(store, 'route', 'add', '1', '1', '10.0.0.2', '81');
  // Unasked: the frame that comes now is the push dns logs for this edit.
  const push = await client.nextMessage(MsgId.GetRouteResponse);
  assert.equal(push.host.length, 2);
  await waitFor(() => server.lines.slice(linesBefore).some((line) => / info dns pushed version=\d+ frames=1$/.test(line)), { message: 'dns to log the push' });
});

test(`two dns processes on one ${shared.name} store both push one edit`, async () => {
  const store = await database(shared);
  await edit(store, 'module', 'add', '1', '1');
  const [a, b] = await Promise.all([dns(store), dns(store)]);
  const subscribers = await Promise.all([subscribe(portOf(a.ready.addr!)), subscribe(portOf(b.ready.addr!))]);
  for (const s of subscribers) assert.deepEqual((await s.nextMessage(MsgId.GetRouteResponse)).host, []);
  await edit(store, 'route', 'add', '1', '1', '10.0.0.3', '83');
  for (const s of subscribers) assert.equal((await s.nextMessage(MsgId.GetRouteResponse)).host.length, 1);
});

test('lars dns --workers 2 serves through the dispatcher, and every worker pushes to its own subscribers', async () => {
  const store = await database();
  await edit(store, 'module', 'add', '1', '1');
  const socketDir = await import('node:os').then((os) => os.tmpdir());
  const server = await dns(store, '--workers', '2');
  const port = portOf(server.ready.addr!);
  const subscribers = await Promise.all([1, 2, 3, 4].map(() => subscribe(port)));
  for (const s of subscribers) await s.nextMessage(MsgId.GetRouteResponse);
  const status = await requestStatus(`${socketDir}/lars-dns-${server.child.pid}.sock`);
  assert.equal(status.workers.length, 2);
  assert.deepEqual(
    status.workers.map((w) => w.connections),
    [2, 2],
    'four connections spread two and two by least connections',
  );
  await edit(store, 'route', 'add', '1', '1', '10.0.0.4', '84');
  for (const s of subscribers) assert.equal((await s.nextMessage(MsgId.GetRouteResponse)).host.length, 1);
  assert.equal(await server.stop(), 0, 'drains and exits cleanly on SIGTERM');
});

test('bad flags and an unreachable store give exit 2 and 1 with one clear line', async () => {
  const usage = await lars(['dns', '--listen', 'nonsense']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /expected HOST:PORT/);
  const config = await lars(['dns', '--set', 'dns.poll_interval_ms=fast', '--store', 'sqlite::memory:']);
  assert.equal(config.code, 1);
  assert.match(config.stderr, /\[dns\] poll_interval_ms: expected an integer/);
  const unreachable = await lars(['dns', '--store', 'mysql://root@127.0.0.1:1/lars', '--admin', 'off']);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach mysql at 127\.0\.0\.1:1/);
  assert.equal(unreachable.stderr.trim().split('\n').length, 1, unreachable.stderr);
});

test('a port already in use exits 1 with one line naming the address', async () => {
  const taken = await occupiedPort();
  try {
    const busy = await lars(['dns', '--store', 'sqlite::memory:', '--listen', `127.0.0.1:${taken.port}`, '--admin', 'off']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, new RegExp(`^lars dns: cannot listen on 127\\.0\\.0\\.1:${taken.port}: .*EADDRINUSE`));
    assert.equal(busy.stderr.trim().split('\n').length, 1, busy.stderr);
  } finally {
    await taken.close();
  }
});

test('the notify setting: --notify wins over LARS_NOTIFY, which wins over [notify] url; the choice is logged with its reason; one that cannot be used is a usage error', async () => {
  const store = await database();
  const flagged = await startLars(['dns', '--store', store, '--listen', '127.0.0.1:0', '--admin', 'off', '--notify', 'off', '--set', 'notify.url=bogus'], { LARS_NOTIFY: 'bogus' });
  started.push(flagged);
  assert.match(await flagged.waitForLine(/ notify transport=/), /transport=none reason="notify=off: edits reach dns at its next poll"/);
  const fromEnv = await startLars(['dns', '--store', store, '--listen', '127.0.0.1:0', '--admin', 'off', '--set', 'notify.url=bogus'], { LARS_NOTIFY: 'in-process' });
  started.push(fromEnv);
  assert.match(await fromEnv.waitForLine(/ notify transport=/), /transport=in-process /);
  const auto = await startLars(['dns', '--store', store, '--listen', '127.0.0.1:0', '--admin', 'off']);
  started.push(auto);
  assert.match(await auto.waitForLine(/ notify transport=/), /transport=none reason="a sqlite store cannot notify and no Redis is configured/);

  assertUsageError(await lars(['dns', '--store', store, '--admin', 'off', '--set', 'notify.url=kafka://broker']), /unknown notify setting "kafka:\/\/broker"/);
  assertUsageError(await lars(['route', 'add', '1', '1', '10.0.0.1', '80', '--store', store, '--notify', 'postgres']), /notify=postgres needs a PostgreSQL store, not sqlite/);
  assertUsageError(await lars(['module', 'add', '1', '1', '--store', store], { LARS_NOTIFY: 'rediss://cache:6380' }), /rediss:\/\/ is not supported/);
});
