import { AdaptiveBalancer } from './adaptive.js';
import { ConsistentHashBalancer } from './consistent-hash.js';
import { LarsBalancer } from './lars.js';
import { LeastRequestBalancer } from './least-request.js';
import type { LoadBalanceParams } from './params.js';
import { balancerOf, type BalancerName, type RouteBalancer, type StrategyName } from './types.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

const CONSTRUCTORS: Record<BalancerName, new (params: LoadBalanceParams, random: () => number) => RouteBalancer> = {
  lars: LarsBalancer,
  consistent_hash: ConsistentHashBalancer,
  weighted_round_robin: WeightedRoundRobinBalancer,
  least_request: LeastRequestBalancer,
  adaptive: AdaptiveBalancer,
};

/**
 * A new, empty balancer for one route. `params` should come from
 * validateLoadBalanceParams(); `random` (uniform in [0, 1)) is for the
 * strategies that draw (adaptive): the quality simulator passes a seeded one.
 * An alias (least_load) builds the balancer of the strategy it names.
 */
export function createBalancer(strategy: StrategyName, params: LoadBalanceParams, random: () => number = Math.random): RouteBalancer {
  return new CONSTRUCTORS[balancerOf(strategy)](params, random);
}
