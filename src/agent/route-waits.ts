/**
 * The agent's route wait (docs/agent.md, "Routes"): a request that started
 * the pull of a new route (RouteTable answered QUEUE) is held until dns
 * answers, at most route_wait_ms, instead of getting NOEXIST at once as in
 * Lars; requests for that route arriving meanwhile join it. Nothing is held
 * while dns is known to be down, nor beyond the bounds: those requests are
 * answered at once. No sockets and no clock here: held requests go back to
 * `release`, and time passes through the injected timers.
 */
import { routeKey, type RouteId, type RouteKey } from '../protocol/route-key.js';

/** setTimeout and clearTimeout, injected so tests can run the wait on a fake clock. */
export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Bounds on held requests, as docs/agent.md states them. */
export const MAX_WAITERS_PER_ROUTE = 1024;
export const MAX_WAITING_ROUTES = 1024;

export interface RouteWaitsOptions<W> {
  /** route_wait_ms; 0 holds nothing. */
  waitMs: number;
  /**
   * Answers a route's held requests from what the port has now. `expired`:
   * no dns answer came (the wait ran out, dns went down, or the port stops).
   */
  release(route: RouteId, waiters: readonly W[], expired: boolean): void;
  timers?: Timers;
}

interface Group<W> extends RouteId {
  readonly waiters: W[];
  readonly timer: unknown;
}

export class RouteWaits<W> {
  private readonly waitMs: number;
  private readonly timers: Timers;
  private readonly onRelease: RouteWaitsOptions<W>['release'];
  private readonly groups = new Map<RouteKey, Group<W>>();
  /** Until told otherwise dns is taken to be reachable, so the first requests after start may wait for it. */
  private dnsUp = true;

  constructor(options: RouteWaitsOptions<W>) {
    this.waitMs = options.waitMs;
    this.timers = options.timers ?? REAL_TIMERS;
    this.onRelease = options.release;
  }

  /** Requests held now, over all routes. */
  get held(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group.waiters.length;
    return count;
  }

  /**
   * Holds a request for (modid, cmdid) whose pick was QUEUE (`queued`), or
   * that finds requests for the route already held. False: answer it now.
   */
  hold(modid: number, cmdid: number, queued: boolean, waiter: W): boolean {
    if (this.waitMs === 0 || !this.dnsUp) return false;
    const key = routeKey(modid, cmdid);
    let group = this.groups.get(key);
    if (group === undefined) {
      if (!queued || this.groups.size >= MAX_WAITING_ROUTES) return false;
      group = { modid, cmdid, waiters: [], timer: this.timers.set(() => this.release(key, true), this.waitMs) };
      this.groups.set(key, group);
    } else if (group.waiters.length >= MAX_WAITERS_PER_ROUTE) {
      return false;
    }
    group.waiters.push(waiter);
    return true;
  }

  /** dns answered the route: its held requests are released. */
  answered(modid: number, cmdid: number): void {
    this.release(routeKey(modid, cmdid), false);
  }

  /** Going down releases everything held: no answer can come now. */
  setDnsUp(up: boolean): void {
    this.dnsUp = up;
    if (!up) this.releaseAll();
  }

  /** Releases every held request as expired (dns down, the port stops). */
  releaseAll(): void {
    for (const key of [...this.groups.keys()]) this.release(key, true);
  }

  private release(key: RouteKey, expired: boolean): void {
    const group = this.groups.get(key);
    if (group === undefined) return;
    this.groups.delete(key);
    this.timers.clear(group.timer);
    this.onRelease(group, group.waiters, expired);
  }
}
