/**
 * `npm run bench -- agent [--seconds S] [--io native|dgram|both] [--threads 1|3|both]`:
 * agent throughput, Lars's qps loop, and footprint, for each thread model
 * ([agent] threads, docs/agent.md).
 *
 * Starts its own store (SQLite, temp dir), `lars dns`, `lars reporter` and
 * one `lars agent` per UDP I/O path, all from the build in dist/ as
 * `npm start` runs them (`npm run bench` builds first) (udp_io = native: the batched
 * recvmmsg/sendmmsg addon; udp_io = dgram: node:dgram) as processes, with
 * routes of 10 hosts. Then a small C client (bench/clients/qps.c, compiled
 * here with cc -O2) runs getHost+report and getHost alone with 1, 2 and 4
 * threads, each thread its own UDP socket: first every thread on one route
 * (one agent port, as Lars's qps tool does), then threads on consecutive
 * routes (spread over the agent's ports). Depth 1 is Lars's synchronous
 * client; then 2 threads keep 4 and 16 getHost requests in flight each, as a
 * Node service's concurrent calls do: a synchronous client is bound by its
 * own round trips, a pipelined one measures what the agent can serve.
 *
 * Each configuration also runs against bench/clients/null-agent.c, a C
 * responder that answers getHost with a fixed host and does nothing else,
 * with one blocking recvfrom and sendto per datagram (no batching, no busy
 * polling): a reference for the same client and kernel, not an upper bound
 * (the agent beats it in some configurations). Configurations run
 * against every target back to back, so a change in the shared machine's
 * load hits them alike; the load average is printed per run. For each run:
 * calls/s, p50/p99 of one iteration, the client's own CPU (getrusage) and
 * the target's CPU and RSS from /proc. Before any load, each agent's idle RSS
 * and CPU are read over a few seconds. Finally the same loop through
 * LarsClient (`lars qps`) for comparison. Each run lasts a few seconds.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, RouteAdmin } from '../src/store/index.js';
import { processCpuSeconds, processRssMiB, table } from './stats.js';
import { portOf, REPO, startLars, type LarsProcess } from '../test/support/cli.js';
import type { QpsResult } from './clients/qps-result.js';

const MODID = 1;
const FIRST_CMDID = 2;
const ROUTES = 4;
const HOSTS_PER_ROUTE = 10;
/** How long each agent is watched with no calls for its idle RSS and CPU. */
const IDLE_SECONDS = 5;

interface Run {
  mode: 'loop' | 'gethost';
  threads: number;
  spread: boolean;
  depth: number;
}

/** Runs the C client; returns its final JSON line. */
function runC(binary: string, base: number, seconds: number, run: Run): Promise<QpsResult> {
  return new Promise((resolve, reject) => {
    const { mode, threads, spread, depth } = run;
    const args = ['127.0.0.1', String(base), String(MODID), String(FIRST_CMDID), String(threads), String(seconds), mode, spread ? '1' : '0', String(depth)];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`qps client exited ${code}: ${out}`));
      else resolve(JSON.parse(last) as QpsResult);
    });
  });
}

