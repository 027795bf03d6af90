/**
 * At most one load push per route per interval (docs/registry.md): a load
 * change offered too soon after the route's last push waits, and is pushed
 * (with whatever the route's answer is by then) when its interval is over.
 * Membership changes are pushed at once and only recorded here. Pure: the
 * clock is passed in.
 */
import type { RouteKey } from '../protocol/route-key.js';

export class PushThrottle {
  private readonly lastPush = new Map<RouteKey, number>();
  private readonly waiting = new Set<RouteKey>();

  constructor(private readonly intervalMs: number) {}

  /** Whether a load change of the route may be pushed now; if not, it waits (due()). */
  offer(key: RouteKey, now: number): boolean {
    const last = this.lastPush.get(key);
    if (last === undefined || now - last >= this.intervalMs) {
      this.pushed(key, now);
      return true;
    }
    this.waiting.add(key);
    return false;
  }

  /** The route was pushed now (for any reason): a waiting load change is included. */
  pushed(key: RouteKey, now: number): void {
    this.lastPush.set(key, now);
    this.waiting.delete(key);
  }

  /** The waiting routes whose interval is over, marked pushed; old entries are forgotten. */
  due(now: number): RouteKey[] {
    const due: RouteKey[] = [];
    for (const key of this.waiting) if (now - this.lastPush.get(key)! >= this.intervalMs) due.push(key);
    for (const key of due) this.pushed(key, now);
    for (const [key, at] of this.lastPush) if (now - at >= this.intervalMs && !this.waiting.has(key)) this.lastPush.delete(key);
    return due;
  }

  /** When the next waiting route is due; undefined when none waits. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const key of this.waiting) {
      const at = this.lastPush.get(key)! + this.intervalMs;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }
}
