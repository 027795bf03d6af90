/**
 * One agent UDP port and the routes it serves (those with
 * (modid + cmdid) % 3 === index), as Lars runs one thread per port: the
 * RouteTable here is touched by nothing else, so the hot path shares no
 * state and takes no locks. It runs inside a worker thread (route-worker.ts)
 * and talks to the main thread only through messages: pulls out, dns answers
 * in, statistics out on an interval.
 *
 * The datagram loop is a bare UdpPort (fast-udp.ts: batched native I/O, or
 * node:dgram) rather than the reactor's UdpServer: at 50k+ requests per
 * second per port, the generic router, labelled counters and per-reply
 * closures are measurable, and this loop handles four message kinds. The
 * checks are the same: short, oversized, length-mismatched, unknown or
 * undecodable datagrams are dropped, counted and logged at most once per
 * interval.
 */
import { performance } from 'node:perf_hooks';
import { RouteTable } from '../balancer/route-table.js';
import type { HealthEvent, PickResult } from '../balancer/types.js';
import { HEADER_SIZE, LARS_MAX_FRAME } from '../protocol/frame.js';
import { intToIp } from '../protocol/ip.js';
import { decodeBody, encodeBody, type KnownMsgId, type MessageTypes } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import { RetCode } from '../protocol/retcode.js';
import { routeKey, type RouteKey } from '../protocol/route-key.js';
import { createLogger, rateLimited, type Logger } from '../reactor/log.js';
import { AgentMsgId } from './extensions.js';
import { describePeer, openUdpPort, type UdpPeer, type UdpPort } from './fast-udp.js';
import { DROP_REASONS, type DropReason, type MainToWorker, type PortCounters, type PortWorkerConfig, type WorkerToMain } from './worker-protocol.js';

export interface PortServerOptions extends PortWorkerConfig {
  toMain(message: WorkerToMain): void;
  logger?: Logger;
  /** Monotonic ms; performance.now() unless a test injects one. */
  clock?: () => number;
}

/** A request held back until dns answers its route (or the wait runs out). */
interface Waiter {
  kind: 'host' | 'route';
  seq: number;
  peer: UdpPeer;
  /** GetHostRequest's affinity key, if it had one. */
  key?: string;
}

interface WaitGroup {
  modid: number;
  cmdid: number;
  waiters: Waiter[];
  timer: NodeJS.Timeout;
}

/** Bounds on held requests: beyond them requests are answered at once, as Lars does. */
const MAX_WAITERS_PER_ROUTE = 1024;
const MAX_WAITING_ROUTES = 1024;
const LOG_INTERVAL_MS = 10_000;

/** Health events worth a log line: a host leaving or rejoining the idle list. */
const TRANSITIONS = new Set<HealthEvent>([
  'overload_err_rate',
  'overload_contin_err',
  'overload_window',
  'idle_succ_rate',
  'idle_contin_succ',
  'idle_overload_timeout',
]);

export function emptyCounters(): PortCounters {
  return {
    getHost: 0,
    report: 0,
    getRoute: 0,
    routeStatus: 0,
    succ: 0,
    overload: 0,
    noexist: 0,
    waited: 0,
    waitExpired: 0,
    unknownReports: 0,
    unknownRoutesEvicted: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>,
    sendErrors: 0,
  };
}

export class PortServer {
  private readonly options: PortServerOptions;
  private readonly table: RouteTable;
  private readonly log: Logger;
  private readonly logLimited: ReturnType<typeof rateLimited>;
  private readonly clock: () => number;
  private readonly waits = new Map<RouteKey, WaitGroup>();
  private udp: UdpPort | undefined;
  private counters = emptyCounters();
  /** Until told otherwise dns is assumed reachable, so the first requests after start may wait for it. */
  private dnsUp = true;
  /** Set by the table's requestRoute callback: the request being handled caused a pull. */
  private pulledNow = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(options: PortServerOptions) {
    this.options = options;
    this.log = options.logger ?? createLogger(`agent.port${options.index}`);
    this.logLimited = rateLimited(this.log, LOG_INTERVAL_MS);
    this.clock = options.clock ?? (() => performance.now());
    this.table = new RouteTable({
      params: options.params,
      maxUnknownRoutes: options.maxUnknownRoutes,
      requestRoute: (modid, cmdid) => {
        this.pulledNow = true;
        options.toMain({ type: 'pull', modid, cmdid });
      },
    });
  }

  /** Starts the periodic work: route refresh (about every second) and statistics batches. */
  start(): void {
    const refreshMs = Math.min(1000, this.options.params.update_timeout * 500);
    this.timers.push(
      setInterval(() => this.table.refresh(this.clock()), refreshMs),
      setInterval(() => this.emitStats(), this.options.reportIntervalMs),
    );
  }

