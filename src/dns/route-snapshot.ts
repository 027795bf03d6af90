/**
 * An immutable view of every route, swapped whole when routes change, so a
 * request never sees half an update. Each route's GetRouteResponse frame is
 * encoded once and shared by every answer and push until the route changes.
 */
import { encodeFrame } from '../protocol/frame.js';
import { encodeBody } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import { routeIdOf, routeKey, type RouteKey } from '../protocol/route-key.js';
import type { InstanceLoadRow, LoadedRoute, RouteHost } from '../store/index.js';

export class RouteEntry {
  private frame: Buffer | undefined;

  constructor(
    readonly modid: number,
    readonly cmdid: number,
    readonly hosts: readonly RouteHost[],
    /** The module's strategy; null: each agent's own (docs/balancer.md, "Per-route strategy"). */
    readonly strategy: string | null,
  ) {}

  /** The GetRouteResponse (id 2) frame for this route, encoded on first use. */
  responseFrame(): Buffer {
    this.frame ??= routeResponseFrame(this.modid, this.cmdid, this.hosts, this.strategy);
    return this.frame;
  }

  /** Whether an agent would get the same answer: the same hosts in order (weights and loads too), and the same strategy. */
  sameAnswer(other: RouteEntry | undefined): boolean {
    if (!other || other.strategy !== this.strategy || other.hosts.length !== this.hosts.length) return false;
    return this.hosts.every((h, i) => {
      const o = other.hosts[i]!;
      return h.ip === o.ip && h.port === o.port && h.weight === o.weight && h.load === o.load;
    });
  }
}

/**
 * The codec leaves weight 1, a null load and a null strategy out, so a route
 * without weights or registered instances whose module names no strategy is
 * the very bytes Lars sends
 * (docs/protocol.md). An empty answer never names a strategy: an agent drops
 * a route without hosts, whatever it would run.
 */
export function routeResponseFrame(modid: number, cmdid: number, hosts: readonly RouteHost[], strategy: string | null = null): Buffer {
  const host = hosts.map((h) => ({ ip: h.ip | 0, port: h.port, weight: h.weight, load: h.load }));
  return encodeFrame(MsgId.GetRouteResponse, encodeBody(MsgId.GetRouteResponse, { modid, cmdid, host, strategy }));
}

function entryFor(key: RouteKey, route: LoadedRoute): RouteEntry {
  const { modid, cmdid } = routeIdOf(key);
  return new RouteEntry(modid, cmdid, route.hosts, route.strategy);
}

export class RouteSnapshot {
  constructor(
    /** The store's route version this snapshot includes. */
    readonly version: number,
    private readonly routes: ReadonlyMap<RouteKey, RouteEntry>,
  ) {}

  static empty(): RouteSnapshot {
    return new RouteSnapshot(-1, new Map());
  }

  /** Builds a snapshot from the reader's routes. */
  static fromRoutes(version: number, loaded: ReadonlyMap<RouteKey, LoadedRoute>): RouteSnapshot {
    const routes = new Map<RouteKey, RouteEntry>();
    for (const [key, route] of loaded) routes.set(key, entryFor(key, route));
    return new RouteSnapshot(version, routes);
  }

  get size(): number {
    return this.routes.size;
  }

  get(key: RouteKey): RouteEntry | undefined {
    return this.routes.get(key);
  }

  /** The answer for a route, an empty host list when it has none. */
  responseFrame(modid: number, cmdid: number): Buffer {
    return this.routes.get(routeKey(modid, cmdid))?.responseFrame() ?? routeResponseFrame(modid, cmdid, []);
  }

  /** A new snapshot with the given routes replaced (undefined or an empty host list removes one). */
  withRoutes(version: number, replaced: ReadonlyMap<RouteKey, LoadedRoute | undefined>): RouteSnapshot {
    const routes = new Map(this.routes);
    for (const [key, route] of replaced) {
      if (route === undefined || route.hosts.length === 0) routes.delete(key);
      else routes.set(key, entryFor(key, route));
    }
    return new RouteSnapshot(version, routes);
  }

  /**
   * A new snapshot with the registered instances' scores replaced (same
   * version: loads are not route changes), and the routes whose answer
   * moved. A row for a host the snapshot does not serve as registered (gone
   * meanwhile, or shadowed by a configured host) is skipped.
   */
  withLoads(loads: readonly InstanceLoadRow[]): { snapshot: RouteSnapshot; changed: RouteKey[] } {
    const updated = new Map<RouteKey, RouteHost[]>();
    for (const row of loads) {
      const key = routeKey(row.modid, row.cmdid);
      const hosts = updated.get(key) ?? this.routes.get(key)?.hosts;
      const at = hosts?.findIndex((h) => h.ip === row.ip && h.port === row.port && h.source === 'registered') ?? -1;
      if (!hosts || at < 0 || hosts[at]!.load === row.score) continue;
      const copy = updated.get(key) ?? [...hosts];
      copy[at] = { ...copy[at]!, load: row.score };
      updated.set(key, copy);
    }
    if (updated.size === 0) return { snapshot: this, changed: [] };
    const routes = new Map(this.routes);
    for (const [key, hosts] of updated) {
      const entry = routes.get(key)!;
      routes.set(key, new RouteEntry(entry.modid, entry.cmdid, hosts, entry.strategy));
    }
    return { snapshot: new RouteSnapshot(this.version, routes), changed: [...updated.keys()] };
  }

  /** Keys whose answer differs between this snapshot and next. */
  changedKeys(next: RouteSnapshot): RouteKey[] {
    return this.changedAmong(next, new Set([...next.routes.keys(), ...this.routes.keys()]));
  }

  /**
   * Those of keys whose answer (hosts or strategy) differs in next. A change
   * row can name a route whose answer did not change (a module added or
   * described): no push for it.
   */
  changedAmong(next: RouteSnapshot, keys: Iterable<RouteKey>): RouteKey[] {
    const changed: RouteKey[] = [];
    for (const key of keys) {
      const mine = this.routes.get(key);
      const theirs = next.routes.get(key);
      if (mine === theirs || (mine && theirs?.sameAnswer(mine))) continue;
      changed.push(key);
    }
    return changed;
  }
}
