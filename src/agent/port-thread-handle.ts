/**
 * The main thread's handle on one port thread (port-thread.ts): starts the
 * thread (the .ts source under tsx, the compiled .js from dist), passes
 * messages both ways, and turns the request/reply messages (listen,
 * snapshot, stop) into promises.
 */
import { extname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { RouteView } from '../balancer/route-table.js';
import { startWorker } from '../reactor/worker-pool.js';
import type { MainToPort, PortThreadConfig, PortToMain } from './port-thread-protocol.js';

/** The thread's module next to this file, with this file's own extension (.ts under tsx, .js from dist). */
const THREAD_MODULE = new URL(`./port-thread${extname(new URL(import.meta.url).pathname)}`, import.meta.url);

type Reply = Extract<PortToMain, { type: 'ready' | 'listening' | 'listen_failed' | 'unlistened' | 'stopped' }>;
/** Pulls and statistics: what the thread sends unasked. */
export type PortTraffic = Exclude<PortToMain, Reply | { type: 'snapshot' }>;

/** A bound port, or why not: `code` is the errno name when the bind itself failed. */
export type ListenResult = { ok: true; port: number } | { ok: false; code?: string; reason: string };

export interface PortThreadEvents {
  /** Pulls and statistics. */
  onTraffic(message: PortTraffic): void;
  /** The thread ended without being stopped (crash); `cause` says why. */
  onExit(cause: string): void;
}

export class PortThreadHandle {
  readonly index: number;
  private readonly worker: Worker;
  private readonly replies: { types: Reply['type'][]; resolve(reply: Reply): void }[] = [];
  private readonly snapshots = new Map<number, (routes: RouteView[]) => void>();
  private nextSnapshot = 1;
  private error: Error | undefined;
  private exited = false;
  private stopping = false;
  private readonly started: Promise<Reply>;

  constructor(config: PortThreadConfig, events: PortThreadEvents) {
    this.index = config.index;
    this.started = this.expect(['ready']);
    this.worker = startWorker(THREAD_MODULE, { workerData: config, name: `lars-agent-port${config.index}` });
    this.worker.on('message', (message: PortToMain) => {
      if (message.type === 'pull' || message.type === 'stats') return events.onTraffic(message);
      if (message.type === 'snapshot') {
        this.snapshots.get(message.id)?.(message.routes);
        this.snapshots.delete(message.id);
        return;
      }
      const waiter = this.replies.findIndex((r) => r.types.includes(message.type));
      if (waiter >= 0) this.replies.splice(waiter, 1)[0]!.resolve(message);
    });
    this.worker.on('error', (err) => {
      this.error = err;
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      const cause = this.error?.message ?? `exit code ${code}`;
      // Whoever waits for a reply gets 'stopped', so nothing hangs on a dead thread.
      for (const waiter of this.replies.splice(0)) waiter.resolve({ type: 'stopped' });
      for (const resolve of this.snapshots.values()) resolve([]);
      this.snapshots.clear();
      if (!this.stopping) events.onExit(cause);
    });
  }

  /** Resolves once the thread has loaded its modules; rejects if it dies first. */
  async ready(): Promise<void> {
    const reply = await this.started;
    if (reply.type !== 'ready') throw new Error(`agent port thread ${this.index} failed to start: ${this.error?.message ?? 'exited'}`);
  }

  async listen(port: number): Promise<ListenResult> {
    const answer = await this.request({ type: 'listen', port }, ['listening', 'listen_failed']);
    if (answer.type === 'listening') return { ok: true, port: answer.port };
    if (answer.type === 'listen_failed') return { ok: false, code: answer.code, reason: answer.reason };
    return { ok: false, reason: `port thread exited: ${this.error?.message ?? 'no error'}` };
  }

  async unlisten(): Promise<void> {
    await this.request({ type: 'unlisten' }, ['unlistened']);
  }

  post(message: MainToPort): void {
    if (!this.exited) this.worker.postMessage(message);
  }

  snapshot(): Promise<RouteView[]> {
    if (this.exited) return Promise.resolve([]);
    const id = this.nextSnapshot++;
    return new Promise((resolve) => {
      this.snapshots.set(id, resolve);
      this.worker.postMessage({ type: 'snapshot', id } satisfies MainToPort);
    });
  }

  /** Lets the thread send its last statistics and close its port, then ends it. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    const stopped = this.request({ type: 'stop' }, ['stopped']);
    const timer = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([stopped, timer]);
    await this.worker.terminate();
  }

  private request(message: MainToPort, types: Reply['type'][]): Promise<Reply> {
    const reply = this.expect(types);
    this.post(message);
    return reply;
  }

  private expect(types: Reply['type'][]): Promise<Reply> {
    if (this.exited) return Promise.resolve({ type: 'stopped' });
    return new Promise((resolve) => this.replies.push({ types, resolve }));
  }
}