  /** Handles a message from the main thread. */
  async handle(message: MainToWorker): Promise<void> {
    switch (message.type) {
      case 'listen':
        return this.listen(message.port);
      case 'unlisten':
        await this.closeSocket();
        return this.options.toMain({ type: 'unlistened' });
      case 'dns_state':
        return this.setDnsState(message.up);
      case 'route':
        return this.applyRoute(message.modid, message.cmdid, message.hosts);
      case 'snapshot':
        return this.options.toMain({ type: 'snapshot', id: message.id, routes: this.table.routes() });
      case 'stop':
        await this.stop();
        return this.options.toMain({ type: 'stopped' });
    }
  }

  /** Stops the timers, answers held requests, sends the last statistics, closes the port. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.releaseAllWaits();
    this.emitStats();
    await this.closeSocket();
  }

  private async listen(port: number): Promise<void> {
    const { host, recvBufferSize } = this.options;
    let udp: UdpPort;
    try {
      udp = await openUdpPort({ host, port, io: this.options.udpIo, busyPollUs: this.options.busyPollUs }, { onDatagram: this.onDatagram, onError: this.onSocketError });
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      return this.options.toMain({ type: 'listen_failed', port, code: error.code ?? 'ERROR', message: error.message });
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
    const size = datagram.length;
    if (size < HEADER_SIZE) return this.drop('short', `${size} bytes, less than a header`, peer);
    if (size > LARS_MAX_FRAME) return this.drop('oversize', `${size} bytes exceeds the cap of ${LARS_MAX_FRAME}`, peer);
    const length = datagram.readInt32LE(4);
    if (length !== size - HEADER_SIZE) {
      return this.drop('length_mismatch', `header says ${length} body bytes, datagram has ${size - HEADER_SIZE}`, peer);
    }
    const msgid = datagram.readInt32LE(0);
    const body = datagram.subarray(HEADER_SIZE);
    try {
      switch (msgid) {
        case MsgId.GetHostRequest:
          return this.onGetHost(body, peer);
        case MsgId.ReportRequest:
          return this.onReport(body, peer);
        case MsgId.ApiGetRouteRequest:
          return this.onGetRoute(body, peer);
        case AgentMsgId.RouteStatusRequest:
          return this.onRouteStatus(body, peer);
        default:
          return this.drop('unknown_msgid', `unknown msgid ${msgid}`, peer);
      }
    } catch (err) {
      this.log.error('request_failed', { msgid, peer: describePeer(peer), error: err });
    }
  };

  private onGetHost(body: Buffer, peer: UdpPeer): void {
    const request = this.decode(MsgId.GetHostRequest, body, peer);
    if (request === undefined) return;
    this.counters.getHost++;
    const { seq, modid, cmdid } = request;
    // proto3 reads an absent key as "": no key.
    const key = request.key || undefined;
    this.pulledNow = false;
    const result = this.table.pick(modid, cmdid, this.clock(), key);
    if (result.retcode === RetCode.NOEXIST && this.hold(modid, cmdid, { kind: 'host', seq, peer, key })) return;
    this.answerHost(seq, modid, cmdid, result, peer);
  }

  private onReport(body: Buffer, peer: UdpPeer): void {
    const request = this.decode(MsgId.ReportRequest, body, peer);
    if (request === undefined) return;
    this.counters.report++;
    const { modid, cmdid, host } = request;
    if (!host) {
      this.counters.unknownReports++;
      return;
    }
    const event = this.table.report(modid, cmdid, host, request.retcode === RetCode.SUCC, this.clock());
    if (event === 'unknown_route' || event === 'unknown_host') this.counters.unknownReports++;
    else if (TRANSITIONS.has(event)) this.log.info('host_state', { modid, cmdid, host: `${intToIp(host.ip)}:${host.port}`, event });
  }

  private onGetRoute(body: Buffer, peer: UdpPeer): void {
    const request = this.decode(MsgId.ApiGetRouteRequest, body, peer);
    if (request === undefined) return;
    this.counters.getRoute++;
    const { modid, cmdid } = request;
    this.pulledNow = false;
    const hosts = this.table.getRoute(modid, cmdid, this.clock());
    if (hosts.length === 0 && this.hold(modid, cmdid, { kind: 'route', seq: 0, peer })) return;
    this.send(MsgId.ApiGetRouteResponse, { modid, cmdid, host: hosts }, peer);
  }

  /** Extension: the balancer's view of one route (host states and counts), as JSON. Never pulls. */
  private onRouteStatus(body: Buffer, peer: UdpPeer): void {
    const request = this.decode(MsgId.GetRouteRequest, body, peer);
    if (request === undefined) return;
    this.counters.routeStatus++;
    const { modid, cmdid } = request;
    const now = this.clock();
    const view = this.table.routes().find((r) => r.modid === modid && r.cmdid === cmdid);
    const status = {
      modid,
      cmdid,
      status: view?.status ?? 'unknown',
      strategy: view?.strategy ?? null,
      hosts: (view?.hosts ?? []).map(({ ip, stateSince, ...host }) => ({ ip: intToIp(ip), ...host, stateAgeMs: Math.round(now - stateSince) })),
    };
    this.udp?.send(AgentMsgId.RouteStatusResponse, Buffer.from(JSON.stringify(status)), peer);
  }

