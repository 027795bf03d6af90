/**
 * What one agent port does with each request and each dns answer, with no
 * socket (port-server.ts does the I/O, tests drive this directly): picks from
 * the port's RouteTable, holds requests for routes being pulled (route-waits.ts),
 * counts (port-counters.ts) and answers through `send`.
 */
import type { LoadBalanceParams } from '../balancer/params.js';
import { isQueue } from '../balancer/results.js';
import { RouteTable, type DnsAnswerOutcome, type RouteStats, type RouteView } from '../balancer/route-table.js';
import type { HealthEvent, HostAddr, HostInput, PickResult, StrategyName } from '../balancer/types.js';
import type { AcceptedDatagram } from '../protocol/datagram.js';
import { intToIp } from '../protocol/ip.js';
import type { DecodedTypes, KnownMsgId, MessageTypes } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import { RetCode } from '../protocol/retcode.js';
import type { RouteId } from '../protocol/route-key.js';
import type { RouteStatus } from '../protocol/route-status.js';
import { rateLimited, type Logger } from '../reactor/log.js';
import type { UdpPeer } from '../reactor/udp-port.js';
import type { PortCounters, PortTally } from './port-counters.js';
import { RouteWaits, type Timers } from './route-waits.js';

/** The requests an agent port answers (docs/agent.md); anything else is dropped as unknown_msgid. */
export const PORT_REQUESTS = new Set([MsgId.GetHostRequest, MsgId.ReportRequest, MsgId.ApiGetRouteRequest, MsgId.RouteStatusRequest] as const);
export type PortRequest = AcceptedDatagram<typeof PORT_REQUESTS extends ReadonlySet<infer K> ? K : never>;

/** Sends one message to a peer the port received from. */
export type Send = <K extends KnownMsgId>(msgid: K, message: MessageTypes[K], peer: UdpPeer) => void;

export interface PortHandlersOptions {
  params: LoadBalanceParams;
  maxUnknownRoutes: number;
  /** route_wait_ms; 0 answers NOEXIST at once, as Lars. */
  routeWaitMs: number;
  /** Asks dns for a route (the main thread sends the GetRouteRequest). */
  pull(modid: number, cmdid: number): void;
  send: Send;
  tally: PortTally;
  /** Monotonic ms. */
  clock(): number;
  log: Logger;
  timers?: Timers;
}

/** A request held until dns answers its route. */
interface Waiter {
  kind: 'host' | 'route';
  seq: number;
  peer: UdpPeer;
  /** GetHostRequest's affinity key, if it had one. */
  key: string | undefined;
}

export interface PortStats {
  routes: RouteStats[];
  counters: PortCounters;
  routeCount: number;
}

const LOG_INTERVAL_MS = 10_000;

/** Health events worth a log line: a host leaving or rejoining the ordinary picks (overloaded or ejected). */
const TRANSITIONS = new Set<HealthEvent>([
  'overload_err_rate',
  'overload_contin_err',
  'overload_window',
  'idle_succ_rate',
  'idle_contin_succ',
  'idle_overload_timeout',
  'ejected',
  'readmitted',
]);

export class PortHandlers {
  private readonly table: RouteTable;
  private readonly waits: RouteWaits<Waiter>;
  private readonly send: Send;
  private readonly tally: PortTally;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly logLimited: ReturnType<typeof rateLimited>;
  private readonly maxUnknownRoutes: number;
  private readonly defaultStrategy: StrategyName;

  constructor(options: PortHandlersOptions) {
    this.defaultStrategy = options.params.strategy;
    this.send = options.send;
    this.tally = options.tally;
    this.clock = options.clock;
    this.log = options.log;
    this.logLimited = rateLimited(options.log, LOG_INTERVAL_MS);
    this.maxUnknownRoutes = options.maxUnknownRoutes;
    this.table = new RouteTable({
      params: options.params,
      maxUnknownRoutes: options.maxUnknownRoutes,
      requestRoute: options.pull,
    });
    this.waits = new RouteWaits({ waitMs: options.routeWaitMs, timers: options.timers, release: (route, waiters, expired) => this.release(route, waiters, expired) });
  }

