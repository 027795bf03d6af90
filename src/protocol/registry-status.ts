/** RegistryReply.status values (docs/registry.md): why a registration, renewal or deregistration was refused. */
export const RegistryStatus = {
  OK: 0,
  /** The request is not well formed (a field out of range, metadata too large). */
  BAD_REQUEST: 1,
  /** No module (modid, cmdid) exists: register only into a configured module. */
  NO_MODULE: 2,
  /** The ip or port cannot be an instance's (0.0.0.0, a broadcast or multicast ip, port 0). */
  BAD_ADDRESS: 3,
  /** ttl_ms is outside the range the dns allows. */
  BAD_TTL: 4,
  /** Renew or deregister of a lease this dns does not hold (expired, replaced, or granted by another dns): register again. */
  UNKNOWN_LEASE: 5,
  /** This peer sent more registrations than the dns accepts per second, or holds its maximum of instances. */
  LIMITED: 6,
  /** The store could not be written; nothing changed: try again. */
  UNAVAILABLE: 7,
} as const;

export type RegistryStatus = (typeof RegistryStatus)[keyof typeof RegistryStatus];

const names = new Map<number, string>(Object.entries(RegistryStatus).map(([k, v]) => [v, k]));

export function registryStatusName(status: number): string {
  return names.get(status) ?? `UNKNOWN(${status})`;
}
