/**
 * npm run bench -- registry [--engines sqlite,mysql,postgres] [--instances 10000] [--seconds 20]
 *
 * Self-registration at scale against one `lars dns` child per engine
 * (docs/registry.md): 10,000 instances over 100 server connections (each
 * connection holds one instance of each of 100 routes), every instance
 * renewing once a second with a load (most scores jitter within load_delta,
 * 5 % a second move by more), one subscriber to every route. Prints:
 * 1. registering them all: time, replies;
 * 2. steady renewals: renewals/s answered, reply p50/p99, dns CPU and RSS,
 *    store transactions and rows written per second by kind (from the dns's
 *    /metrics), pushes received;
 * 3. instances that stop: one connection's 100 instances stop renewing (TTL
 *    expiry: lease deadline -> push, and last renewal -> push) and another
 *    connection is destroyed as by kill -9 (close -> push), p50/p99.
 *
 * The peer limits are raised for the bench (every connection is 127.0.0.1).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { intToIp } from '../src/protocol/ip.js';
import type { InstanceLoad } from '../src/protocol/messages.js';
import { MsgId } from '../src/protocol/msgid.js';
import { RegistryStatus } from '../src/protocol/registry-status.js';
import { configureLogging } from '../src/reactor/log.js';
import { TcpClient } from '../src/reactor/tcp-client.js';
import { errorReason } from '../src/store/errors.js';
import { openStore, RouteAdmin } from '../src/store/index.js';
import { portOf, startLars, type LarsProcess } from '../test/support/cli.js';
import { discoverEngines, type TestEngine } from '../test/support/engines.js';
import { seededRandom } from '../test/support/net.js';
import { percentile, processCpuSeconds, processRssMiB, table } from './stats.js';

const ROUTES = 100;
const TTL_MS = 3000;
const RENEW_MS = 1000;
const MODID_BASE = 5000;
/** Share of instances whose score moves by more than load_delta each second. */
const MOVING_SHARE = 0.05;

const started = performance.now();
function progress(line: string): void {
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (value: number) => `${Math.round(value)} ms`;

interface Instance {
  modid: number;
  cmdid: number;
  ip: number;
  port: number;
  conn: number;
  lease: number;
  score: number;
  lastRenewAt: number;
  renewing: boolean;
}

/** One server connection: requests out, replies matched by seq. */
class ServerConn {
  readonly client: TcpClient;
  private seq = 0;
  private readonly waiting = new Map<number, { sentAt: number; resolve(reply: { status: number; lease: number; reason: string }): void }>();
  readonly latencies: number[] = [];

  constructor(port: number, name: string) {
    this.client = new TcpClient({ name, addresses: [{ host: '127.0.0.1', port }], maxQueue: 100_000 });
    this.client.handle(MsgId.RegistryReply, (reply) => {
      const pending = this.waiting.get(reply.seq);
      if (!pending) return;
      this.waiting.delete(reply.seq);
      this.latencies.push(performance.now() - pending.sentAt);
      pending.resolve(reply);
    });
    this.client.start();
  }

  register(i: Instance): Promise<{ status: number; lease: number; reason: string }> {
    return this.ask((seq) => this.client.send(MsgId.RegisterRequest, { seq, modid: i.modid, cmdid: i.cmdid, ip: i.ip | 0, port: i.port, ttlMs: TTL_MS }));
  }

  renew(i: Instance, load: InstanceLoad): Promise<{ status: number; lease: number; reason: string }> {
    return this.ask((seq) => this.client.send(MsgId.RenewRequest, { seq, lease: i.lease, modid: i.modid, cmdid: i.cmdid, ip: i.ip | 0, port: i.port, load }));
  }

  private ask(send: (seq: number) => void): Promise<{ status: number; lease: number; reason: string }> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, { sentAt: performance.now(), resolve });
      send(seq);
    });
  }
}

/** Subscribed to every route; notes when each stopped instance left its route. */
class Watcher {
  readonly client: TcpClient;
  pushes = 0;
  readonly goneAt = new Map<string, number>();
  private readonly watched = new Set<string>();

  constructor(port: number) {
    this.client = new TcpClient({
      name: 'bench_watcher',
      addresses: [{ host: '127.0.0.1', port }],
      onConnected: () => {
        for (let r = 0; r < ROUTES; r++) this.client.send(MsgId.GetRouteRequest, { modid: MODID_BASE + r, cmdid: 1 });
      },
    });
    this.client.handle(MsgId.GetRouteResponse, (route) => {
      this.pushes += 1;
      const now = performance.now();
      const present = new Set(route.host.map((h) => `${route.modid}:${h.ip >>> 0}:${h.port}`));
      for (const key of this.watched) {
        if (key.startsWith(`${route.modid}:`) && !present.has(key) && !this.goneAt.has(key)) this.goneAt.set(key, now);
      }
    });
    this.client.start();
  }

  watch(i: Instance): string {
    const key = `${i.modid}:${i.ip}:${i.port}`;
    this.watched.add(key);
    return key;
  }
}