  /** Answers one request that passed readDatagram. */
  request(request: PortRequest, peer: UdpPeer): void {
    switch (request.msgid) {
      case MsgId.GetHostRequest:
        return this.getHost(request.message, peer);
      case MsgId.ReportRequest:
        return this.report(request.message);
      case MsgId.ApiGetRouteRequest:
        return this.getRoute(request.message, peer);
      case MsgId.RouteStatusRequest:
        return this.routeStatus(request.message, peer);
    }
  }

  /**
   * A dns answer or push: applied to the table, then the route's held
   * requests are answered from it. `strategy` is the one the route's module
   * names (GetRouteResponse field 4), null for the agent's own.
   */
  dnsAnswer(modid: number, cmdid: number, hosts: readonly HostInput[], strategy: string | null = null): void {
    const outcome = this.table.applyDnsAnswer(modid, cmdid, hosts, this.clock(), strategy ?? undefined);
    if (outcome.outcome !== 'ignored') {
      const rejected = outcome.changes?.rejected ?? [];
      if (rejected.length > 0) {
        const { host, reason } = rejected[0]!;
        this.logLimited('warn', 'dns_hosts_rejected', { modid, cmdid, count: rejected.length, first: `${intToIp(host.ip)}:${host.port}`, reason });
      }
      if (outcome.outcome === 'dropped') this.log.info('route_dropped', { modid, cmdid, reason: 'dns answered no hosts' });
    }
    if (outcome.outcome === 'updated') this.strategyNews(modid, cmdid, outcome);
    this.waits.answered(modid, cmdid);
  }

  /** dns (re)connected or lost. */
  dnsState(up: boolean): void {
    this.waits.setDnsUp(up);
    // A new dns connection has no subscriptions: pulling every route re-subscribes it.
    if (up) this.table.pullAll(this.clock());
  }

  /** Periodic upkeep of the table (RouteTable.refresh). */
  refresh(): void {
    this.table.refresh(this.clock());
  }

  /** The port stops: held requests are answered now. */
  stop(): void {
    this.waits.releaseAll();
  }

  /** Statistics since the last take: per-route call counts for the reporter, and the port's counters. */
  takeStats(): PortStats {
    const counters = this.tally.take();
    counters.unknownRoutesEvicted = this.table.takeEvicted();
    if (counters.unknownRoutesEvicted > 0) {
      this.logLimited('warn', 'unknown_routes_evicted', { count: counters.unknownRoutesEvicted, limit: this.maxUnknownRoutes });
    }
    return { routes: this.table.takeStats(), counters, routeCount: this.table.size };
  }

  routes(): RouteView[] {
    return this.table.routes();
  }

  /** A route that switched strategy, or was named one this agent does not know (once per route: the table says when). */
  private strategyNews(modid: number, cmdid: number, outcome: Extract<DnsAnswerOutcome, { outcome: 'updated' }>): void {
    const { strategySwitch, unknownStrategy } = outcome;
    if (unknownStrategy !== undefined) {
      this.tally.counts.unknownStrategies++;
      this.log.warn('unknown_strategy', { modid, cmdid, strategy: unknownStrategy, using: this.defaultStrategy });
    }
    if (strategySwitch !== undefined) this.log.info('route_strategy', { modid, cmdid, from: strategySwitch.from, to: strategySwitch.to });
  }

  private getHost(request: DecodedTypes[typeof MsgId.GetHostRequest], peer: UdpPeer): void {
    this.tally.counts.getHost++;
    const { seq, modid, cmdid } = request;
    // An empty key is proto3's "no key".
    const key = request.key || undefined;
    const result = this.table.pick(modid, cmdid, this.clock(), key);
    if (result.retcode === RetCode.NOEXIST && this.hold(modid, cmdid, isQueue(result), { kind: 'host', seq, peer, key })) return;
    this.answerHost(seq, modid, cmdid, result, peer);
  }

