/**
 * Which connections asked for which route, so a change is pushed to exactly
 * the agents that use it. A connection's own key set lets its subscriptions be
 * dropped in one pass when it closes.
 */
export class Subscriptions<Conn> {
  private readonly byRoute = new Map<string, Set<Conn>>();
  private readonly byConn = new Map<Conn, Set<string>>();

  subscribe(conn: Conn, key: string): void {
    let conns = this.byRoute.get(key);
    if (!conns) this.byRoute.set(key, (conns = new Set()));
    conns.add(conn);
    let keys = this.byConn.get(conn);
    if (!keys) this.byConn.set(conn, (keys = new Set()));
    keys.add(key);
  }

  forget(conn: Conn): void {
    for (const key of this.byConn.get(conn) ?? []) {
      const conns = this.byRoute.get(key)!;
      conns.delete(conn);
      if (conns.size === 0) this.byRoute.delete(key);
    }
    this.byConn.delete(conn);
  }

  subscribers(key: string): ReadonlySet<Conn> {
    return this.byRoute.get(key) ?? EMPTY;
  }

  /** Every route with at least one subscriber. */
  routes(): IterableIterator<string> {
    return this.byRoute.keys();
  }

  get routeCount(): number {
    return this.byRoute.size;
  }

  get connectionCount(): number {
    return this.byConn.size;
  }
}

const EMPTY: ReadonlySet<never> = new Set();