/** `lars qps` (LarsClient) with its CPU sampled from /proc until it exits. */
async function runNodeQps(base: number, concurrency: number, seconds: number): Promise<{ average: number; p50Ms: number; p99Ms: number; cpu: number }> {
  const child = spawn(
    process.execPath,
    ['dist/src/cli/main.js', 'qps', String(MODID), String(FIRST_CMDID), String(concurrency), '--seconds', String(seconds), '--agent', `127.0.0.1:${base}`, '--json'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  let cpu = 0;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const sampler = setInterval(() => {
    processCpuSeconds(child.pid!).then((s) => (cpu = s), () => undefined);
  }, 100);
  await new Promise((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  const doc = JSON.parse(out) as { average: number; p50Ms: number; p99Ms: number };
  return { ...doc, cpu };
}

async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

async function load1(): Promise<string> {
  return (await loadAverage()).split(' ')[0]!;
}

type Io = 'native' | 'dgram';

/** An agent, or the null responder, that the client runs against. */
interface Target {
  name: string;
  base: number;
  pid: number;
}

/** Starts bench/clients/null-agent (already compiled) on three free ports. */
function startNullAgent(binary: string): Promise<{ target: Target; stop: () => void }> {
  const child = spawn(binary, ['127.0.0.1', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`null-agent exited ${code}`)));
    child.stdout.setEncoding('utf8').once('data', (line: string) => {
      const base = Number(/^ready (\d+)/.exec(line)?.[1]);
      if (!base) return reject(new Error(`null-agent said: ${line}`));
      resolve({ target: { name: 'null responder', base, pid: child.pid! }, stop: () => child.kill() });
    });
  });
}

/** Lars's synchronous client, then pipelined clients, on one route and spread. */
function plan(): Run[] {
  const runs: Run[] = [];
  for (const mode of ['loop', 'gethost'] as const) {
    for (const threads of [1, 2, 4]) runs.push({ mode, threads, spread: false, depth: 1 });
    for (const threads of [2, 4]) runs.push({ mode, threads, spread: true, depth: 1 });
    for (const depth of [4, 16]) for (const spread of [false, true]) runs.push({ mode, threads: 2, spread, depth });
  }
  return runs;
}

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

export default async function bench(args: string[]): Promise<void> {
  const seconds = Number(flag(args, '--seconds') ?? 3);
  const ioFlag = flag(args, '--io') ?? 'both';
  const ios: Io[] = ioFlag === 'both' ? ['native', 'dgram'] : [ioFlag as Io];
  if (!ios.every((io) => io === 'native' || io === 'dgram')) throw new Error('--io must be native, dgram or both');
  const threadsFlag = flag(args, '--threads') ?? 'both';
  const threadModels = threadsFlag === 'both' ? ['1', '3'] : [threadsFlag];
  if (!threadModels.every((t) => t === '1' || t === '3')) throw new Error('--threads must be 1, 3 or both');
  // Every thread model on the native path; the dgram fallback in the model auto picks here.
  const variants = [...(ios.includes('native') ? threadModels.map((threads) => ({ io: 'native' as const, threads })) : []), ...(ios.includes('dgram') ? [{ io: 'dgram' as const, threads: 'auto' }] : [])];
  const dir = mkdtempSync(join(tmpdir(), 'lars-bench-agent-'));
  const services: LarsProcess[] = [];
  let stopNullAgent = (): void => undefined;
  try {
    const binary = join(dir, 'qps');
    const nullBinary = join(dir, 'null-agent');
    execFileSync('cc', ['-O2', '-pthread', '-o', binary, join(REPO, 'bench/clients/qps.c')]);
    execFileSync('cc', ['-O2', '-pthread', '-o', nullBinary, join(REPO, 'bench/clients/null-agent.c')]);
    console.log(`compiled bench/clients/qps.c and null-agent.c into ${dir}`);

    const storeUrl = `sqlite:${join(dir, 'lars.db')}`;
    const store = await openStore(storeUrl);
    const admin = new RouteAdmin(store);
    for (let r = 0; r < ROUTES; r++) {
      await admin.addModule({ modid: MODID, cmdid: FIRST_CMDID + r, description: 'bench' });
      for (let h = 1; h <= HOSTS_PER_ROUTE; h++) await admin.addHost({ modid: MODID, cmdid: FIRST_CMDID + r, ip: `10.1.${r}.${h}`, port: 8000 + h });
    }
    await store.close();
    console.log(`store ${storeUrl}: ${ROUTES} routes of ${HOSTS_PER_ROUTE} hosts`);

    const compiled = { compiled: true };
    const dns = await startLars(['dns', '--store', storeUrl, '--listen', '127.0.0.1:0', '--admin', 'off'], {}, compiled);
    services.push(dns);
    const reporter = await startLars(['reporter', '--store', storeUrl, '--listen', '127.0.0.1:0', '--admin', 'off'], {}, compiled);
    services.push(reporter);
    const agents: Target[] = [];
    for (const { io, threads } of variants) {
      // udp_io = native makes a missing addon an error rather than a silent dgram run. The admin
      // endpoint is on, as by default: its HTTP server is part of what an agent holds.
      const agent = await startLars([
        'agent', '--dns', dns.ready.addr!, '--reporter', reporter.ready.addr!, '--udp-base-port', '0', '--admin', '127.0.0.1:0', '--set', `agent.udp_io=${io}`, '--set', `agent.threads=${threads}`,
      ], {}, compiled).catch((err: Error) => {
        throw new Error(`agent with udp_io = ${io} did not start${io === 'native' ? ' (addon not built? npm run build:native, or --io dgram)' : ''}: ${err.message}`);
      });
      services.push(agent);
      const base = portOf(agent.ready.udp!.split(',')[0]!);
      agents.push({ name: `agent ${io} threads=${threads}`, base, pid: agent.child.pid! });
      console.log(`agent (${io}, threads=${threads}) pid ${agent.child.pid} on udp ${base}-${base + 2}`);
    }
    const nullAgent = await startNullAgent(nullBinary);
    stopNullAgent = nullAgent.stop;
    const targets = [...agents, nullAgent.target];
    console.log(`null responder pid ${nullAgent.target.pid} on udp ${nullAgent.target.base}-${nullAgent.target.base + 2}`);
    console.log(`dns ${dns.ready.addr}, reporter ${reporter.ready.addr}; load average ${await loadAverage()}`);

    console.log(`idle footprint (${IDLE_SECONDS} s, no calls, dns and reporter connected):`);
    const idleRows: (string | number)[][] = [];
    const idleCpuBefore = await Promise.all(agents.map((a) => processCpuSeconds(a.pid)));
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    for (const [i, { name, pid }] of agents.entries()) {
      const cpu = ((await processCpuSeconds(pid)) - idleCpuBefore[i]!) / IDLE_SECONDS;
      idleRows.push([name, (await processRssMiB(pid)).toFixed(1), (cpu * 100).toFixed(2)]);
    }
    table(['target', 'idle RSS MiB', 'idle CPU % of a core'], idleRows);

    // Warm-up: routes pulled into the agents, JIT compiled.
    for (const agent of agents) await runC(binary, agent.base, 2, { mode: 'loop', threads: ROUTES, spread: true, depth: 1 });

    const rows: (string | number)[][] = [];
    const figures = new Map<string, number>();
    const runs = plan();
    for (const [index, run] of runs.entries()) {
      for (const { name, base, pid } of targets) {
        const what = `${run.mode} threads=${run.threads} depth=${run.depth} ${run.spread ? 'spread' : 'one route'}`;
        process.stdout.write(`[${index + 1}/${runs.length}] ${name}: ${what} ... `);
        const cpuBefore = await processCpuSeconds(pid);
        const result = await runC(binary, base, seconds, run);
        const targetCpu = ((await processCpuSeconds(pid)) - cpuBefore) / result.seconds;
        const rss = await processRssMiB(pid);
        const clientCpu = (result.cpu_user_s + result.cpu_sys_s) / result.seconds;
        console.log(`${Math.round(result.qps)} calls/s`);
        figures.set(`${name} ${what}`, result.qps);
        rows.push([
          name,
          run.mode === 'loop' ? 'getHost+report' : 'getHost',
          run.threads,
          run.depth,
          run.spread ? 'spread' : 'one',
          Math.round(result.qps),
          result.p50_us,
          result.p99_us,
          result.timeouts,
          clientCpu.toFixed(2),
          targetCpu.toFixed(2),
          ((targetCpu * 1e6) / result.qps).toFixed(1),
          rss.toFixed(1),
          await load1(),
        ]);
      }
    }
    console.log(`\nC client (bench/clients/qps.c), ${seconds} s per run; CPU in cores (CPU seconds per second); load average ${await loadAverage()}`);
    table(['target', 'loop', 'threads', 'depth', 'routes', 'calls/s', 'p50 µs', 'p99 µs', 'timeouts', 'client CPU', 'target CPU', 'target µs/call', 'target RSS MiB', 'load'], rows);
    printTargets(figures, agents.map((a) => a.name));

    console.log('\nLarsClient loop (lars qps, getHost+report, one route):');
    const nodeRows: (string | number)[][] = [];
    for (const { name, base, pid } of agents) {
      for (const concurrency of [1, 2]) {
        const cpuBefore = await processCpuSeconds(pid);
        const result = await runNodeQps(base, concurrency, seconds);
        const agentCpu = ((await processCpuSeconds(pid)) - cpuBefore) / (seconds + 1);
        nodeRows.push([name, concurrency, result.average, (result.p50Ms * 1000).toFixed(0), (result.p99Ms * 1000).toFixed(0), (result.cpu / (seconds + 1)).toFixed(2), agentCpu.toFixed(2)]);
      }
    }
    table(['target', 'clients', 'calls/s', 'p50 µs', 'p99 µs', 'client CPU*', 'agent CPU*'], nodeRows);
    console.log('* averaged over the client process lifetime, including its start-up');
    for (const { name, pid } of agents) console.log(`${name} RSS at the end: ${(await processRssMiB(pid)).toFixed(1)} MiB`);
  } finally {
    stopNullAgent();
    for (const service of services.reverse()) await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures the agent is held to (docs/agent.md), read off this run for each agent. */
function printTargets(figures: Map<string, number>, agents: string[]): void {
  const at = (name: string, what: string): string => Math.round(figures.get(`${name} ${what}`) ?? NaN).toLocaleString('en-US');
  console.log('\nC++-style synchronous client, 1 thread, getHost only (null responder in brackets):');
  for (const agent of agents) console.log(`  ${agent}: ${at(agent, 'gethost threads=1 depth=1 one route')}/s (${at('null responder', 'gethost threads=1 depth=1 one route')})`);
  const lines: [string, string][] = [
    ['getHost+report', 'loop'],
    ['getHost', 'gethost'],
  ];
  console.log('2 client threads on one route, by depth (null responder in brackets):');
  for (const agent of agents) {
    for (const [label, mode] of lines) {
      const cells = [1, 4, 16].map((depth) => `depth ${depth}: ${at(agent, `${mode} threads=2 depth=${depth} one route`)} (${at('null responder', `${mode} threads=2 depth=${depth} one route`)})`);
      console.log(`  ${agent} ${label}  ${cells.join('  ')}`);
    }
  }
}