  private report(request: DecodedTypes[typeof MsgId.ReportRequest]): void {
    this.tally.counts.report++;
    const { modid, cmdid, host, durationUs } = request;
    // ReportRequest field 5 (docs/protocol.md): absent is unknown, 0 is a duration.
    const latencyMs = durationUs === null ? undefined : durationUs / 1000;
    if (latencyMs !== undefined) this.tally.counts.timedReport++;
    if (host === null) {
      this.tally.counts.unknownReports++;
      return;
    }
    const event = this.table.report(modid, cmdid, host, request.retcode === RetCode.SUCC, this.clock(), latencyMs);
    if (event === 'unknown_route' || event === 'unknown_host') this.tally.counts.unknownReports++;
    else if (TRANSITIONS.has(event)) this.log.info('host_state', { modid, cmdid, host: `${intToIp(host.ip)}:${host.port}`, event });
  }

  private getRoute(request: DecodedTypes[typeof MsgId.ApiGetRouteRequest], peer: UdpPeer): void {
    this.tally.counts.getRoute++;
    const { modid, cmdid } = request;
    const answer = this.table.getRoute(modid, cmdid, this.clock());
    const hosts = isQueue(answer) ? [] : answer;
    if (hosts.length === 0 && this.hold(modid, cmdid, isQueue(answer), { kind: 'route', seq: 0, peer, key: undefined })) return;
    this.answerRoute(modid, cmdid, hosts, peer);
  }

  /** Extension (docs/agent.md): the balancer's view of one route. Never pulls. */
  private routeStatus(request: DecodedTypes[typeof MsgId.RouteStatusRequest], peer: UdpPeer): void {
    this.tally.counts.routeStatus++;
    const { modid, cmdid } = request;
    const now = this.clock();
    const view = this.table.routes().find((r) => r.modid === modid && r.cmdid === cmdid);
    const status: RouteStatus = {
      modid,
      cmdid,
      status: view?.state ?? 'unknown',
      strategy: view?.strategy ?? null,
      hosts: (view?.hosts ?? []).map(({ ip, stateSince, ...host }) => ({ ip: intToIp(ip), ...host, stateAgeMs: Math.round(now - stateSince) })),
    };
    this.send(MsgId.RouteStatusResponse, status, peer);
  }

  private hold(modid: number, cmdid: number, queued: boolean, waiter: Waiter): boolean {
    if (!this.waits.hold(modid, cmdid, queued, waiter)) return false;
    this.tally.counts.waited++;
    return true;
  }

  /** Answers a route's held requests from the table as it is now. */
  private release({ modid, cmdid }: RouteId, waiters: readonly Waiter[], expired: boolean): void {
    const now = this.clock();
    for (const waiter of waiters) {
      if (waiter.kind === 'host') {
        const result = this.table.pick(modid, cmdid, now, waiter.key);
        if (expired && result.retcode === RetCode.NOEXIST) this.tally.counts.waitExpired++;
        this.answerHost(waiter.seq, modid, cmdid, result, waiter.peer);
      } else {
        const answer = this.table.getRoute(modid, cmdid, now);
        const hosts = isQueue(answer) ? [] : answer;
        if (expired && hosts.length === 0) this.tally.counts.waitExpired++;
        this.answerRoute(modid, cmdid, hosts, waiter.peer);
      }
    }
  }

  private answerHost(seq: number, modid: number, cmdid: number, result: PickResult, peer: UdpPeer): void {
    const { retcode } = result;
    if (retcode === RetCode.SUCC) this.tally.counts.succ++;
    else if (retcode === RetCode.OVERLOAD) this.tally.counts.overload++;
    else this.tally.counts.noexist++;
    this.send(MsgId.GetHostResponse, { seq, modid, cmdid, retcode, host: result.host ?? null }, peer);
  }

  private answerRoute(modid: number, cmdid: number, hosts: HostAddr[], peer: UdpPeer): void {
    this.send(MsgId.ApiGetRouteResponse, { modid, cmdid, host: hosts }, peer);
  }
}
