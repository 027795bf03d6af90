/**
 * How the agent's main thread drives one port (docs/agent.md, "Thread
 * model"): by the messages of port-thread-protocol.ts, whether the port's
 * PortServer runs in a worker thread of its own (port-thread-handle.ts,
 * `[agent] threads = 3`) or on the main thread itself (port-inline.ts,
 * `threads = 1`). PortExchange is what both share: it turns the
 * request/reply messages (listen, snapshot, stop) into promises and hands
 * pulls and statistics to the service.
 */
import type { RouteView } from '../balancer/route-table.js';
import type { MainToPort, PortToMain } from './port-thread-protocol.js';

type Reply = Extract<PortToMain, { type: 'ready' | 'listening' | 'listen_failed' | 'unlistened' | 'stopped' }>;
/** Pulls and statistics: what the port sends unasked. */
export type PortTraffic = Exclude<PortToMain, Reply | { type: 'snapshot' }>;

/** A bound port, or why not: `code` is the errno name when the bind itself failed. */
export type ListenResult = { ok: true; port: number } | { ok: false; code?: string; reason: string };

export interface PortHostEvents {
  /** Pulls and statistics. */
  onTraffic(message: PortTraffic): void;
  /** The port's thread ended without being stopped (crash); `cause` says why. Never for a port on the main thread. */
  onExit(cause: string): void;
}

export interface PortHost {
  readonly index: number;
  /** Resolves once the port's server is running; rejects if its thread dies first. */
  ready(): Promise<void>;
  listen(port: number): Promise<ListenResult>;
  unlisten(): Promise<void>;
  post(message: MainToPort): void;
  /** The routes the port holds, with host states. */
  snapshot(): Promise<RouteView[]>;
  /** Lets the port send its last statistics and close its socket, then ends it. */
  stop(): Promise<void>;
}

export abstract class PortExchange implements PortHost {
  readonly index: number;
  protected exited = false;
  private readonly events: PortHostEvents;
  private readonly replies: { types: Reply['type'][]; resolve(reply: Reply): void }[] = [];
  private readonly snapshots = new Map<number, (routes: RouteView[]) => void>();
  private nextSnapshot = 1;
  private readonly started: Promise<Reply>;

  constructor(index: number, events: PortHostEvents) {
    this.index = index;
    this.events = events;
    this.started = this.expect(['ready']);
  }

  abstract stop(): Promise<void>;

  /** Hands one message to the port's server. */
  protected abstract deliver(message: MainToPort): void;

  /** Why the port is gone, for the answers that cannot be had any more. */
  protected abstract exitCause(): string;

  async ready(): Promise<void> {
    const reply = await this.started;
    if (reply.type !== 'ready') throw new Error(`agent port ${this.index} failed to start: ${this.exitCause()}`);
  }

  async listen(port: number): Promise<ListenResult> {
    const answer = await this.request({ type: 'listen', port }, ['listening', 'listen_failed']);
    if (answer.type === 'listening') return { ok: true, port: answer.port };
    if (answer.type === 'listen_failed') return { ok: false, code: answer.code, reason: answer.reason };
    return { ok: false, reason: `port thread exited: ${this.exitCause()}` };
  }

  async unlisten(): Promise<void> {
    await this.request({ type: 'unlisten' }, ['unlistened']);
  }

  post(message: MainToPort): void {
    if (!this.exited) this.deliver(message);
  }

  snapshot(): Promise<RouteView[]> {
    if (this.exited) return Promise.resolve([]);
    const id = this.nextSnapshot++;
    return new Promise((resolve) => {
      this.snapshots.set(id, resolve);
      this.deliver({ type: 'snapshot', id });
    });
  }

  /** One message from the port's server. */
  protected received(message: PortToMain): void {
    if (message.type === 'pull' || message.type === 'stats') return this.events.onTraffic(message);
    if (message.type === 'snapshot') {
      this.snapshots.get(message.id)?.(message.routes);
      this.snapshots.delete(message.id);
      return;
    }
    const waiter = this.replies.findIndex((r) => r.types.includes(message.type));
    if (waiter >= 0) this.replies.splice(waiter, 1)[0]!.resolve(message);
  }

  /** The port's thread is gone: whoever waits gets 'stopped' (nothing hangs on a dead thread); a crash is reported. */
  protected ended(crashed: boolean): void {
    this.exited = true;
    for (const waiter of this.replies.splice(0)) waiter.resolve({ type: 'stopped' });
    for (const resolve of this.snapshots.values()) resolve([]);
    this.snapshots.clear();
    if (crashed) this.events.onExit(this.exitCause());
  }

  protected request(message: MainToPort, types: Reply['type'][]): Promise<Reply> {
    const reply = this.expect(types);
    this.post(message);
    return reply;
  }

  private expect(types: Reply['type'][]): Promise<Reply> {
    if (this.exited) return Promise.resolve({ type: 'stopped' });
    return new Promise((resolve) => this.replies.push({ types, resolve }));
  }
}
