/**
 * The agent's routes, pure: per (modid, cmdid) a balancer and the times of
 * the last dns pull and answer. The table decides when a route must be
 * pulled and asks for it through the injected `requestRoute` callback; the
 * agent does the I/O and feeds answers (replies and pushes) back through
 * applyDnsAnswer().
 *
 * Route lifecycle (RouteState):
 *   unknown --pick/getRoute--> pending (pulled, answers QUEUE, then NOEXIST)
 *   pending/absent --non-empty answer--> active (balancer built)
 *   any --empty answer--> absent (balancer and all host state dropped)
 * An answer may name the route's strategy (its module's, docs/balancer.md
 * "Per-route strategy"); without one the route runs params.strategy, and so
 * it does with a name this build does not know (the outcome says so). An
 * active route whose strategy changes gets a new balancer of that strategy
 * with the same hosts: host state is per strategy and starts afresh; a
 * name and its alias (adaptive, least_load) run one balancer, so switching
 * between them changes nothing.
 * A route whose last pull or answer is update_timeout old is pulled again
 * on its next use or by refresh(). An absent route keeps only this small
 * marker, so a client hammering a removed route costs one pull per
 * update_timeout, not one per request; refresh() forgets stale markers.
 * Pending and absent markers are capped (maxUnknownRoutes), oldest first, so
 * a client asking for ever new ids cannot grow the table without end.
 *
 * A request that meets a pending route and itself caused its pull gets QUEUE
 * (as grpc-js's picker answers while a channel connects): an answer is on
 * its way, so the caller may hold the request (the agent's route wait) or
 * answer it as the NOEXIST that QUEUE also is.
 */
import { createBalancer } from './factory.js';
import { hostKey } from './host-registry.js';
import type { LoadBalanceParams } from './params.js';
import { isQueue, NOEXIST_RESULT, QUEUE, type Queue } from './results.js';
import {
  balancerOf,
  isStrategyName,
  type BalancerName,
  type HealthEvent,
  type HostAddr,
  type HostChanges,
  type HostInput,
  type HostStats,
  type HostView,
  type PickResult,
  type RouteBalancer,
} from './types.js';

export type RouteState = 'pending' | 'active' | 'absent';

/** What pick answers: a balancer's pick, NOEXIST, or QUEUE (a NOEXIST that says this request started a pull). */
export type RoutePick = PickResult | Queue;

export interface RouteTableOptions {
  params: LoadBalanceParams;
  /** Asks dns for a route (the agent sends GetRouteRequest). Must not call back into the table. */
  requestRoute: (modid: number, cmdid: number) => void;
  /** Most pending and absent routes kept; past it the oldest is forgotten. Default: no limit. */
  maxUnknownRoutes?: number;
}

export interface RouteView {
  readonly modid: number;
  readonly cmdid: number;
  readonly state: RouteState;
  /** The active balancer's strategy (an alias resolved: least_load runs adaptive); null unless active. */
  readonly strategy: BalancerName | null;
  /** Time of the last dns answer, null before the first. */
  readonly updatedAt: number | null;
  readonly hosts: HostView[];
}

export interface RouteStats {
  readonly modid: number;
  readonly cmdid: number;
  readonly hosts: HostStats[];
}

export type DnsAnswerOutcome =
  | {
      readonly outcome: 'updated';
      readonly changes: HostChanges;
      /** Present when the route's strategy changed: its balancer was replaced, its hosts kept. */
      readonly strategySwitch?: { readonly from: BalancerName; readonly to: BalancerName };
      /** A strategy name this build does not know (params.strategy serves instead); only on the first answer naming it. */
      readonly unknownStrategy?: string;
    }
  /** The answer was empty (or held no valid host): the route's balancer is gone. */
  | { readonly outcome: 'dropped'; readonly changes: HostChanges | null }
  /** An empty answer for a route the table does not have. */
  | { readonly outcome: 'ignored' };

export type RouteReportOutcome = HealthEvent | 'unknown_route';

interface Route {
  readonly modid: number;
  readonly cmdid: number;
  /** Non-null exactly when state is 'active'. */
  balancer: RouteBalancer | null;
  /** The strategy the last non-empty answer named, as named (maybe unknown here). */
  named: string | undefined;
  /** Calls counted by a balancer replaced since the last takeStats(), reported with the route's next stats. */
  retired: readonly HostStats[];
  state: RouteState;
  updatedAt: number | null;
  /** The later of the last pull sent and the last answer: staleness is measured from it. */
  contactAt: number;
}

const NO_STATS: readonly HostStats[] = Object.freeze([]);

/** The route's calls since the last take: its retired balancers' and its balancer's. */
function takeRouteStats(route: Route): HostStats[] {
  const hosts = mergeStats(route.retired, route.balancer?.takeStats() ?? []);
  route.retired = NO_STATS;
  return hosts;
}

