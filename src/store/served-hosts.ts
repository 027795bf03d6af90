/**
 * A route's hosts as dns serves them, for people: the configured hosts and
 * the live registered instances together, a configured host winning over an
 * instance at the same ip:port (docs/registry.md, "Static and registered
 * hosts together"). Pure: the rows come from one consistent read.
 */
import { ipToUint32 } from '../protocol/ip.js';
import type { InstanceInfo, StoredLoad } from './registry.js';
import type { RouteHostInfo } from './route-admin.js';

export interface ServedHostInfo extends RouteHostInfo {
  source: 'static' | 'registered';
  /** Unix seconds of a registered instance's last heartbeat (refreshed coarsely); null for a configured host. */
  lastHeartbeat: number | null;
  /** A registered instance's last reported load; null for a configured host or before its first report. */
  load: StoredLoad | null;
}

const hostId = (h: { modid: number; cmdid: number; ip: string; port: number }) => `${h.modid}:${h.cmdid}:${h.ip}:${h.port}`;

function byKey(a: ServedHostInfo, b: ServedHostInfo): number {
  return a.modid - b.modid || a.cmdid - b.cmdid || ipToUint32(a.ip) - ipToUint32(b.ip) || a.port - b.port;
}

/** A registered instance for people (`lars instances`, the console). */
export interface InstanceView extends InstanceInfo {
  source: 'registered';
  /** The weight served is 0: agents send it no new calls. */
  drained: boolean;
  /** A configured host at the same ip:port serves instead: dns leaves the instance out. */
  shadowed: boolean;
}

/** The instances as they came (key order), each marked drained and shadowed. */
export function instanceViews(configured: readonly RouteHostInfo[], instances: readonly InstanceInfo[]): InstanceView[] {
  const taken = new Set(configured.map(hostId));
  return instances.map((i) => ({ ...i, source: 'registered', drained: i.weight === 0, shadowed: taken.has(hostId(i)) }));
}

/** Ordered by modid, cmdid, ip (numerically), port; an instance shadowed by a configured host is left out, as dns leaves it out. */
export function servedHosts(configured: readonly RouteHostInfo[], instances: readonly InstanceInfo[]): ServedHostInfo[] {
  const registered = instanceViews(configured, instances)
    .filter((i) => !i.shadowed)
    .map((i): ServedHostInfo => ({
      modid: i.modid,
      cmdid: i.cmdid,
      ip: i.ip,
      port: i.port,
      weight: i.weight,
      drained: i.drained,
      createdAt: i.registeredAt,
      updatedAt: i.registeredAt,
      source: i.source,
      lastHeartbeat: i.lastHeartbeat,
      load: i.load,
    }));
  return [...configured.map((h): ServedHostInfo => ({ ...h, source: 'static', lastHeartbeat: null, load: null })), ...registered].sort(byKey);
}
