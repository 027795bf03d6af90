/**
 * One instance's registration with dns (docs/registry.md, "The server side"):
 * registers over a TcpClient that fails over through the dns addresses,
 * renews every ttl/3 with the load of the moment, registers again after
 * UNKNOWN_LEASE or a reconnect, and deregisters when told. Lives in the
 * reactor so that both TcpServer and the client API (src/client) can use it.
 */
import { intToIp, ipToInt32 } from '../protocol/ip.js';
import type { DecodedRegistryReply, InstanceLoad, MessageTypes } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import { RegistryStatus, registryStatusName } from '../protocol/registry-status.js';
import { Backoff } from './backoff.js';
import { formatEndpoint, type Endpoint } from './endpoint.js';
import { createLogger, rateLimited, type Logger } from './log.js';
import type { MetricsRegistry } from './metrics.js';
import { TcpClient } from './tcp-client.js';

export const DEFAULT_REGISTRATION_TTL_MS = 3000;
export const DEFAULT_REGISTRATION_TIMEOUT_MS = 10_000;
export const DEFAULT_REPLY_TIMEOUT_MS = 2000;
/**
 * After a confirmed deregistration, how long the server keeps taking new
 * calls: agents of this dns get the push within milliseconds, those of
 * other dns instances on the store within a poll (500 ms by default), and a
 * call picked just before may still be on its way (docs/registry.md).
 */
export const DEFAULT_LINGER_MS = 1000;
/** Reconnects and retries wait at most this long, so a restarted dns sees the server again within about a second. */
const RETRY_MAX_MS = 1000;

export interface RegistrationOptions {
  /** Tried in order; a lost or failed connection moves to the next. */
  dns: Endpoint[];
  modid: number;
  cmdid: number;
  port: number;
  /** Dotted IPv4; absent or 0.0.0.0: the address dns sees the connection come from. */
  ip?: string;
  /** Absent: 1; 0 registers the instance drained. */
  weight?: number;
  /** The lease's TTL; default 3000 ms; 0 asks for the dns's default_ttl_ms. */
  ttlMs?: number;
  metadata?: Record<string, string>;
  /** The load sent with each renewal. */
  load: () => InstanceLoad;
  /** start() rejects with RegistrationTimeoutError when no registration was accepted by then. Default 10000 ms. */
  timeoutMs?: number;
  /** A request without a reply for this long counts as lost. Default 2000 ms. */
  replyTimeoutMs?: number;
  /** Sent first on every connection, for a dns that requires it (docs/reactor.md, "Authentication"). */
  authToken?: string;
  /** deregister(): how long it waits after the dns confirmed, so agents have stopped sending calls here. Default 1000 ms. */
  lingerMs?: number;
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** Uniform [0, 1) source for the retry and reconnect jitter. */
  random?: () => number;
}

/** A dns refused the registration for a reason retrying cannot fix (NO_MODULE, BAD_ADDRESS, BAD_TTL, BAD_REQUEST). */
export class RegistrationRefusedError extends Error {
  constructor(
    readonly status: RegistryStatus,
    readonly reason: string,
  ) {
    super(`registration refused: ${registryStatusName(status)}${reason ? ` (${reason})` : ''}`);
    this.name = 'RegistrationRefusedError';
  }
}

/** No dns accepted the registration in time (none reachable, or each answered LIMITED or UNAVAILABLE). */
export class RegistrationTimeoutError extends Error {
  /** lastProblem: why the last attempt failed, when a dns said (a refused token). */
  constructor(ms: number, readonly lastProblem?: string) {
    super(`no dns accepted the registration within ${ms} ms${lastProblem ? ` (last: ${lastProblem})` : ''}`);
    this.name = 'RegistrationTimeoutError';
  }
}

/** The registration was closed before a dns accepted it. */
export class RegistrationClosedError extends Error {
  constructor() {
    super('registration closed before it was accepted');
    this.name = 'RegistrationClosedError';
  }
}

const PERMANENT = new Set<number>([RegistryStatus.BAD_REQUEST, RegistryStatus.NO_MODULE, RegistryStatus.BAD_ADDRESS, RegistryStatus.BAD_TTL]);

type RegistryRequestId = typeof MsgId.RegisterRequest | typeof MsgId.RenewRequest | typeof MsgId.DeregisterRequest;
type Reply = DecodedRegistryReply | undefined;

interface Lease {
  id: number;
  /** The wire ip the dns registered. */
  ip: number;
  ttlMs: number;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
}

