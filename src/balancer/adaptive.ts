/**
 * The adaptive strategy (docs/balancer.md, "Fifth strategy"): outlier
 * ejection with time-based probes, and power of two choices on latency,
 * load and failures.
 *
 * - Pick: score = peak-EWMA latency × (1 + calls in flight / weight) /
 *   (1 − failure rate)² × (1 + reported load / 1000), the load a registered
 *   instance reports through dns (at most 2000 counted; 1 without a
 *   report). With equal weights, two hosts drawn at random (in
 *   proportion to their slow-start warmth), the lower score wins (power of
 *   two choices): a slow, busy or failing host loses most draws without
 *   being shut out, and random draws keep many agents with their own views
 *   from all choosing the same "best" host. With unequal weights, as Envoy
 *   does, one draw in proportion to weight × warmth / score², so the shares
 *   follow the weights while the hosts are alike (two fixed candidates would
 *   always compare the same pair and ignore the weights).
 * - Eject: a host whose last calls failed in a row (eject_consecutive while
 *   the other hosts succeed; a longer run when they fail too, so a route-wide
 *   brownout ejects nothing) is taken out, at most max_ejected_percent of the
 *   hosts and never all.
 * - Probe by time: an ejected host gets one call at a time, the first after
 *   probe_interval/8, then backing off to probe_interval, and no more than
 *   one call in 1/probe_share of the route's (at least one per
 *   probe_interval_max): a dead host costs a bounded number of calls
 *   whatever the traffic.
 * - Re-admit: after a first ejection, one good probe; after the k-th
 *   (k ≥ 2), probes must pass for eject_base × 2^(k−2) without a failure
 *   (at most eject_max), so a flapping host is held out longer each time.
 *   Each eject_max a host serves without an ejection forgets one.
 * - Slow start: a re-admitted host, or one added to a live route, ramps
 *   from a tenth of its weight to all of it over slow_start.
 *
 * Pure: `now` and `random` are injected. O(hosts) per pick, no allocation.
 */
import { FailureRate, PeakEwma } from './estimates.js';
import { HostRegistry, RegisteredHost } from './host-registry.js';
import { InFlightCounter } from './in-flight.js';
import type { LoadBalanceParams } from './params.js';
import { RegistryBalancer } from './registry-balancer.js';
import { NOEXIST_RESULT, OVERLOAD_RESULT } from './results.js';
import type { HealthEvent, HostAddr, HostChanges, HostInput, HostView, PickResult, RouteBalancer } from './types.js';

/** A run of failures this unlikely, given the other hosts' failure rate, marks a host as an outlier. */
const OUTLIER_RUN_PROBABILITY = 1e-6;
/** A warming host starts at this fraction of its weight. */
const SLOW_START_FLOOR = 0.1;
/** Probe times are spread ±20 %, so agents that ejected a host together do not probe it together. */
const PROBE_JITTER = 0.2;
/** Failed probes double the interval from probe_interval / 2^3 up to probe_interval. */
const PROBE_BACKOFF_STEPS = 3;
/** The failure rate used in scores never reaches 1, so every score stays finite. */
const MAX_SCORED_FAILURE_RATE = 0.999;
/** A reported load of this (docs/registry.md: 1000 is at capacity) doubles a host's score. */
const LOAD_AT_CAPACITY = 1000;
/**
 * Loads above this count as this: twice capacity already says "overloaded",
 * and a server's own figure must never outweigh what the agent sees (a host
 * reporting 0 gains at most ×3 over the others; failures and latency weigh more).
 */
const MAX_SCORED_LOAD = 2000;

/** The score's factor for a host's reported load: 1 + load/1000, and 1 when it reports none. */
function loadFactor(load: number | null): number {
  return load === null ? 1 : 1 + Math.min(MAX_SCORED_LOAD, load) / LOAD_AT_CAPACITY;
}

/** The [loadbalance] values the strategy reads, times in ms. */
interface Limits {
  readonly ejectConsecutive: number;
  readonly ejectBaseMs: number;
  readonly ejectMaxMs: number;
  readonly maxEjectedPercent: number;
  readonly probeIntervalMs: number;
  readonly probeCalls: number;
  readonly probeIntervalMaxMs: number;
  readonly slowStartMs: number;
  readonly decayMs: number;
  readonly inflightTimeoutMs: number;
}

