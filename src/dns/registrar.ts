/**
 * The dns side of self-registration (docs/registry.md): answers
 * RegisterRequest, RenewRequest and DeregisterRequest (ids 102-104) with a
 * RegistryReply (105), holds the leases it granted in memory, writes
 * instances coming and going to the store in batches, writes changed loads
 * once per load_flush_ms, writes this dns's liveness row, and expires the
 * instances of dns instances that died.
 *
 * After each store write that changed routes it asks the sync to poll
 * (onWritten), so this dns pushes its own changes at once; the other dns
 * instances on the store see them on their next poll.
 */
import { isIPv4, intToIp, ipToUint32, toInt32 } from '../protocol/ip.js';
import type { DecodedRegisterRequest, DecodedRenewRequest, LeaseRef, RegistryReply } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import { RegistryStatus, registryStatusName } from '../protocol/registry-status.js';
import type { ConfigOf } from '../reactor/config.js';
import { rateLimited, type Logger } from '../reactor/log.js';
import type { Counter, MetricsRegistry } from '../reactor/metrics.js';
import type { TcpConnection, TcpServer } from '../reactor/tcp-server.js';
import { InstanceRegistry, LIMITS, type InstanceKey, type DnsReport, type InstanceRegistration, type RegistryWrite, type Store, type WriteOutcome } from '../store/index.js';
import type { registrySection } from './config.js';
import { LeaseTable, type Lease } from './leases.js';
import { NodeLiveness } from './node-liveness.js';
import { PeerQuota } from '../reactor/peer-quota.js';

type Conn = TcpConnection<undefined>;
export type RegistryConfig = ConfigOf<readonly [typeof registrySection]>['registry'];

export interface RegistrarOptions {
  store: Store;
  server: TcpServer<undefined>;
  config: RegistryConfig;
  /** This dns's id in the store (instances.owner, dns_nodes.node_id). */
  nodeId: string;
  /** Where this dns listens, for people reading dns_nodes. */
  address: () => string;
  /** What it serves and to whom, written with each beat. */
  report?: () => DnsReport;
  logger: Logger;
  metrics: MetricsRegistry;
  /** A store write changed routes: poll now. */
  onWritten(): void;
  now?: () => number;
}

/** What a request may carry at most (docs/registry.md). */
const METADATA_LIMITS = { entries: 32, keyChars: 64, valueChars: 256 } as const;
/** Rows per store transaction. */
const BATCH = 500;

interface Refusal {
  status: RegistryStatus;
  reason: string;
}

interface QueuedWrite {
  write: RegistryWrite;
  resolve(outcome: WriteOutcome): void;
  reject(err: unknown): void;
}

interface RegistrarCounters {
  requests: Counter;
  expired: Counter;
  storeTransactions: Counter;
  storeRows: Counter;
}

export class Registrar {
  private readonly registry: InstanceRegistry;
  private readonly leases: LeaseTable<Conn>;
  private readonly quota: PeerQuota;
  private readonly liveness: NodeLiveness;
  private readonly counters: RegistrarCounters;
  private readonly logRefused: ReturnType<typeof rateLimited>;
  private readonly logStore: ReturnType<typeof rateLimited>;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private queue: QueuedWrite[] = [];
  /** Removals the store refused: tried again at the next sweep, so no row outlives its lease. */
  private retries: RegistryWrite[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: RegistrarOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.registry = new InstanceRegistry(options.store, { clock: this.now });
    this.leases = new LeaseTable<Conn>({ closeGraceMs: options.config.close_grace_ms });
    this.quota = new PeerQuota(options.config.registrations_per_second);
    this.liveness = new NodeLiveness(options.nodeId, options.config.node_timeout_ms);
    this.logRefused = rateLimited(options.logger, 10_000, this.now);
    this.logStore = rateLimited(options.logger, 10_000, this.now);
    const m = options.metrics;
    this.counters = {
      requests: m.counter('lars_registry_requests_total', 'registry requests answered, by kind and status'),
      expired: m.counter('lars_registry_expired_total', 'leases that ran out, by why (ttl, closed, node)'),
      storeTransactions: m.counter('lars_registry_store_transactions_total', 'store transactions the registry ran, by kind (membership, load, liveness)'),
      storeRows: m.counter('lars_registry_store_rows_total', 'instance rows the registry wrote, by kind (membership, load)'),
    };
    m.gauge('lars_registry_leases', 'leases this dns holds', () => this.leases.size);
    options.server.handle(MsgId.RegisterRequest, (conn, request) => this.onRegister(conn, request));
    options.server.handle(MsgId.RenewRequest, (conn, request) => this.onRenew(conn, request));
    options.server.handle(MsgId.DeregisterRequest, (conn, request) => this.onDeregister(conn, request));
  }