export class InstanceRegistration {
  private readonly options: RegistrationOptions;
  private readonly log: Logger;
  private readonly logLimited: ReturnType<typeof rateLimited>;
  private readonly client: TcpClient;
  private readonly backoff: Backoff;
  private readonly ip: number;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private seq = 0;
  private lease: Lease | undefined;
  private registering = false;
  private stopped = false;
  private renewTimer: NodeJS.Timeout | undefined;
  private retry: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private lastProblem: string | undefined;
  private first: { resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout } | undefined;

  constructor(options: RegistrationOptions) {
    checkInteger('modid', options.modid, -2147483648, 2147483647);
    checkInteger('cmdid', options.cmdid, -2147483648, 2147483647);
    checkInteger('port', options.port, 1, 65535);
    if (options.weight !== undefined) checkInteger('weight', options.weight, 0, 0xffffffff);
    if (options.ttlMs !== undefined) checkInteger('ttlMs', options.ttlMs, 0, 0xffffffff);
    this.options = options;
    this.ip = ipToInt32(options.ip ?? '0.0.0.0');
    this.log = options.logger ?? createLogger('registration');
    this.logLimited = rateLimited(this.log, 10_000);
    this.backoff = new Backoff({ initialMs: 100, maxMs: RETRY_MAX_MS, random: options.random });
    this.client = new TcpClient({
      name: 'registration',
      addresses: options.dns,
      reconnect: { initialMs: 100, maxMs: RETRY_MAX_MS },
      authToken: options.authToken,
      // A frame written while disconnected would name a lease the next dns does not hold: a reconnect registers afresh instead.
      maxQueue: 0,
      onConnected: () => void this.register(),
      onDisconnected: () => this.disconnected(),
      onAuthRefused: (address, reason) => {
        this.lastProblem = `${address ? formatEndpoint(address) : 'dns'} refused the token: ${reason}`;
      },
      logger: this.log,
      metrics: options.metrics,
      random: options.random,
    });
    this.client.handle(MsgId.RegistryReply, (reply) => {
      const waiter = this.pending.get(reply.seq);
      this.pending.delete(reply.seq);
      waiter?.(reply);
    });
  }

  /** True while this instance holds a lease. */
  get registered(): boolean {
    return this.lease !== undefined;
  }

  /** The lease id the dns granted, while registered. */
  get leaseId(): number | undefined {
    return this.lease?.id;
  }

  /** The address the dns registered (the one it saw, when ip was 0), while registered. */
  get registeredIp(): string | undefined {
    return this.lease === undefined ? undefined : intToIp(this.lease.ip);
  }

