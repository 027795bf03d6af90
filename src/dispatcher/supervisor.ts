/**
 * Managed mode (`lars dispatch --workers N`), acl_master's role: starts the
 * dispatcher as a child process (`lars dispatch --socket PATH`) and N
 * workers that attach to it, restarts whichever crashes, drains on stop and
 * replaces workers one at a time on reload.
 *
 * The dispatcher runs in its own process because the usocket descriptors it
 * holds are not close-on-exec: a supervisor that held them would leak every
 * worker link into each worker it starts. This process holds none.
 */
import type { Endpoint } from '../reactor/endpoint.js';
import { createLogger, type Logger } from '../reactor/log.js';
import { ECHO_WORKER_ENTRY, larsCommand, nodeCommand } from './entry-points.js';
import { ManagedProcess } from './managed-process.js';
import { SUPERVISOR_PID_ENV } from './orphan-watch.js';
import { DISPATCH_SOCKET_ENV, type DispatchStatus } from './protocol.js';
import { requestStatus } from './status-client.js';

export interface SupervisorOptions {
  listen: Endpoint[];
  socketPath: string;
  workers: number;
  /** Worker argv, executable first; the built-in echo worker when absent. */
  command?: string[];
  /** More `lars dispatch` flags for the dispatcher process, e.g. ['--admin', '127.0.0.1:9000']. */
  dispatcherArgs?: string[];
  /** How long stop() lets each process finish before SIGKILL (default 30 s). */
  drainTimeoutMs?: number;
  /** How long start() and reload() wait for a process to come up (default 30 s). */
  readyTimeoutMs?: number;
  log?: Logger;
}

/** Set for each worker: its slot number, 0..N-1. */
export const WORKER_SLOT_ENV = 'LARS_WORKER_SLOT';

const POLL_MS = 100;

export class Supervisor {
  private readonly log: Logger;
  private readonly drainTimeoutMs: number;
  private readonly readyTimeoutMs: number;
  private readonly dispatcher: ManagedProcess;
  private readonly slots: ManagedProcess[] = [];
  private readonly retiring = new Set<ManagedProcess>();
  private reloading: Promise<void> | undefined;
  private stopping = false;
  private dispatcherExits = 0;

  private constructor(private readonly options: SupervisorOptions) {
    this.log = options.log ?? createLogger('dispatch.supervisor');
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    const listenArgs = options.listen.flatMap((a) => ['--listen', `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`]);
    this.dispatcher = new ManagedProcess({
      name: 'dispatcher',
      command: larsCommand('dispatch', ...listenArgs, '--socket', options.socketPath, ...(options.dispatcherArgs ?? [])),
      env: { ...process.env, [SUPERVISOR_PID_ENV]: String(process.pid) },
      log: this.log,
      onExit: () => (this.dispatcherExits += 1),
    });
  }

  static async start(options: SupervisorOptions): Promise<Supervisor> {
    const supervisor = new Supervisor(options);
    try {
      await supervisor.startAll();
    } catch (err) {
      await supervisor.kill();
      throw err;
    }
    return supervisor;
  }

  get socketPath(): string {
    return this.options.socketPath;
  }

  get dispatcherPid(): number | undefined {
    return this.dispatcher.pid;
  }

  get workerPids(): (number | undefined)[] {
    return this.slots.map((s) => s.pid);
  }

  status(): Promise<DispatchStatus | undefined> {
    return requestStatus(this.options.socketPath, 2000).catch(() => undefined);
  }

  /** Replaces the workers one at a time: the new one attaches before the old one detaches and drains. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.log.info('reload_already_running');
      return this.reloading;
    }
    this.reloading = this.reloadSlots().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /** Drains: the dispatcher stops accepting and exits, then the workers finish their connections. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.log.info('draining', { timeout_ms: this.drainTimeoutMs });
    await this.dispatcher.stop('SIGTERM', this.drainTimeoutMs);
    await Promise.all(this.allWorkers().map((w) => w.stop('SIGTERM', this.drainTimeoutMs)));
    this.log.info('stopped');
  }

  /** Stops everything at once with SIGKILL. */
  async kill(): Promise<void> {
    this.stopping = true;
    await Promise.all([this.dispatcher, ...this.allWorkers()].map((p) => p.stop('SIGKILL', 0)));
  }

  private async startAll(): Promise<void> {
    this.dispatcher.start();
    const up = await this.waitFor(async () => this.dispatcherExits > 0 || (await this.status()) !== undefined);
    if (!up || this.dispatcherExits > 0) throw new Error('the dispatcher process did not start (its log line above says why)');
    for (let slot = 0; slot < this.options.workers; slot++) {
      const worker = this.newWorker(slot);
      this.slots.push(worker);
      worker.start();
    }
    const attached = await this.waitFor(async () => ((await this.status())?.workers.length ?? 0) >= this.options.workers);
    const status = await this.status();
    if (!attached) this.log.warn('workers_not_attached', { expected: this.options.workers, attached: status?.workers.length });
    this.log.info('ready', { workers: status?.workers.length, socket: this.options.socketPath, listening: status?.listening.join(',') });
  }

  private newWorker(slot: number): ManagedProcess {
    return new ManagedProcess({
      name: `worker.${slot}`,
      command: this.options.command ?? nodeCommand(ECHO_WORKER_ENTRY),
      env: {
        ...process.env,
        [DISPATCH_SOCKET_ENV]: this.options.socketPath,
        [SUPERVISOR_PID_ENV]: String(process.pid),
        [WORKER_SLOT_ENV]: String(slot),
      },
      log: this.log,
    });
  }

  private async reloadSlots(): Promise<void> {
    this.log.info('reload_started', { workers: this.slots.length });
    for (let slot = 0; slot < this.slots.length && !this.stopping; slot++) {
      const fresh = this.newWorker(slot);
      fresh.start();
      if (!(await this.waitFor(async () => this.isAttached(await this.status(), fresh.pid)))) {
        this.log.warn('reload_aborted', { slot, reason: 'new worker did not attach' });
        await fresh.stop('SIGKILL', 0);
        return;
      }
      const old = this.slots[slot]!;
      const oldPid = old.pid;
      this.slots[slot] = fresh;
      this.retiring.add(old);
      void old.stop('SIGTERM', this.drainTimeoutMs).then(() => this.retiring.delete(old));
      await this.waitFor(async () => !this.isAttached(await this.status(), oldPid));
    }
    this.log.info('reload_done');
  }

  private isAttached(status: DispatchStatus | undefined, pid: number | undefined): boolean {
    return pid !== undefined && !!status?.workers.some((w) => w.pid === pid);
  }

  private allWorkers(): ManagedProcess[] {
    return [...this.slots, ...this.retiring];
  }

  private async waitFor(condition: () => Promise<boolean>): Promise<boolean> {
    const deadline = Date.now() + this.readyTimeoutMs;
    while (Date.now() < deadline) {
      if (this.stopping) return false;
      if (await condition()) return true;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return false;
  }
}
