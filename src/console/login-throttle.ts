/**
 * Limits failed logins with token buckets: each key may fail `capacity`
 * times at once, and earns one more attempt every window/capacity. Only
 * failures spend, so a user who types the password right is never slowed by
 * their own earlier success. Pure: the clock is injected, nothing is stored
 * outside this object.
 *
 * Three limits, each on its own keys:
 * - per user name from one address (tight): guessing one user's password;
 * - per address, any user name: one client trying many names;
 * - per user name from all addresses together (loose): guessing spread over
 *   many addresses. It is loose on purpose: whoever can reach the console
 *   could otherwise lock a user out by failing their logins on purpose; now
 *   that takes many addresses and many failures, while the user's own
 *   address keeps its allowance.
 */

interface Bucket {
  tokens: number;
  /** Milliseconds at which `tokens` was computed. */
  at: number;
}

/** Buckets kept per limiter; beyond it, full (idle) buckets are dropped, then the oldest. */
const MAX_KEYS = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly refillPerMs: number;

  constructor(
    readonly capacity: number,
    windowMs: number,
    private readonly clock: () => number,
  ) {
    this.refillPerMs = capacity / windowMs;
  }

  private current(key: string): Bucket {
    const now = this.clock();
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: this.capacity, at: now };
    return { tokens: Math.min(this.capacity, bucket.tokens + (now - bucket.at) * this.refillPerMs), at: now };
  }

  /** Milliseconds until the key may try again; 0 when it may now. */
  waitMs(key: string): number {
    const { tokens } = this.current(key);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.refillPerMs);
  }

  spend(key: string): void {
    const bucket = this.current(key);
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: Math.max(0, bucket.tokens - 1), at: bucket.at });
    if (this.buckets.size > MAX_KEYS) this.evict();
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(): void {
    for (const key of [...this.buckets.keys()]) {
      if (this.current(key).tokens >= this.capacity) this.buckets.delete(key);
    }
    // Map order is insertion order, and spend() re-inserts: the first keys are the least recently used.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= MAX_KEYS) break;
      this.buckets.delete(key);
    }
  }
}

export interface LoginThrottleOptions {
  /** Failures per user name from one address. */
  perUserAddress: number;
  /** Failures per address, any user name. */
  perAddress: number;
  /** Failures per user name, all addresses together. */
  perUser: number;
  windowMs: number;
  clock?: () => number;
}

export class LoginThrottle {
  private readonly userAddresses: TokenBuckets;
  private readonly addresses: TokenBuckets;
  private readonly users: TokenBuckets;

  constructor(options: LoginThrottleOptions) {
    const clock = options.clock ?? Date.now;
    this.userAddresses = new TokenBuckets(options.perUserAddress, options.windowMs, clock);
    this.addresses = new TokenBuckets(options.perAddress, options.windowMs, clock);
    this.users = new TokenBuckets(options.perUser, options.windowMs, clock);
  }

  /** Milliseconds before this user from this address may try again; 0 when allowed now. */
  retryAfterMs(user: string, address: string): number {
    const name = user.toLowerCase();
    return Math.max(this.userAddresses.waitMs(`${name}\n${address}`), this.addresses.waitMs(address), this.users.waitMs(name));
  }

  recordFailure(user: string, address: string): void {
    const name = user.toLowerCase();
    this.userAddresses.spend(`${name}\n${address}`);
    this.addresses.spend(address);
    this.users.spend(name);
  }
}
