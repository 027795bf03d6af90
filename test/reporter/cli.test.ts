/**
 * The real `lars reporter` and `lars status` processes: an independent client
 * sending hand-built id-3 frames, SIGTERM flushing the queue, a 10-second
 * store outage under load on every reachable engine, and usage errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallStatus, NO_DURATIONS } from '../../src/store/status.js';
import { kyselyOf, openStore } from '../../src/store/store.js';
import { lars, larsArgs } from '../support/cli.js';
import { forEachEngine } from '../support/engines.js';
import { occupiedPort, waitFor } from '../support/net.js';
import { recentTs, reportFrame, reportOf, storeOutage } from './helpers.js';

const REPO = new URL('../../', import.meta.url).pathname;

/** A running `lars reporter`: its stderr so far, the addresses it printed, its exit. */
class ReporterProcess {
  stderr = '';
  readonly exited: Promise<number | null>;
  private constructor(readonly child: ChildProcess) {
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(args: string[]): Promise<ReporterProcess> {
    const child = spawn(process.execPath, larsArgs(['reporter', '--listen', '127.0.0.1:0', ...args]), {
      cwd: REPO,
      env: { ...process.env, LARS_STORE: undefined },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const proc = new ReporterProcess(child);
    await waitFor(() => / info reporter ready /.test(proc.stderr) || child.exitCode !== null, {
      timeoutMs: 60_000,
      message: 'the reporter to be ready',
    });
    if (child.exitCode !== null) throw new Error(`reporter exited ${child.exitCode}: ${proc.stderr}`);
    return proc;
  }

  /** The port from `reporter listening addr=HOST:PORT`. */
  get port(): number {
    return Number(/reporter listening addr=[^ ]*:(\d+)/.exec(this.stderr)![1]);
  }

  /** The admin base URL from the ready line's `admin=HOST:PORT`. */
  get admin(): string {
    return `http://${/ info reporter ready .* admin=(\S+)/.exec(this.stderr)![1]}`;
  }

  async stats(): Promise<{ resultsAccepted: number; resultsWritten: number; resultsDropped: Record<string, number>; storeUp: boolean }> {
    return (await fetch(`${this.admin}/stats`)).json() as never;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Protobuf by hand, as an independent client would write it: varints and tags, no codec. */
function varint(value: bigint): number[] {
  const bytes: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return bytes;
}
const field = (no: number, value: number | bigint) => [...varint(BigInt((no << 3) | 0)), ...varint(BigInt(value))];
const nested = (no: number, body: number[]) => [...varint(BigInt((no << 3) | 2)), ...varint(BigInt(body.length)), ...body];

/** modid 77 cmdid 1, caller 10.1.1.1, two hosts: 192.168.0.1:8080 (negative int32 on the wire) and 10.0.0.2:9090. */
/** The duration fields of a host whose calls carried none. */
const untimed = { latencyMs: null, maxLatencyMs: null, windowLatencyMs: null, windowMaxLatencyMs: null };

function handBuiltReport(ts: number): Buffer {
  // 192.168.0.1:8080, 42 ok, 3 failed, overloaded; 40 of the calls timed, 180 ms in all, the longest 25 ms (fields 6-8).
  const host1 = [...field(1, -1062731775), ...field(2, 8080), ...field(3, 42), ...field(4, 3), ...field(5, 1), ...field(6, 40), ...field(7, 180_000), ...field(8, 25_000)];
  const host2 = [...field(1, 0x0a000002), ...field(2, 9090), ...field(3, 7)];
  const body = [...field(1, 77), ...field(2, 1), ...field(3, 0x0a010101), ...nested(4, host1), ...nested(4, host2), ...field(5, ts)];
  const header = Buffer.alloc(8);
  header.writeInt32LE(3, 0);
  header.writeInt32LE(body.length, 4);
  return Buffer.concat([header, Buffer.from(body)]);
}

describe('lars reporter and lars status (SQLite file)', () => {
  let dir = '';
  let store = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lars-reporter-cli-'));
    store = `sqlite:${join(dir, 'lars.db')}`;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('an independent client sends hand-built id-3 frames and sees them in lars status --json', async (t) => {
    const reporter = await ReporterProcess.start(['--store', store, '--admin', 'off']);
    try {
      const socket = await connectTo(reporter.port);
      const ts = recentTs(10);
      const sentAt = Date.now();
      socket.end(handBuiltReport(ts));
      const doc = await waitFor(
        async () => {
          const run = await lars(['status', '77', '1', '--store', store, '--json']);
          assert.equal(run.code, 0, run.stderr);
          const parsed = JSON.parse(run.stdout) as { status: unknown[] };
          return parsed.status.length === 2 ? parsed : undefined;
        },
        { timeoutMs: 30_000, message: 'lars status to show the report' },
      );
      t.diagnostic(`report visible in lars status --json ${Date.now() - sentAt} ms after sending (includes starting lars status)`);
      assert.deepEqual(doc.status, [
        { ...untimed, modid: 77, cmdid: 1, ip: '10.0.0.2', port: 9090, caller: '10.1.1.1', succ: 7, err: 0, overload: false, reportedAt: ts, windowSucc: 7, windowErr: 0 },
        {
          modid: 77,
          cmdid: 1,
          ip: '192.168.0.1',
          port: 8080,
          caller: '10.1.1.1',
          succ: 42,
          err: 3,
          overload: true,
          reportedAt: ts,
          latencyMs: 4.5,
          maxLatencyMs: 25,
          windowSucc: 42,
          windowErr: 3,
          windowLatencyMs: 4.5,
          windowMaxLatencyMs: 25,
        },
      ]);
      const table = await lars(['status', '--store', store]);
      assert.equal(table.code, 0);
      assert.match(table.stdout, /^SUCC, ERR: calls in the last 5m \(--window\); MEAN MS, MAX MS: their durations, where callers report them; STATE: the latest report's\n/);
      assert.match(table.stdout, /\nMODID +CMDID +HOST +CALLER +SUCC +ERR +ERR% +MEAN MS +MAX MS +STATE +REPORTED\n/);
      assert.match(table.stdout, /77 +1 +10\.0\.0\.2:9090 +10\.1\.1\.1 +7 +0 +0\.0 +- +- +healthy +\d{4}-\d\d-\d\dT/);
      assert.match(table.stdout, /77 +1 +192\.168\.0\.1:8080 +10\.1\.1\.1 +42 +3 +6\.7 +4\.50 +25\.0 +overloaded +\d{4}-\d\d-\d\dT/);
      // A window that ends before the report holds none of its calls; the state is still the latest report's.
      const earlier = await lars(['status', '77', '1', '--window', '5s', '--store', store]);
      assert.match(earlier.stdout, /192\.168\.0\.1:8080 +10\.1\.1\.1 +0 +0 +- +- +- +overloaded /);
      const series = await lars(['status', '77', '1', '--series', '1h', '--store', store, '--json']);
      const points = (JSON.parse(series.stdout) as { points: { ip: string; succ: number; latencyMs: number | null }[] }).points;
      assert.deepEqual(points.map((p) => [p.ip, p.succ, p.latencyMs]), [['10.0.0.2', 7, null], ['192.168.0.1', 42, 4.5]]);
      const picture = await lars(['status', '77', '1', '--series', '1h', '--store', store]);
      assert.equal(picture.code, 0, picture.stderr);
      // 1 h in 1-minute buckets: 61 columns merge two by two into 31 characters per line.
      assert.match(picture.stdout, /\ncalls over time, one character per 120 s, each host on its own scale:\n/);
      assert.match(picture.stdout, /\n10\.0\.0\.2:9090     succ [▁▂▃▄▅▆▇█]{31}  err ▁{31}\n/);
      assert.match(picture.stdout, /\n192\.168\.0\.1:8080  succ [▁▂▃▄▅▆▇█]*█[▁▂▃▄▅▆▇█]*  err [▁▂▃▄▅▆▇█]{31}\n$/);
    } finally {
      assert.equal(await reporter.stop(), 0);
    }
  });

  test('--series draws a host failing every call with a full error line, not a flat one (one scale per host)', async () => {
    const check = await openStore(store);
    const ts = recentTs(120);
    try {
      const caller = 0x0a010101;
      await new CallStatus(check).write([
        { modid: 79, cmdid: 1, ip: 0x0a000001, port: 80, caller, succ: 0, err: 50, overload: 1, ...NO_DURATIONS, ts },
        { modid: 79, cmdid: 1, ip: 0x0a000002, port: 80, caller, succ: 50, err: 0, overload: 0, ...NO_DURATIONS, ts },
      ]);
    } finally {
      await check.close();
    }
    const picture = await lars(['status', '79', '1', '--series', '10m', '--store', store]);
    assert.equal(picture.code, 0, picture.stderr);
    assert.match(picture.stdout, /\n10\.0\.0\.1:80  succ ▁+  err ▁*█▁*\n/, picture.stdout);
    assert.match(picture.stdout, /\n10\.0\.0\.2:80  succ ▁*█▁*  err ▁+\n/);
  });

  test('SIGTERM writes what is queued, then exits 0', async () => {
    const reporter = await ReporterProcess.start(['--store', store, '--admin', '127.0.0.1:0', '--set', 'reporter.batch_delay_ms=60000']);
    const socket = await connectTo(reporter.port);
    try {
      socket.write(reportFrame(reportOf({ modid: 78, count: 25 })));
      await waitFor(async () => (await reporter.stats()).resultsAccepted === 25, { message: '25 results accepted' });
      assert.equal((await reporter.stats()).resultsWritten, 0, 'held back by the long batch delay');
    } finally {
      socket.destroy();
      assert.equal(await reporter.stop(), 0, reporter.stderr);
    }
    assert.match(reporter.stderr, /reporter closed written=25 dropped=0/);
    const check = await openStore(store, { migrate: false });
    try {
      assert.equal((await new CallStatus(check).list({ modid: 78, cmdid: 1 })).length, 25);
    } finally {
      await check.close();
    }
  });

  test('usage and config errors exit 2 and 1 with one clear line', async () => {
    const badListen = await lars(['reporter', '--store', store, '--listen', 'nowhere']);
    assert.equal(badListen.code, 2);
    assert.match(badListen.stderr, /^lars reporter: expected HOST:PORT, got "nowhere"/);
    const badKey = await lars(['reporter', '--store', store, '--set', 'reporter.queue_size=5']);
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /^lars reporter: config \[reporter\] queue_size: unknown key \(from overrides\)/);
    assert.equal(badKey.stderr.trimEnd().split('\n').length, 1);
    const badValue = await lars(['reporter', '--store', store, '--set', 'reporter.db_thread_cnt=0']);
    assert.equal(badValue.code, 1);
    assert.match(badValue.stderr, /db_thread_cnt: expected an integer between 1 and 64, got "0"/);
    const oneId = await lars(['status', '1', '--store', store]);
    assert.equal(oneId.code, 2);
    const seriesWithoutIds = await lars(['status', '--series', '1h', '--store', store]);
    assert.equal(seriesWithoutIds.code, 2);
    assert.match(seriesWithoutIds.stderr, /--series needs MODID CMDID/);
    const taken = await occupiedPort();
    try {
      const busy = await lars(['reporter', '--store', store, '--listen', `127.0.0.1:${taken.port}`, '--admin', 'off']);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, new RegExp(`^lars reporter: cannot listen on 127\\.0\\.0\\.1:${taken.port}: .*EADDRINUSE`));
      assert.equal(busy.stderr.trimEnd().split('\n').length, 1, busy.stderr);
    } finally {
      await taken.close();
    }
  });
});

const OUTAGE_SECONDS = 10;
const SENDERS = 4;
const HOSTS_PER_REPORT = 20;
const SEND_INTERVAL_MS = 25;

await forEachEngine('lars reporter under load, store cut off for 10 s', (store, engine, { url }) => {
  test('loses no accepted report, stays up, and catches up after the store returns', async (t) => {
    const outage = await storeOutage(engine, url);
    const reporter = await ReporterProcess.start(['--store', outage.url, '--admin', '127.0.0.1:0', '--no-migrate', '--set', 'reporter.retry_max_ms=1000']);
    const sockets = await Promise.all(Array.from({ length: SENDERS }, () => connectTo(reporter.port)));
    let sent = 0;
    let sending = true;
    const base = recentTs(3600);
    const load = (async () => {
      for (let tick = 0; sending; tick++) {
        // Each sender is its own caller and each tick its own window: every result is a distinct series row.
        sockets.forEach((socket, caller) => socket.write(reportFrame(reportOf({ modid: 90, caller: caller + 1, ts: base + tick, count: HOSTS_PER_REPORT }))));
        sent += SENDERS * HOSTS_PER_REPORT;
        await new Promise((resolve) => setTimeout(resolve, SEND_INTERVAL_MS));
      }
    })();
    try {
      await waitFor(async () => (await reporter.stats()).resultsWritten > 0, { message: 'writes before the outage' });
      await outage.begin();
      const cutAt = Date.now();
      await waitFor(async () => !(await reporter.stats()).storeUp, { timeoutMs: 30_000, message: 'the reporter to notice the outage' });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_SECONDS * 1000 - (Date.now() - cutAt))));
      const duringOutage = await reporter.stats();
      await outage.end();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      sending = false;
      await load;
      await waitFor(async () => (await reporter.stats()).resultsAccepted === sent, { message: 'every result sent to be accepted' });
      await waitFor(async () => (await reporter.stats()).resultsWritten === sent, { timeoutMs: 60_000, message: 'every accepted result to be written' });
      const stats = await reporter.stats();
      t.diagnostic(`${engine}: ${sent} results sent, ${duringOutage.resultsAccepted - duringOutage.resultsWritten} held during the outage, all written`);
      assert.deepEqual(stats.resultsDropped, { overflow: 0, shutdown: 0, rejected: 0, oversize: 0, peerRate: 0, peerShare: 0 });
      assert.equal(reporter.child.exitCode, null, 'the service stayed up');
      assert.equal((await fetch(`${reporter.admin}/healthz`)).status, 200);
      const rows = await kyselyOf(store)
        .selectFrom('call_series')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('modid', '=', 90)
        .executeTakeFirstOrThrow();
      assert.equal(Number(rows.n), sent);
      assert.match(reporter.stderr, /store_unavailable/);
      assert.match(reporter.stderr, /store_recovered downMs=\d+/);
    } finally {
      sending = false;
      await load;
      for (const socket of sockets) socket.destroy();
      assert.equal(await reporter.stop(), 0, reporter.stderr);
      await outage.close();
    }
  });
});
