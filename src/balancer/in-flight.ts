/**
 * Calls handed out to one host and not yet reported, as far as an agent can
 * tell: a Lars client reports every call it made (success or failure), so
 * each report ends the oldest call still counted. A client that never
 * reports must not pin a host as busy for ever, so a call stops counting
 * after `timeoutMs` whatever happens.
 *
 * Calls are counted in a ring of time buckets rather than one timestamp each:
 * memory stays fixed however fast hosts are handed out. A call expires when
 * its bucket is recycled, between timeoutMs * (BUCKETS - 1) / BUCKETS and
 * timeoutMs after it started. Pure: time comes in as `now` (ms).
 */
const BUCKETS = 8;

export class InFlightCounter {
  private readonly started = new Uint32Array(BUCKETS);
  private readonly bucketMs: number;
  /** The bucket new calls go into, and the time it began (set by the first call). */
  private current = 0;
  private currentSince = NaN;
  private total = 0;

  constructor(timeoutMs: number) {
    this.bucketMs = timeoutMs / BUCKETS;
  }

  /** Calls counted as in flight at `now`. */
  count(now: number): number {
    this.advance(now);
    return this.total;
  }

  /** Calls counted as in flight as of the last count, begin or end: for views, which have no clock. */
  get latest(): number {
    return this.total;
  }

  /** A call to this host begins. */
  begin(now: number): void {
    this.advance(now);
    this.started[this.current]!++;
    this.total++;
  }

  /** A call to this host was reported: the oldest one still counted ends. */
  end(now: number): void {
    this.advance(now);
    if (this.total === 0) return;
    for (let i = 1; i <= BUCKETS; i++) {
      const bucket = (this.current + i) % BUCKETS;
      if (this.started[bucket]! > 0) {
        this.started[bucket]!--;
        this.total--;
        return;
      }
    }
  }

  /** Recycles the buckets whose calls are now too old. */
  private advance(now: number): void {
    if (Number.isNaN(this.currentSince)) this.currentSince = now;
    const steps = Math.floor((now - this.currentSince) / this.bucketMs);
    if (steps <= 0) return;
    if (steps >= BUCKETS) {
      this.started.fill(0);
      this.total = 0;
    } else {
      for (let i = 0; i < steps; i++) {
        this.current = (this.current + 1) % BUCKETS;
        this.total -= this.started[this.current]!;
        this.started[this.current] = 0;
      }
    }
    this.currentSince += steps * this.bucketMs;
  }
}
