/**
 * A port in a worker thread of its own (`[agent] threads = 3`, docs/agent.md):
 * starts the thread (port-thread.ts: the .ts source under tsx, the compiled
 * .js from dist) and passes the messages both ways; PortExchange
 * (port-host.ts) matches the replies.
 */
import { extname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../reactor/worker-pool.js';
import { PortExchange, type PortHostEvents } from './port-host.js';
import type { MainToPort, PortThreadConfig, PortToMain } from './port-thread-protocol.js';

/**
 * The thread's module beside this file, with this file's own extension (.ts
 * under tsx, .js from dist). The path goes up to the source root and down
 * again so that it also resolves from the bundled `lars agent`
 * (dist/src/cli/agent-main.js, one level below the root like this file;
 * docs/agent.md, "Memory").
 */
const THREAD_MODULE = new URL(`../agent/port-thread${extname(new URL(import.meta.url).pathname)}`, import.meta.url);

/**
 * V8 limits of a port thread's heap. Its young generation is what grows
 * under load (V8 widens it up to 16 MB per semi-space when scavenges are
 * frequent), and a port's garbage lives one request. `lars agent` already
 * keeps every isolate's young generation small (heap-limits.ts); this bound
 * holds wherever the agent is embedded (docs/agent.md, "Memory").
 */
const PORT_THREAD_LIMITS = { maxYoungGenerationSizeMb: 4 };

export class PortThreadHandle extends PortExchange {
  private readonly worker: Worker;
  private error: Error | undefined;
  private exitCode = 0;
  private stopping = false;

  constructor(config: PortThreadConfig, events: PortHostEvents) {
    super(config.index, events);
    this.worker = startWorker(THREAD_MODULE, { workerData: config, name: `lars-agent-port${config.index}`, resourceLimits: PORT_THREAD_LIMITS });
    this.worker.on('message', (message: PortToMain) => this.received(message));
    this.worker.on('error', (err) => {
      this.error = err;
    });
    this.worker.on('exit', (code) => {
      this.exitCode = code;
      this.ended(!this.stopping);
    });
  }

  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    const stopped = this.request({ type: 'stop' }, ['stopped']);
    const timer = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([stopped, timer]);
    await this.worker.terminate();
  }

  protected deliver(message: MainToPort): void {
    this.worker.postMessage(message);
  }

  protected exitCause(): string {
    return this.error?.message ?? `exit code ${this.exitCode}`;
  }
}
