/**
 * Least request: each pick goes to the healthy host with the fewest calls in
 * flight per unit of weight, with Lars's health rules and probes. A host that
 * answers slowly holds more calls open, so it gets fewer new ones, which
 * round robin cannot do. In flight = handed out by this agent and not yet
 * reported (see in-flight.ts); ties go round robin, so with synchronous
 * clients (nothing in flight at pick time) it is plain round robin.
 *
 * O(hosts) per pick, like weighted round robin. Weight 0 drains a host
 * (OrderedBalancer leaves it out).
 */
import type { HealthRules } from './health.js';
import { TrackedHost } from './host-registry.js';
import { InFlightCounter } from './in-flight.js';
import { OrderedBalancer } from './ordered-balancer.js';
import type { LoadBalanceParams } from './params.js';
import { NOEXIST_RESULT, OVERLOAD_RESULT } from './results.js';
import type { HealthEvent, HostAddr, PickResult, RouteBalancer } from './types.js';

class LoadedHost extends TrackedHost {
  readonly inFlight: InFlightCounter;

  constructor(addr: HostAddr, weight: number, rules: HealthRules, now: number, timeoutMs: number) {
    super(addr, weight, rules, now);
    this.inFlight = new InFlightCounter(timeoutMs);
  }
}

export class LeastRequestBalancer extends OrderedBalancer<LoadedHost> implements RouteBalancer {
  readonly strategy = 'least_request' as const;
  /** The next scan starts just after the host chosen last, so ties take turns. */
  private cursor = 0;

  constructor(params: LoadBalanceParams) {
    const timeoutMs = params.inflight_timeout * 1000;
    super(params, (addr, weight, rules, now) => new LoadedHost(addr, weight, rules, now, timeoutMs));
  }

  pick(now: number, _key?: string | number): PickResult {
    const count = this.ordered.length;
    if (count === 0) return NOEXIST_RESULT;
    let chosen = this.probe();
    if (chosen === undefined) {
      let lowest = Infinity;
      let at = 0;
      for (let i = 0; i < count; i++) {
        const index = (this.cursor + i) % count;
        const host = this.ordered[index]!;
        if (host.health.overloaded) continue;
        const load = host.inFlight.count(now) / host.weight;
        if (load < lowest) {
          lowest = load;
          chosen = host;
          at = index;
        }
      }
      if (chosen === undefined) return OVERLOAD_RESULT;
      this.cursor = (at + 1) % count;
    }
    chosen.inFlight.begin(now);
    return chosen.picked;
  }

  override report(addr: HostAddr, ok: boolean, now: number, latencyMs?: number): HealthEvent {
    const event = super.report(addr, ok, now, latencyMs);
    if (event !== 'unknown_host') this.registry.get(addr)!.inFlight.end(now);
    return event;
  }

  protected hostsChanged(): void {
    this.cursor = 0;
  }
}
