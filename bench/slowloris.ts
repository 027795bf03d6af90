/**
 * npm run bench -- slowloris [--connections 2000] [--seconds 20]
 *
 * Slow-loris peers against `lars dns` and `lars reporter` children with their
 * default limits (docs/reactor.md): `--connections` connections spread over
 * 127.0.0.2-127.0.0.255 (many attacking hosts, so the per-peer limit alone
 * does not stop them), a third silent, a third stalled after one byte, a
 * third trickling a byte every 3 s, each re-opened as soon as the service
 * closes it. Meanwhile a good client from 127.0.0.1 connects afresh every
 * 200 ms and sends one request (GetRouteRequest to dns; a report then a new
 * connection to the reporter): its time to an answer (dns) or to an accepted
 * connection that is not closed (reporter), p50/p99/max, and failures.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { encodeFrame } from '../src/protocol/frame.js';
import { encodeBody } from '../src/protocol/messages.js';
import { MsgId } from '../src/protocol/msgid.js';
import { openStore, RouteAdmin } from '../src/store/index.js';
import { portOf, startLars, type LarsProcess } from '../test/support/cli.js';
import { discoverEngines } from '../test/support/engines.js';
import { RawTcpClient } from '../test/support/net.js';
import { percentile, processRssMiB, table } from './stats.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const started = performance.now();
const progress = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);

type Kind = 'silent' | 'stalled' | 'trickling';

/** Holds `count` attacking connections open, re-opening each one the service closes. */
class Attack {
  private readonly sockets = new Set<Socket>();
  private stopped = false;
  reopened = 0;

  constructor(private readonly port: number, count: number, private readonly frame: Buffer) {
    for (let i = 0; i < count; i++) this.open(i, (['silent', 'stalled', 'trickling'] as const)[i % 3]!);
  }

  get held(): number {
    return this.sockets.size;
  }

  private open(i: number, kind: Kind): void {
    if (this.stopped) return;
    const socket = connect({ host: '127.0.0.1', port: this.port, localAddress: `127.0.0.${2 + (i % 254)}` });
    this.sockets.add(socket);
    let timer: NodeJS.Timeout | undefined;
    let sent = 0;
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      if (kind === 'silent') return;
      socket.write(this.frame.subarray(0, ++sent));
      if (kind === 'trickling') timer = setInterval(() => sent < this.frame.length - 1 && socket.write(this.frame.subarray(sent, ++sent)), 3000);
    });
    socket.once('close', () => {
      clearInterval(timer);
      this.sockets.delete(socket);
      if (this.stopped) return;
      this.reopened += 1;
      setTimeout(() => this.open(i, kind), 50);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
  }
}

async function goodClient(port: number, frame: Buffer, answers: boolean): Promise<number> {
  const t0 = performance.now();
  const client = await RawTcpClient.connect(port);
  try {
    client.write(frame);
    if (answers) await client.nextMessage(MsgId.GetRouteResponse, { timeoutMs: 5000 });
    else {
      await sleep(100);
      if (client.closed) throw new Error('closed');
    }
    return performance.now() - t0 - (answers ? 0 : 100);
  } finally {
    await client.close();
  }
}

export default async function bench(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { connections: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '20' } } });
  const count = Math.max(30, Math.min(10_000, Number(values.connections) || 2000));
  const seconds = Math.max(5, Math.min(120, Number(values.seconds) || 20));
  const sqlite = (await discoverEngines()).available.find((e) => e.name === 'sqlite')!;
  const database = await sqlite.createDatabase();
  const store = await openStore(database.url);
  await new RouteAdmin(store).addModule({ modid: 1, cmdid: 1 });
  await new RouteAdmin(store).addHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 });
  await store.close();
  const rows: (string | number)[][] = [];
  const targets = [
    { name: 'dns', frame: encodeFrame(MsgId.GetRouteRequest, encodeBody(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 })), answers: true },
    {
      name: 'reporter',
      frame: encodeFrame(MsgId.ReportStatusRequest, encodeBody(MsgId.ReportStatusRequest, { modid: 1, cmdid: 1, caller: 1, results: [{ ip: 1, port: 80, succ: 1, err: 0, overload: false }], ts: 0 })),
      answers: false,
    },
  ];
  try {
    for (const target of targets) {
      // The build, as an operator runs it (npm run bench builds it first).
      const child: LarsProcess = await startLars([target.name, '--store', database.url, '--listen', '127.0.0.1:0', '--admin', 'off'], {}, { timeoutMs: 60_000, compiled: true });
      const port = portOf(child.ready.addr!);
      progress(`${target.name} pid ${child.child.pid} on :${port}; opening ${count} slow-loris connections from 127.0.0.2-255`);
      const attack = new Attack(port, count, target.frame);
      await sleep(3000);
      const latencies: number[] = [];
      let failures = 0;
      const until = performance.now() + seconds * 1000;
      while (performance.now() < until) {
        await goodClient(port, target.frame, target.answers).then(
          (ms) => latencies.push(ms),
          () => (failures += 1),
        );
        await sleep(200);
        if (latencies.length % 25 === 0) progress(`${target.name}: ${latencies.length} good requests, ${failures} failed, attackers open ${attack.held}, re-opened ${attack.reopened}`);
      }
      const rss = await processRssMiB(child.child.pid!);
      attack.stop();
      await child.stop();
      rows.push([
        target.name,
        count,
        latencies.length,
        failures,
        `${percentile(latencies, 50).toFixed(1)} / ${percentile(latencies, 99).toFixed(1)} / ${Math.max(...latencies).toFixed(1)} ms`,
        attack.reopened,
        `${rss.toFixed(0)} MiB`,
      ]);
    }
  } finally {
    await database.drop();
  }
  console.log('');
  table(['service', 'attackers', 'good requests', 'failed', 'good client p50 / p99 / max', 'attacker connections cut', 'service RSS'], rows);
}
