/**
 * One agent UDP port and the routes it serves (those with
 * (modid + cmdid) % 3 === index), as Lars runs one thread per port: its
 * RouteTable is touched by nothing else, so the hot path shares no state and
 * takes no locks. It runs in a port thread (port-thread.ts) and talks to the
 * main thread only through messages: pulls out, dns answers in, statistics
 * out on an interval.
 *
 * This file is the I/O: the socket (a UdpPort, src/reactor/udp-port.ts), the
 * main thread's messages and the timers. Each datagram is read by the one
 * datagram codec (src/protocol/datagram.ts); what is dropped is counted and
 * logged at most once per interval, the rest goes to PortHandlers.
 */
import { performance } from 'node:perf_hooks';
import { readDatagram, type DroppedDatagram } from '../protocol/datagram.js';
import { encodeBody } from '../protocol/messages.js';
import { createLogger, rateLimited, type Logger } from '../reactor/log.js';
import { describePeer, openUdpPort, UdpBindError, type UdpPeer, type UdpPort } from '../reactor/udp-port.js';
import { countedNothing, PortTally } from './port-counters.js';
import { PORT_REQUESTS, PortHandlers } from './port-handlers.js';
import type { MainToPort, PortThreadConfig, PortToMain } from './port-thread-protocol.js';

export interface PortServerOptions extends PortThreadConfig {
  toMain(message: PortToMain): void;
  logger?: Logger;
  /** Monotonic ms; performance.now() unless a test injects one. */
  clock?: () => number;
}

const LOG_INTERVAL_MS = 10_000;

export class PortServer {
  private readonly options: PortServerOptions;
  private readonly log: Logger;
  private readonly logLimited: ReturnType<typeof rateLimited>;
  private readonly tally = new PortTally();
  private readonly handlers: PortHandlers;
  private udp: UdpPort | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** The route count the main thread last heard of. */
  private reportedRouteCount = 0;

  constructor(options: PortServerOptions) {
    this.options = options;
    this.log = options.logger ?? createLogger(`agent.port${options.index}`);
    this.logLimited = rateLimited(this.log, LOG_INTERVAL_MS);
    this.handlers = new PortHandlers({
      params: options.params,
      maxUnknownRoutes: options.maxUnknownRoutes,
      routeWaitMs: options.routeWaitMs,
      pull: (modid, cmdid) => options.toMain({ type: 'pull', modid, cmdid }),
      send: (msgid, message, peer) => this.udp?.send(msgid, encodeBody(msgid, message), peer),
      tally: this.tally,
      clock: options.clock ?? (() => performance.now()),
      log: this.log,
    });
  }

  /** Starts the periodic work: route refresh (about every second) and statistics batches. */
  start(): void {
    const refreshMs = Math.min(1000, this.options.params.update_timeout * 500);
    this.timers.push(
      setInterval(() => this.handlers.refresh(), refreshMs),
      setInterval(() => this.emitStats(), this.options.reportIntervalMs),
    );
  }

  /** Handles a message from the main thread. */
  async handle(message: MainToPort): Promise<void> {
    switch (message.type) {
      case 'listen':
        return this.listen(message.port);
      case 'unlisten':
        await this.closeSocket();
        return this.options.toMain({ type: 'unlistened' });
      case 'dns_state':
        return this.handlers.dnsState(message.up);
      case 'route':
        return this.handlers.dnsAnswer(message.modid, message.cmdid, message.hosts, message.strategy);
      case 'snapshot':
        return this.options.toMain({ type: 'snapshot', id: message.id, routes: this.handlers.routes() });
      case 'stop':
        await this.stop();
        return this.options.toMain({ type: 'stopped' });
    }
  }

  /** Stops the timers, answers held requests, sends the last statistics, closes the port. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.handlers.stop();
    this.emitStats();
    await this.closeSocket();
  }

  private async listen(port: number): Promise<void> {
    const { host, recvBufferSize, udpIo, busyPollUs } = this.options;
    let udp: UdpPort;
    try {
      udp = await openUdpPort({ host, port, io: udpIo, busyPollUs }, { onDatagram: this.onDatagram, onError: this.onSocketError });
    } catch (err) {
      const failure = err instanceof UdpBindError ? { code: err.code, reason: err.reason } : { reason: (err as Error).message };
      return this.options.toMain({ type: 'listen_failed', port, ...failure });
    }
    if (recvBufferSize > 0) {
      try {
        udp.setRecvBufferSize(recvBufferSize);
      } catch (err) {
        this.log.warn('recv_buffer_not_set', { size: recvBufferSize, error: err });
      }
    }
    this.udp = udp;
    this.log.info('udp_port', { port: udp.port, io: udp.io, reason: udp.fallbackReason });
    this.options.toMain({ type: 'listening', port: udp.port });
  }

  private closeSocket(): Promise<void> {
    const udp = this.udp;
    this.udp = undefined;
    return udp === undefined ? Promise.resolve() : udp.close();
  }

  private readonly onDatagram = (datagram: Buffer, peer: UdpPeer): void => {
    const request = readDatagram(datagram, PORT_REQUESTS);
    if ('dropped' in request) return this.drop(request, peer);
    try {
      this.handlers.request(request, peer);
    } catch (err) {
      this.log.error('request_failed', { msgid: request.msgid, peer: describePeer(peer), error: err });
    }
  };

  /** Sends what was counted since the last batch; an idle port sends nothing, so it wakes no other thread. */
  private emitStats(): void {
    const stats = this.handlers.takeStats();
    if (stats.routes.length === 0 && stats.routeCount === this.reportedRouteCount && countedNothing(stats.counters)) return;
    this.reportedRouteCount = stats.routeCount;
    this.options.toMain({ type: 'stats', ...stats });
  }

  private drop({ dropped, detail }: DroppedDatagram, peer: UdpPeer): void {
    this.tally.counts.dropped[dropped]++;
    this.logLimited('warn', 'datagram_dropped', { peer: describePeer(peer), reason: dropped, detail });
  }

  private readonly onSocketError = (err: NodeJS.ErrnoException, count: number): void => {
    this.tally.counts.sendErrors += count;
    this.logLimited('warn', 'socket_error', { error: err, code: err.code, count });
  };
}
