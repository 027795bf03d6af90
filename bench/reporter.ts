/**
 * npm run bench -- reporter [--seconds S] [--engines sqlite,mysql,postgres]
 *
 * Sustained host-results/s into each store, two ways, side by side:
 * - "one statement per result", the way Lars stores them: an autocommitted
 *   single-row upsert of call_status per host result, from db_thread_cnt
 *   connections (1 for SQLite), straight from this process — no network
 *   intake at all, and only the status table (Lars has no series), so this
 *   side is flattered;
 * - "batched reporter": the real `lars reporter` process fed ReportStatusRequest
 *   frames over TCP, writing call_status and call_series in batches. The load
 *   generator never has more than half of queue_max_results sent and not yet
 *   written, so the figure is what the reporter sustains without dropping.
 * Every frame carries a new window, so no result collapses into another: each
 * is one status upsert and one new series row. Progress and the reporter's
 * memory are printed each second.
 *
 * Env: LARS_BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/test) and
 * LARS_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test) name a
 * server where a scratch database may be created and dropped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { encodeFrame } from '../src/protocol/frame.js';
import { encodeBody, type HostCallResult } from '../src/protocol/messages.js';
import { MsgId } from '../src/protocol/msgid.js';
import { configFrom } from '../src/reactor/config.js';
import { REPORTER_CONFIG_SECTIONS } from '../src/reporter/config.js';
import { NO_DURATIONS, upsertStatus, type StatusRow } from '../src/store/status.js';
import { kyselyOf, openStore } from '../src/store/store.js';
import type { StoreKind } from '../src/store/url.js';
import { processRssMiB, rssMiB, table } from './stats.js';

const REPO = new URL('../', import.meta.url).pathname;
const CALLERS = 200;
const ROUTES = 50;
const HOSTS_PER_REPORT = 20;
const SENDERS = 4;
/** Skipped at the start of each run, while things warm up. */
const WARMUP_SECONDS = 2;

interface ScratchDatabase {
  kind: StoreKind;
  url: string;
  drop(): Promise<void>;
}

