/**
 * Idle timeout and keepalives (docs/reactor.md, "Keepalive"), with timeouts
 * of a second instead of minutes: an idle agent of ours stays connected to
 * dns and reporter, an idle Lars-style client is cut and served again when it
 * reconnects, a hung dns (SIGSTOP) is left for the next one, and a service
 * that never answers (Lars's) gets one probe and no more.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/service.js';
import type { DnsService } from '../../src/dns/service.js';
import { MsgId } from '../../src/protocol/msgid.js';
import type { Reporter } from '../../src/reporter/service.js';
import { MetricsRegistry } from '../../src/reactor/metrics.js';
import { TcpClient } from '../../src/reactor/tcp-client.js';
import { openStore, RouteAdmin, type Store } from '../../src/store/index.js';
import { portOf, startLars, type LarsProcess } from '../support/cli.js';
import { captureLogs, RawTcpClient, waitFor } from '../support/net.js';
import { startAgentHere, startDnsHere, startReporterHere, type LocalService } from '../support/services.js';

const logs = captureLogs('info');
after(() => logs.restore());

/** Servers cut after 1 s of silence; clients send a keepalive after 300 ms without a frame. */
const SHORT = ['reactor.idle_timeout_s=1', 'reactor.keepalive_interval_ms=300'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const metric = (metrics: MetricsRegistry, name: string) =>
  Number(metrics.render().split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? 0);

let dir: string;
let store: Store;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-keepalive-'));
  store = await openStore(`sqlite:${join(dir, 'lars.db')}`);
  const admin = new RouteAdmin(store);
  await admin.addModule({ modid: 1, cmdid: 1 });
  await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 });
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('idle timeout against our clients and Lars-style ones', () => {
  let dns: LocalService<DnsService>;
  let reporter: LocalService<Reporter>;
  before(async () => {
    dns = await startDnsHere({ store, set: SHORT });
    reporter = await startReporterHere({ store, set: SHORT });
  });
  after(async () => {
    await dns.stop();
    await reporter.stop();
  });

  test('an idle agent stays connected to dns and reporter through several idle timeouts: no reconnect', async () => {
    const agent: LocalService<Agent> = await startAgentHere({ dns: dns.addr, reporter: reporter.addr, set: SHORT });
    try {
      await waitFor(() => agent.service.health().dns !== null && agent.service.health().reporter);
      await sleep(4000);
      for (const link of ['agent_dns', 'agent_reporter']) {
        assert.equal(metric(agent.metrics, `lars_${link}_connects_total`), 1, `${link}: one connection, never re-made`);
        // One per quiet interval (300 ms: 13 in 4 s), not one per two: the reply to the last one is no traffic of the link's own.
        assert.ok(metric(agent.metrics, `lars_${link}_keepalives_sent_total`) >= 9, `${link}: a keepalive every interval`);
        assert.equal(metric(agent.metrics, `lars_${link}_keepalive_timeouts_total`), 0);
      }
      assert.equal(metric(dns.metrics, 'lars_dns_idle_timeouts_total'), 0);
      assert.equal(metric(reporter.metrics, 'lars_reporter_idle_timeouts_total'), 0);
    } finally {
      await agent.stop();
    }
  });

  test('an idle Lars-style client (no keepalives) is cut after idle_timeout_s, and served when it reconnects', async () => {
    const before = metric(dns.metrics, 'lars_dns_idle_timeouts_total');
    const lars = await RawTcpClient.connect(dns.port);
    lars.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
    assert.equal((await lars.nextMessage(MsgId.GetRouteResponse)).host.length, 1);
    const quietSince = Date.now();
    await lars.whenClosed({ timeoutMs: 3000 });
    assert.ok(Date.now() - quietSince >= 900, 'not before the idle timeout');
    assert.equal(metric(dns.metrics, 'lars_dns_idle_timeouts_total'), before + 1);
    await dns.waitForLine(/idle_timeout .*idleMs=1000/);
    // Lars's tcp_client connects again when its connection closes; its next pull is answered.
    const again = await RawTcpClient.connect(dns.port);
    again.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
    assert.equal((await again.nextMessage(MsgId.GetRouteResponse)).host.length, 1);
    await again.close();
  });
});

describe('a service that stops answering, and one that never does', () => {
  test('a hung dns (SIGSTOP) is found by its silence and the client moves to the next dns', async () => {
    const url = `sqlite:${join(dir, 'lars.db')}`;
    const procs: LarsProcess[] = [];
    const metrics = new MetricsRegistry();
    let client: TcpClient | undefined;
    try {
      for (let i = 0; i < 2; i++) procs.push(await startLars(['dns', '--store', url, '--listen', '127.0.0.1:0', '--admin', 'off']));
      const [hung, next] = procs.map((p) => portOf(p.ready.addr!));
      client = new TcpClient({
        name: 'probe',
        addresses: [
          { host: '127.0.0.1', port: hung! },
          { host: '127.0.0.1', port: next! },
        ],
        keepaliveMs: 300,
        reconnect: { initialMs: 10, maxMs: 50 },
        metrics,
      }).start();
      await waitFor(() => client!.peerAnswersKeepalive === true, { message: 'the first dns to answer a keepalive' });
      procs[0]!.child.kill('SIGSTOP');
      await waitFor(() => client!.address?.port === next, { timeoutMs: 5000, message: 'the client to move to the second dns' });
      assert.equal(metric(metrics, 'lars_probe_keepalive_timeouts_total'), 1);
      procs[0]!.child.kill('SIGCONT');
    } finally {
      await client?.close();
      for (const p of procs) await p.kill();
    }
  });

  test('a service that never answers keepalives (Lars) gets one probe; the link stays up', async () => {
    const received: Buffer[] = [];
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk) => received.push(chunk));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const metrics = new MetricsRegistry();
    const known: boolean[] = [];
    const client = new TcpClient({ name: 'lars_peer', addresses: [{ host: '127.0.0.1', port }], keepaliveMs: 200, metrics, onPeerKnown: (a) => known.push(a) }).start();
    try {
      await waitFor(() => known.length > 0, { message: 'the client to decide what the service is' });
      await sleep(1000);
      assert.deepEqual(known, [false]);
      assert.equal(client.connected, true, 'not dropped: Lars services never answer');
      assert.equal(metric(metrics, 'lars_lars_peer_keepalives_sent_total'), 1, 'one probe, then no more');
      assert.equal(metric(metrics, 'lars_lars_peer_connects_total'), 1);
      assert.equal(Buffer.concat(received).readInt32LE(0), MsgId.KeepaliveRequest, 'the probe is a KeepaliveRequest frame');
    } finally {
      await client.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
