/** Shared fixtures for the balancer tests: params, host addresses and a manual clock. */
import { ipToInt32 } from '../../src/protocol/ip.js';
import { retCodeName } from '../../src/protocol/retcode.js';
import { validateLoadBalanceParams, type LoadBalanceParams } from '../../src/balancer/params.js';
import type { HostAddr, HostInput, PickResult } from '../../src/balancer/types.js';

export function params(overrides: Partial<LoadBalanceParams> = {}): LoadBalanceParams {
  return validateLoadBalanceParams(overrides);
}

/** Host n: 10.0.0.n:(9000+n); n >= 200 lands above 128.0.0.0 so its int32 ip is negative. */
/** The duration fields of HostStats when no report carried a duration. */
export const UNTIMED = Object.freeze({ timed: 0, durationUs: 0, maxDurationUs: 0 });

export function host(n: number): HostAddr {
  const dotted = n < 200 ? `10.0.0.${n}` : `200.1.0.${n - 200}`;
  return { ip: ipToInt32(dotted), port: 9000 + n };
}

export function hosts(...ns: number[]): HostInput[] {
  return ns.map(host);
}

/** "ip:port" of a pick, or the retcode name, for readable assertions. */
export function label(result: PickResult): string {
  return result.host === undefined ? retCodeName(result.retcode) : nameOf(result.host);
}

export function nameOf(addr: HostAddr): string {
  return `h${addr.port - 9000}`;
}

/** A manual clock in ms; tests move it explicitly. */
export class FakeClock {
  constructor(public now = 1_000_000) {}
  advance(ms: number): number {
    this.now += ms;
    return this.now;
  }
}
