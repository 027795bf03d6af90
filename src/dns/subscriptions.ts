/**
 * Which connections asked for which route, so a change is pushed to exactly
 * the agents that use it. A connection's own key set lets its subscriptions be
 * dropped in one pass when it closes.
 *
 * Asking for a route that has no hosts subscribes too (the agent then learns
 * the moment it gets some), and Lars has no way to unsubscribe. So a client
 * asking for ever new ids through an agent would grow this map without end.
 * Each connection keeps at most maxEmptyPerConnection subscriptions to routes
 * that had no hosts when asked for; past that, its oldest ones that still
 * have none are forgotten. The agent loses nothing it uses: it re-asks for a
 * route it holds every update_timeout.
 */
import type { RouteKey } from '../protocol/route-key.js';

export interface SubscriptionLimits {
  maxEmptyPerConnection: number;
  /** Whether the route has hosts now: such a subscription is never evicted. */
  hasHosts(key: RouteKey): boolean;
}

interface ConnState {
  readonly keys: Set<RouteKey>;
  /** Keys that had no hosts when asked for, oldest first. */
  readonly empty: Set<RouteKey>;
}

export class Subscriptions<Conn> {
  private readonly byRoute = new Map<RouteKey, Set<Conn>>();
  private readonly byConn = new Map<Conn, ConnState>();

  constructor(private readonly limits: SubscriptionLimits = { maxEmptyPerConnection: Infinity, hasHosts: () => true }) {}

  /** Returns how many of this connection's subscriptions to routes without hosts were forgotten to make room. */
  subscribe(conn: Conn, key: RouteKey): number {
    let conns = this.byRoute.get(key);
    if (!conns) this.byRoute.set(key, (conns = new Set()));
    conns.add(conn);
    let state = this.byConn.get(conn);
    if (!state) this.byConn.set(conn, (state = { keys: new Set(), empty: new Set() }));
    state.keys.add(key);
    // Re-adding moves the key to the newest end.
    state.empty.delete(key);
    if (this.limits.hasHosts(key)) return 0;
    state.empty.add(key);
    return this.evictEmpty(conn, state);
  }

  forget(conn: Conn): void {
    for (const key of this.byConn.get(conn)?.keys ?? []) this.removeSubscriber(key, conn);
    this.byConn.delete(conn);
  }

  subscribers(key: RouteKey): ReadonlySet<Conn> {
    return this.byRoute.get(key) ?? EMPTY;
  }

  /** Every route with at least one subscriber. */
  routes(): IterableIterator<RouteKey> {
    return this.byRoute.keys();
  }

  get routeCount(): number {
    return this.byRoute.size;
  }

  /** Every subscribed connection with how many routes it asked for. */
  *connections(): IterableIterator<[Conn, number]> {
    for (const [conn, state] of this.byConn) yield [conn, state.keys.size];
  }

  get connectionCount(): number {
    return this.byConn.size;
  }

  private evictEmpty(conn: Conn, state: ConnState): number {
    let evicted = 0;
    for (const key of state.empty) {
      if (state.empty.size <= this.limits.maxEmptyPerConnection) break;
      state.empty.delete(key);
      // A route that got hosts since it was asked for is in use: keep it.
      if (this.limits.hasHosts(key)) continue;
      state.keys.delete(key);
      this.removeSubscriber(key, conn);
      evicted += 1;
    }
    return evicted;
  }

  private removeSubscriber(key: RouteKey, conn: Conn): void {
    const conns = this.byRoute.get(key);
    if (!conns) return;
    conns.delete(conn);
    if (conns.size === 0) this.byRoute.delete(key);
  }
}

const EMPTY: ReadonlySet<never> = new Set();