  get leaseCount(): number {
    return this.leases.size;
  }

  start(): void {
    const every = (ms: number, work: () => Promise<void> | void) => this.timers.push(setInterval(() => void work(), ms));
    every(this.options.config.sweep_interval_ms, () => this.sweep());
    every(this.options.config.load_flush_ms, () => this.flushLoads());
    every(this.options.config.node_heartbeat_ms, () => this.watchNodes());
    void this.watchNodes();
  }

  /** Stops the timers and waits for queued writes. Leases stay in the store: their servers re-register elsewhere, or they expire with this node. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.flushing;
  }

  connectionClosed(conn: Conn): void {
    this.leases.connectionClosed(conn, this.now());
  }

  private onRegister(conn: Conn, request: DecodedRegisterRequest): void {
    const checked = this.checkRegistration(conn, request);
    if ('status' in checked) return this.refuse(conn, 'register', request.seq, checked);
    const now = this.now();
    const held = this.leases.ofInstance(checked);
    if (!held && this.leases.heldBy(conn.remoteAddress) >= this.options.config.max_instances_per_peer) {
      return this.refuse(conn, 'register', request.seq, { status: RegistryStatus.LIMITED, reason: `this peer holds ${this.options.config.max_instances_per_peer} instances already (max_instances_per_peer)` });
    }
    if (this.queue.length >= this.options.config.max_queued_writes) {
      return this.refuse(conn, 'register', request.seq, { status: RegistryStatus.UNAVAILABLE, reason: `${this.queue.length} registrations are waiting for the store; try again` });
    }
    if (!this.quota.take(conn.remoteAddress, now)) {
      return this.refuse(conn, 'register', request.seq, { status: RegistryStatus.LIMITED, reason: `more than ${this.options.config.registrations_per_second} registrations per second from this peer` });
    }
    // Granted before the write, so an older lease of the instance can no longer expire behind it;
    // its TTL runs from the reply, since the server can renew only from then on.
    const lease = this.leases.grant(checked, checked.ttlMs, conn, conn.remoteAddress, now);
    this.leases.hold(lease);
    this.enqueue({ kind: 'register', instance: checked }).then(
      (outcome) => {
        if (outcome === 'no-module') {
          this.leases.release(lease);
          return this.refuse(conn, 'register', request.seq, { status: RegistryStatus.NO_MODULE, reason: `module ${checked.modid}:${checked.cmdid} does not exist` });
        }
        this.leases.confirm(lease, this.now());
        this.options.logger.info('instance_registered', { modid: checked.modid, cmdid: checked.cmdid, instance: instanceName(checked), ttlMs: checked.ttlMs, weight: checked.weight, peer: conn.remote, lease: lease.id });
        this.reply(conn, 'register', { seq: request.seq, status: RegistryStatus.OK, lease: lease.id, ttlMs: lease.ttlMs, ip: toInt32(checked.ip) });
      },
      (err) => {
        this.leases.release(lease);
        this.storeFailed('register', err);
        this.refuse(conn, 'register', request.seq, { status: RegistryStatus.UNAVAILABLE, reason: 'the store could not be written; try again' });
      },
    );
  }

  private onRenew(conn: Conn, request: DecodedRenewRequest): void {
    const lease = this.findLease(conn, request);
    if (!lease) return this.refuse(conn, 'renew', request.seq, unknownLease(request));
    this.leases.renew(lease, conn, request.load, this.now());
    this.reply(conn, 'renew', { seq: request.seq, status: RegistryStatus.OK, lease: lease.id, ttlMs: lease.ttlMs });
  }

  private onDeregister(conn: Conn, request: LeaseRef): void {
    const lease = this.findLease(conn, request);
    if (!lease) return this.refuse(conn, 'deregister', request.seq, unknownLease(request));
    this.leases.release(lease);
    this.remove('deregister', lease.key, 'deregistered by its server').then(
      () => {
        this.options.logger.info('instance_deregistered', { modid: lease.key.modid, cmdid: lease.key.cmdid, instance: instanceName(lease.key), peer: conn.remote });
        this.reply(conn, 'deregister', { seq: request.seq, status: RegistryStatus.OK, lease: lease.id });
      },
      () => this.refuse(conn, 'deregister', request.seq, { status: RegistryStatus.UNAVAILABLE, reason: 'the store could not be written; the instance leaves when the store is back' }),
    );
  }

  private findLease(conn: Conn, ref: LeaseRef): Lease<Conn> | undefined {
    const ip = ref.ip === 0 ? peerIp(conn) : ref.ip >>> 0;
    return ip === undefined ? undefined : this.leases.find(ref.lease, { modid: ref.modid, cmdid: ref.cmdid, ip, port: ref.port });
  }

  /** The registration as the store takes it, or why it is refused (nothing is changed then). */
  private checkRegistration(conn: Conn, request: DecodedRegisterRequest): InstanceRegistration | Refusal {
    const bad = (status: RegistryStatus, reason: string): Refusal => ({ status, reason });
    const ip = request.ip === 0 ? peerIp(conn) : request.ip >>> 0;
    if (ip === undefined) return bad(RegistryStatus.BAD_ADDRESS, `ip 0 registers the peer's address, but ${conn.remoteAddress} is not IPv4: give the ip`);
    if (!usableIp(ip)) return bad(RegistryStatus.BAD_ADDRESS, `${intToIp(ip)} cannot be an instance's address`);
    if (request.port < LIMITS.portMin || request.port > LIMITS.portMax) return bad(RegistryStatus.BAD_ADDRESS, `port must be between 1 and 65535, got ${request.port}`);
    const weight = request.weight ?? 1;
    if (weight < LIMITS.weightMin || weight > LIMITS.weightMax) return bad(RegistryStatus.BAD_REQUEST, `weight must be between ${LIMITS.weightMin} and ${LIMITS.weightMax}, got ${weight}`);
    const { min_ttl_ms, max_ttl_ms, default_ttl_ms } = this.options.config;
    const ttlMs = request.ttlMs === 0 ? default_ttl_ms : request.ttlMs;
    if (ttlMs < min_ttl_ms || ttlMs > max_ttl_ms) return bad(RegistryStatus.BAD_TTL, `ttl_ms must be between ${min_ttl_ms} and ${max_ttl_ms}, got ${ttlMs}`);
    const metadataProblem = checkMetadata(request.metadata);
    if (metadataProblem) return bad(RegistryStatus.BAD_REQUEST, metadataProblem);
    return { modid: request.modid, cmdid: request.cmdid, ip, port: request.port, weight, ttlMs, metadata: request.metadata };
  }

