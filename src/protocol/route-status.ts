/**
 * The body of RouteStatusResponse (msgid 101, our extension; docs/agent.md):
 * a diagnostic view of one route on the agent, as UTF-8 JSON. JSON because it
 * is for people and test tools, not a hot path. Lars clients never ask for it.
 */

/**
 * A host as the agent's balancer holds it: its health counters (Lars's, or
 * the adaptive strategy's estimates; docs/balancer.md), and its state's age
 * instead of a clock reading.
 */
export interface RouteStatusHost {
  ip: string;
  port: number;
  weight: number;
  overloaded: boolean;
  vsucc?: number;
  verr?: number;
  rsucc?: number;
  rerr?: number;
  continSucc?: number;
  continErr?: number;
  latencyMs?: number | null;
  failureRate?: number;
  inFlight?: number;
  consecutiveFailures?: number;
  ejections?: number;
  /** The load score the host reports through dns (docs/registry.md), null when it reports none. */
  reportedLoad: number | null;
  /** How long the host has been in its current state (idle window or overload), ms. */
  stateAgeMs: number;
}

export interface RouteStatus {
  modid: number;
  cmdid: number;
  /** The route's state in the agent's table (src/balancer/route-table.ts), 'unknown' when it has none. */
  status: 'pending' | 'active' | 'absent' | 'unknown';
  strategy: string | null;
  hosts: RouteStatusHost[];
}
