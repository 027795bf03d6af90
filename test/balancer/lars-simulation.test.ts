/**
 * Five hosts, one failing every call, driven through pick/report cycles with
 * a fake clock advancing 10 ms per request (100 requests/s) for 60 s. The
 * failing host must cycle exactly as docs/balancer.md says: overloaded after
 * 15 failures in a row, probed on one request in 11 while overloaded (Lars's
 * C++ count: probe_num = 10 idle picks between two probes), back
 * to idle on its first report at or after 15 s of overload, overloaded again
 * after 15 more failures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LarsBalancer } from '../../src/balancer/lars.js';
import { RetCode } from '../../src/protocol/retcode.js';
import type { HealthEvent } from '../../src/balancer/types.js';
import { FakeClock, hosts, nameOf, params } from './helpers.js';

const STEP_MS = 10;
const REQUESTS = 6000;
const FAILING = 'h5';

interface Call {
  n: number;
  at: number;
  host: string;
  event: HealthEvent;
}

function simulate(): Call[] {
  const clock = new FakeClock(0);
  const lb = new LarsBalancer(params());
  lb.setHosts(hosts(1, 2, 3, 4, 5), clock.now);
  const calls: Call[] = [];
  for (let n = 1; n <= REQUESTS; n++) {
    const picked = lb.pick(clock.now);
    assert.equal(picked.retcode, RetCode.SUCC, `request ${n}: some host is always idle`);
    const addr = picked.host!;
    const name = nameOf(addr);
    calls.push({ n, at: clock.now, host: name, event: lb.report(addr, name !== FAILING, clock.now) });
    clock.advance(STEP_MS);
  }
  return calls;
}

test('simulation: one failing host of five cycles overload -> probes -> idle -> overload', () => {
  const calls = simulate();
  const failing = calls.filter((c) => c.host === FAILING);
  const transitions = failing.filter((c) => c.event !== 'none');

  // It alternates between the two transitions that apply, starting with the 15-in-a-row rule.
  assert.ok(transitions.length >= 6, `at least 3 full cycles in 60 s, got ${transitions.length} transitions`);
  transitions.forEach((t, i) => assert.equal(t.event, i % 2 === 0 ? 'overload_contin_err' : 'idle_overload_timeout', `transition ${i} at request ${t.n}`));

  // First overload: the 15th call; idle round robin of 5 gives it requests 5, 10, ..., 75.
  assert.equal(transitions[0]!.n, 75);

  for (let i = 0; i + 1 < transitions.length; i += 2) {
    const overloaded = transitions[i]!;
    const recovered = transitions[i + 1]!;
    // While overloaded it gets exactly one request in 11 (the counter carries over between periods).
    const probes = failing.filter((c) => c.n > overloaded.n && c.n <= recovered.n);
    assert.ok(probes[0]!.n - overloaded.n <= 11, 'first probe within probe_num + 1 requests');
    for (let p = 1; p < probes.length; p++) assert.equal(probes[p]!.n - probes[p - 1]!.n, 11, `probe spacing in cycle ${i / 2}`);
    // The first probe at or after overload_timeout brings it back: 15 s <= period < 15 s + one probe gap.
    const period = recovered.at - overloaded.at;
    assert.ok(period >= 15_000 && period < 15_000 + 11 * STEP_MS, `overload lasted ${period} ms`);
    assert.equal(probes.filter((c) => c.at - overloaded.at >= 15_000).length, 1, 'only one probe after the timeout');

    // Back in the idle round robin it fails 15 calls in a row and is overloaded again on the 15th.
    const next = transitions[i + 2];
    if (next !== undefined) {
      const idleCalls = failing.filter((c) => c.n > recovered.n && c.n <= next.n);
      assert.equal(idleCalls.length, 15);
      idleCalls.slice(0, -1).forEach((c) => assert.equal(c.event, 'none'));
    }
  }

  // The healthy hosts never overload; their idle windows restart every idle_timeout.
  const healthyEvents = calls.filter((c) => c.host !== FAILING && c.event !== 'none');
  assert.ok(healthyEvents.every((c) => c.event === 'window_restart'), 'healthy hosts only restart windows');
  for (const name of ['h1', 'h2', 'h3', 'h4']) {
    const restarts = healthyEvents.filter((c) => c.host === name).map((c) => c.at);
    assert.ok(restarts.length >= 3, `${name} restarted its window ${restarts.length} times`);
    for (let r = 1; r < restarts.length; r++) {
      const gap = restarts[r]! - restarts[r - 1]!;
      assert.ok(gap >= 15_000 && gap < 15_100, `${name} window lasted ${gap} ms`);
    }
  }

  // Overall it received one request in 11 while overloaded plus its 15 calls per idle spell: just above 1/11.
  const share = failing.length / calls.length;
  assert.ok(share > 1 / 11 && share < 0.1, `failing host got ${(share * 100).toFixed(1)}% of requests`);
});
