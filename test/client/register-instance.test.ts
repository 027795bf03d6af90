/**
 * registerInstance and TcpServer's register option against the real dns
 * (startDns in-process, SQLite in a temp dir): the instance reaches the
 * dns's answer, leaves it on close, comes back after a dns restart and after
 * a failover to the next dns address; refusals are typed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerInstance, RegistrationRefusedError, type InstanceHandle } from '../../src/client/index.js';
import { DNS_CONFIG_SECTIONS } from '../../src/dns/config.js';
import { startDns, type DnsService } from '../../src/dns/service.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RegistryStatus } from '../../src/protocol/registry-status.js';
import { loadConfig, parseSettings } from '../../src/reactor/config.js';
import { TcpServer } from '../../src/reactor/tcp-server.js';
import { openStore, RouteAdmin, type Store } from '../../src/store/index.js';
import { nodeArgs, REPO } from '../support/cli.js';
import { routeOf, waitForRoute } from '../support/dns-route.js';
import { captureLogs, RawTcpClient, unusedPort, waitFor } from '../support/net.js';

const config = loadConfig({ sections: DNS_CONFIG_SECTIONS, env: {}, overrides: parseSettings(['dns.poll_interval_ms=50', 'registry.load_flush_ms=100']) });

const logs = captureLogs('info');
let dir: string;
let store: Store;
const running = new Set<DnsService>();
const handles: InstanceHandle[] = [];

function dnsOn(port: number): Promise<DnsService> {
  return startDns({ ...config, store, host: '127.0.0.1', port }).then((dns) => {
    running.add(dns);
    return dns;
  });
}

async function stopDns(dns: DnsService): Promise<void> {
  running.delete(dns);
  await dns.close();
}

async function register(options: Omit<Parameters<typeof registerInstance>[0], 'dns'> & { dns: string }): Promise<InstanceHandle> {
  const handle = await registerInstance(options);
  handles.push(handle);
  return handle;
}

/** A free port for an instance that is registered but never called. */
const instancePort = unusedPort;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-register-'));
  store = await openStore('sqlite:' + join(dir, 'lars.db'));
  const admin = new RouteAdmin(store);
  for (const cmdid of [1, 2, 3, 4, 5, 6, 7]) await admin.addModule({ modid: 7, cmdid, description: `registered ${cmdid}` });
});

after(async () => {
  await Promise.all(handles.map((h) => h.close()));
  await Promise.all([...running].map((dns) => dns.close()));
  await store.close();
  await rm(dir, { recursive: true, force: true });
  logs.restore();
});

test('a registered instance is in the dns answer, with the load it renews with, and leaves it on close', async () => {
  const dns = await dnsOn(0);
  const port = await instancePort();
  const handle = await register({ dns: `127.0.0.1:${dns.address!.port}`, modid: 7, cmdid: 1, port, ttlMs: 1500, load: () => ({ inFlight: 3, connections: 2, cpuPermille: 100, score: 640 }) });
  assert.equal(handle.registered, true);
  assert.equal(handle.ip, '127.0.0.1');
  assert.ok(handle.lease !== undefined);
  const instance = `127.0.0.1:${port}`;
  await waitForRoute(dns.address!.port, 7, 1, (hosts) => hosts.get(instance) === 640);

  await handle.close();
  assert.equal(handle.registered, false);
  assert.ok(logs.matching(/registration deregistered lease=/).length > 0);
  await waitForRoute(dns.address!.port, 7, 1, (hosts) => !hosts.has(instance));
  await stopDns(dns);
});

test('a refusal is a RegistrationRefusedError carrying the status: no module, a TTL outside the range', async () => {
  const dns = await dnsOn(0);
  const address = `127.0.0.1:${dns.address!.port}`;
  const port = await instancePort();
  await assert.rejects(registerInstance({ dns: address, modid: 7, cmdid: 99, port }), (err: unknown) => {
    assert.ok(err instanceof RegistrationRefusedError);
    assert.equal(err.status, RegistryStatus.NO_MODULE);
    return true;
  });
  await assert.rejects(registerInstance({ dns: address, modid: 7, cmdid: 2, port, ttlMs: 10 }), (err: unknown) => {
    assert.ok(err instanceof RegistrationRefusedError);
    assert.equal(err.status, RegistryStatus.BAD_TTL);
    return true;
  });
  assert.equal((await routeOf(dns.address!.port, 7, 2)).size, 0);
  await stopDns(dns);
});

