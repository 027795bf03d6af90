/**
 * Messages between the agent's main thread and its port workers (one worker
 * per UDP port). The main thread owns the dns and reporter connections and
 * relays; each worker owns the routes of its port alone.
 */
import type { LoadBalanceParams } from '../balancer/params.js';
import type { RouteStats, RouteView } from '../balancer/route-table.js';
import type { HostInput } from '../balancer/types.js';
import type { UdpIo } from './fast-udp.js';

/** What a worker is started with (workerData). */
export interface PortWorkerConfig {
  /** 0, 1 or 2: the port is base + index, serving routes with (modid + cmdid) % 3 === index. */
  index: number;
  host: string;
  params: LoadBalanceParams;
  routeWaitMs: number;
  /** [agent] max_unknown_routes (RouteTable's maxUnknownRoutes). */
  maxUnknownRoutes: number;
  reportIntervalMs: number;
  recvBufferSize: number;
  /** [agent] udp_io and udp_busy_poll_us (fast-udp.ts). */
  udpIo: UdpIo | 'auto';
  busyPollUs: number;
}

/** Per-port request counters, sent as deltas with each stats batch. */
export interface PortCounters {
  getHost: number;
  report: number;
  getRoute: number;
  routeStatus: number;
  /** GetHost answers by retcode. */
  succ: number;
  overload: number;
  noexist: number;
  /** Requests that waited for dns's first answer, and those of them answered NOEXIST when the wait ran out. */
  waited: number;
  waitExpired: number;
  /** Reports for a route or host the agent does not have. */
  unknownReports: number;
  /** Routes without hosts forgotten to stay within max_unknown_routes. */
  unknownRoutesEvicted: number;
  /** Datagrams dropped, by reason. */
  dropped: Record<DropReason, number>;
  sendErrors: number;
}

export type DropReason = 'short' | 'oversize' | 'length_mismatch' | 'unknown_msgid' | 'malformed_body';
export const DROP_REASONS: readonly DropReason[] = ['short', 'oversize', 'length_mismatch', 'unknown_msgid', 'malformed_body'];

export type MainToWorker =
  | { type: 'listen'; port: number }
  | { type: 'unlisten' }
  /** dns connection state; `up` after a (re)connect also re-pulls every route, which re-subscribes it. */
  | { type: 'dns_state'; up: boolean }
  /** A dns answer or push for a route of this port. */
  | { type: 'route'; modid: number; cmdid: number; hosts: HostInput[] }
  | { type: 'snapshot'; id: number }
  /** Stop: flush the last statistics, close the port, exit. */
  | { type: 'stop' };

export type WorkerToMain =
  | { type: 'ready' }
  | { type: 'listening'; port: number }
  | { type: 'listen_failed'; port: number; code: string; message: string }
  | { type: 'unlistened' }
  /** Ask dns for a route (GetRouteRequest). */
  | { type: 'pull'; modid: number; cmdid: number }
  | { type: 'stats'; routes: RouteStats[]; counters: PortCounters; routeCount: number }
  | { type: 'snapshot'; id: number; routes: RouteView[] }
  | { type: 'stopped' };
