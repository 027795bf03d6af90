/**
 * What the dns service reads: the route version, every route at once, and
 * the change log since a version. Read-only; never deletes change rows, since
 * other dns instances sharing the store still need them.
 */
import { routeKey, type RouteKey } from '../protocol/route-key.js';
import { sql, type Kysely } from 'kysely';
import { changesSince, readVersion, type RouteChange } from './change-log.js';
import { instancesWithOverrides, loadsSince, readRegistryVersion, type InstanceLoadRow } from './registry.js';
import type { Database } from './schema.js';
import { kyselyOf, type Store } from './store.js';

export interface RouteHost {
  /** Unsigned 32-bit IPv4 value (the wire wants it as int32: `ip | 0`). */
  ip: number;
  port: number;
  weight: number;
  /** A registered instance's load score (docs/registry.md); null for a configured host or before its first report. */
  load: number | null;
  /** Configured by an operator, or a live registered instance (a configured host wins at the same ip:port). */
  source: 'static' | 'registered';
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
    withInstances(routes, await this.selectInstances().execute());
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
      withInstances(loaded, await this.selectInstances().where(ofServices(chunk, 'i.')).execute());
      withStrategies(loaded, await this.selectStrategies().where(ofServices(chunk)).execute());
      for (const [key, route] of loaded) routes.set(key, route);
    }
    return routes;
  }

  /** Changes after `version`, oldest first. Check coversVersions() before trusting it is complete. */
  changesSince(version: number): Promise<RouteChange[]> {
    return changesSince(this.db, version);
  }

  /** The registry's counter of load writes (docs/registry.md); read before loadsSince, like the route version. */
  readRegistryVersion(): Promise<number> {
    return readRegistryVersion(this.db);
  }

  /** Instances whose load was written after `revision`. */
  loadsSince(revision: number): Promise<InstanceLoadRow[]> {
    return loadsSince(this.db, revision);
  }

  /** A drained host is served with weight 0; its own weight waits in the row for the undrain. */
  private selectHosts() {
    return this.db
      .selectFrom('routes')
      .select(['modid', 'cmdid', 'ip', 'port'])
      .select(sql<number>`case when drained <> 0 then 0 else weight end`.as('weight'))
      .orderBy('modid')
      .orderBy('cmdid')
      .orderBy('ip')
      .orderBy('port');
  }

  /** Live instances of modules that exist, with the operator's weight where one is set. */
  private selectInstances() {
    return instancesWithOverrides(this.db)
      .innerJoin('modules as m', (join) => join.onRef('m.modid', '=', 'i.modid').onRef('m.cmdid', '=', 'i.cmdid'))
      .select(['i.modid', 'i.cmdid', 'i.ip', 'i.port', 'i.weight', 'o.weight as override', 'i.load_score']);
  }

  /** Only the modules that name a strategy: few, so the hosts query stays as it is. */
  private selectStrategies() {
    return this.db.selectFrom('modules').select(['modid', 'cmdid', 'strategy']).where('strategy', 'is not', null);
  }
}

/** The rows of these services, in a query of routes, modules or instances (all keyed by modid, cmdid); `table` qualifies the columns in a join. */
function ofServices(services: readonly { modid: number; cmdid: number }[], table: '' | 'i.' = '') {
  const modid = sql.ref(`${table}modid`);
  const cmdid = sql.ref(`${table}cmdid`);
  return sql<boolean>`(${sql.join(services.map((s) => sql`(${modid} = ${s.modid} and ${cmdid} = ${s.cmdid})`), sql` or `)})`;
}

/** Rows arrive ordered by service: one map insert per service, not per row. */
function groupByService(rows: readonly { modid: number; cmdid: number; ip: number; port: number; weight: number }[]): Map<RouteKey, LoadedRoute> {
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
    hosts.push({ ip: row.ip, port: row.port, weight: row.weight, load: null, source: 'static' });
  }
  return routes;
}

interface InstanceRow {
  modid: number;
  cmdid: number;
  ip: number;
  port: number;
  weight: number;
  override: number | null;
  load_score: number | null;
}

/**
 * Adds live instances to their routes (creating a route that has only
 * instances), skipping one at a configured host's ip:port, and keeps each
 * touched route's hosts ordered by ip, then port.
 */
function withInstances(routes: Map<RouteKey, LoadedRoute>, rows: readonly InstanceRow[]): void {
  const touched = new Set<LoadedRoute>();
  for (const row of rows) {
    const key = routeKey(row.modid, row.cmdid);
    let route = routes.get(key);
    if (!route) routes.set(key, (route = { hosts: [], strategy: null }));
    if (route.hosts.some((h) => h.ip === row.ip && h.port === row.port)) continue;
    route.hosts.push({ ip: row.ip, port: row.port, weight: row.override ?? row.weight, load: row.load_score, source: 'registered' });
    touched.add(route);
  }
  for (const route of touched) route.hosts.sort((a, b) => a.ip - b.ip || a.port - b.port);
}

/** Sets each route's strategy; a module without hosts has no route, and its strategy waits for them. */
function withStrategies(routes: Map<RouteKey, LoadedRoute>, modules: readonly { modid: number; cmdid: number; strategy: string | null }[]): void {
  for (const { modid, cmdid, strategy } of modules) {
    const route = routes.get(routeKey(modid, cmdid));
    if (route) route.strategy = strategy;
  }
}