test('after a dns restart on the same port and store the instance registers again', async () => {
  const first = await dnsOn(0);
  const dnsPort = first.address!.port;
  const port = await instancePort();
  const handle = await register({ dns: `127.0.0.1:${dnsPort}`, modid: 7, cmdid: 3, port, ttlMs: 1500 });
  const lease = handle.lease;
  await stopDns(first);
  await waitFor(() => !handle.registered, { message: 'the lost connection to end the lease' });

  const second = await dnsOn(dnsPort);
  await waitFor(() => handle.registered && handle.lease !== lease, { message: 'a new lease from the restarted dns' });
  await waitForRoute(second.address!.port, 7, 3, (hosts) => hosts.has(`127.0.0.1:${port}`));
  await handle.close();
  await waitForRoute(second.address!.port, 7, 3, (hosts) => !hosts.has(`127.0.0.1:${port}`));
  await stopDns(second);
});

test('when the first dns address goes away the instance fails over to the next one', async () => {
  const a = await dnsOn(0);
  const b = await dnsOn(0);
  const port = await instancePort();
  const handle = await register({ dns: `127.0.0.1:${a.address!.port},127.0.0.1:${b.address!.port}`, modid: 7, cmdid: 4, port, ttlMs: 1500 });
  const lease = handle.lease;
  await stopDns(a);

  await waitFor(() => handle.registered && handle.lease !== lease, { message: 'a lease from the second dns' });
  await waitForRoute(b.address!.port, 7, 4, (hosts) => hosts.has(`127.0.0.1:${port}`));
  await handle.close();
  await stopDns(b);
});

test('a TcpServer with register is in the route once listening; close deregisters, then lets a call in flight answer', async () => {
  const dns = await dnsOn(0);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const server = new TcpServer({ name: 'business', host: '127.0.0.1', port: 0, register: { dns: [{ host: '127.0.0.1', port: dns.address!.port }], modid: 7, cmdid: 5, ttlMs: 1500 } });
  server.handle(MsgId.GetHostRequest, async (conn, request) => {
    await held;
    conn.send(MsgId.GetHostResponse, { seq: request.seq, modid: request.modid, cmdid: request.cmdid, retcode: 0 });
  });
  const { port } = await server.listen();
  assert.equal(server.registration?.registered, true);
  const instance = `127.0.0.1:${port}`;
  await waitForRoute(dns.address!.port, 7, 5, (hosts) => hosts.has(instance));

  const caller = await RawTcpClient.connect(port);
  caller.send(MsgId.GetHostRequest, { seq: 41, modid: 7, cmdid: 5 });
  await waitFor(() => server.inFlight === 1, { message: 'the call to be in flight' });
  const closed = server.close();
  await waitForRoute(dns.address!.port, 7, 5, (hosts) => !hosts.has(instance));
  assert.equal(server.inFlight, 1, 'deregistered while the call was still being served');
  release();
  const reply = await caller.nextMessage(MsgId.GetHostResponse);
  assert.equal(reply.seq, 41);
  await closed;
  await caller.close();
  await stopDns(dns);
});

test('without a load callback the renewals carry the process load, whose score reaches the route', async () => {
  const dns = await dnsOn(0);
  const port = await instancePort();
  const handle = await register({ dns: `127.0.0.1:${dns.address!.port}`, modid: 7, cmdid: 6, port, ttlMs: 1500, connections: () => 4 });
  handle.begin();
  assert.equal(handle.inFlight, 1);
  await waitForRoute(dns.address!.port, 7, 6, (hosts) => typeof hosts.get(`127.0.0.1:${port}`) === 'number');
  handle.end();
  assert.throws(() => handle.end(), RangeError);
  await handle.close();
  await stopDns(dns);
});

test('with closeOnSignal, SIGTERM deregisters, then ends the process as the signal would have', async () => {
  const dns = await dnsOn(0);
  const port = await instancePort();
  const child = spawn(process.execPath, [...nodeArgs('test/client/fixtures/register-on-signal'), `127.0.0.1:${dns.address!.port}`, '7', '7', String(port)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  await waitFor(() => stdout.includes('registered '), { message: 'the child to register', timeoutMs: 30_000 });
  await waitForRoute(dns.address!.port, 7, 7, (hosts) => hosts.has(`127.0.0.1:${port}`));
  child.kill('SIGTERM');
  const [code, signal] = await exited;
  assert.deepEqual([code, signal], [null, 'SIGTERM']);
  assert.match(stderr, / registration deregistered lease=/);
  await waitForRoute(dns.address!.port, 7, 7, (hosts) => !hosts.has(`127.0.0.1:${port}`));
  await stopDns(dns);
});