function limitsOf(params: LoadBalanceParams): Limits {
  return {
    ejectConsecutive: params.eject_consecutive,
    ejectBaseMs: params.eject_base * 1000,
    ejectMaxMs: params.eject_max * 1000,
    maxEjectedPercent: params.max_ejected_percent,
    probeIntervalMs: params.probe_interval * 1000,
    probeCalls: Math.ceil(1 / params.probe_share),
    probeIntervalMaxMs: params.probe_interval_max * 1000,
    slowStartMs: params.slow_start * 1000,
    decayMs: params.decay_time * 1000,
    inflightTimeoutMs: params.inflight_timeout * 1000,
  };
}

class AdaptiveHost extends RegisteredHost {
  readonly latency: PeakEwma;
  readonly failures: FailureRate;
  readonly inFlight: InFlightCounter;
  consecutiveFailures = 0;
  ejected = false;
  /** Ejections remembered; one is forgotten per eject_max served without one. */
  ejections = 0;
  /** When the host joined, was last ejected or re-admitted. */
  since: number;
  /** Origin of the slow-start ramp: -Infinity for the hosts of a route's first answer. */
  admittedAt: number;
  /** While ejected: earliest next probe, failed probes in a row, the last probe, the route's pick count then. */
  probeAt = 0;
  probeStep = 0;
  lastProbeAt = 0;
  probeMark = 0;
  probePending = false;
  /** While ejected: since when probes have passed without a failure (NaN: not now). */
  cleanSince = NaN;

  constructor(
    addr: HostAddr,
    weight: number,
    private readonly limits: Limits,
    now: number,
    admittedAt: number,
  ) {
    super(addr, weight);
    this.latency = new PeakEwma(limits.decayMs);
    this.failures = new FailureRate(limits.decayMs);
    this.inFlight = new InFlightCounter(limits.inflightTimeoutMs);
    this.since = now;
    this.admittedAt = admittedAt;
  }

  get unavailable(): boolean {
    return this.ejected;
  }

  /** How long probes must pass before re-admission: nothing after a first ejection, then doubling. */
  probation(): number {
    if (this.ejections <= 1) return 0;
    return Math.min(this.limits.ejectMaxMs, this.limits.ejectBaseMs * 2 ** (this.ejections - 2));
  }

  protected judge(ok: boolean, now: number, latencyMs: number | undefined): HealthEvent {
    this.inFlight.end(now);
    this.failures.observe(ok, now);
    if (latencyMs !== undefined) this.observeLatency(ok, latencyMs, now);
    this.consecutiveFailures = ok ? 0 : this.consecutiveFailures + 1;
    if (!this.ejected) return 'none';
    // A success proves something only as the probe's answer: calls started before the ejection still report.
    if (ok && !this.probePending) return 'none';
    this.probePending = false;
    if (!ok) {
      this.cleanSince = NaN;
      this.probeStep = Math.min(PROBE_BACKOFF_STEPS, this.probeStep + 1);
      return 'none';
    }
    this.probeStep = 0;
    if (Number.isNaN(this.cleanSince)) this.cleanSince = now;
    if (now - this.cleanSince < this.probation()) return 'none';
    this.ejected = false;
    this.since = now;
    this.admittedAt = now;
    // Its failures while out are history: slow start, not a penalty, limits its first calls.
    this.failures.reset(now);
    return 'readmitted';
  }

  /** A failure never makes a host look faster: a refused connection fails in no time. */
  private observeLatency(ok: boolean, latencyMs: number, now: number): void {
    const current = this.latency.value(now);
    this.latency.observe(ok || !(current > latencyMs) ? latencyMs : current, now);
  }

  view(): HostView {
    const latency = this.latency.latest();
    return {
      ...this.baseView(),
      overloaded: this.ejected,
      stateSince: this.since,
      latencyMs: Number.isFinite(latency) ? latency : null,
      failureRate: this.failures.latest(),
      inFlight: this.inFlight.latest,
      consecutiveFailures: this.consecutiveFailures,
      ejections: this.ejections,
    };
  }
}

export class AdaptiveBalancer extends RegistryBalancer<AdaptiveHost> implements RouteBalancer {
  readonly strategy = 'adaptive' as const;
  protected readonly registry: HostRegistry<AdaptiveHost>;
  private readonly limits: Limits;
  /** Hosts not drained, ordered by (ip, port). */
  private ordered: AdaptiveHost[] = [];
  /** Scratch for one pick: each ordered host's drawing weight. */
  private drawWeights = new Float64Array(0);
  private ejectedCount = 0;
  /** Every host not drained has the same weight: power of two choices; else a draw weighted by score. */
  private equalWeights = true;
  private picks = 0;
  /** No ejected host can be probed before this; -Infinity: look on the next pick. */
  private earliestProbe = Infinity;
  /** Set while a host set is applied: new hosts warm up only when the route already had hosts. */
  private joinAdmittedAt = -Infinity;