  private sweep(): void {
    const now = this.now();
    for (const lease of this.leases.takeExpired(now)) {
      const why = lease.conn === undefined ? 'closed' : 'ttl';
      this.counters.expired.inc(1, { why });
      this.options.logger.info('lease_expired', { modid: lease.key.modid, cmdid: lease.key.cmdid, instance: instanceName(lease.key), why, ttlMs: lease.ttlMs });
      void this.remove('expire', lease.key, why === 'ttl' ? `no renewal for ${lease.ttlMs} ms` : 'its connection closed and no renewal came').catch(() => undefined);
    }
    const retries = this.retries;
    this.retries = [];
    for (const write of retries) void this.enqueueRemoval(write).catch(() => undefined);
  }

  private remove(kind: 'deregister' | 'expire', key: InstanceKey, reason: string): Promise<WriteOutcome> {
    return this.enqueueRemoval({ kind, key, reason });
  }

  private enqueueRemoval(write: RegistryWrite): Promise<WriteOutcome> {
    return this.enqueue(write).catch((err) => {
      this.storeFailed(write.kind, err);
      if (!this.closed) this.retries.push(write);
      throw err;
    });
  }

  private async flushLoads(): Promise<void> {
    const { load_delta, heartbeat_store_s } = this.options.config;
    const writes = this.leases.takeLoadWrites(this.now(), { delta: load_delta, heartbeatStoreMs: heartbeat_store_s * 1000 });
    if (writes.length === 0) return;
    try {
      const rows = await this.registry.flushLoads(this.options.nodeId, writes);
      this.counters.storeTransactions.inc(1, { kind: 'load' });
      this.counters.storeRows.inc(rows, { kind: 'load' });
      if (writes.some((w) => w.load)) this.options.onWritten();
    } catch (err) {
      this.storeFailed('load', err);
      // Written again at the next flush.
      for (const write of writes) {
        const lease = this.leases.ofInstance(write.key);
        if (lease) lease.writtenScore = null;
      }
    }
  }

