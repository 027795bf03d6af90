/**
 * Lars's strategy (docs/balancer.md): hosts sit in an idle or an overload
 * round-robin list; a pick takes a list's head and moves it to the tail; an
 * access counter sends one request in probe_num + 1 made while some host is
 * overloaded to an overloaded host (ProbeCounter, exactly Lars's count), so overloaded hosts get a chance to
 * prove they recovered. Health transitions are the shared HealthRules.
 * Lars has no weights; ours honours only weight 0: a drained host is in
 * neither list, so it gets no call, probes included, while its state is
 * kept (docs/balancer.md).
 */
import { HealthRules } from './health.js';
import { HostRegistry, TrackedHost } from './host-registry.js';
import type { LoadBalanceParams } from './params.js';
import { RegistryBalancer } from './registry-balancer.js';
import { ProbeCounter } from './probe-counter.js';
import { NOEXIST_RESULT, OVERLOAD_RESULT } from './results.js';
import { RoundRobinList, type ListLinks } from './round-robin-list.js';
import type { HostAddr, HostChanges, HostInput, PickResult, RouteBalancer } from './types.js';

class LarsHost extends TrackedHost implements ListLinks<LarsHost> {
  prev: LarsHost | null = null;
  next: LarsHost | null = null;
}

export class LarsBalancer extends RegistryBalancer<LarsHost> implements RouteBalancer {
  readonly strategy = 'lars' as const;
  protected readonly registry: HostRegistry<LarsHost>;
  private readonly idle = new RoundRobinList<LarsHost>();
  private readonly overload = new RoundRobinList<LarsHost>();
  /** Counts only requests made while the overload list is non-empty. */
  private readonly probes: ProbeCounter;

  constructor(params: LoadBalanceParams) {
    super();
    this.probes = new ProbeCounter(params.probe_num);
    const rules = new HealthRules(params);
    this.registry = new HostRegistry(
      (addr, weight, now) => new LarsHost(addr, weight, rules, now),
      (host) => this.moveToStateList(host),
    );
  }

  /** Lars's choice depends on neither time nor key. */
  pick(_now: number, _key?: string | number): PickResult {
    if (this.overload.isEmpty()) {
      return this.idle.isEmpty() ? NOEXIST_RESULT : (this.idle.rotate() as LarsHost).picked;
    }
    if (this.probes.due()) return (this.overload.rotate() as LarsHost).picked;
    return this.idle.isEmpty() ? OVERLOAD_RESULT : (this.idle.rotate() as LarsHost).picked;
  }

  setHosts(inputs: readonly HostInput[], now: number): HostChanges {
    const applied = this.registry.apply(inputs, now);
    for (const host of applied.removed) this.leaveList(host);
    for (const host of applied.added) this.joinList(host);
    for (const host of applied.reweighted) {
      if (host.drained) this.leaveList(host);
      else this.joinList(host);
    }
    return applied.changes;
  }

  /** The idle and overload lists head to tail, i.e. in the order picks will take them. */
  listOrder(): { idle: HostAddr[]; overload: HostAddr[] } {
    return {
      idle: this.idle.toArray().map((h) => h.addr),
      overload: this.overload.toArray().map((h) => h.addr),
    };
  }

  private listOf(host: LarsHost): RoundRobinList<LarsHost> {
    return host.health.overloaded ? this.overload : this.idle;
  }

  /** A host not drained and in no list joins the tail of its state's list. */
  private joinList(host: LarsHost): void {
    if (!host.drained && host.next === null) this.listOf(host).pushBack(host);
  }

  /** A host in a list leaves it. */
  private leaveList(host: LarsHost): void {
    if (host.next !== null) this.listOf(host).remove(host);
  }

  /** A host whose state just flipped leaves its old list and joins the tail of the new one (a drained host is in none). */
  private moveToStateList(host: LarsHost): void {
    if (host.next === null) return;
    if (host.health.overloaded) {
      this.idle.remove(host);
      this.overload.pushBack(host);
    } else {
      this.overload.remove(host);
      this.idle.pushBack(host);
    }
  }
}
