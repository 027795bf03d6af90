/** Shared pieces of the dispatcher tests: spawning `lars dispatch`, echo clients, waiting. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requestStatus, type DispatchStatus } from '../../src/dispatcher/index.js';
import { larsArgs } from '../support/cli.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface LarsProcess {
  child: ChildProcess;
  /** Everything it wrote to stderr so far, for failure messages. */
  stderr(): string;
  exited: Promise<number | null>;
}

const started = new Set<ChildProcess>();

/** `lars dispatch ARGS...` as a child process, stdout and stderr captured. */
export function startDispatch(...args: string[]): LarsProcess {
  const child = spawn(process.execPath, larsArgs(['dispatch', ...args]), {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LARS_LOG_LEVEL: 'info' },
  });
  started.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => started.delete(child));
  return { child, stderr: () => stderr, exited };
}

/** Stops a child: the signal, then SIGKILL if it is still there after the grace period. */
export async function stopProcess(p: LarsProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}

/** Last resort for an after() hook: SIGKILL whatever is still running. */
export function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * A directory for this test file's sockets. After the file, it is removed and
 * every process the file started is killed.
 */
export function testSocketDir(): { path: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'lars-dispatch-test-'));
  after(() => {
    for (const child of started) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return { path: (name) => join(dir, name) };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function statusOf(socketPath: string): Promise<DispatchStatus | undefined> {
  return requestStatus(socketPath, 5000).catch(() => undefined);
}

/** Waits until the dispatcher answers with the wanted status. */
export function waitForStatus(socketPath: string, what: string, ok: (s: DispatchStatus) => boolean, timeoutMs?: number): Promise<DispatchStatus> {
  return waitFor(what, async () => {
    const s = await statusOf(socketPath);
    return s && ok(s) ? s : undefined;
  }, timeoutMs);
}

export function portOf(status: DispatchStatus): number {
  return Number(status.listening[0]!.split(':').pop());
}

export function openFds(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function totalConnections(status: DispatchStatus): number {
  return status.workers.reduce((sum, w) => sum + w.connections, 0);
}

export function maxMinRatio(status: DispatchStatus): number {
  const counts = status.workers.map((w) => w.connections);
  return Math.max(...counts) / Math.min(...counts);
}

/** A line-echo client: request() sends a line and resolves with the next line back. */
export class EchoClient {
  private buffered = '';
  private readonly waiting: ((line: string) => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffered += text;
      for (let end = this.buffered.indexOf('\n'); end >= 0; end = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, end);
        this.buffered = this.buffered.slice(end + 1);
        this.waiting.shift()?.(line);
      }
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(port: number): Promise<EchoClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new EchoClient(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  request(line: string, timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no echo for ${JSON.stringify(line)}`)), timeoutMs);
      this.waiting.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      void this.closed.then(() => {
        clearTimeout(timer);
        reject(new Error(`connection closed before the echo of ${JSON.stringify(line)}`));
      });
      this.socket.write(line + '\n');
    });
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closed;
  }
}

/** A connection that did one exchange: connected, echoed, closed. */
export async function shortExchange(port: number, line: string): Promise<void> {
  const client = await EchoClient.connect(port);
  await client.request(line);
  await client.close();
}
