/**
 * A rate per peer address: a token bucket each, refilled at `perSecond` up to
 * twice that (registrations per dns peer, docs/registry.md; results per
 * reporter peer, docs/reporter.md). Pure: the clock is passed in. Buckets
 * that are full again are forgotten, so the map holds only recent peers.
 */
interface Bucket {
  tokens: number;
  at: number;
}

export class PeerQuota {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private lastSweep = 0;

  constructor(private readonly perSecond: number) {
    this.burst = perSecond * 2;
  }

  /** Takes `amount` from the peer's bucket; false (taking nothing) when it holds less. */
  take(peer: string, now: number, amount = 1): boolean {
    this.sweep(now);
    const bucket = this.buckets.get(peer) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(peer, bucket);
    if (bucket.tokens < amount) return false;
    bucket.tokens -= amount;
    return true;
  }

  get peers(): number {
    return this.buckets.size;
  }

  /** Once per refill time, drops the buckets that would be full by now. */
  private sweep(now: number): void {
    const refillMs = (this.burst / this.perSecond) * 1000;
    if (now - this.lastSweep < refillMs) return;
    this.lastSweep = now;
    for (const [peer, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(peer);
    }
  }
}
