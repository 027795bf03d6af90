/**
 * LarsClient: what business code uses to pick a host for (modid, cmdid) from
 * the local agent and report how the call went (docs/client.md).
 *
 * One UDP socket per client. getHost replies are matched by seq, so a late
 * reply to an earlier, timed-out request is dropped rather than mistaken for
 * the current answer. Route replies carry no seq and are matched by route.
 * OVERLOAD and NOEXIST are answers, returned as results; only transport
 * failures (timeout, closed client) throw.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { DEFAULT_AGENT_BASE_PORT, agentPort } from '../protocol/agent-ports.js';
import { readDatagram } from '../protocol/datagram.js';
import { encodeFrame } from '../protocol/frame.js';
import { intToIp, ipToInt32 } from '../protocol/ip.js';
import { encodeBody, type DecodedTypes, type HostInfo, type KnownMsgId, type MessageTypes } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import { RetCode } from '../protocol/retcode.js';
import { routeKey, type RouteKey } from '../protocol/route-key.js';
import type { RouteStatus } from '../protocol/route-status.js';

export interface Host {
  ip: string;
  port: number;
}

export type GetHostResult =
  | { retcode: typeof RetCode.SUCC; host: Host }
  | { retcode: typeof RetCode.OVERLOAD | typeof RetCode.NOEXIST | typeof RetCode.SYSTEM_ERROR; host?: undefined };

export interface LarsClientOptions {
  /** Agent address; default 127.0.0.1. */
  host?: string;
  /** First of the agent's three UDP ports; default 8888. */
  basePort?: number;
  /** Per-request timeout in ms; default 1000. */
  timeoutMs?: number;
  /** Monotonic ms that call() measures fn's duration with; performance.now() unless a test injects one. */
  clock?: () => number;
}

export interface HostOptions {
  /**
   * Affinity key (e.g. a user id): with the agent's consistent_hash strategy,
   * equal keys get the same host while it is healthy. Sent as an extension
   * field; the Lars strategy ignores it.
   */
  key?: string;
}

export interface ReportOptions {
  /**
   * The call's duration in ms (finite, >= 0), for latency-aware strategies:
   * sent in whole µs (ReportRequest extension field 5), at most 2^32 - 1 µs
   * (about 71.6 minutes). Left out, the duration is unknown and the report
   * is the bytes a Lars client sends.
   */
  durationMs?: number;
}

/** ReportRequest's duration_us is a uint32. */
const MAX_DURATION_US = 0xffffffff;

/** A duration in ms as ReportRequest's duration_us: rounded to whole µs, clamped to the uint32 range. Throws RangeError unless finite and >= 0. */
export function reportedDurationUs(durationMs: number): number {
  if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0) {
    throw new RangeError(`a call's duration must be a finite number of ms >= 0, got ${String(durationMs)}`);
  }
  return Math.min(Math.round(durationMs * 1000), MAX_DURATION_US);
}

export interface CallOptions extends HostOptions {
  /** Time allowed for fn; when it passes, the call is reported as a failure. Default: the client's timeout. */
  timeout?: number;
}

