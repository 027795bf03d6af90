/**
 * Messages between the agent's main thread and its port threads (one per UDP
 * port; port-thread.ts runs in the thread, port-thread-handle.ts is the main
 * thread's side). The main thread owns the dns and reporter connections and
 * relays; each port thread owns the routes of its port alone.
 */
import type { LoadBalanceParams } from '../balancer/params.js';
import type { RouteStats, RouteView } from '../balancer/route-table.js';
import type { HostInput } from '../balancer/types.js';
import type { UdpIo } from '../reactor/udp-port.js';
import type { PortCounters } from './port-counters.js';

/** What a port thread is started with (workerData). */
export interface PortThreadConfig {
  /** 0, 1 or 2: the port is base + index, serving routes with (modid + cmdid) % 3 === index. */
  index: number;
  host: string;
  params: LoadBalanceParams;
  routeWaitMs: number;
  /** [agent] max_unknown_routes (RouteTable's maxUnknownRoutes). */
  maxUnknownRoutes: number;
  reportIntervalMs: number;
  recvBufferSize: number;
  /** [agent] udp_io and udp_busy_poll_us (src/reactor/udp-port.ts). */
  udpIo: UdpIo | 'auto';
  busyPollUs: number;
}

export type MainToPort =
  | { type: 'listen'; port: number }
  | { type: 'unlisten' }
  /** dns connection state; `up` after a (re)connect also re-pulls every route, which re-subscribes it. */
  | { type: 'dns_state'; up: boolean }
  /** A dns answer or push for a route of this port, reported loads included; `strategy` as PortHandlers.dnsAnswer takes it. */
  | { type: 'route'; modid: number; cmdid: number; hosts: HostInput[]; strategy: string | null }
  | { type: 'snapshot'; id: number }
  /** Stop: flush the last statistics, close the port, exit. */
  | { type: 'stop' };

export type PortToMain =
  | { type: 'ready' }
  | { type: 'listening'; port: number }
  /** `code`: the errno name when the bind failed (UdpBindError); absent when no port could be made (e.g. udp_io = native without the addon). */
  | { type: 'listen_failed'; port: number; code?: string; reason: string }
  | { type: 'unlistened' }
  /** Ask dns for a route (GetRouteRequest). */
  | { type: 'pull'; modid: number; cmdid: number }
  | { type: 'stats'; routes: RouteStats[]; counters: PortCounters; routeCount: number }
  | { type: 'snapshot'; id: number; routes: RouteView[] }
  | { type: 'stopped' };