  /**
   * Connects and registers; resolves once a dns accepted the registration.
   * Rejects (and closes) on a refusal retrying cannot fix, or after timeoutMs;
   * LIMITED, UNAVAILABLE, no reply and no reachable dns are retried until then.
   */
  start(): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_REGISTRATION_TIMEOUT_MS;
    const accepted = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.settleFirst(new RegistrationTimeoutError(timeoutMs, this.lastProblem)), timeoutMs);
      this.first = { resolve, reject, timer };
    });
    this.client.start();
    return accepted.catch(async (err: Error) => {
      await this.close();
      throw err;
    });
  }

  /**
   * Stops renewing and re-registering, then deregisters (when registered and
   * connected) and waits for the reply, at most replyTimeoutMs, then lingerMs
   * more while agents learn of it. Resolves whether or not the dns
   * confirmed: an unconfirmed lease ends at its TTL.
   */
  async deregister(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.settleFirst(new RegistrationClosedError());
    clearInterval(this.renewTimer);
    this.retry?.wake();
    const lease = this.lease;
    this.lease = undefined;
    if (lease === undefined) return;
    const reply = await this.request(MsgId.DeregisterRequest, (seq) => ({ seq, lease: lease.id, ...this.instance(lease) }));
    if (reply?.status === RegistryStatus.OK) {
      this.log.info('deregistered', { lease: lease.id });
      await new Promise((resolve) => setTimeout(resolve, this.options.lingerMs ?? DEFAULT_LINGER_MS));
    } else this.log.warn('deregister_unconfirmed', { lease: lease.id, status: reply ? registryStatusName(reply.status) : 'no reply', reason: reply?.reason });
  }

  /** Deregisters (if not done yet) and closes the link to dns. */
  async close(): Promise<void> {
    await this.deregister();
    await this.client.close();
  }

  private instance(lease: Lease) {
    return { modid: this.options.modid, cmdid: this.options.cmdid, ip: lease.ip, port: this.options.port };
  }

  private async register(): Promise<void> {
    if (this.registering) return;
    this.registering = true;
    try {
      while (!this.stopped && this.client.connected) {
        const reply = await this.request(MsgId.RegisterRequest, (seq) => ({
          seq,
          modid: this.options.modid,
          cmdid: this.options.cmdid,
          ip: this.ip,
          port: this.options.port,
          weight: this.options.weight,
          ttlMs: this.options.ttlMs ?? DEFAULT_REGISTRATION_TTL_MS,
          metadata: this.options.metadata,
        }));
        if (this.stopped) return;
        if (reply?.status === RegistryStatus.OK) {
          this.granted(reply);
          return;
        }
        this.notGranted(reply);
        if (this.stopped) return;
        await this.pause(this.backoff.next());
      }
    } finally {
      this.registering = false;
    }
  }

  private granted(reply: DecodedRegistryReply): void {
    const ttlMs = reply.ttlMs || this.options.ttlMs || DEFAULT_REGISTRATION_TTL_MS;
    this.lease = { id: reply.lease, ip: reply.ip, ttlMs };
    this.backoff.reset();
    const address = this.client.address;
    this.log.info('registered', {
      dns: address ? formatEndpoint(address) : undefined,
      modid: this.options.modid,
      cmdid: this.options.cmdid,
      instance: `${intToIp(reply.ip)}:${this.options.port}`,
      lease: reply.lease,
      ttlMs,
    });
    clearInterval(this.renewTimer);
    this.renewTimer = setInterval(() => void this.renew(), Math.max(1, Math.floor(ttlMs / 3)));
    this.settleFirst();
  }

  private notGranted(reply: Reply): void {
    if (reply === undefined) {
      // A lost connection is logged by the link; only a dns that stays silent is worth a line here.
      if (this.client.connected) this.logLimited('warn', 'register_unanswered', { replyTimeoutMs: this.replyTimeoutMs });
      return;
    }
    const fields = { status: registryStatusName(reply.status), reason: reply.reason, modid: this.options.modid, cmdid: this.options.cmdid };
    if (!PERMANENT.has(reply.status)) {
      this.logLimited('warn', 'register_retry', fields);
      return;
    }
    // Refused before the first success: the caller's mistake, reported to it. Refused later
    // (say the module was removed while the dns restarted): keep trying, the operator may fix it.
    this.log.error('register_refused', fields);
    this.settleFirst(new RegistrationRefusedError(reply.status as RegistryStatus, reply.reason));
  }

  private async renew(): Promise<void> {
    const lease = this.lease;
    if (lease === undefined || !this.client.connected) return;
    const reply = await this.request(MsgId.RenewRequest, (seq) => ({ seq, lease: lease.id, ...this.instance(lease), load: this.options.load() }));
    if (reply === undefined || this.lease !== lease) {
      if (reply === undefined && this.client.connected) this.logLimited('warn', 'renew_unanswered', { lease: lease.id });
      return;
    }
    if (reply.status === RegistryStatus.OK) return;
    this.log.warn('lease_lost', { lease: lease.id, status: registryStatusName(reply.status), reason: reply.reason });
    this.lease = undefined;
    clearInterval(this.renewTimer);
    void this.register();
  }

  private disconnected(): void {
    this.lease = undefined;
    clearInterval(this.renewTimer);
    for (const waiter of this.pending.values()) waiter(undefined);
    this.pending.clear();
  }

  private get replyTimeoutMs(): number {
    return this.options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
  }

  /** Sends one request; resolves with its reply, or undefined when none came in time or the connection was lost. */
  private request<K extends RegistryRequestId>(msgid: K, message: (seq: number) => MessageTypes[K]): Promise<Reply> {
    if (!this.client.connected) return Promise.resolve(undefined);
    this.seq = (this.seq + 1) >>> 0;
    const seq = this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        resolve(undefined);
      }, this.replyTimeoutMs);
      this.pending.set(seq, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.client.send(msgid, message(seq));
    });
  }

  /** Waits before a retry; deregister() cuts the wait short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(this.retry?.timer);
        this.retry = undefined;
        resolve();
      };
      this.retry = { timer: setTimeout(wake, ms), wake };
    });
  }

  private settleFirst(error?: Error): void {
    const first = this.first;
    if (first === undefined) return;
    this.first = undefined;
    clearTimeout(first.timer);
    if (error) first.reject(error);
    else first.resolve();
  }
}
