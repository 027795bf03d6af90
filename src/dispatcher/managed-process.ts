/**
 * One child process kept running: restarted with exponential backoff when it
 * exits on its own (the sequence resets once a run lasted STABLE_MS), and
 * stopped on request with a signal, then SIGKILL after a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../reactor/log.js';
import { Backoff } from './backoff.js';

const STABLE_MS = 10_000;

export interface ManagedProcessOptions {
  /** For the log: "dispatcher", "worker.2". */
  name: string;
  /** argv, executable first. */
  command: string[];
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Called after every exit, wanted or not. */
  onExit?: (code: number | null, signal: string | null) => void;
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly backoff = new Backoff(200, 10_000);

  constructor(private readonly options: ManagedProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const [file, ...args] = this.options.command;
    const child = spawn(file!, args, { env: this.options.env, stdio: ['ignore', 'inherit', 'inherit'] });
    this.child = child;
    this.startedAt = Date.now();
    this.exited = new Promise((resolve) => {
      let ended = false;
      const end = (code: number | null, signal: string | null) => {
        if (ended) return;
        ended = true;
        resolve();
        this.onExit(child, code, signal);
      };
      child.on('error', (err) => {
        this.options.log.error('spawn_failed', { name: this.options.name, command: this.options.command.join(' '), err });
        // A child that never started emits no 'exit'.
        if (child.pid === undefined) end(null, null);
      });
      child.once('exit', end);
    });
    if (child.pid !== undefined) this.options.log.info('process_started', { name: this.options.name, pid: child.pid });
  }

  /** Stops for good: signal now, SIGKILL after timeoutMs; resolves once it has exited. */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return this.exited;
    child.kill(signal);
    const killer =
      signal === 'SIGKILL'
        ? undefined
        : setTimeout(() => {
            this.options.log.warn('drain_timeout', { name: this.options.name, pid: child.pid });
            child.kill('SIGKILL');
          }, timeoutMs);
    await this.exited;
    clearTimeout(killer);
  }

  private onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    this.options.onExit?.(code, signal);
    if (child !== this.child || this.stopping) {
      this.options.log.info('process_stopped', { name: this.options.name, pid: child.pid, code, signal });
      return;
    }
    if (Date.now() - this.startedAt >= STABLE_MS) this.backoff.reset();
    const delay = this.backoff.next();
    this.options.log.warn('process_exited', { name: this.options.name, pid: child.pid, code, signal, restart_in_ms: delay });
    this.restartTimer = setTimeout(() => this.start(), delay);
  }
}
