/**
 * npm run bench -- dispatch [--seconds S] [--seed N]
 *
 * Four line-echo worker processes, one skewed load (long-lived connections
 * ramped in among a steady stream of short ones), spread three ways:
 *   dispatcher   `lars dispatch --workers 4`: least connections, descriptors over a UNIX socket
 *   cluster-rr   node:cluster round-robin: the primary accepts and passes each handle
 *   independent  every worker accepts on its own. Node 20 has no reusePort on
 *                net, so this is cluster SCHED_NONE: one listening socket shared
 *                by the four processes, the kernel picks who accepts.
 * The load is the same for each way and for each run with the same --seed
 * (default 2002, printed): when each long connection opens and the gaps
 * between its requests come from the seeded generator.
 * Reports the max/min ratio of live connections per worker (sampled every
 * 250 ms once the long connections are all open), request p50/p99 on
 * established connections, and the first reply on a new connection (connect
 * + hand-over + one request) against it. Loopback only, bounded in time.
 *
 * This file is also the cluster primary and worker of the two cluster modes
 * (a cluster's scheduling policy is fixed per primary process, so each mode
 * runs in a fresh one).
 */
import cluster from 'node:cluster';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { larsCommand, requestStatus, serveLineEcho } from '../src/dispatcher/index.js';
import { seededRandom } from '../test/support/net.js';
import { formatDuration, percentile, table } from './stats.js';

const WORKERS = 4;
const LONG = 160;
const LONG_RAMP = 0.3; // share of the phase over which the long connections open
const LONG_REQUEST_MS = 250;
const SHORT_PER_SECOND = 200;
const SHORT_REQUESTS = 3;
const SHORT_GAP_MS = 50;
const SAMPLE_MS = 250;
const DEFAULT_SEED = 2002;
const BENCH_DEADLINE_MS = 115_000;
const ROLE_ENV = 'LARS_BENCH_DISPATCH_ROLE';
const THIS_FILE = fileURLToPath(import.meta.url);

type Mode = 'dispatcher' | 'cluster-rr' | 'independent';

interface Sample {
  t: number;
  counts: number[];
}

interface ModeResult {
  mode: Mode;
  samples: Sample[];
  steadyFrom: number;
  requestMs: number[];
  firstReplyMs: number[];
  connectMs: number[];
  connections: number;
  errors: number;
}

/** A running way of spreading connections: where to connect and how to read per-worker counts. */
interface System {
  port: number;
  counts(): Promise<number[]>;
  stop(): Promise<void>;
}

// ---- worker and primary roles of the cluster modes -------------------------

function runClusterWorker(): void {
  let open = 0;
  let reportPending = false;
  const report = () => {
    if (reportPending) return;
    reportPending = true;
    setImmediate(() => {
      reportPending = false;
      process.send!({ type: 'load', connections: open });
    });
  };
  const server = createServer((socket) => {
    open += 1;
    report();
    socket.once('close', () => {
      open -= 1;
      report();
    });
    serveLineEcho(socket);
  });
  server.listen(0, '127.0.0.1', () => process.send!({ type: 'listening', port: (server.address() as AddressInfo).port }));
}

function runClusterPrimary(): void {
  cluster.setupPrimary({ exec: THIS_FILE, execArgv: process.execArgv });
  const loads = new Map<number, number>();
  let listening = 0;
  for (let i = 0; i < WORKERS; i++) {
    const worker = cluster.fork();
    const pid = worker.process.pid!;
    loads.set(pid, 0);
    worker.on('message', (message: { type: string; port?: number; connections?: number }) => {
      if (message.type === 'load') loads.set(pid, message.connections!);
      if (message.type === 'listening' && ++listening === WORKERS) process.send!({ type: 'ready', port: message.port });
    });
  }
  process.on('message', (message: { type: string }) => {
    if (message.type === 'counts') process.send!({ type: 'counts', counts: [...loads.values()] });
  });
  // The bench going away (or done) ends the cluster.
  process.on('disconnect', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
    process.exit(0);
  });
}

if (cluster.isWorker) runClusterWorker();
else if (process.env[ROLE_ENV] === 'cluster-primary') runClusterPrimary();

// ---- the three systems -----------------------------------------------------

const children = new Set<ChildProcess>();

