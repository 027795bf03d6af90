/**
 * Checks on route-administration input, done before the store is touched.
 * Each failure is a ValidationError naming the field.
 */
import { isStrategyName, STRATEGY_NAMES, type StrategyName } from '../balancer/types.js';
import { isIPv4, ipToUint32 } from '../protocol/ip.js';
import { ValidationError } from './errors.js';

/** Weight of a host added without one. */
export const DEFAULT_WEIGHT = 1;

export const LIMITS = {
  /** modid and cmdid are int32 on the wire. */
  idMin: -2147483648,
  idMax: 2147483647,
  portMin: 1,
  portMax: 65535,
  /**
   * Weight 1 is the default and 0 drains the host (docs/balancer.md); 1000
   * leaves room for fine ratios without letting one host swamp the rest by accident.
   */
  weightMin: 0,
  weightMax: 1000,
  /** Characters (code points), which is how MySQL counts VARCHAR(255). */
  descriptionMax: 255,
  actorMax: 64,
} as const;

/** An integer in [min, max], or a ValidationError naming the field. */
export function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ValidationError(field, `must be an integer, got ${JSON.stringify(value)}`);
  }
  if (value < min || value > max) throw new ValidationError(field, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export interface ModuleKey {
  modid: number;
  cmdid: number;
}

export interface HostKey extends ModuleKey {
  /** Unsigned 32-bit value. */
  ip: number;
  port: number;
}

/** Hosts at one address (and port, when given) across every module: "find a host everywhere". */
export interface AddressFilter {
  /** Unsigned 32-bit value. */
  ip: number;
  port?: number;
}

/** A dotted IPv4 address and an optional port, checked like a host's. */
export function checkAddress(input: { ip: unknown; port?: unknown }): AddressFilter {
  if (typeof input.ip !== 'string' || !isIPv4(input.ip)) {
    throw new ValidationError('ip', `must be a dotted IPv4 address, got ${JSON.stringify(input.ip)}`);
  }
  const ip = ipToUint32(input.ip);
  return input.port === undefined ? { ip } : { ip, port: checkInteger('port', input.port, LIMITS.portMin, LIMITS.portMax) };
}

export function checkModuleKey(input: { modid: unknown; cmdid: unknown }): ModuleKey {
  return {
    modid: checkInteger('modid', input.modid, LIMITS.idMin, LIMITS.idMax),
    cmdid: checkInteger('cmdid', input.cmdid, LIMITS.idMin, LIMITS.idMax),
  };
}

export function checkHostKey(input: { modid: unknown; cmdid: unknown; ip: unknown; port: unknown }): HostKey {
  const key = checkModuleKey(input);
  const { ip } = checkAddress({ ip: input.ip });
  return { ...key, ip, port: checkInteger('port', input.port, LIMITS.portMin, LIMITS.portMax) };
}

export function checkWeight(value: unknown): number {
  return checkInteger('weight', value, LIMITS.weightMin, LIMITS.weightMax);
}

export function checkDescription(value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError('description', 'must be text');
  // PostgreSQL text cannot hold NUL; refuse it everywhere so all engines agree.
  if (value.includes('\u0000')) throw new ValidationError('description', 'must not contain NUL characters');
  const length = [...value].length;
  if (length > LIMITS.descriptionMax) {
    throw new ValidationError('description', `must be at most ${LIMITS.descriptionMax} characters, got ${length}`);
  }
  return value;
}

/** The word that clears a module's strategy: each agent then runs its own [loadbalance] strategy. */
export const DEFAULT_STRATEGY = 'default';

/** A module's strategy: a STRATEGY_NAMES name, or null for null and "default" (docs/balancer.md, "Per-route strategy"). */
export function checkStrategy(value: unknown): StrategyName | null {
  if (value === null || value === DEFAULT_STRATEGY) return null;
  if (isStrategyName(value)) return value;
  throw new ValidationError('strategy', `must be one of ${[...STRATEGY_NAMES, DEFAULT_STRATEGY].join(', ')}, got ${JSON.stringify(value)}`);
}

export function checkActor(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || [...value].length > LIMITS.actorMax) {
    throw new ValidationError('actor', `must be 1 to ${LIMITS.actorMax} characters`);
  }
  return value;
}
