/**
 * The per-host state machine of Lars's rules (docs/balancer.md), shared by
 * every strategy that judges host health from reported call results. Each
 * rule is one named function; HealthRules.record() applies them in Lars's
 * order: count the result, then the rate rules, then the time rules.
 */
import type { LoadBalanceParams } from './params.js';
import type { HealthEvent } from './types.js';

export interface HealthState {
  overloaded: boolean;
  /** Virtual counts: seeded on each transition so one failure cannot flip a fresh host. */
  vsucc: number;
  verr: number;
  /** Real counts of the current idle window (or overload period). */
  rsucc: number;
  rerr: number;
  continSucc: number;
  continErr: number;
  /** ms: when the host last became idle (its window start) or overloaded. */
  since: number;
}

/** The parameters the rules read, with the timeouts converted to ms once. */
interface Limits {
  initSuccCnt: number;
  initErrCnt: number;
  errRate: number;
  succRate: number;
  continErrLimit: number;
  continSuccLimit: number;
  windowErrRate: number;
  idleTimeoutMs: number;
  overloadTimeoutMs: number;
}

function countResult(s: HealthState, ok: boolean): void {
  if (ok) {
    s.vsucc++;
    s.rsucc++;
    s.continSucc++;
    s.continErr = 0;
  } else {
    s.verr++;
    s.rerr++;
    s.continErr++;
    s.continSucc = 0;
  }
}

// The divisions below cannot be 0/0: the result just counted makes the
// denominator at least 1.

function errRateExceeded(s: HealthState, l: Limits): boolean {
  return s.verr / (s.vsucc + s.verr) > l.errRate;
}

function continErrReached(s: HealthState, l: Limits): boolean {
  return s.continErr >= l.continErrLimit;
}

function succRateExceeded(s: HealthState, l: Limits): boolean {
  return s.vsucc / (s.vsucc + s.verr) > l.succRate;
}

function continSuccReached(s: HealthState, l: Limits): boolean {
  return s.continSucc >= l.continSuccLimit;
}

function idleWindowElapsed(s: HealthState, l: Limits, now: number): boolean {
  return now - s.since >= l.idleTimeoutMs;
}

function windowErrRateReached(s: HealthState, l: Limits): boolean {
  return s.rerr / (s.rsucc + s.rerr) >= l.windowErrRate;
}

function overloadTimedOut(s: HealthState, l: Limits, now: number): boolean {
  return now - s.since >= l.overloadTimeoutMs;
}

export class HealthRules {
  private readonly limits: Limits;

  constructor(params: LoadBalanceParams) {
    this.limits = {
      initSuccCnt: params.init_succ_cnt,
      initErrCnt: params.init_err_cnt,
      errRate: params.err_rate,
      succRate: params.succ_rate,
      continErrLimit: params.contin_err_limit,
      continSuccLimit: params.contin_succ_limit,
      windowErrRate: params.window_err_rate,
      idleTimeoutMs: params.idle_timeout * 1000,
      overloadTimeoutMs: params.overload_timeout * 1000,
    };
  }

  /** A new host starts idle. */
  newState(now: number): HealthState {
    const s: HealthState = { overloaded: false, vsucc: 0, verr: 0, rsucc: 0, rerr: 0, continSucc: 0, continErr: 0, since: now };
    this.becomeIdle(s, now);
    return s;
  }

  becomeIdle(s: HealthState, now: number): void {
    this.reset(s, false, this.limits.initSuccCnt, 0, now);
  }

  becomeOverloaded(s: HealthState, now: number): void {
    this.reset(s, true, 0, this.limits.initErrCnt, now);
  }

  /** Applies one call result; returns the rule that changed the state, or 'none'. */
  record(s: HealthState, ok: boolean, now: number): HealthEvent {
    countResult(s, ok);
    const l = this.limits;
    if (!s.overloaded && !ok) {
      if (errRateExceeded(s, l)) return this.overload(s, now, 'overload_err_rate');
      if (continErrReached(s, l)) return this.overload(s, now, 'overload_contin_err');
    } else if (s.overloaded && ok) {
      if (succRateExceeded(s, l)) return this.idle(s, now, 'idle_succ_rate');
      if (continSuccReached(s, l)) return this.idle(s, now, 'idle_contin_succ');
    }
    return s.overloaded ? this.checkOverloadPeriod(s, now) : this.checkIdleWindow(s, now);
  }

  /** At the end of an idle window: overload if the window's real error rate is high, else start a new window. */
  private checkIdleWindow(s: HealthState, now: number): HealthEvent {
    if (!idleWindowElapsed(s, this.limits, now)) return 'none';
    if (windowErrRateReached(s, this.limits)) return this.overload(s, now, 'overload_window');
    return this.idle(s, now, 'window_restart');
  }

  private checkOverloadPeriod(s: HealthState, now: number): HealthEvent {
    return overloadTimedOut(s, this.limits, now) ? this.idle(s, now, 'idle_overload_timeout') : 'none';
  }

  private overload(s: HealthState, now: number, event: HealthEvent): HealthEvent {
    this.becomeOverloaded(s, now);
    return event;
  }

  private idle(s: HealthState, now: number, event: HealthEvent): HealthEvent {
    this.becomeIdle(s, now);
    return event;
  }

  private reset(s: HealthState, overloaded: boolean, vsucc: number, verr: number, now: number): void {
    s.overloaded = overloaded;
    s.vsucc = vsucc;
    s.verr = verr;
    s.rsucc = 0;
    s.rerr = 0;
    s.continSucc = 0;
    s.continErr = 0;
    s.since = now;
  }
}