  constructor(
    params: LoadBalanceParams,
    private readonly random: () => number = Math.random,
  ) {
    super();
    const limits = (this.limits = limitsOf(params));
    this.registry = new HostRegistry(
      (addr, weight, now) => new AdaptiveHost(addr, weight, limits, now, this.joinAdmittedAt),
      (host) => {
        if (!host.drained) this.ejectedCount += host.ejected ? 1 : -1;
      },
    );
  }

  pick(now: number, _key?: string | number): PickResult {
    if (this.ordered.length === 0) return NOEXIST_RESULT;
    this.picks++;
    const chosen = (this.ejectedCount > 0 && now >= this.earliestProbe ? this.takeProbe(now) : undefined) ?? this.choose(now);
    if (chosen === undefined) return OVERLOAD_RESULT;
    chosen.inFlight.begin(now);
    return chosen.picked;
  }

  override report(addr: HostAddr, ok: boolean, now: number, latencyMs?: number): HealthEvent {
    const event = super.report(addr, ok, now, latencyMs);
    if (event === 'unknown_host') return event;
    const host = this.registry.get(addr) as AdaptiveHost;
    // A report of an ejected host may be its probe's: the next probe's time is due for a look.
    if (host.ejected) this.earliestProbe = -Infinity;
    if (ok || event !== 'none' || host.ejected || host.drained || host.consecutiveFailures < this.limits.ejectConsecutive) return event;
    if (host.consecutiveFailures < this.outlierRun(host, now) || this.ejectedCount >= this.maxEjected()) return event;
    this.eject(host, now);
    return 'ejected';
  }

  setHosts(inputs: readonly HostInput[], now: number): HostChanges {
    this.joinAdmittedAt = this.registry.size > 0 ? now : -Infinity;
    const applied = this.registry.apply(inputs, now);
    if (applied.changed) {
      this.ordered = Array.from(this.registry.values())
        .filter((host) => !host.drained)
        .sort((a, b) => a.key - b.key);
      this.drawWeights = new Float64Array(this.ordered.length);
      this.equalWeights = this.ordered.every((host) => host.weight === this.ordered[0]!.weight);
      this.ejectedCount = this.ordered.filter((host) => host.ejected).length;
      this.earliestProbe = -Infinity;
      this.seedLatency(applied.added, now);
    }
    return applied.changes;
  }

  /** New hosts start at the route's mean latency, so they neither look free nor slow. */
  private seedLatency(added: readonly AdaptiveHost[], now: number): void {
    let sum = 0;
    let known = 0;
    for (const host of this.ordered) {
      const latency = host.latency.value(now);
      if (Number.isFinite(latency)) {
        sum += latency;
        known++;
      }
    }
    if (known > 0) for (const host of added) host.latency.seed(sum / known, now);
  }

  /** The probe this request should be, if an ejected host is due; reschedules the earliest probe. */
  private takeProbe(now: number): AdaptiveHost | undefined {
    const l = this.limits;
    let chosen: AdaptiveHost | undefined;
    let earliest = Infinity;
    for (const host of this.ordered) {
      if (!host.ejected) continue;
      if (host.probePending && now - host.lastProbeAt >= l.inflightTimeoutMs) host.probePending = false;
      if (chosen === undefined && !host.probePending && now >= host.probeAt && this.probeBudgetAllows(host, now)) {
        chosen = host;
        this.scheduleProbe(host, now);
      }
      earliest = Math.min(earliest, host.probePending ? host.lastProbeAt + l.inflightTimeoutMs : host.probeAt);
    }
    this.earliestProbe = earliest;
    return chosen;
  }

  /** At most one probe per probeCalls picks of the route, but at least one per probe_interval_max. */
  private probeBudgetAllows(host: AdaptiveHost, now: number): boolean {
    return this.picks - host.probeMark >= this.limits.probeCalls || now - host.lastProbeAt >= this.limits.probeIntervalMaxMs;
  }

  private scheduleProbe(host: AdaptiveHost, now: number): void {
    host.probePending = true;
    host.lastProbeAt = now;
    host.probeMark = this.picks;
    host.probeAt = now + this.probeInterval(host.probeStep);
  }

