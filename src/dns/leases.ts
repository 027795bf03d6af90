/**
 * The leases this dns granted (docs/registry.md): pure, the clock passed in.
 * A lease lives while renewals come within its TTL; a lease whose connection
 * closed ends close_grace_ms later unless a renewal arrives on another
 * connection. Also decides which loads are worth writing to the store.
 */
import { routeKey, type RouteKey } from '../protocol/route-key.js';
import type { InstanceKey, LoadWrite, StoredLoad } from '../store/index.js';

export interface Lease<Conn> {
  readonly id: number;
  readonly key: InstanceKey;
  readonly route: RouteKey;
  /** The peer address that registered it (for the per-peer limit). */
  readonly peer: string;
  readonly ttlMs: number;
  deadline: number;
  /** The connection the last request came on; undefined once it closed. */
  conn: Conn | undefined;
  load: StoredLoad | null;
  /** The score last written to the store; null before the first write. */
  writtenScore: number | null;
  /** When the store's heartbeat time was last refreshed. */
  storedAt: number;
}

export interface LeaseTableOptions {
  closeGraceMs: number;
  /** A uniform [0, 1) source: lease ids start at a random point, so a restarted dns does not reissue the last one's. */
  random?: () => number;
}

export interface LoadWritePolicy {
  /** A score change below this is not written. */
  delta: number;
  /** A lease whose heartbeat was stored longer ago than this is written anyway. */
  heartbeatStoreMs: number;
}

const instanceKey = (k: InstanceKey) => `${k.modid}:${k.cmdid}:${k.ip}:${k.port}`;

export class LeaseTable<Conn> {
  private readonly byKey = new Map<string, Lease<Conn>>();
  private readonly byId = new Map<number, Lease<Conn>>();
  private readonly perPeer = new Map<string, number>();
  private nextId: number;

  constructor(private readonly options: LeaseTableOptions) {
    this.nextId = Math.floor((options.random ?? Math.random)() * 0xffff_fffe) + 1;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Instances the peer holds. */
  heldBy(peer: string): number {
    return this.perPeer.get(peer) ?? 0;
  }

  /** The lease of an instance, whoever holds it. */
  ofInstance(key: InstanceKey): Lease<Conn> | undefined {
    return this.byKey.get(instanceKey(key));
  }

  /** A new lease for the instance, replacing the one it had (the newest registration wins). */
  grant(key: InstanceKey, ttlMs: number, conn: Conn, peer: string, now: number): Lease<Conn> {
    const replaced = this.ofInstance(key);
    if (replaced) this.release(replaced);
    const lease: Lease<Conn> = {
      id: this.takeId(),
      key,
      route: routeKey(key.modid, key.cmdid),
      peer,
      ttlMs,
      deadline: now + ttlMs,
      conn,
      load: null,
      writtenScore: null,
      storedAt: now,
    };
    this.byKey.set(instanceKey(key), lease);
    this.byId.set(lease.id, lease);
    this.perPeer.set(peer, this.heldBy(peer) + 1);
    return lease;
  }

  /** Keeps a lease from expiring until confirm(): while its registration is being written. */
  hold(lease: Lease<Conn>): void {
    lease.deadline = Infinity;
  }

  /** Starts a held lease's TTL now (a close meanwhile keeps its earlier end). */
  confirm(lease: Lease<Conn>, now: number): void {
    lease.deadline = Math.min(lease.deadline, now + lease.ttlMs);
  }

  /** The lease with this id, if it was granted for this instance. */
  find(id: number, key: InstanceKey): Lease<Conn> | undefined {
    const lease = this.byId.get(id);
    return lease && instanceKey(lease.key) === instanceKey(key) ? lease : undefined;
  }

  renew(lease: Lease<Conn>, conn: Conn, load: StoredLoad | null, now: number): void {
    lease.deadline = now + lease.ttlMs;
    lease.conn = conn;
    if (load) lease.load = load;
  }

  release(lease: Lease<Conn>): void {
    if (this.byId.get(lease.id) !== lease) return;
    this.byId.delete(lease.id);
    this.byKey.delete(instanceKey(lease.key));
    const held = this.heldBy(lease.peer) - 1;
    if (held > 0) this.perPeer.set(lease.peer, held);
    else this.perPeer.delete(lease.peer);
  }

  /** The connection closed: its leases end after the grace, unless renewed on another connection first. */
  connectionClosed(conn: Conn, now: number): void {
    for (const lease of this.byId.values()) {
      if (lease.conn !== conn) continue;
      lease.conn = undefined;
      lease.deadline = Math.min(lease.deadline, now + this.options.closeGraceMs);
    }
  }

  /** Removes and returns the leases past their deadline. */
  takeExpired(now: number): Lease<Conn>[] {
    const expired: Lease<Conn>[] = [];
    for (const lease of this.byId.values()) if (lease.deadline <= now) expired.push(lease);
    for (const lease of expired) this.release(lease);
    return expired;
  }

  /**
   * The loads worth writing now: a score that moved by at least `delta` since
   * it was last written, or a stored heartbeat older than heartbeatStoreMs
   * (then without a load when the score has not moved). Marks them written.
   */
  takeLoadWrites(now: number, policy: LoadWritePolicy): LoadWrite[] {
    const writes: LoadWrite[] = [];
    for (const lease of this.byId.values()) {
      const score = lease.load?.score ?? null;
      const moved = score !== null && (lease.writtenScore === null || Math.abs(score - lease.writtenScore) >= policy.delta);
      const stale = now - lease.storedAt >= policy.heartbeatStoreMs;
      if (!moved && !stale) continue;
      writes.push({ key: lease.key, load: moved ? lease.load : null });
      if (moved) lease.writtenScore = score;
      lease.storedAt = now;
    }
    return writes;
  }

  private takeId(): number {
    do {
      this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    } while (this.byId.has(this.nextId));
    return this.nextId;
  }
}