/** One host's counts of two takes as one; `newer` carries the current overload state. */
function addStats(older: HostStats, newer: HostStats): HostStats {
  return {
    ...newer,
    succ: older.succ + newer.succ,
    err: older.err + newer.err,
    timed: older.timed + newer.timed,
    durationUs: older.durationUs + newer.durationUs,
    maxDurationUs: Math.max(older.maxDurationUs, newer.maxDurationUs),
  };
}

/** Two stats lists of one route as one, a host in both counted once; `newer` carries the current overload state. */
function mergeStats(older: readonly HostStats[], newer: HostStats[]): HostStats[] {
  if (older.length === 0) return newer;
  const merged = new Map(older.map((h) => [hostKey(h.ip, h.port), h]));
  for (const h of newer) {
    const key = hostKey(h.ip, h.port);
    const before = merged.get(key);
    merged.set(key, before ? addStats(before, h) : h);
  }
  return [...merged.values()];
}

export class RouteTable {
  private readonly byModid = new Map<number, Map<number, Route>>();
  private readonly updateTimeoutMs: number;
  private readonly requestRoute: (modid: number, cmdid: number) => void;
  private readonly params: LoadBalanceParams;
  /** Stats of routes dropped since the last takeStats(). */
  private droppedStats: RouteStats[] = [];
  /** Pending and absent routes, oldest first. */
  private readonly unknown = new Set<Route>();
  private readonly maxUnknownRoutes: number;
  private evictedCount = 0;

  constructor(options: RouteTableOptions) {
    const { params } = options;
    this.updateTimeoutMs = params.update_timeout * 1000;
    this.requestRoute = options.requestRoute;
    this.params = params;
    this.maxUnknownRoutes = Math.max(1, options.maxUnknownRoutes ?? Infinity);
  }

  /** Pending and absent routes forgotten to stay within maxUnknownRoutes since the last call. */
  takeEvicted(): number {
    const count = this.evictedCount;
    this.evictedCount = 0;
    return count;
  }

  /** Number of routes known, whatever their state. */
  get size(): number {
    let count = 0;
    for (const routes of this.byModid.values()) count += routes.size;
    return count;
  }

  /**
   * A host for one call. Unknown, pending and absent routes answer NOEXIST
   * (and get pulled as needed), or QUEUE when this request pulled a pending one.
   */
  pick(modid: number, cmdid: number, now: number, key?: string | number): RoutePick {
    const route = this.use(modid, cmdid, now);
    if (isQueue(route)) return route;
    return route.balancer === null ? NOEXIST_RESULT : route.balancer.pick(now, key);
  }

  /**
   * The route's hosts for API_GetRoute; empty while unknown, pending or absent
   * (pulled as needed), or QUEUE when this request pulled a pending one.
   */
  getRoute(modid: number, cmdid: number, now: number): HostAddr[] | Queue {
    const route = this.use(modid, cmdid, now);
    if (isQueue(route)) return route;
    return route.balancer === null ? [] : route.balancer.hosts().map(({ ip, port }) => ({ ip, port }));
  }

  /** One call's outcome; `latencyMs` as RouteBalancer.report takes it. */
  report(modid: number, cmdid: number, host: HostAddr, ok: boolean, now: number, latencyMs?: number): RouteReportOutcome {
    const balancer = this.find(modid, cmdid)?.balancer ?? null;
    return balancer === null ? 'unknown_route' : balancer.report(host, ok, now, latencyMs);
  }

  /**
   * Applies a dns reply or push: new hosts join idle, vanished ones leave, an
   * empty answer drops the route; kept hosts keep their state, whatever their
   * reported loads say. `strategy` is the one the answer names
   * (undefined: params.strategy); a change of it replaces the balancer.
   */
  applyDnsAnswer(modid: number, cmdid: number, hosts: readonly HostInput[], now: number, strategy?: string): DnsAnswerOutcome {
    let route = this.find(modid, cmdid);
    if (hosts.length === 0 && route === undefined) return { outcome: 'ignored' };
    route ??= this.add(modid, cmdid, now);
    route.updatedAt = now;
    route.contactAt = now;
    if (hosts.length === 0) {
      this.drop(route);
      return { outcome: 'dropped', changes: null };
    }
    const unknownStrategy = strategy !== undefined && !isStrategyName(strategy) && strategy !== route.named ? strategy : undefined;
    route.named = strategy;
    const wanted = balancerOf(isStrategyName(strategy) ? strategy : this.params.strategy);
    const previous = route.balancer;
    const balancer = previous?.strategy === wanted ? previous : createBalancer(wanted, this.params);
    if (previous !== null && previous !== balancer) route.retired = mergeStats(route.retired, previous.takeStats());
    const changes = balancer.setHosts(hosts, now);
    route.balancer = balancer;
    route.state = 'active';
    this.unknown.delete(route);
    if (balancer.isEmpty()) {
      this.drop(route);
      return { outcome: 'dropped', changes };
    }
    return {
      outcome: 'updated',
      changes,
      ...(previous !== null && previous !== balancer ? { strategySwitch: { from: previous.strategy, to: balancer.strategy } } : {}),
      ...(unknownStrategy === undefined ? {} : { unknownStrategy }),
    };
  }

