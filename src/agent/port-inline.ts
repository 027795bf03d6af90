/**
 * A port served on the main thread (`[agent] threads = 1`, docs/agent.md):
 * its PortServer runs beside the dns and reporter links, driven by the same
 * messages a port thread gets, handed over by calls instead of postMessage.
 * Each port still owns its routes alone; one thread owning three ports costs
 * no worker isolate (about 10 MB each) and no cross-thread hop for pulls and
 * statistics.
 */
import type { Logger } from '../reactor/log.js';
import { PortExchange, type PortHostEvents } from './port-host.js';
import type { MainToPort, PortThreadConfig } from './port-thread-protocol.js';
import { PortServer } from './port-server.js';

export class InlinePort extends PortExchange {
  private readonly server: PortServer;
  private readonly log: Logger;

  constructor(config: PortThreadConfig, events: PortHostEvents, log: Logger) {
    super(config.index, events);
    this.log = log;
    this.server = new PortServer({ ...config, logger: log, toMain: (message) => this.received(message) });
    this.server.start();
    this.received({ type: 'ready' });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    await this.request({ type: 'stop' }, ['stopped']);
    this.ended(false);
  }

  protected deliver(message: MainToPort): void {
    this.server.handle(message).catch((err: unknown) => this.log.error('message_failed', { type: message.type, error: err }));
  }

  protected exitCause(): string {
    return 'stopped';
  }
}
