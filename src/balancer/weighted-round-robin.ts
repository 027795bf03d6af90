/**
 * Smooth weighted round robin over the healthy hosts (the interleaving nginx
 * uses: weights 5:1:1 give a a b a c a a, not a a a a a b c), with Lars's
 * health rules and probes. Lars's own strategy ignores route weights; this
 * one lets an operator send a bigger machine more traffic, or drain a host
 * with weight 0 without removing it from the route.
 *
 * Each pick adds every healthy host's weight to its running score, takes the
 * highest score and subtracts the total weight from it: O(hosts) per pick,
 * which is a few dozen additions for real routes.
 */
import { HealthRules } from './health.js';
import { HostRegistry, TrackedHost } from './host-registry.js';
import type { LoadBalanceParams } from './params.js';
import { RegistryBalancer } from './registry-balancer.js';
import { ProbeCounter } from './probe-counter.js';
import { NOEXIST_RESULT, OVERLOAD_RESULT } from './results.js';
import type { HostChanges, HostInput, PickResult, RouteBalancer } from './types.js';

class WeightedHost extends TrackedHost {
  /** Running score of the smooth interleaving; reset when the host set changes. */
  score = 0;
}

export class WeightedRoundRobinBalancer extends RegistryBalancer<WeightedHost> implements RouteBalancer {
  readonly strategy = 'weighted_round_robin' as const;
  protected readonly registry: HostRegistry<WeightedHost>;
  /** Every host, ordered by (ip, port) so all agents interleave alike. */
  private ordered: WeightedHost[] = [];
  private overloadedCount = 0;
  /** Where the next probe starts looking for an overloaded host. */
  private probeCursor = 0;
  /** Counts only requests made while some host is overloaded. */
  private readonly probes: ProbeCounter;

  constructor(params: LoadBalanceParams) {
    super();
    this.probes = new ProbeCounter(params.probe_num);
    this.registry = new HostRegistry(
      new HealthRules(params),
      (addr, weight, health) => new WeightedHost(addr, weight, health),
      (host) => {
        this.overloadedCount += host.health.overloaded ? 1 : -1;
      },
    );
  }

  /** The choice depends on neither time nor key. */
  pick(_now: number, _key?: string | number): PickResult {
    if (this.ordered.length === 0) return NOEXIST_RESULT;
    if (this.overloadedCount > 0 && this.probes.due()) return this.nextOverloaded().picked;
    let total = 0;
    let best: WeightedHost | undefined;
    for (const host of this.ordered) {
      if (host.health.overloaded || host.weight <= 0) continue;
      host.score += host.weight;
      total += host.weight;
      if (best === undefined || host.score > best.score) best = host;
    }
    if (best === undefined) return OVERLOAD_RESULT;
    best.score -= total;
    return best.picked;
  }

  setHosts(inputs: readonly HostInput[], now: number): HostChanges {
    const applied = this.registry.apply(inputs, now);
    for (const host of applied.removed) if (host.health.overloaded) this.overloadedCount--;
    if (applied.added.length > 0 || applied.removed.length > 0 || applied.reweighted) {
      this.ordered = Array.from(this.registry.values()).sort((a, b) => a.key - b.key);
      for (const host of this.ordered) host.score = 0;
      this.probeCursor = 0;
    }
    return applied.changes;
  }

  /** Overloaded hosts take probes in turn (only called while one exists). */
  private nextOverloaded(): WeightedHost {
    for (;;) {
      const host = this.ordered[this.probeCursor % this.ordered.length] as WeightedHost;
      this.probeCursor = (this.probeCursor + 1) % this.ordered.length;
      if (host.health.overloaded) return host;
    }
  }
}