  private async watchNodes(): Promise<void> {
    if (this.closed) return;
    try {
      await this.registry.beat({ nodeId: this.options.nodeId, address: this.options.address(), startedAt: this.startedAt, report: this.options.report?.() });
      this.counters.storeTransactions.inc(1, { kind: 'liveness' });
      for (const node of this.liveness.observe(await this.registry.nodes(), this.now())) {
        const expired = await this.registry.expireOwnedBy(node.nodeId);
        this.counters.expired.inc(expired, { why: 'node' });
        this.options.logger.warn('dns_node_dead', { node: node.nodeId, address: node.address, instancesExpired: expired });
        if (expired > 0) this.options.onWritten();
      }
    } catch (err) {
      this.storeFailed('liveness', err);
    }
  }

  private enqueue(write: RegistryWrite): Promise<WriteOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      // setImmediate collects the requests of one burst into one transaction.
      this.flushing ??= new Promise<void>((done) => setImmediate(() => void this.flushQueue().finally(done)));
    });
  }

  private async flushQueue(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, BATCH);
        try {
          const outcomes = await this.registry.write(this.options.nodeId, batch.map((q) => q.write));
          this.counters.storeTransactions.inc(1, { kind: 'membership' });
          this.counters.storeRows.inc(batch.length, { kind: 'membership' });
          batch.forEach((q, i) => q.resolve(outcomes[i]!));
          if (outcomes.includes('written')) this.options.onWritten();
        } catch (err) {
          for (const q of batch) q.reject(err);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private storeFailed(kind: string, err: unknown): void {
    this.logStore('warn', 'registry_store_failed', { kind, error: err });
  }

  private refuse(conn: Conn, kind: string, seq: number, refusal: Refusal): void {
    this.logRefused('warn', 'registry_refused', { kind, status: registryStatusName(refusal.status), reason: refusal.reason, peer: conn.remote });
    this.reply(conn, kind, { seq, status: refusal.status, reason: refusal.reason });
  }

  private reply(conn: Conn, kind: string, reply: RegistryReply): void {
    this.counters.requests.inc(1, { kind, status: registryStatusName(reply.status) });
    conn.send(MsgId.RegistryReply, reply);
  }
}

const instanceName = (key: InstanceKey) => `${intToIp(key.ip)}:${key.port}`;

function unknownLease(ref: LeaseRef): Refusal {
  return { status: RegistryStatus.UNKNOWN_LEASE, reason: `this dns holds no lease ${ref.lease} for ${ref.modid}:${ref.cmdid} ${intToIp(ref.ip)}:${ref.port}: register again` };
}

/** The peer's IPv4 address (unsigned), also from an IPv4-mapped IPv6 one; undefined for real IPv6. */
function peerIp(conn: Conn): number | undefined {
  const address = conn.remoteAddress.startsWith('::ffff:') ? conn.remoteAddress.slice(7) : conn.remoteAddress;
  return isIPv4(address) ? ipToUint32(address) : undefined;
}

/** Not 0.0.0.0/8, not multicast or reserved (224.0.0.0 up, broadcast included). */
function usableIp(ip: number): boolean {
  return ip >>> 24 !== 0 && ip < 0xe0000000;
}

function checkMetadata(metadata: Record<string, string>): string | undefined {
  const entries = Object.entries(metadata);
  if (entries.length > METADATA_LIMITS.entries) return `at most ${METADATA_LIMITS.entries} metadata entries, got ${entries.length}`;
  for (const [key, value] of entries) {
    if (key.length === 0 || [...key].length > METADATA_LIMITS.keyChars) return `metadata keys must be 1 to ${METADATA_LIMITS.keyChars} characters`;
    if ([...value].length > METADATA_LIMITS.valueChars) return `metadata value of ${JSON.stringify(key)} is over ${METADATA_LIMITS.valueChars} characters`;
    // PostgreSQL text cannot hold NUL; refused everywhere so all engines agree.
    if (key.includes('\u0000') || value.includes('\u0000')) return 'metadata must not contain NUL characters';
  }
  return undefined;
}
