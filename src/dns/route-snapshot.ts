/**
 * An immutable view of every route, swapped whole when routes change, so a
 * request never sees half an update. Each route's GetRouteResponse frame is
 * encoded once and shared by every answer and push until the route changes.
 */
import { encodeFrame } from '../protocol/frame.js';
import { encodeBody } from '../protocol/messages.js';
import { MsgId } from '../protocol/msgid.js';
import { routeIdOf, routeKey, type RouteKey } from '../protocol/route-key.js';
import type { RouteHost } from '../store/index.js';

export class RouteEntry {
  private frame: Buffer | undefined;

  constructor(
    readonly modid: number,
    readonly cmdid: number,
    readonly hosts: readonly RouteHost[],
  ) {}

  /** The GetRouteResponse (id 2) frame for this route, encoded on first use. */
  responseFrame(): Buffer {
    this.frame ??= routeResponseFrame(this.modid, this.cmdid, this.hosts);
    return this.frame;
  }

  sameHosts(other: RouteEntry | undefined): boolean {
    if (!other || other.hosts.length !== this.hosts.length) return false;
    return this.hosts.every((h, i) => {
      const o = other.hosts[i]!;
      return h.ip === o.ip && h.port === o.port && h.weight === o.weight;
    });
  }
}

export function routeResponseFrame(modid: number, cmdid: number, hosts: readonly RouteHost[]): Buffer {
  // The codec leaves weight 1 out, so a route without weights is the very bytes Lars sends (docs/protocol.md).
  const host = hosts.map((h) => ({ ip: h.ip | 0, port: h.port, weight: h.weight }));
  return encodeFrame(MsgId.GetRouteResponse, encodeBody(MsgId.GetRouteResponse, { modid, cmdid, host }));
}

function entryFor(key: RouteKey, hosts: RouteHost[]): RouteEntry {
  const { modid, cmdid } = routeIdOf(key);
  return new RouteEntry(modid, cmdid, hosts);
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

  /** Builds a snapshot from the reader's map of hosts per route. */
  static fromHosts(version: number, hosts: ReadonlyMap<RouteKey, RouteHost[]>): RouteSnapshot {
    const routes = new Map<RouteKey, RouteEntry>();
    for (const [key, list] of hosts) routes.set(key, entryFor(key, list));
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

  /** A new snapshot with the given routes replaced (empty host lists remove them). */
  withRoutes(version: number, replaced: ReadonlyMap<RouteKey, RouteHost[]>): RouteSnapshot {
    const routes = new Map(this.routes);
    for (const [key, hosts] of replaced) {
      if (hosts.length === 0) routes.delete(key);
      else routes.set(key, entryFor(key, hosts));
    }
    return new RouteSnapshot(version, routes);
  }

  /** Keys whose hosts differ between this snapshot and next. */
  changedKeys(next: RouteSnapshot): RouteKey[] {
    return this.changedAmong(next, new Set([...next.routes.keys(), ...this.routes.keys()]));
  }

  /**
   * Those of keys whose hosts differ in next. A change row can name a route
   * whose hosts did not change (a module added or described): no push for it.
   */
  changedAmong(next: RouteSnapshot, keys: Iterable<RouteKey>): RouteKey[] {
    const changed: RouteKey[] = [];
    for (const key of keys) {
      const mine = this.routes.get(key);
      const theirs = next.routes.get(key);
      if (mine === theirs || (mine && theirs?.sameHosts(mine))) continue;
      changed.push(key);
    }
    return changed;
  }
}