export class LarsTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer from the lars agent within ${ms} ms`);
    this.name = 'LarsTimeoutError';
  }
}

/** Result of call(): the host used (when one was given), and fn's value or error. */
export type CallResult<T> =
  | { retcode: typeof RetCode.SUCC; host: Host; value: T }
  | { retcode: Exclude<RetCode, typeof RetCode.SUCC>; host?: Host; error?: unknown };

interface Pending<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The agent's answers a client reads; anything else is not for us. */
const REPLIES = new Set([MsgId.GetHostResponse, MsgId.ApiGetRouteResponse, MsgId.RouteStatusResponse] as const);

export class LarsClient {
  private readonly socket: Socket;
  private readonly host: string;
  private readonly basePort: number;
  private readonly timeoutMs: number;
  private readonly clock: () => number;
  private seq = 0;
  private closed = false;
  private readonly hostRequests = new Map<number, Pending<GetHostResult>>();
  private readonly routeRequests = new Map<RouteKey, Pending<Host[]>[]>();
  private readonly statusRequests = new Map<RouteKey, Pending<RouteStatus>[]>();
  private readonly ready: Promise<void>;
  /** Datagrams handed to the socket and not yet sent: close() waits for them, so a last report is not lost. */
  private inflight = 0;
  private drained: (() => void) | undefined;

  constructor(options: LarsClientOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.basePort = options.basePort ?? DEFAULT_AGENT_BASE_PORT;
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.clock = options.clock ?? (() => performance.now());
    this.socket = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('message', (datagram) => this.onDatagram(datagram));
    // A send error (e.g. ICMP port unreachable surfaced by the OS) must not crash the caller.
    this.socket.on('error', () => undefined);
    this.ready = new Promise((resolve) => this.socket.bind(0, resolve));
  }

  /** One host for the route, chosen by the agent's balancer. */
  async getHost(modid: number, cmdid: number, options: HostOptions = {}): Promise<GetHostResult> {
    await this.ready;
    if (this.closed) throw new Error('LarsClient closed');
    this.seq = (this.seq + 1) >>> 0;
    const seq = this.seq;
    const reply = this.expect<GetHostResult>(
      'getHost',
      (p) => this.hostRequests.set(seq, p),
      () => this.hostRequests.delete(seq),
    );
    this.sendTo(modid, cmdid, MsgId.GetHostRequest, { seq, modid, cmdid, key: options.key });
    return reply;
  }

  /**
   * Tells the agent how a call to host went: RetCode.SUCC or a failure code,
   * and how long it took when `durationMs` is given. No answer.
   */
  report(modid: number, cmdid: number, host: Host, retcode: number, options: ReportOptions = {}): void {
    const duration = options.durationMs === undefined ? null : reportedDurationUs(options.durationMs);
    if (this.closed) return;
    const report = { modid, cmdid, host: { ip: ipToInt32(host.ip), port: host.port }, retcode, durationUs: duration };
    void this.ready.then(() => this.sendTo(modid, cmdid, MsgId.ReportRequest, report));
  }

  /** Every host of the route, as the agent holds it (empty when the route is unknown). */
  async getRoute(modid: number, cmdid: number): Promise<Host[]> {
    await this.ready;
    if (this.closed) throw new Error('LarsClient closed');
    const reply = this.expectByRoute('getRoute', this.routeRequests, modid, cmdid);
    this.sendTo(modid, cmdid, MsgId.ApiGetRouteRequest, { modid, cmdid });
    return reply;
  }

  /**
   * Extension of our agent (msgid 100/101, not in Lars): the balancer's view
   * of a route, each host's state (idle/overloaded) and counts. Never makes
   * the agent pull the route.
   */
  async routeStatus(modid: number, cmdid: number): Promise<RouteStatus> {
    await this.ready;
    if (this.closed) throw new Error('LarsClient closed');
    const reply = this.expectByRoute('routeStatus', this.statusRequests, modid, cmdid);
    this.sendTo(modid, cmdid, MsgId.RouteStatusRequest, { modid, cmdid });
    return reply;
  }

  /**
   * Warms the agent up for a route before traffic arrives: asks for a host
   * until the agent has the route (or a few tries pass), so the first real
   * getHost does not meet NOEXIST. Returns the last answer's code.
   */
  async regInit(modid: number, cmdid: number, tries = 3): Promise<number> {
    let retcode: number = RetCode.NOEXIST;
    for (let i = 0; i < tries; i++) {
      // An agent that answers NOEXIST at once (Lars) needs a moment to hear from dns.
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** i));
      retcode = (await this.getHost(modid, cmdid)).retcode;
      if (retcode !== RetCode.NOEXIST) break;
    }
    return retcode;
  }

  /**
   * get host -> fn(host) -> report. fn failing (throwing or rejecting) or
   * exceeding the timeout is reported as SYSTEM_ERROR against that host.
   * The report carries fn's duration on the client's monotonic clock: until
   * it settled, or until the timeout when that came first.
   */
  async call<T>(modid: number, cmdid: number, fn: (host: Host) => Promise<T> | T, options: CallOptions = {}): Promise<CallResult<T>> {
    const picked = await this.getHost(modid, cmdid, { key: options.key });
    if (picked.retcode !== RetCode.SUCC) return { retcode: picked.retcode };
    const host = picked.host;
    const limit = options.timeout ?? this.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LarsTimeoutError(`call to ${host.ip}:${host.port}`, limit)), limit);
    });
    const started = this.clock();
    const elapsed = (): ReportOptions => ({ durationMs: this.clock() - started });
    try {
      const value = await Promise.race([Promise.resolve().then(() => fn(host)), timeout]);
      this.report(modid, cmdid, host, RetCode.SUCC, elapsed());
      return { retcode: RetCode.SUCC, host, value };
    } catch (error) {
      this.report(modid, cmdid, host, RetCode.SYSTEM_ERROR, elapsed());
      return { retcode: RetCode.SYSTEM_ERROR, host, error };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing = new Error('LarsClient closed');
    for (const p of this.hostRequests.values()) this.settle(p, closing);
    for (const queue of this.routeRequests.values()) for (const p of queue) this.settle(p, closing);
    for (const queue of this.statusRequests.values()) for (const p of queue) this.settle(p, closing);
    this.hostRequests.clear();
    this.routeRequests.clear();
    this.statusRequests.clear();
    await this.ready;
    // Reports queued just before close() are still sent.
    await Promise.resolve();
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private settle<T>(p: Pending<T>, err: Error): void {
    clearTimeout(p.timer);
    p.reject(err);
  }

  /** A pending request that times out by itself; `forget` removes it from its table. */
  private expect<T>(what: string, register: (p: Pending<T>) => void, forget: (p: Pending<T>) => void): Promise<T> {
    if (this.closed) return Promise.reject(new Error('LarsClient closed'));
    return new Promise<T>((resolve, reject) => {
      const pending: Pending<T> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          forget(pending);
          reject(new LarsTimeoutError(what, this.timeoutMs));
        }, this.timeoutMs),
      };
      register(pending);
    });
  }

  /** Replies without a seq (routes, route status) are matched to requests by route, first come first served. */
  private expectByRoute<T>(what: string, table: Map<RouteKey, Pending<T>[]>, modid: number, cmdid: number): Promise<T> {
    const key = routeKey(modid, cmdid);
    return this.expect<T>(
      what,
      (p) => {
        const queue = table.get(key);
        if (queue) queue.push(p);
        else table.set(key, [p]);
      },
      (p) => {
        const queue = table.get(key) ?? [];
        queue.splice(queue.indexOf(p), 1);
        if (queue.length === 0) table.delete(key);
      },
    );
  }

  private sendTo<K extends KnownMsgId>(modid: number, cmdid: number, msgid: K, message: MessageTypes[K]): void {
    this.inflight++;
    this.socket.send(encodeFrame(msgid, encodeBody(msgid, message)), agentPort(this.basePort, modid, cmdid), this.host, this.onSent);
  }

  private readonly onSent = (): void => {
    this.inflight--;
    if (this.inflight === 0 && this.drained) {
      this.drained();
      this.drained = undefined;
    }
  };

  /** Replies that do not read (src/protocol/datagram.ts) or match no request are dropped: late, or not for us; the request times out. */
  private onDatagram(datagram: Buffer): void {
    const reply = readDatagram(datagram, REPLIES);
    if ('dropped' in reply) return;
    switch (reply.msgid) {
      case MsgId.GetHostResponse:
        return this.onHost(reply.message);
      case MsgId.ApiGetRouteResponse:
        return this.resolveByRoute(this.routeRequests, reply.message.modid, reply.message.cmdid, reply.message.host.map(toHost));
      case MsgId.RouteStatusResponse:
        return this.resolveByRoute(this.statusRequests, reply.message.modid, reply.message.cmdid, reply.message);
    }
  }

  private onHost(reply: DecodedTypes[typeof MsgId.GetHostResponse]): void {
    const pending = this.hostRequests.get(reply.seq);
    if (!pending) return;
    this.hostRequests.delete(reply.seq);
    clearTimeout(pending.timer);
    pending.resolve(hostResult(reply.retcode, reply.host));
  }

  private resolveByRoute<T>(table: Map<RouteKey, Pending<T>[]>, modid: number, cmdid: number, value: T): void {
    const key = routeKey(modid, cmdid);
    const queue = table.get(key);
    const pending = queue?.shift();
    if (!pending) return;
    if (queue!.length === 0) table.delete(key);
    clearTimeout(pending.timer);
    pending.resolve(value);
  }
}

const FAILURE_CODES = new Set<number>([RetCode.OVERLOAD, RetCode.NOEXIST, RetCode.SYSTEM_ERROR]);

/** A SUCC without a host, or a code we do not know, is the agent's error. */
function hostResult(retcode: number, host: HostInfo | null): GetHostResult {
  if (retcode === RetCode.SUCC && host) return { retcode: RetCode.SUCC, host: toHost(host) };
  return { retcode: FAILURE_CODES.has(retcode) ? (retcode as typeof RetCode.OVERLOAD) : RetCode.SYSTEM_ERROR };
}

function toHost(info: HostInfo): Host {
  return { ip: intToIp(info.ip), port: info.port };
}
