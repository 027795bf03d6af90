/**
 * The agent's connection to the reporter (main thread). The port workers
 * aggregate call results per route and host and hand them over every
 * [agent] report_interval_s; each non-empty route becomes one
 * ReportStatusRequest (succ/err are the counts of that interval, not
 * running totals). While no reporter is reachable the messages wait in a
 * bounded queue (report_queue), the oldest dropped first and counted.
 */
import type { RouteStats } from '../balancer/route-table.js';
import { ipToInt32 } from '../protocol/ip.js';
import { MsgId } from '../protocol/msgid.js';
import type { Endpoint } from '../reactor/endpoint.js';
import type { Logger } from '../reactor/log.js';
import type { MetricsRegistry } from '../reactor/metrics.js';
import { TcpClient, type ReconnectOptions } from '../reactor/tcp-client.js';

export interface ReporterLinkOptions {
  addresses: Endpoint[];
  /** This agent's address, dotted IPv4 (ReportStatusRequest.caller). */
  caller: string;
  maxQueue: number;
  reconnect?: ReconnectOptions;
  /** Sent first on every connection, for a reporter that requires it (docs/reactor.md). */
  authToken?: string;
  logger: Logger;
  metrics: MetricsRegistry;
}

export class ReporterLink {
  private readonly client: TcpClient;
  private readonly caller: number;

  constructor(options: ReporterLinkOptions) {
    this.caller = ipToInt32(options.caller);
    this.client = new TcpClient({
      name: 'agent_reporter',
      addresses: options.addresses,
      reconnect: options.reconnect,
      authToken: options.authToken,
      maxQueue: options.maxQueue,
      logger: options.logger,
      metrics: options.metrics,
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Messages waiting for a reporter. */
  get queued(): number {
    return this.client.queued;
  }

  start(): void {
    this.client.start();
  }

  /** Sends one ReportStatusRequest per route; `ts` is unix seconds. */
  send(routes: readonly RouteStats[], ts: number): void {
    for (const route of routes) {
      this.client.send(MsgId.ReportStatusRequest, {
        modid: route.modid,
        cmdid: route.cmdid,
        caller: this.caller,
        results: route.hosts.map(({ ip, port, succ, err, overload }) => ({ ip, port, succ, err, overload })),
        ts,
      });
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
