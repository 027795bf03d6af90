/**
 * The part shared by strategies that scan the route's hosts in one fixed
 * order (weighted round robin, least request): the hosts that take calls
 * (drained ones, weight 0, are left out) ordered by (ip, port) so every agent
 * scans alike, and Lars's probes while one of them is overloaded (one
 * request in probe_num + 1 goes to an overloaded host, taking turns). Subclasses
 * choose among the healthy hosts in pick().
 */
import { HealthRules } from './health.js';
import { HostRegistry, type TrackedHost } from './host-registry.js';
import type { LoadBalanceParams } from './params.js';
import { ProbeCounter } from './probe-counter.js';
import { RegistryBalancer } from './registry-balancer.js';
import type { HostAddr, HostChanges, HostInput } from './types.js';

export abstract class OrderedBalancer<H extends TrackedHost> extends RegistryBalancer<H> {
  protected readonly registry: HostRegistry<H>;
  /** Every host not drained, ordered by (ip, port); the others never get a call. */
  protected ordered: H[] = [];
  /** Overloaded hosts among `ordered`. */
  private overloadedCount = 0;
  /** Where the next probe starts looking for an overloaded host. */
  private probeCursor = 0;
  /** Counts only requests made while some host is overloaded. */
  private readonly probes: ProbeCounter;

  constructor(params: LoadBalanceParams, create: (addr: HostAddr, weight: number, rules: HealthRules, now: number) => H) {
    super();
    this.probes = new ProbeCounter(params.probe_num);
    const rules = new HealthRules(params);
    this.registry = new HostRegistry((addr, weight, now) => create(addr, weight, rules, now), (host) => {
      if (!host.drained) this.overloadedCount += host.health.overloaded ? 1 : -1;
    });
  }

  setHosts(inputs: readonly HostInput[], now: number): HostChanges {
    const applied = this.registry.apply(inputs, now);
    if (applied.changed) {
      this.ordered = Array.from(this.registry.values())
        .filter((host) => !host.drained)
        .sort((a, b) => a.key - b.key);
      this.overloadedCount = this.ordered.filter((host) => host.health.overloaded).length;
      this.probeCursor = 0;
      this.hostsChanged();
    }
    return applied.changes;
  }

  /** Called after the host set or a weight changed, with `ordered` rebuilt. */
  protected abstract hostsChanged(): void;

  /** The overloaded host this request should probe, or undefined when it is not a probe's turn. */
  protected probe(): H | undefined {
    if (this.overloadedCount === 0 || !this.probes.due()) return undefined;
    for (;;) {
      const host = this.ordered[this.probeCursor % this.ordered.length] as H;
      this.probeCursor = (this.probeCursor + 1) % this.ordered.length;
      if (host.health.overloaded) return host;
    }
  }
}
