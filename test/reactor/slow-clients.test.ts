/**
 * Slow-loris peers against a real dns (docs/reactor.md, "Behaviour an
 * operator can rely on"): the per-peer connection limit, the frame deadline,
 * and room made at the connection limit by dropping a connection that never
 * completed a frame. Loopback only; other source addresses are 127.0.0.x.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsService } from '../../src/dns/service.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { openStore, RouteAdmin, type Store } from '../../src/store/index.js';
import { captureLogs, frameOf, RawTcpClient, waitFor } from '../support/net.js';
import { startDnsHere, type LocalService } from '../support/services.js';

const logs = captureLogs('info');
after(() => logs.restore());

let dir: string;
let store: Store;
const sockets: Socket[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-slow-clients-'));
  store = await openStore(`sqlite:${join(dir, 'lars.db')}`);
  const admin = new RouteAdmin(store);
  await admin.addModule({ modid: 1, cmdid: 1 });
  await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 });
});
after(async () => {
  for (const s of sockets) s.destroy();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A raw socket from the given loopback address, open (and optionally having sent some bytes). */
function hold(port: number, localAddress: string, bytes?: Buffer): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      if (bytes) socket.write(bytes);
      sockets.push(socket);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

const closed = (socket: Socket) => waitFor(() => socket.destroyed || socket.readableEnded, { message: 'the server to close it' });

/** A good client (from 127.0.0.1): how many hosts its answer carries. */
async function answered(port: number): Promise<number> {
  const client = await RawTcpClient.connect(port);
  try {
    client.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
    return (await client.nextMessage(MsgId.GetRouteResponse, { timeoutMs: 2000 })).host.length;
  } finally {
    await client.close();
  }
}

const metric = (dns: LocalService<DnsService>, name: string) =>
  Number(dns.metrics.render().split('\n').find((l) => l.startsWith(`lars_dns_${name} `))?.split(' ')[1] ?? 0);

describe('per-peer limit and frame deadline', () => {
  let dns: LocalService<DnsService>;
  before(async () => {
    dns = await startDnsHere({ store, set: ['reactor.max_conn_per_peer=10', 'reactor.frame_deadline_ms=300'] });
  });
  after(() => dns.stop());

  test('one address holds at most max_conn_per_peer; another is served meanwhile', async () => {
    const held = await Promise.all(Array.from({ length: 10 }, () => hold(dns.port, '127.0.0.2')));
    const extra = await hold(dns.port, '127.0.0.2');
    await closed(extra);
    assert.equal(await answered(dns.port), 1);
    assert.ok(metric(dns, 'connections_rejected_total') >= 1);
    for (const s of held) s.destroy();
  });

  test('a frame begun and not finished within frame_deadline_ms closes its connection, trickling or stalled', async () => {
    const frame = frameOf(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
    const stalled = await hold(dns.port, '127.0.0.3', frame.subarray(0, 1));
    const trickling = await hold(dns.port, '127.0.0.3', frame.subarray(0, 1));
    let sent = 1;
    const drip = setInterval(() => {
      if (sent < frame.length - 1) trickling.write(frame.subarray(sent, ++sent));
    }, 100);
    try {
      await closed(stalled);
      await closed(trickling);
    } finally {
      clearInterval(drip);
    }
    assert.ok(sent < frame.length, 'cut before the frame was done');
    assert.ok(metric(dns, 'frame_deadlines_total') >= 2);
    await dns.waitForLine(/frame_deadline /);
  });

  test('a connection between frames is not cut, however long it waits', async () => {
    const client = await RawTcpClient.connect(dns.port);
    client.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
    await client.nextMessage(MsgId.GetRouteResponse);
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(client.closed, false);
    await client.close();
  });
});

describe('at the connection limit', () => {
  let dns: LocalService<DnsService>;
  before(async () => {
    dns = await startDnsHere({ store, set: ['reactor.max_conn=20', 'reactor.max_conn_per_peer=0', 'reactor.frame_deadline_ms=0'] });
  });
  after(() => dns.stop());

  test('a connection that never completed a frame makes room for a new one; working ones are kept', async () => {
    const working: RawTcpClient[] = [];
    for (let i = 0; i < 10; i++) {
      const client = await RawTcpClient.connect(dns.port);
      client.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
      await client.nextMessage(MsgId.GetRouteResponse);
      working.push(client);
    }
    const silent: Socket[] = [];
    for (let i = 0; i < 10; i++) silent.push(await hold(dns.port, '127.0.0.4'));
    await waitFor(() => dns.service.health().connections === 20);
    assert.equal(await answered(dns.port), 1, 'served although every slot was taken');
    await closed(silent[0]!);
    assert.equal(metric(dns, 'connections_evicted_total'), 1);
    assert.ok(working.every((c) => !c.closed), 'no working connection was dropped');
    for (const c of working) await c.close();
  });
});
