/**
 * Consistent hashing with virtual nodes (an idea of the Lars family's
 * load-balancing servers), weighted, health-aware. Each host owns round(hash_vnodes x weight)
 * points on a 32-bit ring; a key goes to the owner of the first point at or
 * after its hash. Adding or removing a host only moves the keys of the arcs
 * it gains or loses (about 1/N of them), so per-key caches on the hosts stay
 * warm.
 *
 * Health uses the same Lars rules (HealthRules). A key whose owner is
 * overloaded goes to the next healthy owner clockwise, except one such
 * request in probe_num + 1, which probes the owner: probes are proportional
 * to the dead host's share of keys instead of 1 in probe_num of all traffic.
 * Below hash_panic_threshold healthy hosts, health is ignored and keys go to
 * their owners: when most hosts look bad, the judgement is more likely wrong
 * than the hosts, and refusing every request (Lars's OVERLOAD) helps no one.
 */
import { HealthRules } from './health.js';
import { fmix32, hashKey, hashWords } from './hash.js';
import { HostRegistry, TrackedHost } from './host-registry.js';
import type { LoadBalanceParams } from './params.js';
import { RegistryBalancer } from './registry-balancer.js';
import { ProbeCounter } from './probe-counter.js';
import { NOEXIST_RESULT, OVERLOAD_RESULT } from './results.js';
import type { HostChanges, HostInput, PickResult, RouteBalancer } from './types.js';

/** Caps the ring at 8 MB (a Uint32Array of points plus an array of owners). */
export const MAX_RING_POINTS = 1 << 20;
const TWO_20 = 1 << 20;

/** Index of the first point >= hash, or points.length. */
function lowerBound(points: Uint32Array, hash: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((points[mid] as number) < hash) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function replicasOf(weight: number, vnodes: number): number {
  return Math.max(1, Math.round(vnodes * weight));
}

export class ConsistentHashBalancer extends RegistryBalancer<TrackedHost> implements RouteBalancer {
  readonly strategy = 'consistent_hash' as const;
  private readonly vnodes: number;
  private readonly panicThreshold: number;
  protected readonly registry: HostRegistry<TrackedHost>;
  private points = new Uint32Array(0);
  /** owners[i] owns points[i]. */
  private owners: TrackedHost[] = [];
  /** Hosts on the ring (the ones not drained), and how many of them are overloaded. */
  private ringHosts = 0;
  private overloadedCount = 0;
  /** Counts only requests whose owner is overloaded. */
  private readonly probes: ProbeCounter;
  /** Spreads requests without a key over the ring. */
  private keylessSeq = 0;

  constructor(params: LoadBalanceParams) {
    super();
    this.probes = new ProbeCounter(params.probe_num);
    this.vnodes = params.hash_vnodes;
    this.panicThreshold = params.hash_panic_threshold;
    const rules = new HealthRules(params);
    this.registry = new HostRegistry(
      (addr, weight, now) => new TrackedHost(addr, weight, rules, now),
      (host) => {
        if (!host.drained) this.overloadedCount += host.health.overloaded ? 1 : -1;
      },
    );
  }

  pick(_now: number, key?: string | number): PickResult {
    const size = this.points.length;
    if (size === 0) return NOEXIST_RESULT;
    const hash = key === undefined ? fmix32((this.keylessSeq = (this.keylessSeq + 1) | 0)) : hashKey(key);
    let index = lowerBound(this.points, hash);
    if (index === size) index = 0;
    const owner = this.owners[index] as TrackedHost;
    if (!owner.health.overloaded || this.inPanic() || this.probes.due()) return owner.picked;
    for (let step = 1; step < size; step++) {
      const next = this.owners[(index + step) % size] as TrackedHost;
      if (!next.health.overloaded) return next.picked;
    }
    return OVERLOAD_RESULT;
  }

  setHosts(inputs: readonly HostInput[], now: number): HostChanges {
    const applied = this.registry.apply(inputs, now);
    if (applied.changed) this.rebuildRing();
    return applied.changes;
  }

  /** Ring points per host, for tests and status pages. */
  ringPoints(): Array<{ ip: number; port: number; points: number }> {
    const counts = new Map<TrackedHost, number>();
    for (const owner of this.owners) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    return Array.from(counts, ([host, points]) => ({ ip: host.addr.ip, port: host.addr.port, points }));
  }

  private inPanic(): boolean {
    return this.ringHosts - this.overloadedCount < this.panicThreshold * this.ringHosts;
  }

  /**
   * Rebuilds the ring from scratch (route changes are rare). Hosts are ranked
   * by (ip, port) so that equal points, however unlikely, break ties the same
   * way in every agent whatever order the dns listed the hosts in. Drained
   * hosts (weight 0) own no points: their keys go to the ring neighbours.
   */
  private rebuildRing(): void {
    const hosts = Array.from(this.registry.values())
      .filter((host) => !host.drained)
      .sort((a, b) => a.key - b.key);
    this.ringHosts = hosts.length;
    this.overloadedCount = hosts.filter((host) => host.health.overloaded).length;
    const replicas = hosts.map((h) => replicasOf(h.weight, this.vnodes));
    const wanted = replicas.reduce((sum, n) => sum + n, 0);
    if (wanted > MAX_RING_POINTS) {
      const scale = MAX_RING_POINTS / wanted;
      for (let i = 0; i < replicas.length; i++) replicas[i] = Math.max(1, Math.floor((replicas[i] as number) * scale));
    }
    // point * 2^20 + host rank fits in a double exactly; a numeric sort orders by point, then rank.
    const entries = new Float64Array(replicas.reduce((sum, n) => sum + n, 0));
    let at = 0;
    hosts.forEach((host, rank) => {
      const ip = host.addr.ip >>> 0;
      for (let r = 0; r < (replicas[rank] as number); r++) entries[at++] = hashWords(ip, host.addr.port, r) * TWO_20 + rank;
    });
    entries.sort();
    this.points = new Uint32Array(entries.length);
    this.owners = new Array<TrackedHost>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as number;
      this.points[i] = Math.floor(entry / TWO_20);
      this.owners[i] = hosts[entry % TWO_20] as TrackedHost;
    }
  }
}
