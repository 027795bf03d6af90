/**
 * Protobuf echo over TCP, in the spirit of Lars's qps_test: a TcpServer in a
 * child process decodes each GetRouteResponse (5 hosts) and sends it back
 * re-encoded; TcpClients in this process keep one request in flight per
 * connection and count round trips. Runs with 1 and with 16 connections.
 *
 *   npm run bench -- reactor [--seconds 3] [--connections 1,16]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { MsgId } from '../src/protocol/msgid.js';
import type { GetRouteResponse } from '../src/protocol/messages.js';
import { configureLogging } from '../src/reactor/log.js';
import { TcpClient } from '../src/reactor/tcp-client.js';
import { TcpServer } from '../src/reactor/tcp-server.js';
import { formatDuration, formatRate, percentile, processCpuSeconds, processRssMiB, table } from './stats.js';

const SERVE_FLAG = '--serve';

const message: GetRouteResponse = {
  modid: 10001,
  cmdid: 1,
  host: Array.from({ length: 5 }, (_, i) => ({ ip: (0xc0a80001 + i) | 0, port: 9000 + i })),
};

interface Phase {
  connections: number;
  roundTrips: number;
  elapsedMs: number;
  latencies: number[];
  serverRssMiB: number;
  serverCpu: number;
  clientCpu: number;
}

export default async function bench(args: string[]): Promise<void> {
  if (args[0] === SERVE_FLAG) return serve();
  const seconds = Math.min(30, Math.max(1, Number(option(args, '--seconds') ?? 3)));
  const counts = (option(args, '--connections') ?? '1,16').split(',').map(Number).filter((n) => n >= 1 && n <= 256);
  configureLogging({ level: 'warn' });

  const server = fork(new URL('./run.ts', import.meta.url), ['reactor', SERVE_FLAG], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, LARS_LOG_LEVEL: 'warn' },
  });
  try {
    const [{ port }] = (await once(server, 'message')) as [{ port: number }];
    console.log(`echo server pid ${server.pid} on 127.0.0.1:${port}; message GetRouteResponse with ${message.host.length} hosts; ${seconds}s per run`);
    const phases: Phase[] = [];
    for (const connections of counts) phases.push(await runPhase(server, port, connections, seconds));
    table(
      ['connections', 'round trips', 'msg/s', 'p50', 'p99', 'server RSS', 'server CPU', 'client CPU'],
      phases.map((p) => [
        p.connections,
        p.roundTrips.toLocaleString('en-US'),
        formatRate(p.roundTrips, p.elapsedMs),
        formatDuration(percentile(p.latencies, 50)),
        formatDuration(percentile(p.latencies, 99)),
        `${p.serverRssMiB.toFixed(1)} MiB`,
        `${((p.serverCpu / p.elapsedMs) * 100_000).toFixed(0)}%`,
        `${((p.clientCpu / p.elapsedMs) * 100_000).toFixed(0)}%`,
      ]),
    );
  } finally {
    // Disconnecting lets the child close its server and exit on its own; kill it if it does not.
    const exited = once(server, 'exit');
    const killer = setTimeout(() => server.kill(), 5000);
    if (server.connected) server.disconnect();
    await exited;
    clearTimeout(killer);
  }
}

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

async function runPhase(server: ChildProcess, port: number, connections: number, seconds: number): Promise<Phase> {
  const latencies: number[] = [];
  let running = true;
  let inFlight = 0;
  const clients = Array.from({ length: connections }, (_, i) => {
    const client = new TcpClient({ name: `bench_client_${i}`, addresses: [{ host: '127.0.0.1', port }] });
    let sentAt = 0;
    const sendNext = () => {
      sentAt = performance.now();
      inFlight += 1;
      client.send(MsgId.GetRouteResponse, message);
    };
    client.handle(MsgId.GetRouteResponse, () => {
      latencies.push(performance.now() - sentAt);
      inFlight -= 1;
      if (running) sendNext();
    });
    return { client, sendNext };
  });
  for (const { client } of clients) client.start();
  await until(() => clients.every(({ client }) => client.connected), 5000);

  const serverCpuBefore = await processCpuSeconds(server.pid!);
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  for (const { sendNext } of clients) sendNext();
  for (let second = 1; second <= seconds; second++) {
    const before = latencies.length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    console.log(`  [${connections} conn] ${second}s  ${formatRate(latencies.length - before, 1000)}`);
  }
  running = false;
  await until(() => inFlight === 0, 5000);
  const elapsedMs = performance.now() - started;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const serverCpu = (await processCpuSeconds(server.pid!)) - serverCpuBefore;
  const serverRssMiB = await processRssMiB(server.pid!);
  await Promise.all(clients.map(({ client }) => client.close()));
  return {
    connections,
    roundTrips: latencies.length,
    elapsedMs,
    latencies,
    serverRssMiB,
    serverCpu,
    clientCpu: (clientCpu.user + clientCpu.system) / 1e6,
  };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('bench: timed out waiting for the clients');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The child: an echo server that reports its port and runs until killed. */
async function serve(): Promise<void> {
  const server = new TcpServer({ name: 'bench_echo', host: '127.0.0.1', port: 0 });
  server.handle(MsgId.GetRouteResponse, (conn, request) => {
    conn.send(MsgId.GetRouteResponse, request);
  });
  const { port } = await server.listen();
  process.send!({ port });
  process.once('disconnect', () => void server.close().then(() => process.exit(0)));
}
