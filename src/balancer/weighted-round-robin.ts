/**
 * Smooth weighted round robin over the healthy hosts (the interleaving nginx
 * uses: weights 5:1:1 give a a b a c a a, not a a a a a b c), with Lars's
 * health rules and probes. Lars's own strategy ignores route weights; this
 * one lets an operator send a bigger machine more traffic, or drain a host
 * with weight 0 without removing it from the route (OrderedBalancer leaves
 * drained hosts out; a route with every host drained answers NOEXIST).
 *
 * Each pick adds every healthy host's weight to its running score, takes the
 * highest score and subtracts the total weight from it: O(hosts) per pick,
 * which is a few dozen additions for real routes.
 */
import { TrackedHost } from './host-registry.js';
import { OrderedBalancer } from './ordered-balancer.js';
import type { LoadBalanceParams } from './params.js';
import { OVERLOAD_RESULT, NOEXIST_RESULT } from './results.js';
import type { PickResult, RouteBalancer } from './types.js';

class WeightedHost extends TrackedHost {
  /** Running score of the smooth interleaving; reset when the host set changes. */
  score = 0;
}

export class WeightedRoundRobinBalancer extends OrderedBalancer<WeightedHost> implements RouteBalancer {
  readonly strategy = 'weighted_round_robin' as const;

  constructor(params: LoadBalanceParams) {
    super(params, (addr, weight, rules, now) => new WeightedHost(addr, weight, rules, now));
  }

  /** The choice depends on neither time nor key. */
  pick(_now: number, _key?: string | number): PickResult {
    if (this.ordered.length === 0) return NOEXIST_RESULT;
    const probed = this.probe();
    if (probed !== undefined) return probed.picked;
    let total = 0;
    let best: WeightedHost | undefined;
    for (const host of this.ordered) {
      if (host.health.overloaded) continue;
      host.score += host.weight;
      total += host.weight;
      if (best === undefined || host.score > best.score) best = host;
    }
    if (best === undefined) return OVERLOAD_RESULT;
    best.score -= total;
    return best.picked;
  }

  protected hostsChanged(): void {
    for (const host of this.ordered) host.score = 0;
  }
}
