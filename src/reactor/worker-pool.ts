/**
 * A fixed pool of worker threads for blocking or CPU-heavy work, fed from one
 * queue. Tasks are the exported functions of a module the workers load. A
 * task that throws rejects its own promise; a worker that dies (exit, uncaught
 * error) rejects the task it was running and is replaced. With taskTimeoutMs,
 * a task that runs longer is rejected and its worker terminated and replaced:
 * JavaScript cannot be interrupted any other way, and a stuck worker would
 * otherwise hold its slot for good.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { createLogger, type Logger } from './log.js';

/** Runs a module (URL of a .js file, or of a .ts file when running through tsx) in a new worker thread. */
export function startWorker(module: URL, options: WorkerOptions = {}): Worker {
  const source = sourceUrl(module);
  if (!source.pathname.endsWith('.ts')) return new Worker(source, options);
  // Node 20 does not apply the parent's --import hooks inside a worker, so the
  // worker registers tsx itself before it loads TypeScript.
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * Sources are written with .js imports; when only the .ts file exists (tests
 * and development through tsx), that is the one to run.
 */
function sourceUrl(module: URL): URL {
  if (module.protocol !== 'file:' || !module.pathname.endsWith('.js')) return module;
  const path = fileURLToPath(module);
  const typescript = path.slice(0, -3) + '.ts';
  return !existsSync(path) && existsSync(typescript) ? pathToFileURL(typescript) : module;
}

/** @internal messages between the pool and worker-entry. */
export interface WorkerBoot {
  module: string;
}
export interface TaskRequest {
  id: number;
  task: string;
  payload: unknown;
}
export type TaskReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string } };
type WorkerMessage = TaskReply | { ready: true };

type TaskName<T> = { [K in keyof T]: T[K] extends (payload: never) => unknown ? K : never }[keyof T] & string;
type TaskPayload<F> = F extends (payload: infer P) => unknown ? P : never;
type TaskResult<F> = F extends (payload: never) => infer R ? Awaited<R> : never;

export interface WorkerPoolOptions {
  /** Names the pool in log lines. */
  name: string;
  /** The module whose exported functions are the tasks, e.g. new URL('./tasks.js', import.meta.url). */
  module: URL;
  /** Number of worker threads. */
  size: number;
  /** close(): how long running tasks may take before their workers are terminated. Default 5000 ms. */
  closeGraceMs?: number;
  /** A task running longer is rejected and its worker replaced. Default: no limit. */
  taskTimeoutMs?: number;
  logger?: Logger;
}

interface Job {
  readonly id: number;
  readonly task: string;
  readonly payload: unknown;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  job: Job | undefined;
  error: Error | undefined;
  /** Running while a job with a time limit runs. */
  timer: NodeJS.Timeout | undefined;
  /** Being terminated after a timeout: takes no more work; exited() replaces it. */
  retiring: boolean;
}

