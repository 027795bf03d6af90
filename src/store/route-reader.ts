/**
 * What the dns service reads: the route version, every route at once, and
 * the change log since a version. Read-only; never deletes change rows, since
 * other dns instances sharing the store still need them.
 */
import { routeKey, type RouteKey } from '../protocol/route-key.js';
import { sql, type Kysely } from 'kysely';
import { changesSince, readVersion, type RouteChange } from './change-log.js';
import type { Database } from './schema.js';
import { kyselyOf, type Store } from './store.js';

export interface RouteHost {
  /** Unsigned 32-bit IPv4 value (the wire wants it as int32: `ip | 0`). */
  ip: number;
  port: number;
  weight: number;
}

/** One route as dns serves it. */
export interface LoadedRoute {
  /** Ordered by ip, then port; never empty. */
  hosts: RouteHost[];
  /** The module's strategy (docs/balancer.md, "Per-route strategy"); null: each agent's own. */
  strategy: string | null;
}

/** Every route as read at once (the balancer's RouteTable is the agent's live table). */
export interface LoadedRoutes {
  /** The version read BEFORE the routes: the routes are at least this new. */
  version: number;
  /** Per service, keyed by routeKey(modid, cmdid); a service without hosts has no entry. */
  routes: Map<RouteKey, LoadedRoute>;
}

export class RouteReader {
  private readonly db: Kysely<Database>;

  constructor(store: Store) {
    this.db = kyselyOf(store);
  }

  readVersion(): Promise<number> {
    return readVersion(this.db);
  }

  /**
   * Every host of every service, hosts ordered by ip then port, and the
   * strategies of their modules. The version is read first, so an edit
   * landing in between makes the routes newer than the version, never older:
   * the next poll sees a higher version and reloads.
   */
  async loadRoutes(): Promise<LoadedRoutes> {
    const version = await this.readVersion();
    const routes = groupByService(await this.selectHosts().execute());
    withStrategies(routes, await this.selectStrategies().execute());
    return { version, routes };
  }

  /**
   * The given services only (what an incremental reload needs); a service
   * without hosts has no entry.
   */
  async loadRoutesOf(services: readonly { modid: number; cmdid: number }[]): Promise<Map<RouteKey, LoadedRoute>> {
    const routes = new Map<RouteKey, LoadedRoute>();
    // Chunked to stay far below every engine's bound-parameter limit.
    for (let i = 0; i < services.length; i += 500) {
      const chunk = services.slice(i, i + 500);
      const loaded = groupByService(await this.selectHosts().where(ofServices(chunk)).execute());
      withStrategies(loaded, await this.selectStrategies().where(ofServices(chunk)).execute());
      for (const [key, route] of loaded) routes.set(key, route);
    }
    return routes;
  }

  /** Changes after `version`, oldest first. Check coversVersions() before trusting it is complete. */
  changesSince(version: number): Promise<RouteChange[]> {
    return changesSince(this.db, version);
  }

  private selectHosts() {
    return this.db
      .selectFrom('routes')
      .select(['modid', 'cmdid', 'ip', 'port', 'weight'])
      .orderBy('modid')
      .orderBy('cmdid')
      .orderBy('ip')
      .orderBy('port');
  }

  /** Only the modules that name a strategy: few, so the hosts query stays as it is. */
  private selectStrategies() {
    return this.db.selectFrom('modules').select(['modid', 'cmdid', 'strategy']).where('strategy', 'is not', null);
  }
}

/** The rows of these services, in a one-table query of routes or modules (both keyed by modid, cmdid). */
function ofServices(services: readonly { modid: number; cmdid: number }[]) {
  return sql<boolean>`(${sql.join(services.map((s) => sql`(modid = ${s.modid} and cmdid = ${s.cmdid})`), sql` or `)})`;
}

/** Rows arrive ordered by service: one map insert per service, not per row. */
function groupByService(rows: readonly ({ modid: number; cmdid: number } & RouteHost)[]): Map<RouteKey, LoadedRoute> {
  const routes = new Map<RouteKey, LoadedRoute>();
  let key: RouteKey | undefined;
  let hosts: RouteHost[] = [];
  for (const row of rows) {
    const rowKey = routeKey(row.modid, row.cmdid);
    if (rowKey !== key) {
      key = rowKey;
      hosts = [];
      routes.set(key, { hosts, strategy: null });
    }
    hosts.push({ ip: row.ip, port: row.port, weight: row.weight });
  }
  return routes;
}

/** Sets each route's strategy; a module without hosts has no route, and its strategy waits for them. */
function withStrategies(routes: Map<RouteKey, LoadedRoute>, modules: readonly { modid: number; cmdid: number; strategy: string | null }[]): void {
  for (const { modid, cmdid, strategy } of modules) {
    const route = routes.get(routeKey(modid, cmdid));
    if (route) route.strategy = strategy;
  }
}
