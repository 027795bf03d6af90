/**
 * The agent's connection to the reporter (main thread). The port workers
 * aggregate call results per route and host and hand them over every
 * [agent] report_interval_s; each non-empty route becomes one
 * ReportStatusRequest (succ/err are the counts of that interval, not
 * running totals).
 *
 * Each report is numbered (field 6) and kept until the reporter acknowledges
 * it as stored (ReportAck, id 108): after a lost connection the kept reports
 * are sent again, with their original window, which the store keeps once
 * (docs/reporter.md, "Acknowledgements"). A reporter that does not answer
 * keepalives is Lars's and sends no acknowledgements: reports written to it
 * count as delivered, as with Lars. At most report_queue reports are kept,
 * the oldest dropped first and counted.
 */
import type { RouteStats } from '../balancer/route-table.js';
import { encodeFrame } from '../protocol/frame.js';
import { ipToInt32 } from '../protocol/ip.js';
import { encodeBody } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import type { Endpoint } from '../reactor/endpoint.js';
import { rateLimited, type Logger } from '../reactor/log.js';
import type { Counter, MetricsRegistry } from '../reactor/metrics.js';
import { TcpClient, type ReconnectOptions } from '../reactor/tcp-client.js';

/** How long close() waits for the acknowledgement of what was sent last. */
const CLOSE_FLUSH_MS = 2000;

export interface ReporterLinkOptions {
  addresses: Endpoint[];
  /** This agent's address, dotted IPv4 (ReportStatusRequest.caller). */
  caller: string;
  /** Reports kept at most: waiting for a reporter or for its acknowledgement. */
  maxQueue: number;
  reconnect?: ReconnectOptions;
  /** Sent first on every connection, for a reporter that requires it (docs/reactor.md). */
  authToken?: string;
  /** TcpClientOptions.keepaliveMs: it also tells our reporter (acknowledges) from Lars's (does not). */
  keepaliveMs?: number;
  logger: Logger;
  metrics: MetricsRegistry;
}

export class ReporterLink {
  private readonly client: TcpClient;
  private readonly caller: number;
  private readonly maxQueue: number;
  private readonly log: Logger;
  private readonly logLimited: ReturnType<typeof rateLimited>;
  /** Reports not yet acknowledged, by seq, oldest first (a Map keeps insertion order). */
  private readonly kept = new Map<number, Uint8Array>();
  private nextSeq = 1;
  /** The current connection's reporter acknowledges (true), does not (false), or is not known yet. */
  private acknowledging: boolean | undefined;
  private onAllAcknowledged: (() => void) | undefined;
  private readonly dropped: Counter;
  private readonly acknowledged: Counter;
  private readonly resent: Counter;

  constructor(options: ReporterLinkOptions) {
    this.caller = ipToInt32(options.caller);
    this.maxQueue = options.maxQueue;
    this.log = options.logger;
    this.logLimited = rateLimited(options.logger, 10_000);
    this.client = new TcpClient({
      name: 'agent_reporter',
      addresses: options.addresses,
      reconnect: options.reconnect,
      authToken: options.authToken,
      keepaliveMs: options.keepaliveMs,
      // The link keeps its reports itself: the client queues nothing.
      maxQueue: 0,
      logger: options.logger,
      metrics: options.metrics,
      onConnected: () => this.resendKept(),
      onPeerKnown: (answers) => this.peerKnown(answers),
    });
    this.client.handle(MsgId.ReportAck, ({ seq }) => this.acknowledge(seq));
    this.dropped = options.metrics.counter('lars_agent_reports_dropped_total', 'reports dropped unacknowledged because report_queue was full');
    this.acknowledged = options.metrics.counter('lars_agent_reports_acknowledged_total', 'reports the reporter acknowledged as stored');
    this.resent = options.metrics.counter('lars_agent_reports_resent_total', 'unacknowledged reports sent again after a reconnect');
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Reports kept: waiting for a reporter, or sent and waiting for its acknowledgement. */
  get queued(): number {
    return this.kept.size;
  }

  start(): void {
    this.client.start();
  }

  /** Sends one ReportStatusRequest per route; `ts` is unix seconds. */
  send(routes: readonly RouteStats[], ts: number): void {
    for (const route of routes) {
      const seq = this.nextSeq;
      this.nextSeq = this.nextSeq >= 0xffffffff ? 1 : this.nextSeq + 1;
      const frame = encodeFrame(
        MsgId.ReportStatusRequest,
        encodeBody(MsgId.ReportStatusRequest, {
          modid: route.modid,
          cmdid: route.cmdid,
          caller: this.caller,
          results: route.hosts.map(({ ip, port, succ, err, overload, timed, durationUs, maxDurationUs }) => ({ ip, port, succ, err, overload, timed, durationUs, maxDurationUs })),
          ts,
          seq,
        }),
      );
      const written = this.client.connected && this.client.sendFrame(frame);
      // Written to a Lars reporter: delivered as far as anyone will ever say.
      if (!(written && this.acknowledging === false)) this.keep(seq, frame);
    }
  }

  /** Waits (at most 2 s) for the acknowledgement of what was sent, then closes. */
  async close(): Promise<void> {
    if (this.kept.size > 0 && this.client.connected && this.acknowledging === true) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_FLUSH_MS);
        this.onAllAcknowledged = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.kept.size > 0) this.log.warn('reports_unacknowledged_at_close', { reports: this.kept.size });
    await this.client.close();
  }

  private keep(seq: number, frame: Uint8Array): void {
    if (this.kept.size >= this.maxQueue) {
      const oldest = this.kept.keys().next();
      if (oldest.done) return;
      this.kept.delete(oldest.value);
      this.dropped.inc();
      this.logLimited('warn', 'report_queue_full', { reportQueue: this.maxQueue, dropped: this.dropped.get() });
    }
    this.kept.set(seq, frame);
  }

  /** A new connection: what is kept goes first, oldest first. */
  private resendKept(): void {
    this.acknowledging = undefined;
    if (this.kept.size === 0) return;
    let sent = 0;
    for (const frame of this.kept.values()) if (this.client.sendFrame(frame)) sent++;
    this.resent.inc(sent);
    this.log.info('reports_resent', { reports: sent });
  }

  private peerKnown(answers: boolean): void {
    this.acknowledging = answers;
    if (answers) return;
    // Lars's reporter: everything kept has been written to it on this connection.
    this.log.info('reporter_does_not_acknowledge', { released: this.kept.size });
    this.kept.clear();
  }

  private acknowledge(seqs: readonly number[]): void {
    let count = 0;
    for (const seq of seqs) if (this.kept.delete(seq)) count++;
    this.acknowledged.inc(count);
    if (this.kept.size === 0) this.onAllAcknowledged?.();
  }
}