  private decode<K extends KnownMsgId>(msgid: K, body: Buffer, peer: UdpPeer): MessageTypes[K] | undefined {
    try {
      return decodeBody(msgid, body);
    } catch (err) {
      this.drop('malformed_body', (err as Error).message, peer);
      return undefined;
    }
  }

  private answerHost(seq: number, modid: number, cmdid: number, result: PickResult, peer: UdpPeer): void {
    const { retcode } = result;
    if (retcode === RetCode.SUCC) this.counters.succ++;
    else if (retcode === RetCode.OVERLOAD) this.counters.overload++;
    else this.counters.noexist++;
    this.send(MsgId.GetHostResponse, { seq, modid, cmdid, retcode, host: result.host ?? null }, peer);
  }

  private send<K extends KnownMsgId>(msgid: K, message: MessageTypes[K], peer: UdpPeer): void {
    this.udp?.send(msgid, encodeBody(msgid, message), peer);
  }

  /**
   * Holds a request for a route dns has not answered yet, when the request
   * itself caused the first pull (or joins requests already held for it).
   * Returns false when the request must be answered now: waiting is off,
   * dns is known to be down, the route is not new, or the bounds are hit.
   */
  private hold(modid: number, cmdid: number, waiter: Waiter): boolean {
    const waitMs = this.options.routeWaitMs;
    if (waitMs === 0 || !this.dnsUp) return false;
    const key = routeKey(modid, cmdid);
    let group = this.waits.get(key);
    if (group === undefined) {
      if (!this.pulledNow || this.waits.size >= MAX_WAITING_ROUTES || this.table.status(modid, cmdid) !== 'pending') return false;
      group = { modid, cmdid, waiters: [], timer: setTimeout(() => this.release(key, true), waitMs) };
      this.waits.set(key, group);
    } else if (group.waiters.length >= MAX_WAITERS_PER_ROUTE) {
      return false;
    }
    group.waiters.push(waiter);
    this.counters.waited++;
    return true;
  }

  /** Answers a route's held requests from the table as it is now. */
  private release(key: RouteKey, expired: boolean): void {
    const group = this.waits.get(key);
    if (group === undefined) return;
    this.waits.delete(key);
    clearTimeout(group.timer);
    const { modid, cmdid } = group;
    const now = this.clock();
    for (const waiter of group.waiters) {
      if (waiter.kind === 'host') {
        const result = this.table.pick(modid, cmdid, now, waiter.key);
        if (expired && result.retcode === RetCode.NOEXIST) this.counters.waitExpired++;
        this.answerHost(waiter.seq, modid, cmdid, result, waiter.peer);
      } else {
        const hosts = this.table.getRoute(modid, cmdid, now);
        if (expired && hosts.length === 0) this.counters.waitExpired++;
        this.send(MsgId.ApiGetRouteResponse, { modid, cmdid, host: hosts }, waiter.peer);
      }
    }
  }

  private releaseAllWaits(): void {
    for (const key of [...this.waits.keys()]) this.release(key, true);
  }

  private setDnsState(up: boolean): void {
    this.dnsUp = up;
    if (up) {
      // A new dns connection has no subscriptions: pulling every route re-subscribes it.
      this.table.pullAll(this.clock());
    } else {
      // No answer can come now: held requests get NOEXIST instead of waiting it out.
      this.releaseAllWaits();
    }
  }

  private applyRoute(modid: number, cmdid: number, hosts: MessageTypes[typeof MsgId.GetRouteResponse]['host']): void {
    const outcome = this.table.applyDnsAnswer(modid, cmdid, hosts, this.clock());
    if (outcome.outcome !== 'ignored') {
      const changes = outcome.changes;
      if (changes !== null && changes.rejected.length > 0) {
        const { host, reason } = changes.rejected[0]!;
        this.logLimited('warn', 'dns_hosts_rejected', {
          modid,
          cmdid,
          count: changes.rejected.length,
          first: `${intToIp(host.ip)}:${host.port}`,
          reason,
        });
      }
      if (outcome.outcome === 'dropped') this.log.info('route_dropped', { modid, cmdid, reason: 'dns answered no hosts' });
    }
    this.release(routeKey(modid, cmdid), false);
  }

  private emitStats(): void {
    const counters = this.counters;
    this.counters = emptyCounters();
    counters.unknownRoutesEvicted = this.table.takeEvicted();
    if (counters.unknownRoutesEvicted > 0) {
      this.logLimited('warn', 'unknown_routes_evicted', { count: counters.unknownRoutesEvicted, limit: this.options.maxUnknownRoutes });
    }
    this.options.toMain({ type: 'stats', routes: this.table.takeStats(), counters, routeCount: this.table.size });
  }

  private drop(reason: DropReason, detail: string, peer: UdpPeer): void {
    this.counters.dropped[reason]++;
    this.logLimited('warn', 'datagram_dropped', { peer: describePeer(peer), reason, detail });
  }

  private readonly onSocketError = (err: NodeJS.ErrnoException, count: number): void => {
    this.counters.sendErrors += count;
    this.logLimited('warn', 'socket_error', { error: err, code: err.code, count });
  };
}