async function startDispatcher(): Promise<System> {
  const socketPath = join(tmpdir(), `lars-bench-dispatch-${process.pid}.sock`);
  const [file, ...args] = larsCommand('dispatch', '--listen', '127.0.0.1:0', '--workers', String(WORKERS), '--socket', socketPath);
  const child = spawn(file!, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LARS_LOG_LEVEL: 'warn' } });
  child.stderr!.pipe(process.stderr);
  children.add(child);
  const status = await until(async () => {
    const s = await requestStatus(socketPath, 2000).catch(() => undefined);
    return s && s.workers.length === WORKERS ? s : undefined;
  }, 60_000);
  return {
    port: Number(status.listening[0]!.split(':').pop()),
    counts: async () => (await requestStatus(socketPath)).workers.map((w) => w.connections),
    stop: () => stopChild(child, 'SIGTERM'),
  };
}

async function startCluster(policy: 'rr' | 'none'): Promise<System> {
  const child = fork(THIS_FILE, [], {
    execArgv: process.execArgv,
    env: { ...process.env, [ROLE_ENV]: 'cluster-primary', NODE_CLUSTER_SCHED_POLICY: policy },
  });
  children.add(child);
  const [ready] = (await once(child, 'message')) as [{ port: number }];
  return {
    port: ready.port,
    counts: () =>
      new Promise((resolve) => {
        child.once('message', (m: { counts: number[] }) => resolve(m.counts));
        child.send({ type: 'counts' });
      }),
    stop: async () => {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
      children.delete(child);
    },
  };
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
  children.delete(child);
}

// ---- the load ---------------------------------------------------------------

interface Arrival {
  at: number;
  /** A long connection's own source of request gaps, so that its gaps do not depend on how the sessions interleave. */
  gaps?: () => number;
}

/** The same schedule for every mode and every run with this seed. */
function schedule(durationMs: number, seed: number): Arrival[] {
  const random = seededRandom(seed);
  const arrivals: Arrival[] = [];
  for (let i = 0; i < LONG; i++) {
    arrivals.push({ at: random() * durationMs * LONG_RAMP, gaps: seededRandom(Math.floor(random() * 2 ** 32)) });
  }
  for (let at = 0; at < durationMs; at += 1000 / SHORT_PER_SECOND) arrivals.push({ at });
  return arrivals.sort((a, b) => a.at - b.at);
}

/** One client connection speaking the line-echo protocol, timing each request. */
class Client {
  private readonly waiting: (() => void)[] = [];
  private buffered = '';
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffered += text;
      for (let end = this.buffered.indexOf('\n'); end >= 0; end = this.buffered.indexOf('\n')) {
        this.buffered = this.buffered.slice(end + 1);
        this.waiting.shift()?.();
      }
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  async request(): Promise<number> {
    const start = performance.now();
    const answered = new Promise<void>((resolve) => this.waiting.push(resolve));
    this.socket.write('ping\n');
    await Promise.race([answered, this.closed.then(() => Promise.reject(new Error('closed')))]);
    return performance.now() - start;
  }
}

async function drive(mode: Mode, system: System, durationMs: number, seed: number): Promise<ModeResult> {
  const result: ModeResult = {
    mode,
    samples: [],
    steadyFrom: durationMs * LONG_RAMP + 500,
    requestMs: [],
    firstReplyMs: [],
    connectMs: [],
    connections: 0,
    errors: 0,
  };
  const open = new Set<Socket>();
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  let running = true;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const session = async ({ gaps }: Arrival) => {
    const long = gaps !== undefined;
    const began = performance.now();
    const socket = connect(system.port, '127.0.0.1');
    open.add(socket);
    socket.on('error', () => undefined);
    try {
      await once(socket, 'connect');
      result.connectMs.push(performance.now() - began);
      result.connections += 1;
      const client = new Client(socket);
      await client.request();
      result.firstReplyMs.push(performance.now() - began);
      for (let i = 1; running && (long || i < SHORT_REQUESTS); i++) {
        await sleep(gaps ? LONG_REQUEST_MS * (0.5 + gaps()) : SHORT_GAP_MS);
        if (running) result.requestMs.push(await client.request());
      }
    } catch {
      if (running) result.errors += 1;
    } finally {
      socket.destroy();
      open.delete(socket);
    }
  };

  const sessions: Promise<void>[] = [];
  const arrivals = schedule(durationMs, seed);
  let next = 0;
  const launcher = setInterval(() => {
    while (next < arrivals.length && arrivals[next]!.at <= elapsed()) sessions.push(session(arrivals[next++]!));
  }, 5);

  let lastProgress = 0;
  let requestsAtLast = 0;
  while (elapsed() < durationMs) {
    await sleep(SAMPLE_MS);
    const counts = await system.counts();
    const t = elapsed();
    result.samples.push({ t, counts });
    if (t - lastProgress >= 1000) {
      const rate = ((result.requestMs.length + result.firstReplyMs.length - requestsAtLast) * 1000) / (t - lastProgress);
      requestsAtLast = result.requestMs.length + result.firstReplyMs.length;
      lastProgress = t;
      console.log(
        `  ${mode.padEnd(11)} ${(t / 1000).toFixed(0).padStart(3)}s  live per worker ${counts.join('/').padEnd(15)}` +
          `  max/min ${formatRatio(ratio(counts))}  ${Math.round(rate)} req/s  open ${open.size}`,
      );
    }
  }
  running = false;
  clearInterval(launcher);
  for (const socket of open) socket.destroy();
  await Promise.all(sessions);
  return result;
}

