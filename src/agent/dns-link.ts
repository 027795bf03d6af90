/**
 * The agent's connection to dns (main thread): GetRouteRequest out,
 * GetRouteResponse in, whether it answers a pull or is pushed after a route
 * edit. Fails over between the listed dns servers (TcpClient). Pulls made
 * while disconnected are not queued: on every (re)connect the port threads
 * pull all their routes again, which also re-subscribes them on the new
 * connection.
 */
import type { DecodedRouteHost } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import type { Endpoint } from '../reactor/endpoint.js';
import type { Logger } from '../reactor/log.js';
import type { MetricsRegistry } from '../reactor/metrics.js';
import { TcpClient, type ReconnectOptions } from '../reactor/tcp-client.js';

export interface DnsLinkOptions {
  addresses: Endpoint[];
  /**
   * `strategy`: the one the route's module names (GetRouteResponse field 4),
   * null for none. Each host's `load` is a registered instance's score
   * (HostInfo field 4), null for a configured host.
   */
  onRoute(modid: number, cmdid: number, hosts: DecodedRouteHost[], strategy: string | null): void;
  onState(up: boolean): void;
  reconnect?: ReconnectOptions;
  maxFrame?: number;
  /** Sent first on every connection, for a dns that requires it (docs/reactor.md). */
  authToken?: string;
  /** TcpClientOptions.keepaliveMs: an idle agent's link stays up (docs/reactor.md, "Keepalive"). */
  keepaliveMs?: number;
  logger: Logger;
  metrics: MetricsRegistry;
}

export class DnsLink {
  private readonly client: TcpClient;
  private deferred = 0;

  constructor(options: DnsLinkOptions) {
    this.client = new TcpClient({
      name: 'agent_dns',
      addresses: options.addresses,
      reconnect: options.reconnect,
      maxFrame: options.maxFrame,
      authToken: options.authToken,
      keepaliveMs: options.keepaliveMs,
      maxQueue: 0,
      logger: options.logger,
      metrics: options.metrics,
      onConnected: () => options.onState(true),
      onDisconnected: () => options.onState(false),
    });
    this.client.handle(MsgId.GetRouteResponse, (answer) => options.onRoute(answer.modid, answer.cmdid, answer.host, answer.strategy));
    options.metrics.gauge('lars_agent_dns_pulls_deferred', 'route pulls skipped while dns was unreachable (re-pulled on reconnect)', () => this.deferred);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  get address(): Endpoint | undefined {
    return this.client.address;
  }

  start(): void {
    this.client.start();
  }

  /** Asks dns for a route; while disconnected the pull is skipped (the reconnect re-pulls everything). */
  pull(modid: number, cmdid: number): void {
    if (!this.client.connected) {
      this.deferred++;
      return;
    }
    this.client.send(MsgId.GetRouteRequest, { modid, cmdid });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
