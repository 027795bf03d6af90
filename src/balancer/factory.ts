import { ConsistentHashBalancer } from './consistent-hash.js';
import { LarsBalancer } from './lars.js';
import { LeastRequestBalancer } from './least-request.js';
import type { LoadBalanceParams } from './params.js';
import type { RouteBalancer, StrategyName } from './types.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

const CONSTRUCTORS: Record<StrategyName, new (params: LoadBalanceParams) => RouteBalancer> = {
  lars: LarsBalancer,
  consistent_hash: ConsistentHashBalancer,
  weighted_round_robin: WeightedRoundRobinBalancer,
  least_request: LeastRequestBalancer,
};

/** A new, empty balancer for one route. `params` should come from validateLoadBalanceParams(). */
export function createBalancer(strategy: StrategyName, params: LoadBalanceParams): RouteBalancer {
  return new CONSTRUCTORS[strategy](params);
}