function ratio(counts: number[]): number {
  return Math.max(...counts) / Math.min(...counts);
}

function formatRatio(r: number): string {
  return Number.isFinite(r) ? r.toFixed(2) : 'inf';
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('the system under test did not come up');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---- the benchmark ----------------------------------------------------------

export default async function bench(args: string[]): Promise<void> {
  const secondsFlag = args.indexOf('--seconds');
  const seconds = secondsFlag >= 0 ? Number(args[secondsFlag + 1]) : 10;
  if (!(seconds > 0 && seconds <= 30)) throw new Error('--seconds must be between 1 and 30');
  const seedFlag = args.indexOf('--seed');
  const seed = seedFlag >= 0 ? Number(args[seedFlag + 1]) : DEFAULT_SEED;
  if (!Number.isSafeInteger(seed)) throw new Error('--seed must be an integer');
  const deadline = setTimeout(() => {
    console.error(`bench dispatch: over ${BENCH_DEADLINE_MS / 1000} s, stopping`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  }, BENCH_DEADLINE_MS);
  deadline.unref();

  console.log(
    `${WORKERS} workers; per mode ${seconds} s: ${LONG} long-lived connections (a request every ~${LONG_REQUEST_MS} ms) opened ` +
      `in the first ${LONG_RAMP * seconds} s, ${SHORT_PER_SECOND} short connections/s (${SHORT_REQUESTS} requests ${SHORT_GAP_MS} ms apart); ` +
      `seed ${seed}, live connections sampled every ${SAMPLE_MS} ms`,
  );
  const modes: [Mode, () => Promise<System>][] = [
    ['dispatcher', startDispatcher],
    ['cluster-rr', () => startCluster('rr')],
    ['independent', () => startCluster('none')],
  ];
  const results: ModeResult[] = [];
  try {
    for (const [mode, start] of modes) {
      const system = await start();
      try {
        results.push(await drive(mode, system, seconds * 1000, seed));
      } finally {
        await system.stop();
      }
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    clearTimeout(deadline);
  }

  console.log('\nlive connections per worker, max/min over the steady part (all long connections open):');
  table(
    ['mode', 'max/min worst', 'max/min mean', 'req p50', 'req p99', 'first reply p50', 'first reply p99', 'connect p50', 'connections', 'errors'],
    results.map((r) => {
      const ratios = r.samples.filter((s) => s.t >= r.steadyFrom).map((s) => ratio(s.counts));
      const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
      return [
        r.mode,
        formatRatio(Math.max(...ratios)),
        formatRatio(mean),
        formatDuration(percentile(r.requestMs, 50)),
        formatDuration(percentile(r.requestMs, 99)),
        formatDuration(percentile(r.firstReplyMs, 50)),
        formatDuration(percentile(r.firstReplyMs, 99)),
        formatDuration(percentile(r.connectMs, 50)),
        r.connections,
        r.errors,
      ];
    }),
  );
  console.log(
    '\nconnection-setup overhead = first reply on a new connection minus a request on an established one (p50):\n' +
      results
        .map((r) => `  ${r.mode.padEnd(11)} ${formatDuration(percentile(r.firstReplyMs, 50) - percentile(r.requestMs, 50))}`)
        .join('\n'),
  );
  console.log('independent = cluster SCHED_NONE (shared listening socket; Node 20 has no reusePort on net)');
}