async function scrape(adminAddr: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${adminAddr}/metrics`)).text();
  const figures = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(lars_registry_\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) figures.set(match[1]!, Number(match[2]));
  }
  return figures;
}

const delta = (after: Map<string, number>, before: Map<string, number>, name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);

async function runEngine(engine: TestEngine, count: number, seconds: number): Promise<(string | number)[]> {
  const tag = `[${engine.name}]`;
  const database = await engine.createDatabase();
  let dns: LarsProcess | undefined;
  const conns: ServerConn[] = [];
  let watcher: Watcher | undefined;
  try {
    const store = await openStore(database.url);
    const admin = new RouteAdmin(store);
    for (let r = 0; r < ROUTES; r++) await admin.addModule({ modid: MODID_BASE + r, cmdid: 1 });
    await store.close();
    dns = await startLars(
      [
        'dns', '--store', database.url, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0',
        '--set', `registry.max_instances_per_peer=${count * 2}`, '--set', `registry.registrations_per_second=${count * 2}`,
      ],
      { LARS_LOG_LEVEL: 'info' },
      // The build (npm run bench builds it first), as an operator runs it.
      { timeoutMs: 60_000, compiled: true },
    );
    const port = portOf(dns.ready.addr!);
    const pid = dns.child.pid!;
    const idleRss = await processRssMiB(pid);
    progress(`${tag} lars dns pid ${pid} on port ${port}, RSS ${idleRss.toFixed(0)} MiB before any registration`);
    watcher = new Watcher(port);
    const connCount = Math.ceil(count / ROUTES);
    for (let c = 0; c < connCount; c++) conns.push(new ServerConn(port, `bench_server_${c}`));
    const random = seededRandom(7);
    const instances: Instance[] = [];
    for (let n = 0; n < count; n++) {
      const c = Math.floor(n / ROUTES);
      const r = n % ROUTES;
      // 10.c.r.1: a distinct address per connection and route.
      instances.push({ modid: MODID_BASE + r, cmdid: 1, ip: ((10 << 24) | (c << 16) | (r << 8) | 1) >>> 0, port: 9000, conn: c, lease: 0, score: 100 + Math.floor(random() * 700), lastRenewAt: 0, renewing: true });
    }

    // Renew every instance once per RENEW_MS in 10 ms slots; a late timer catches up on the slots it missed.
    const slots = RENEW_MS / 10;
    const renewStarted = performance.now();
    let slotsDone = 0;
    let renewals = 0;
    let lostLeases = 0;
    const renewTimer = setInterval(() => {
      const now = performance.now();
      const due = Math.floor((now - renewStarted) / 10);
      for (; slotsDone < due; slotsDone++) {
        for (let n = slotsDone % slots; n < instances.length; n += slots) {
          const i = instances[n]!;
          // Each renews from its own registration on, as a server does.
          if (!i.renewing || i.lease === 0) continue;
          const jump = random() < MOVING_SHARE ? (random() < 0.5 ? -1 : 1) * (150 + random() * 150) : (random() - 0.5) * 0.04 * i.score;
          i.score = Math.max(0, Math.min(1500, Math.round(i.score + jump)));
          i.lastRenewAt = now;
          renewals += 1;
          const conn = conns[i.conn]!;
          void conn.renew(i, { inFlight: Math.round(i.score / 50), connections: 4, cpuPermille: Math.min(1000, i.score), score: i.score }).then((reply) => {
            if (reply.status === RegistryStatus.OK || !i.renewing) return;
            // A renewal that came too late: the lease had run out. Register again, as registerInstance does.
            lostLeases += 1;
            return conn.register(i).then((again) => void (i.lease = again.lease));
          });
        }
      }
    }, 10);

    const cpu0 = await processCpuSeconds(pid);
    const t0 = performance.now();
    const replies = await Promise.all(instances.map((i) => conns[i.conn]!.register(i).then((reply) => ((i.lease = reply.lease), reply))));
    const registerMs = performance.now() - t0;
    const accepted = replies.filter((r) => r.status === RegistryStatus.OK).length;
    progress(`${tag} registered ${accepted}/${count}${lostLeases > 0 ? ` (${lostLeases} leases ran out meanwhile)` : ''} in ${ms(registerMs)} (dns CPU ${((await processCpuSeconds(pid)) - cpu0).toFixed(2)} s, RSS ${(await processRssMiB(pid)).toFixed(0)} MiB)`);
    if (accepted !== count) throw new Error(`refused: ${replies.find((r) => r.status !== RegistryStatus.OK)?.reason}`);
    for (const conn of conns) conn.latencies.length = 0;

    await sleep(2000);
    const before = await scrape(dns.ready.admin!);
    const cpu1 = await processCpuSeconds(pid);
    const pushes1 = watcher.pushes;
    const renewals1 = renewals;
    const lost1 = lostLeases;
    const t1 = performance.now();
    for (let s = 1; s <= seconds; s++) {
      await sleep(1000);
      if (s % 5 === 0) progress(`${tag} steady ${s}/${seconds} s, ${renewals - renewals1} renewals sent`);
    }
    const steadyMs = performance.now() - t1;
    const after = await scrape(dns.ready.admin!);
    const cpuShare = ((await processCpuSeconds(pid)) - cpu1) / (steadyMs / 1000);
    const rss = await processRssMiB(pid);
    const perSecond = (value: number) => (value / steadyMs) * 1000;
    const loadTx = perSecond(delta(after, before, 'lars_registry_store_transactions_total{kind="load"}'));
    const loadRows = perSecond(delta(after, before, 'lars_registry_store_rows_total{kind="load"}'));
    const livenessTx = perSecond(delta(after, before, 'lars_registry_store_transactions_total{kind="liveness"}'));
    const replyLatencies = conns.flatMap((c) => c.latencies);
    const renewRate = perSecond(delta(after, before, 'lars_registry_requests_total{kind="renew",status="OK"}'));
    const lost = lostLeases - lost1;
    progress(`${tag} steady: ${Math.round(renewRate)} renewals/s answered, ${lost} leases ran out (renewal too late), dns CPU ${(cpuShare * 100).toFixed(0)} %, RSS ${rss.toFixed(0)} MiB`);

    // Stop: connection 0's instances go silent, connection 1 is destroyed.
    const silent = instances.filter((i) => i.conn === 0);
    const killed = instances.filter((i) => i.conn === 1);
    for (const i of [...silent, ...killed]) watcher.watch(i);
    for (const i of silent) i.renewing = false;
    for (const i of killed) i.renewing = false;
    await sleep(50);
    const closedAt = performance.now();
    await conns[1]!.client.close();
    await sleep(TTL_MS + 3000);
    clearInterval(renewTimer);
    const gone = (i: Instance) => watcher!.goneAt.get(`${i.modid}:${i.ip}:${i.port}`);
    const silentExpiry = silent.map((i) => gone(i)! - (i.lastRenewAt + TTL_MS)).filter(Number.isFinite);
    const silentStop = silent.map((i) => gone(i)! - i.lastRenewAt).filter(Number.isFinite);
    const killedStop = killed.map((i) => gone(i)! - closedAt).filter(Number.isFinite);
    progress(`${tag} stopped: ${silentStop.length}/${silent.length} silent and ${killedStop.length}/${killed.length} killed instances left their routes`);
    return [
      engine.name,
      `${ms(registerMs)}`,
      Math.round(renewRate),
      lost,
      `${percentile(replyLatencies, 50).toFixed(1)}/${percentile(replyLatencies, 99).toFixed(1)}`,
      `${(cpuShare * 100).toFixed(0)} %`,
      `${idleRss.toFixed(0)} -> ${rss.toFixed(0)} MiB`,
      `${loadTx.toFixed(1)} tx, ${Math.round(loadRows)} rows`,
      livenessTx.toFixed(1),
      Math.round(perSecond(watcher.pushes - pushes1)),
      `${ms(percentile(silentExpiry, 50))}/${ms(percentile(silentExpiry, 99))}`,
      `${ms(percentile(silentStop, 50))}/${ms(percentile(silentStop, 99))}`,
      `${ms(percentile(killedStop, 50))}/${ms(percentile(killedStop, 99))}`,
    ];
  } finally {
    await Promise.all(conns.map((c) => c.client.close()));
    await watcher?.client.close();
    await dns?.stop();
    await database.drop();
  }
}

export default async function bench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      engines: { type: 'string', default: 'sqlite,mysql,postgres' },
      instances: { type: 'string', default: '10000' },
      seconds: { type: 'string', default: '20' },
    },
  });
  const count = Math.max(ROUTES * 2, Math.min(50_000, Number(values.instances) || 10_000));
  const seconds = Math.max(5, Math.min(120, Number(values.seconds) || 20));
  const wanted = new Set(values.engines.split(','));
  configureLogging({ level: 'warn' });
  const { available, skipped } = await discoverEngines();
  for (const s of skipped) if (wanted.has(s.name)) console.log(`skipped ${s.name}: ${s.reason}`);
  console.log(`${count} instances on ${ROUTES} routes over ${Math.ceil(count / ROUTES)} connections, TTL ${TTL_MS} ms, renewing every ${RENEW_MS} ms for ${seconds} s; ${intToIp(0x0a000001)}... addresses`);
  const rows: (string | number)[][] = [];
  for (const engine of available.filter((e) => wanted.has(e.name))) {
    try {
      rows.push(await runEngine(engine, count, seconds));
    } catch (err) {
      console.log(`${engine.name}: failed: ${errorReason(err)}`);
    }
  }
  console.log('');
  table(
    ['engine', 'register all', 'renewals/s', 'leases lost', 'reply p50/p99 ms', 'dns CPU', 'dns RSS', 'load writes/s', 'liveness tx/s', 'pushes/s', 'TTL expiry->push p50/p99', 'last renewal->push', 'kill->push'],
    rows,
  );
}