async function scratchDatabase(kind: StoreKind): Promise<ScratchDatabase> {
  const name = `lars_bench_${process.pid}`;
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'lars-bench-'));
    return { kind, url: `sqlite:${join(dir, 'lars.db')}`, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  if (kind === 'mysql') {
    const server = process.env.LARS_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
    const admin = async (statement: string) => {
      const conn = await mysql.createConnection({ uri: server, connectTimeout: 2000 });
      await conn.query(statement).finally(() => conn.end());
    };
    await admin(`create database ${name} character set utf8mb4`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    return { kind, url: url.href, drop: () => admin(`drop database if exists ${name}`) };
  }
  const server = process.env.LARS_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: server, connectionTimeoutMillis: 2000 });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };
  await admin(`create database ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { kind, url: url.href, drop: () => admin(`drop database if exists ${name} with (force)`) };
}

/** The k-th report of the load: callers and routes in turn, a new window every CALLERS * ROUTES reports. */
function reportNumber(k: number, baseTs: number) {
  const caller = (k % CALLERS) + 1;
  const modid = (Math.floor(k / CALLERS) % ROUTES) + 1;
  const ts = baseTs + Math.floor(k / (CALLERS * ROUTES));
  return { modid, cmdid: 1, caller, ts };
}

function hostResults(k: number): HostCallResult[] {
  return Array.from({ length: HOSTS_PER_REPORT }, (_, h) => ({ ip: (10 << 24) | (h + 1), port: 8000 + h, succ: k % 1000, err: k % 7, overload: false }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Calls tick(second) once a second for `seconds`, then resolves. */
async function everySecond(seconds: number, tick: (second: number) => Promise<void>): Promise<void> {
  const start = Date.now();
  for (let second = 1; second <= seconds; second++) {
    await sleep(Math.max(0, start + second * 1000 - Date.now()));
    await tick(second);
  }
}

/** Lars's way: one autocommitted single-row upsert per host result, from `writers` connections. */
async function oneStatementPerResult(db: ScratchDatabase, seconds: number, writers: number): Promise<number> {
  const store = await openStore(db.url);
  let done = 0;
  let running = true;
  const baseTs = Math.floor(Date.now() / 1000) - 86_400;
  let next = 0;
  const loops = Array.from({ length: writers }, async () => {
    while (running) {
      const k = next++;
      const report = reportNumber(Math.floor(k / HOSTS_PER_REPORT), baseTs);
      const h = k % HOSTS_PER_REPORT;
      const row: StatusRow = { ...report, ip: (10 << 24) | (h + 1), port: 8000 + h, succ: k % 1000, err: k % 7, overload: 0, ...NO_DURATIONS };
      await upsertStatus(kyselyOf(store), store.kind, [row]);
      done += 1;
      // SQLite answers synchronously: without a real yield the progress timer would never run.
      if (done % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  });
  let measuredFrom = 0;
  let last = 0;
  await everySecond(seconds, async (second) => {
    console.log(`  one-per-result ${db.kind} t=${second}s ${(done - last).toLocaleString('en-US')}/s  rss ${rssMiB()}`);
    last = done;
    if (second === WARMUP_SECONDS) measuredFrom = done;
  });
  const measured = done - measuredFrom;
  running = false;
  await Promise.all(loops);
  await store.close();
  return measured / (seconds - WARMUP_SECONDS);
}

interface ReporterStats {
  resultsAccepted: number;
  resultsWritten: number;
  queuedResults: number;
  resultsDropped: { overflow: number; shutdown: number; rejected: number };
}

async function startReporterProcess(url: string): Promise<{ child: ChildProcess; port: number; admin: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'reporter', '--store', url, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0',
    // The whole load comes from this one address; the per-peer quota (docs/reporter.md) would measure itself instead of the writes.
    '--set', 'reporter.peer_results_per_second=100000000'], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const deadline = Date.now() + 60_000;
  // The service's ready line names both addresses.
  const ready = /reporter ready addr=[^ ]*:(\d+) .*admin=(\S+)/;
  let started: RegExpExecArray | null;
  while (!(started = ready.exec(stderr))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`reporter did not start: ${stderr}`);
    await sleep(50);
  }
  return {
    child,
    port: Number(started[1]),
    admin: `http://${started[2]}`,
    stderr: () => stderr,
  };
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The real reporter fed over TCP as fast as it writes without dropping. */
async function batchedReporter(db: ScratchDatabase, seconds: number): Promise<{ rate: number; peakRssMiB: number; dropped: number }> {
  const queueMax = configFrom(REPORTER_CONFIG_SECTIONS).reporter.queue_max_results;
  const reporter = await startReporterProcess(db.url);
  const stats = async () => (await (await fetch(`${reporter.admin}/stats`)).json()) as ReporterStats;
  const sockets = await Promise.all(Array.from({ length: SENDERS }, () => connectTo(reporter.port)));
  const baseTs = Math.floor(Date.now() / 1000) - 86_400;
  // Flow control by window: results sent but not yet known written never exceed
  // half the queue, wherever they are (socket buffers, queue, being written).
  let writtenSoFar = 0;
  let running = true;
  const poller = (async () => {
    while (running) {
      writtenSoFar = (await stats()).resultsWritten;
      await sleep(20);
    }
  })();
  let k = 0;
  const sender = (async () => {
    while (running) {
      if (k * HOSTS_PER_REPORT - writtenSoFar > queueMax / 2) {
        await sleep(5);
        continue;
      }
      for (const socket of sockets) {
        const frame = encodeFrame(MsgId.ReportStatusRequest, encodeBody(MsgId.ReportStatusRequest, { ...reportNumber(k, baseTs), results: hostResults(k) }));
        k += 1;
        if (!socket.write(frame)) await new Promise((resolve) => socket.once('drain', resolve));
      }
      // Yield now and then so the poller's answers are read.
      if (k % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  let peakRssMiB = 0;
  let measuredFrom = 0;
  let last = 0;
  let final: ReporterStats | undefined;
  await everySecond(seconds, async (second) => {
    const now = await stats();
    const rss = await processRssMiB(reporter.child.pid!);
    peakRssMiB = Math.max(peakRssMiB, rss);
    console.log(
      `  batched ${db.kind} t=${second}s written ${(now.resultsWritten - last).toLocaleString('en-US')}/s  queued ${now.queuedResults.toLocaleString('en-US')}  reporter rss ${rss.toFixed(1)} MiB`,
    );
    last = now.resultsWritten;
    if (second === WARMUP_SECONDS) measuredFrom = now.resultsWritten;
    final = now;
  });
  running = false;
  await Promise.all([sender, poller]);
  for (const socket of sockets) socket.destroy();
  reporter.child.kill('SIGTERM');
  await new Promise((resolve) => reporter.child.once('exit', resolve));
  const dropped = final!.resultsDropped.overflow + final!.resultsDropped.rejected;
  for (const line of reporter.stderr().split('\n')) if (/ (warn|error) /.test(line)) console.log(`  reporter: ${line}`);
  return { rate: (final!.resultsWritten - measuredFrom) / (seconds - WARMUP_SECONDS), peakRssMiB, dropped };
}

export default async function bench(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { seconds: { type: 'string' }, engines: { type: 'string' } } });
  const seconds = Math.max(WARMUP_SECONDS + 2, Number(values.seconds ?? 10));
  const engines = (values.engines ?? 'sqlite,mysql').split(',') as StoreKind[];
  const writers = configFrom(REPORTER_CONFIG_SECTIONS).reporter.db_thread_cnt;
  console.log(`${seconds} s per run (first ${WARMUP_SECONDS} s not counted); ${HOSTS_PER_REPORT} hosts per report, ${CALLERS} callers x ${ROUTES} routes`);
  const rows: (string | number)[][] = [];
  for (const kind of engines) {
    let db: ScratchDatabase;
    try {
      db = await scratchDatabase(kind);
    } catch (err) {
      console.log(`SKIP ${kind}: ${(err as Error).message}`);
      continue;
    }
    try {
      const lanes = kind === 'sqlite' ? 1 : writers;
      console.log(`${kind}: one statement per result, ${lanes} connection(s)`);
      const single = await oneStatementPerResult(db, seconds, lanes);
      console.log(`${kind}: batched, through lars reporter`);
      const batched = await batchedReporter(db, seconds);
      rows.push([
        kind,
        Math.round(single).toLocaleString('en-US'),
        Math.round(batched.rate).toLocaleString('en-US'),
        `${(batched.rate / single).toFixed(1)}x`,
        batched.peakRssMiB.toFixed(1),
        batched.dropped,
      ]);
    } finally {
      await db.drop();
    }
  }
  console.log('');
  table(['engine', 'one-per-result/s', 'batched/s', 'ratio', 'reporter peak RSS MiB', 'dropped'], rows);
}
