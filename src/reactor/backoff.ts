/**
 * Exponential backoff with full jitter: the n-th delay is uniform in
 * [0, min(maxMs, initialMs * multiplier^n)). Full jitter spreads the retries of
 * many clients that lost the same server at the same moment, so a restarted
 * dns or reporter is not hit by all agents in the same millisecond.
 */

export interface BackoffOptions {
  /** Ceiling of the first delay. */
  initialMs: number;
  /** Ceiling of every delay. */
  maxMs: number;
  /** Growth of the ceiling per attempt; 2 unless told. */
  multiplier?: number;
  /** Uniform [0, 1) source; injectable so tests are deterministic. */
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly multiplier: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions) {
    if (!(options.initialMs > 0)) throw new RangeError(`backoff initialMs must be > 0, got ${options.initialMs}`);
    if (!(options.maxMs >= options.initialMs)) {
      throw new RangeError(`backoff maxMs must be >= initialMs, got ${options.maxMs} < ${options.initialMs}`);
    }
    this.initialMs = options.initialMs;
    this.maxMs = options.maxMs;
    this.multiplier = options.multiplier ?? 2;
    this.random = options.random ?? Math.random;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The current ceiling, before jitter. */
  ceiling(): number {
    return Math.min(this.maxMs, this.initialMs * this.multiplier ** this.attempt);
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceiling());
    this.attempt += 1;
    return delay;
  }

  /** After a success: the next delay is small again. */
  reset(): void {
    this.attempt = 0;
  }
}