  /**
   * Periodic upkeep (the agent calls it every second or so): pulls active
   * routes whose last contact is update_timeout old, and forgets pending and
   * absent routes that old (their next use creates and pulls them again).
   * Returns the number of pulls requested.
   */
  refresh(now: number): number {
    let pulls = 0;
    for (const [modid, routes] of this.byModid) {
      for (const [cmdid, route] of routes) {
        if (!this.isStale(route, now)) continue;
        if (route.state === 'active') {
          this.pull(route, now);
          pulls++;
        } else {
          routes.delete(cmdid);
          this.unknown.delete(route);
        }
      }
      if (routes.size === 0) this.byModid.delete(modid);
    }
    return pulls;
  }

  /** Pulls every known route, e.g. after reconnecting to dns (which re-subscribes them). Returns the count. */
  pullAll(now: number): number {
    let pulls = 0;
    for (const routes of this.byModid.values()) {
      for (const route of routes.values()) {
        this.pull(route, now);
        pulls++;
      }
    }
    return pulls;
  }

  state(modid: number, cmdid: number): RouteState | undefined {
    return this.find(modid, cmdid)?.state;
  }

  routes(): RouteView[] {
    const views: RouteView[] = [];
    for (const routes of this.byModid.values()) {
      for (const r of routes.values()) {
        const { modid, cmdid, state, updatedAt, balancer } = r;
        views.push({ modid, cmdid, state, strategy: balancer?.strategy ?? null, updatedAt, hosts: balancer?.hosts() ?? [] });
      }
    }
    return views;
  }

  /** Per route, the host call counts since the previous call; routes without calls are left out. */
  takeStats(): RouteStats[] {
    const stats = this.droppedStats;
    this.droppedStats = [];
    for (const routes of this.byModid.values()) {
      for (const route of routes.values()) {
        const hosts = takeRouteStats(route);
        if (hosts.length > 0) stats.push({ modid: route.modid, cmdid: route.cmdid, hosts });
      }
    }
    return stats;
  }

  private find(modid: number, cmdid: number): Route | undefined {
    return this.byModid.get(modid)?.get(cmdid);
  }

  /** The route for a request: created and pulled when unknown, pulled again when stale; QUEUE when that pulled a pending route. */
  private use(modid: number, cmdid: number, now: number): Route | Queue {
    let route = this.find(modid, cmdid);
    if (route === undefined) {
      route = this.add(modid, cmdid, now);
      this.markUnknown(route);
    } else if (!this.isStale(route, now)) {
      return route;
    }
    this.pull(route, now);
    return route.state === 'pending' ? QUEUE : route;
  }

  private add(modid: number, cmdid: number, now: number): Route {
    const route: Route = { modid, cmdid, balancer: null, named: undefined, retired: NO_STATS, state: 'pending', updatedAt: null, contactAt: now };
    let routes = this.byModid.get(modid);
    if (routes === undefined) {
      routes = new Map();
      this.byModid.set(modid, routes);
    }
    routes.set(cmdid, route);
    return route;
  }

  private isStale(route: Route, now: number): boolean {
    return now - route.contactAt >= this.updateTimeoutMs;
  }

  private pull(route: Route, now: number): void {
    route.contactAt = now;
    this.requestRoute(route.modid, route.cmdid);
  }

  private drop(route: Route): void {
    const hosts = takeRouteStats(route);
    if (hosts.length > 0) this.droppedStats.push({ modid: route.modid, cmdid: route.cmdid, hosts });
    route.balancer = null;
    // A route that comes back starts over, its strategy named anew.
    route.named = undefined;
    route.state = 'absent';
    this.markUnknown(route);
  }

  /** Makes room (oldest first), then counts the route as the newest unknown one. */
  private markUnknown(route: Route): void {
    this.unknown.delete(route);
    for (const oldest of this.unknown) {
      if (this.unknown.size < this.maxUnknownRoutes) break;
      this.unknown.delete(oldest);
      this.forget(oldest);
      this.evictedCount++;
    }
    this.unknown.add(route);
  }

  private forget(route: Route): void {
    const routes = this.byModid.get(route.modid);
    routes?.delete(route.cmdid);
    if (routes?.size === 0) this.byModid.delete(route.modid);
  }
}
