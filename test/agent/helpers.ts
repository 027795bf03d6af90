/**
 * Agent test helpers: stand-in dns and reporter servers that speak raw frames
 * (so tests choose every byte the agent receives and see every byte it
 * sends), the real dns in-process, an in-process agent on free ports, and the
 * real `lars` services as child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Timers } from '../../src/agent/route-waits.js';
import { startAgent, type Agent, type AgentOptions } from '../../src/agent/service.js';
import { startDns } from '../../src/dns/service.js';
import { FrameDecoder } from '../../src/protocol/frame.js';
import type { Endpoint } from '../../src/reactor/endpoint.js';
import { openStore, RouteAdmin } from '../../src/store/index.js';
import { larsArgs } from '../support/cli.js';
import { waitFor, type ReceivedFrame } from '../support/net.js';

export const REPO = new URL('../../', import.meta.url).pathname;

/** A TCP server that records frames and answers with whatever bytes the test gives. */
export class RawFrameServer {
  readonly frames: ReceivedFrame[] = [];
  readonly connections = new Set<Socket>();
  /** Called per frame received; may write to the socket. */
  onFrame: (frame: ReceivedFrame, socket: Socket) => void = () => {};
  private constructor(private readonly server: Server) {}

  static async start(port = 0): Promise<RawFrameServer> {
    const server = createServer();
    const raw = new RawFrameServer(server);
    server.on('connection', (socket) => {
      raw.connections.add(socket);
      const decoder = new FrameDecoder(64 * 1024 * 1024);
      socket.on('data', (chunk) =>
        decoder.push(chunk, (msgid, body) => {
          const frame = { msgid, body: Buffer.from(body) };
          raw.frames.push(frame);
          raw.onFrame(frame, socket);
        }),
      );
      socket.on('error', () => {});
      socket.on('close', () => raw.connections.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return raw;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Ends every connection from this side, as a dns that goes away would. */
  dropConnections(): void {
    for (const socket of this.connections) socket.destroy();
  }

  /** Writes bytes to every connection (a dns push). */
  broadcast(bytes: Buffer): void {
    for (const socket of this.connections) socket.write(bytes);
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A dns stand-in: answers GetRouteRequest (msgid 1) with the frame stored for that request body's hex. */
export async function fakeDns(answers: Record<string, Buffer>, delayMs = 0): Promise<RawFrameServer> {
  const dns = await RawFrameServer.start();
  dns.onFrame = (frame, socket) => {
    const answer = frame.msgid === 1 ? answers[frame.body.toString('hex')] : undefined;
    if (answer === undefined) return;
    if (delayMs > 0) setTimeout(() => socket.write(answer), delayMs);
    else socket.write(answer);
  };
  return dns;
}

/** The real dns service in-process on a SQLite store in a temp dir; routes are edited through `admin`, `sync` makes dns read them now. */
export async function realDns(): Promise<{ port: number; admin: RouteAdmin; sync(): Promise<void>; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'lars-dns-'));
  const store = await openStore(`sqlite:${join(dir, 'lars.db')}`);
  const dns = await startDns({ store, host: '127.0.0.1', port: 0, dns: { poll_interval_ms: 50 } });
  return {
    port: dns.address!.port,
    admin: new RouteAdmin(store),
    sync: () => dns.syncNow(),
    async close() {
      await dns.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TestAgentOptions extends Omit<AgentOptions, 'agent'> {
  dns: Endpoint[];
  reporter: Endpoint[];
  /** Other [agent] keys. */
  agent?: AgentOptions['agent'];
}

/** startAgent on three free ports with short intervals, for tests. */
export function testAgent({ dns, reporter, agent, reactor, ...options }: TestAgentOptions): Promise<Agent> {
  return startAgent({
    ...options,
    agent: { udp_host: '127.0.0.1', udp_base_port: 0, caller: '10.9.8.7', report_interval_s: 0.1, ...agent, dns, reporter },
    reactor: { reconnect_initial_ms: 20, reconnect_max_ms: 200, ...reactor },
  });
}

/** Timers that fire only when the test says time has passed. */
export class FakeTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  set(callback: () => void, ms: number): number {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, callback });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get armed(): number {
    return this.pending.size;
  }

  advance(ms: number): void {
    this.now += ms;
    for (const [id, timer] of [...this.pending]) {
      if (timer.at > this.now) continue;
      this.pending.delete(id);
      timer.callback();
    }
  }
}

export { lars } from '../support/cli.js';

/** A long-running `lars SERVICE` child; `lines` is its stderr so far. */
export class ServiceProcess {
  readonly lines: string[] = [];
  private exited = false;
  private constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
    });
    child.once('exit', () => {
      this.exited = true;
    });
  }

  /** Starts `lars ARGS...` and waits for the stderr line matching `ready`; returns it with its match. */
  static async start(args: string[], ready: RegExp): Promise<{ service: ServiceProcess; match: RegExpExecArray }> {
    const child = spawn(process.execPath, larsArgs(args), {
      cwd: REPO,
      env: { ...process.env, LARS_STORE: undefined },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const service = new ServiceProcess(child);
    try {
      const line = await waitFor(() => service.lines.find((l) => ready.test(l)) ?? (service.exited ? 'EXITED' : undefined), {
        timeoutMs: 60_000,
        message: `lars ${args[0]} to print ${ready}`,
      });
      if (line === 'EXITED') throw new Error(`lars ${args.join(' ')} exited early:\n${service.lines.join('\n')}`);
      return { service, match: ready.exec(line)! };
    } catch (err) {
      await service.stop();
      throw err;
    }
  }

  get running(): boolean {
    return !this.exited;
  }

  /** SIGTERM (or the given signal) and wait for the exit; resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exited) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill(signal);
    return exited;
  }
}
