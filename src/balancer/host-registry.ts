/**
 * The host bookkeeping every strategy shares: the (ip, port) -> host map,
 * applying a new host set (keep, add, remove), per-host call counters for
 * the reporter, and views. Strategies add their own structure on top
 * (Lars's two lists, the hash ring).
 */
import { DEFAULT_HOST_WEIGHT } from '../protocol/messages.js';
import { RetCode } from '../protocol/retcode.js';
import type { HealthRules, HealthState } from './health.js';
import type { HealthEvent, HostAddr, HostChanges, HostInput, HostStats, HostView, PickResult, RejectedHost } from './types.js';

const MAX_PORT = 65535;

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= MAX_PORT;
}

/**
 * One number per (ip, port): the unsigned ip times 2^16 plus the port is
 * below 2^48, exact in a double, so Map lookups need no string building.
 * Only meaningful for a valid port (1..65535).
 */
export function hostKey(ip: number, port: number): number {
  return (ip >>> 0) * 65536 + port;
}

/**
 * What every strategy's host has: identity, weight, the shared SUCC answer and
 * the call counts for the reporter. How a call's outcome changes the host's
 * state is the strategy's (judge()): Lars's rules (TrackedHost) or the
 * adaptive strategy's outlier detection.
 */
export abstract class RegisteredHost {
  readonly addr: HostAddr;
  readonly key: number;
  weight: number;
  /** HostInput.load of the last host set applied: the host's own figure, which strategies may weigh (adaptive does). */
  reportedLoad: number | null = null;
  /** The SUCC answer naming this host, built once so picks allocate nothing. */
  readonly picked: PickResult;
  succSinceTake = 0;
  errSinceTake = 0;
  timedSinceTake = 0;
  durationUsSinceTake = 0;
  maxDurationUsSinceTake = 0;

  constructor(addr: HostAddr, weight: number) {
    this.addr = addr;
    this.key = hostKey(addr.ip, addr.port);
    this.weight = weight;
    this.picked = Object.freeze({ retcode: RetCode.SUCC, host: addr });
  }

  /** Weight 0: the host gets no new calls but stays in the route, its state kept (docs/balancer.md). */
  get drained(): boolean {
    return this.weight === 0;
  }

  /** Out of the ordinary picks: overloaded (Lars's rules) or ejected (adaptive). */
  abstract get unavailable(): boolean;

  /** Applies one call's outcome to the host's state; returns the rule that fired, or 'none'. */
  protected abstract judge(ok: boolean, now: number, latencyMs: number | undefined): HealthEvent;

  abstract view(): HostView;

  /** The part of view() every strategy's host has. */
  protected baseView(): Pick<HostView, 'ip' | 'port' | 'weight' | 'reportedLoad'> {
    return { ip: this.addr.ip, port: this.addr.port, weight: this.weight, reportedLoad: this.reportedLoad };
  }

  recordCall(ok: boolean, now: number, latencyMs: number | undefined): HealthEvent {
    if (ok) this.succSinceTake++;
    else this.errSinceTake++;
    if (latencyMs !== undefined) {
      const us = Math.round(latencyMs * 1000);
      this.timedSinceTake++;
      this.durationUsSinceTake += us;
      if (us > this.maxDurationUsSinceTake) this.maxDurationUsSinceTake = us;
    }
    return this.judge(ok, now, latencyMs);
  }

  /** Returns the counts since the last take (null when there were no calls) and zeroes them. */
  takeStats(): HostStats | null {
    if (this.succSinceTake === 0 && this.errSinceTake === 0) return null;
    const stats = {
      ip: this.addr.ip,
      port: this.addr.port,
      succ: this.succSinceTake,
      err: this.errSinceTake,
      overload: this.unavailable,
      timed: this.timedSinceTake,
      durationUs: this.durationUsSinceTake,
      maxDurationUs: this.maxDurationUsSinceTake,
    };
    this.succSinceTake = 0;
    this.errSinceTake = 0;
    this.timedSinceTake = 0;
    this.durationUsSinceTake = 0;
    this.maxDurationUsSinceTake = 0;
    return stats;
  }
}

/** A host judged by Lars's rules (HealthRules), as every strategy but adaptive judges it. */
export class TrackedHost extends RegisteredHost {
  readonly health: HealthState;

  constructor(
    addr: HostAddr,
    weight: number,
    private readonly rules: HealthRules,
    now: number,
  ) {
    super(addr, weight);
    this.health = rules.newState(now);
  }

  get unavailable(): boolean {
    return this.health.overloaded;
  }

  protected judge(ok: boolean, now: number): HealthEvent {
    return this.rules.record(this.health, ok, now);
  }

