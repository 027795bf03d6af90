/**
 * The adaptive strategy's per-host estimates (docs/balancer.md, "Fifth
 * strategy"). Both forget with time: read at `now`, a value decays toward 0
 * by e^(−idle/τ), where idle is the time since the last observation, so a
 * host that has had no calls for a while looks cheaper and healthier and is
 * tried again: a slow or failing host that got better is found without an
 * operator. Pure: time comes in as `now` (ms).
 */

/**
 * Peak EWMA of a host's call latency, as Finagle and Linkerd estimate it: a
 * sample above the estimate replaces it at once (a slowdown counts from its
 * first call), one below pulls it down with weight 1 − e^(−Δt/τ).
 */
export class PeakEwma {
  private estimate = NaN;
  private at = 0;

  constructor(private readonly tauMs: number) {}

  /** The estimate at `now`; NaN until the first observation or seed. */
  value(now: number): number {
    return this.estimate * decay(now - this.at, this.tauMs);
  }

  observe(sample: number, now: number): void {
    const current = this.value(now);
    if (!(sample <= current)) {
      this.estimate = sample;
    } else {
      const keep = decay(now - this.at, this.tauMs);
      this.estimate = current * keep + sample * (1 - keep);
    }
    this.at = now;
  }

  /** The estimate as of the last observation, for views (NaN until then). */
  latest(): number {
    return this.estimate;
  }

  /** A starting estimate for a host without observations (the route's typical latency). */
  seed(value: number, now: number): void {
    if (Number.isNaN(this.estimate)) {
      this.estimate = value;
      this.at = now;
    }
  }
}

/** Weight of the newest call in the failure rate: it reflects about the last 10 calls. */
const FAILURE_ALPHA = 0.1;

/** The share of a host's recent calls that failed: a per-call EWMA that also decays with time. */
export class FailureRate {
  private rate = 0;
  private at = 0;

  constructor(private readonly tauMs: number) {}

  value(now: number): number {
    return this.rate * decay(now - this.at, this.tauMs);
  }

  /** The rate as of the last call, for views. */
  latest(): number {
    return this.rate;
  }

  /** Forgets the history: a host that proved itself again starts clean. */
  reset(now: number): void {
    this.rate = 0;
    this.at = now;
  }

  observe(ok: boolean, now: number): void {
    this.rate = this.value(now) * (1 - FAILURE_ALPHA) + (ok ? 0 : FAILURE_ALPHA);
    this.at = now;
  }
}

function decay(elapsedMs: number, tauMs: number): number {
  return elapsedMs <= 0 ? 1 : Math.exp(-elapsedMs / tauMs);
}
