/**
 * The agent's extension messages (docs/protocol.md: new ids from 100 up).
 * Lars clients never send them, so they change nothing for them.
 *
 * RouteStatusRequest (100): body is a GetRouteRequest (modid, cmdid).
 * RouteStatusResponse (101): body is UTF-8 JSON, a diagnostic view of the
 * route on the agent: { modid, cmdid, status, strategy, hosts: [{ ip, port,
 * weight, overloaded, vsucc, verr, rsucc, rerr, continSucc, continErr,
 * stateAgeMs }] }. JSON because it is for people and test tools, not a hot
 * path, and its fields follow the balancer without a schema change.
 */
import type { HealthState } from '../balancer/health.js';

export const AgentMsgId = {
  RouteStatusRequest: 100,
  RouteStatusResponse: 101,
} as const;

/** A host's balancer state as JSON carries it: its counters, and its state's age instead of a clock reading. */
export type RouteStatusHost = Omit<HealthState, 'since'> & {
  ip: string;
  port: number;
  weight: number;
  /** How long the host has been in its current state (idle window or overload), ms. */
  stateAgeMs: number;
};

export interface RouteStatus {
  modid: number;
  cmdid: number;
  status: 'pending' | 'active' | 'absent' | 'unknown';
  strategy: string | null;
  hosts: RouteStatusHost[];
}