  view(): HostView {
    const h = this.health;
    return {
      ...this.baseView(),
      overloaded: h.overloaded,
      stateSince: h.since,
      vsucc: h.vsucc,
      verr: h.verr,
      rsucc: h.rsucc,
      rerr: h.rerr,
      continSucc: h.continSucc,
      continErr: h.continErr,
    };
  }
}

export interface AppliedHosts<H> {
  readonly changes: HostChanges;
  readonly added: readonly H[];
  readonly removed: readonly H[];
  /** Kept hosts whose weight changed. */
  readonly reweighted: readonly H[];
  /** Anything but the order of the input and the reported loads changed: a host came, went or was reweighted. */
  readonly changed: boolean;
}

function checkInput(input: HostInput): string | null {
  if (!Number.isInteger(input.ip) || input.ip < -0x80000000 || input.ip > 0xffffffff) return 'ip is not a 32-bit integer';
  if (!isPort(input.port)) return 'port is not an integer in 1..65535';
  const weight = input.weight ?? DEFAULT_HOST_WEIGHT;
  if (!Number.isFinite(weight) || weight < 0) return 'weight is not a finite number >= 0';
  const load = input.load ?? 0;
  if (!Number.isFinite(load) || load < 0) return 'load is not a finite number >= 0';
  return null;
}

export class HostRegistry<H extends RegisteredHost> {
  private readonly byKey = new Map<number, H>();
  /** Counts of removed hosts, handed out by the next takeStats() so no reported call is lost. */
  private retiredStats: HostStats[] = [];

  /**
   * @param create builds a strategy's host object, its state fresh as of `now`
   * @param onStateChange called after a report flipped a host's `unavailable`
   */
  constructor(
    private readonly create: (addr: HostAddr, weight: number, now: number) => H,
    private readonly onStateChange: (host: H) => void,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  get(addr: HostAddr): H | undefined {
    return isPort(addr.port) ? this.byKey.get(hostKey(addr.ip, addr.port)) : undefined;
  }

  /** Records one call's outcome for a host of the set; others are ignored. */
  report(addr: HostAddr, ok: boolean, now: number, latencyMs?: number): HealthEvent {
    const host = this.get(addr);
    if (host === undefined) return 'unknown_host';
    const wasUnavailable = host.unavailable;
    const event = host.recordCall(ok, now, latencyMs);
    if (host.unavailable !== wasUnavailable) this.onStateChange(host);
    return event;
  }

  values(): IterableIterator<H> {
    return this.byKey.values();
  }

  /**
   * Makes the host set equal to `inputs`. Invalid entries and repeats of an
   * (ip, port) already listed (the first one wins) are rejected and skipped.
   */
  apply(inputs: readonly HostInput[], now: number): AppliedHosts<H> {
    const listed = new Set<number>();
    const added: H[] = [];
    const removed: H[] = [];
    const rejected: RejectedHost[] = [];
    const reweighted: H[] = [];
    for (const input of inputs) {
      const problem = checkInput(input);
      if (problem !== null) {
        rejected.push({ host: input, reason: problem });
        continue;
      }
      const key = hostKey(input.ip, input.port);
      if (listed.has(key)) {
        rejected.push({ host: input, reason: 'duplicate ip:port' });
        continue;
      }
      listed.add(key);
      const weight = input.weight ?? DEFAULT_HOST_WEIGHT;
      const existing = this.byKey.get(key);
      const load = input.load ?? null;
      if (existing === undefined) {
        const host = this.create(Object.freeze({ ip: input.ip | 0, port: input.port }), weight, now);
        host.reportedLoad = load;
        this.byKey.set(key, host);
        added.push(host);
        continue;
      }
      // A new load is news about the same host: its state stays, and nothing is rebuilt for it.
      existing.reportedLoad = load;
      if (existing.weight !== weight) {
        existing.weight = weight;
        reweighted.push(existing);
      }
    }
    for (const [key, host] of this.byKey) {
      if (listed.has(key)) continue;
      this.byKey.delete(key);
      removed.push(host);
      this.retire(host);
    }
    const kept = listed.size - added.length;
    const changed = added.length > 0 || removed.length > 0 || reweighted.length > 0;
    return { changes: { added: added.length, removed: removed.length, kept, rejected }, added, removed, reweighted, changed };
  }

  takeStats(): HostStats[] {
    const stats = this.retiredStats;
    this.retiredStats = [];
    for (const host of this.byKey.values()) {
      const taken = host.takeStats();
      if (taken !== null) stats.push(taken);
    }
    return stats;
  }

  views(): HostView[] {
    return Array.from(this.byKey.values(), (host) => host.view());
  }

  private retire(host: H): void {
    const taken = host.takeStats();
    if (taken !== null) this.retiredStats.push(taken);
  }
}