export class WorkerPool<T = Record<string, (payload: never) => unknown>> {
  private readonly options: WorkerPoolOptions;
  private readonly log: Logger;
  private readonly entry = new URL('./worker-entry.js', import.meta.url);
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private onIdle: (() => void) | undefined;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`${options.name}: pool size must be >= 1, got ${options.size}`);
    const timeout = options.taskTimeoutMs;
    if (timeout !== undefined && !(timeout > 0)) throw new RangeError(`${options.name}: taskTimeoutMs must be > 0, got ${timeout}`);
    this.options = options;
    this.log = options.logger ?? createLogger(options.name);
    for (let i = 0; i < options.size; i++) this.spawn();
  }

  get size(): number {
    return this.options.size;
  }

  /** Workers started and ready for tasks (a replacement takes a moment to load). */
  get readyWorkers(): number {
    let count = 0;
    for (const slot of this.slots) if (slot.ready && !slot.retiring) count += 1;
    return count;
  }

  /** Tasks waiting for a free worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Tasks running now. */
  get running(): number {
    let count = 0;
    for (const slot of this.slots) if (slot.job) count += 1;
    return count;
  }

  /** Runs an exported function of the task module in a worker, with a structured-cloneable payload. */
  run<K extends TaskName<T>>(task: K, payload: TaskPayload<T[K]>): Promise<TaskResult<T[K]>> {
    if (this.closing !== undefined) return Promise.reject(new Error(`${this.options.name}: pool is closed`));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, payload, resolve: resolve as (r: unknown) => void, reject });
      this.pump();
    });
  }

  /**
   * Refuses new tasks, rejects queued ones, lets running ones finish within
   * closeGraceMs, then terminates the workers.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new Error(`${this.options.name}: pool closed before the task ran`));
    if (this.running > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.closeGraceMs ?? 5000);
        this.onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
  }

  private spawn(): void {
    const boot: WorkerBoot = { module: this.options.module.href };
    const slot: Slot = {
      worker: startWorker(this.entry, { workerData: boot }),
      ready: false,
      job: undefined,
      error: undefined,
      timer: undefined,
      retiring: false,
    };
    this.slots.add(slot);
    slot.worker.on('message', (message: WorkerMessage) => this.received(slot, message));
    slot.worker.on('error', (err) => {
      slot.error = err;
    });
    slot.worker.on('exit', (code) => this.exited(slot, code));
  }

  private received(slot: Slot, message: WorkerMessage): void {
    if ('ready' in message) {
      slot.ready = true;
    } else {
      const job = this.finishJob(slot);
      if (job !== undefined && job.id === message.id) {
        if (message.ok) job.resolve(message.result);
        else job.reject(Object.assign(new Error(message.error.message), { name: message.error.name, stack: message.error.stack }));
      }
    }
    this.pump();
  }

  private exited(slot: Slot, code: number): void {
    this.slots.delete(slot);
    const cause = slot.error?.message ?? `exit code ${code}`;
    const job = this.finishJob(slot);
    job?.reject(new Error(`${this.options.name}: worker died (${cause}) while running task ${job.task}`));
    if (this.closing !== undefined) {
      this.pump();
      return;
    }
    if (!slot.ready) {
      // The task module itself does not load: replacing the worker would only fail again.
      this.failure = new Error(`${this.options.name}: worker failed to start: ${cause}`);
      this.log.error('worker_start_failed', { module: this.options.module.href, error: cause });
      for (const job of this.queue.splice(0)) job.reject(this.failure);
      return;
    }
    this.log.warn('worker_replaced', { cause });
    this.spawn();
  }

  /** Takes the slot's job off it (stopping its clock), for whoever settles it. */
  private finishJob(slot: Slot): Job | undefined {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    const job = slot.job;
    slot.job = undefined;
    return job;
  }

  /** The task is over its limit: reject it, terminate the worker; exited() replaces it. */
  private timedOut(slot: Slot, limitMs: number): void {
    const job = this.finishJob(slot);
    if (job === undefined) return;
    slot.retiring = true;
    slot.error = new Error(`terminated: task ${job.task} ran over ${limitMs} ms`);
    job.reject(new Error(`${this.options.name}: task ${job.task} timed out after ${limitMs} ms; its worker is replaced`));
    void slot.worker.terminate();
  }

  /** Hands queued tasks to idle workers; tells close() when nothing runs any more. */
  private pump(): void {
    for (const slot of this.slots) {
      while (slot.ready && !slot.retiring && slot.job === undefined && this.queue.length > 0) {
        const job = this.queue.shift()!;
        try {
          slot.worker.postMessage({ id: job.id, task: job.task, payload: job.payload } satisfies TaskRequest);
          slot.job = job;
          const limit = this.options.taskTimeoutMs;
          if (limit !== undefined) slot.timer = setTimeout(() => this.timedOut(slot, limit), limit);
        } catch (err) {
          job.reject(new Error(`${this.options.name}: task ${job.task}: payload cannot be sent to a worker: ${(err as Error).message}`));
        }
      }
    }
    if (this.onIdle !== undefined && this.running === 0) this.onIdle();
  }
}
