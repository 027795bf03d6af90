/**
 * A route's identity: the service (modid, cmdid), both int32 on the wire.
 * Maps keyed by route use RouteKey, the one string form ("modid:cmdid"),
 * built and read back only here (docs/architecture.md, "route keys").
 */
export interface RouteId {
  readonly modid: number;
  readonly cmdid: number;
}

declare const routeKeyBrand: unique symbol;
/** "modid:cmdid"; a branded string, so any other string is a type error where a key is expected. */
export type RouteKey = string & { readonly [routeKeyBrand]: true };

export function routeKey(modid: number, cmdid: number): RouteKey {
  return `${modid}:${cmdid}` as RouteKey;
}

export function routeKeyOf(route: RouteId): RouteKey {
  return routeKey(route.modid, route.cmdid);
}

/** The (modid, cmdid) a key names. */
export function routeIdOf(key: RouteKey): RouteId {
  const colon = key.indexOf(':', 1);
  return { modid: Number(key.slice(0, colon)), cmdid: Number(key.slice(colon + 1)) };
}