  private probeInterval(step: number): number {
    const jitter = 1 + PROBE_JITTER * (2 * this.random() - 1);
    return (this.limits.probeIntervalMs / 2 ** (PROBE_BACKOFF_STEPS - step)) * jitter;
  }

  /** Among the admitted hosts (all of them if none is): power of two choices, or one draw weighted by score. */
  private choose(now: number): AdaptiveHost | undefined {
    const hosts = this.ordered;
    const weights = this.drawWeights;
    const everyHost = this.ejectedCount >= hosts.length;
    let total = 0;
    for (let i = 0; i < hosts.length; i++) {
      const host = hosts[i]!;
      let weight = 0;
      if (everyHost || !host.ejected) {
        weight = host.weight * this.warmth(host, now);
        if (!this.equalWeights) weight /= this.score(host, now) ** 2;
      }
      weights[i] = weight;
      total += weight;
    }
    if (total <= 0) return undefined;
    const first = this.draw(total, -1);
    if (!this.equalWeights) return hosts[first];
    const rest = total - weights[first]!;
    if (rest <= 0) return hosts[first];
    const second = this.draw(rest, first);
    const a = hosts[first]!;
    const b = hosts[second]!;
    return this.score(a, now) <= this.score(b, now) ? a : b;
  }

  /** An index drawn in proportion to drawWeights, `skip` left out; `total` is the sum of the others. */
  private draw(total: number, skip: number): number {
    const weights = this.drawWeights;
    let left = this.random() * total;
    let last = -1;
    for (let i = 0; i < weights.length; i++) {
      if (i === skip || weights[i]! <= 0) continue;
      last = i;
      left -= weights[i]!;
      if (left < 0) return i;
    }
    return last;
  }

  private score(host: AdaptiveHost, now: number): number {
    const latency = host.latency.value(now);
    const cost = Number.isNaN(latency) ? 1 : latency;
    const success = 1 - Math.min(MAX_SCORED_FAILURE_RATE, host.failures.value(now));
    return (cost * (1 + host.inFlight.count(now) / host.weight) * loadFactor(host.reportedLoad)) / (success * success);
  }

  private warmth(host: AdaptiveHost, now: number): number {
    const ramp = this.limits.slowStartMs;
    if (ramp === 0) return 1;
    return Math.min(1, Math.max(SLOW_START_FLOOR, (now - host.admittedAt) / ramp));
  }

  /**
   * Failures in a row that make this host an outlier: eject_consecutive while
   * the other admitted hosts do not fail, more when they do (a run that
   * unlikely at their failure rate), none at all when they always fail.
   */
  private outlierRun(host: AdaptiveHost, now: number): number {
    let sum = 0;
    let others = 0;
    for (const other of this.ordered) {
      if (other === host || other.ejected) continue;
      sum += other.failures.value(now);
      others++;
    }
    const rate = others === 0 ? 0 : sum / others;
    if (rate <= 0) return this.limits.ejectConsecutive;
    if (rate >= 1) return Infinity;
    return Math.max(this.limits.ejectConsecutive, Math.ceil(Math.log(OUTLIER_RUN_PROBABILITY) / Math.log(rate)));
  }

  /** max_ejected_percent of the hosts (at least one unless it is 0), and never every host. */
  private maxEjected(): number {
    const count = this.ordered.length;
    const percent = this.limits.maxEjectedPercent;
    const byPercent = Math.max(percent > 0 ? 1 : 0, Math.floor((count * percent) / 100));
    return Math.min(count - 1, byPercent);
  }

  private eject(host: AdaptiveHost, now: number): void {
    const forgotten = Math.floor((now - host.admittedAt) / this.limits.ejectMaxMs);
    host.ejections = Math.max(0, host.ejections - forgotten) + 1;
    host.ejected = true;
    host.since = now;
    host.cleanSince = NaN;
    host.probeStep = 0;
    host.probePending = false;
    // A random phase for the budgets, so agents that ejected the host together probe it (and take it back) apart.
    host.lastProbeAt = now - this.random() * this.limits.probeIntervalMaxMs;
    host.probeMark = this.picks - Math.floor(this.random() * this.limits.probeCalls);
    host.probeAt = now + this.probeInterval(0);
    this.ejectedCount++;
    this.earliestProbe = Math.min(this.earliestProbe, host.probeAt);
  }
}
