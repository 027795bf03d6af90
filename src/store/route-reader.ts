/**
 * What the dns service reads: the route version, every route at once, and
 * the change log since a version. Read-only; never deletes change rows, since
 * other dns instances sharing the store still need them.
 */
import { routeKey, type RouteKey } from '../protocol/route-key.js';
import type { Kysely } from 'kysely';
import { changesSince, readVersion, type RouteChange } from './change-log.js';
import type { Database } from './schema.js';
import { kyselyOf, type Store } from './store.js';

export interface RouteHost {
  /** Unsigned 32-bit IPv4 value (the wire wants it as int32: `ip | 0`). */
  ip: number;
  port: number;
  weight: number;
}

/** Every route's hosts as read at once (the balancer's RouteTable is the agent's live table). */
export interface LoadedRoutes {
  /** The version read BEFORE the routes: the routes are at least this new. */
  version: number;
  /** Hosts per service, keyed by routeKey(modid, cmdid); a service without hosts has no entry. */
  routes: Map<RouteKey, RouteHost[]>;
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
   * Every host of every service, hosts ordered by ip then port. The version
   * is read first, so an edit landing in between makes the routes newer than
   * the version, never older: the next poll sees a higher version and reloads.
   */
  async loadRoutes(): Promise<LoadedRoutes> {
    const version = await this.readVersion();
    return { version, routes: groupByService(await this.selectHosts().execute()) };
  }

  /**
   * The hosts of the given services only (what an incremental reload needs);
   * a service without hosts has no entry.
   */
  async loadRoutesOf(services: readonly { modid: number; cmdid: number }[]): Promise<Map<RouteKey, RouteHost[]>> {
    const routes = new Map<RouteKey, RouteHost[]>();
    // Chunked to stay far below every engine's bound-parameter limit.
    for (let i = 0; i < services.length; i += 500) {
      const chunk = services.slice(i, i + 500);
      const rows = await this.selectHosts()
        .where((eb) => eb.or(chunk.map((s) => eb.and([eb('modid', '=', s.modid), eb('cmdid', '=', s.cmdid)]))))
        .execute();
      for (const [key, hosts] of groupByService(rows)) routes.set(key, hosts);
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
}

/** Rows arrive ordered by service: one map insert per service, not per row. */
function groupByService(rows: readonly ({ modid: number; cmdid: number } & RouteHost)[]): Map<RouteKey, RouteHost[]> {
  const routes = new Map<RouteKey, RouteHost[]>();
  let key: RouteKey | undefined;
  let hosts: RouteHost[] = [];
  for (const row of rows) {
    const rowKey = routeKey(row.modid, row.cmdid);
    if (rowKey !== key) {
      key = rowKey;
      hosts = [];
      routes.set(key, hosts);
    }
    hosts.push({ ip: row.ip, port: row.port, weight: row.weight });
  }
  return routes;
}
