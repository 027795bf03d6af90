/**
 * The adaptive strategy's rules (docs/balancer.md, "Fifth strategy"), each on
 * a manual clock with a seeded draw: outlier ejection and its limits, probes
 * by time and by call budget, re-admission and its doubling probation, slow
 * start, and power of two choices on latency.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveBalancer } from '../../src/balancer/adaptive.js';
import { createBalancer } from '../../src/balancer/factory.js';
import type { HealthEvent, HostInput, RouteBalancer } from '../../src/balancer/types.js';
import { seededRandom } from '../../src/simulator/random.js';
import { host, hosts, label, nameOf, params } from './helpers.js';

const adaptive = (overrides = {}) => new AdaptiveBalancer(params({ strategy: 'adaptive', ...overrides }), seededRandom(7));
const isOut = (b: RouteBalancer, n: number) => b.hosts().find((h) => h.port === host(n).port)!.overloaded;

interface Outcome {
  ok: boolean;
  latencyMs?: number;
}

/**
 * Synchronous calls every `stepMs` from `from` to `to`: pick, then report at
 * once as `outcome` says. Returns the calls per host name and the events.
 */
function drive(b: RouteBalancer, from: number, to: number, stepMs: number, outcome: (name: string, now: number) => Outcome) {
  const calls: Record<string, number> = {};
  const events: Array<{ at: number; name: string; event: HealthEvent }> = [];
  for (let now = from; now < to; now += stepMs) {
    const picked = b.pick(now);
    const name = label(picked);
    calls[name] = (calls[name] ?? 0) + 1;
    if (picked.host === undefined) continue;
    const { ok, latencyMs } = outcome(name, now);
    const event = b.report(picked.host, ok, now, latencyMs);
    if (event !== 'none') events.push({ at: now, name: nameOf(picked.host), event });
  }
  return { calls, events };
}

const healthy = (): Outcome => ({ ok: true, latencyMs: 10 });
const deadHost = (dead: string, until = Infinity) => (name: string, now: number): Outcome =>
  name === dead && now < until ? { ok: false, latencyMs: 1 } : healthy();

describe('adaptive: outlier ejection', () => {
  test('is chosen by name; three failures in a row eject a host while the others succeed', () => {
    assert.equal(createBalancer('adaptive', params({ strategy: 'adaptive' })).strategy, 'adaptive');
    const b = adaptive();
    b.setHosts(hosts(1, 2, 3, 4, 5), 0);
    assert.equal(b.report(host(5), false, 1), 'none');
    assert.equal(b.report(host(5), false, 2), 'none');
    assert.equal(b.report(host(5), false, 3), 'ejected');
    assert.equal(isOut(b, 5), true);
    // The first probe comes after probe_interval/8 less 20 % jitter: 200 ms.
    const { calls } = drive(b, 4, 200, 0.1, healthy);
    assert.equal(calls.h5, undefined, 'no ordinary pick names an ejected host');
    assert.equal(b.takeStats().find((s) => s.port === host(5).port)?.overload, true, 'the reporter sees it as overloaded');
  });

  test('a success in between restarts the count', () => {
    const b = adaptive();
    b.setHosts(hosts(1, 2, 3), 0);
    for (const ok of [false, false, true, false, false]) assert.equal(b.report(host(3), ok, 1), 'none');
    assert.equal(isOut(b, 3), false);
  });

  test('when every host fails often (a brownout), a run of three is no outlier: the run needed grows with their failure rate', () => {
    const b = adaptive();
    b.setHosts(hosts(1, 2, 3, 4, 5), 0);
    // The others fail about 4 calls in 10: a run must be 1e-6 unlikely at their rate, over 10 long.
    for (let i = 0; i < 200; i++) for (const n of [1, 2, 3, 4]) b.report(host(n), i % 10 >= 4, i);
    for (let i = 0; i < 10; i++) assert.equal(b.report(host(5), false, 200), 'none', `failure ${i + 1} of 10`);
    let failures = 10;
    while (b.report(host(5), false, 200) !== 'ejected') assert.ok(++failures < 30, 'a long enough run still ejects');
  });

  test('when the others always fail, no run ejects', () => {
    const b = adaptive();
    b.setHosts(hosts(1, 2, 3), 0);
    for (let i = 0; i < 100; i++) for (const n of [1, 2]) b.report(host(n), false, i);
    for (let i = 0; i < 100; i++) assert.equal(b.report(host(3), false, 100), 'none');
  });

  test('at most max_ejected_percent of the hosts are out (at least one), and never the last one', () => {
    const b = adaptive();
    b.setHosts(hosts(1, 2, 3, 4, 5), 0);
    for (const n of [4, 5]) for (let i = 0; i < 5; i++) b.report(host(n), false, i);
    assert.deepEqual([isOut(b, 4), isOut(b, 5)], [true, false], '20 % of 5 hosts: one');
    const lone = adaptive();
    lone.setHosts(hosts(1), 0);
    for (let i = 0; i < 50; i++) lone.report(host(1), false, i);
    assert.equal(isOut(lone, 1), false, 'a route of one host never ejects it');
    assert.equal(label(lone.pick(60)), 'h1');
    const none = adaptive({ max_ejected_percent: 0 });
    none.setHosts(hosts(1, 2, 3), 0);
    for (let i = 0; i < 50; i++) none.report(host(3), false, i);
    assert.equal(isOut(none, 3), false, 'max_ejected_percent 0 turns ejection off');
  });
});

describe('adaptive: probes by time', () => {
  test('at 2,000 calls/s a dead host costs one probe per 4,000 calls (1/probe_share) and nothing more', () => {
    const b = adaptive();
    b.setHosts(hosts(1, 2, 3, 4, 5), 0);
    const { calls, events } = drive(b, 0, 40_000, 0.5, deadHost('h5'));
    const ejections = events.filter((e) => e.event === 'ejected');
    assert.equal(ejections.length, 1);
    // 3 calls before the ejection, then at most one per 4,000 picks: 80,000 picks.
    assert.ok(calls.h5! >= 3 + 15 && calls.h5! <= 3 + 21, `${calls.h5} calls to the dead host`);
    assert.ok(calls.h5! / 80_000 <= 0.0005);
  });

  test('at 10 calls/s probes come every probe_interval_max (30 s) however few the calls; at 100,000/s no closer than probe_interval', () => {
    const slowTraffic = adaptive();
    slowTraffic.setHosts(hosts(1, 2), 0);
    const slowRun = drive(slowTraffic, 0, 300_000, 100, deadHost('h2'));
    // 3 to eject, then one per 30 s (the first within 30 s of the ejection): 9 to 10.
    assert.ok(slowRun.calls.h2! >= 3 + 9 && slowRun.calls.h2! <= 3 + 10, `${slowRun.calls.h2} calls at 10/s`);
    const fastTraffic = adaptive({ probe_share: 1 });
    fastTraffic.setHosts(hosts(1, 2), 0);
    const fastRun = drive(fastTraffic, 0, 20_000, 0.01, deadHost('h2'));
    // probe_share 1 leaves only the time rule: the interval backs off 0.25, 0.5, 1, then 2 s (±20 %).
    assert.ok(fastRun.calls.h2! >= 3 + 9 && fastRun.calls.h2! <= 3 + 13, `${fastRun.calls.h2} calls at 100,000/s`);
  });
});

describe('adaptive: re-admission', () => {
  test('after a first ejection, one good probe re-admits the host', () => {
    const b = adaptive();
    b.setHosts(hosts(1, 2, 3, 4, 5), 0);
    const { events } = drive(b, 0, 30_000, 0.5, deadHost('h5', 10_000));
    const readmitted = events.find((e) => e.event === 'readmitted');
    assert.ok(readmitted !== undefined, 're-admitted');
    assert.ok(readmitted.at >= 10_000 && readmitted.at <= 12_500, `re-admitted at ${readmitted.at} ms, within a probe of recovering`);
    assert.equal(isOut(b, 5), false);
  });

  test('a success reported while no probe is out (a call from before the ejection) does not re-admit', () => {
    const b = adaptive();
    b.setHosts(hosts(1, 2, 3), 0);
    for (let i = 0; i < 3; i++) b.report(host(3), false, i);
    assert.equal(isOut(b, 3), true);
    assert.equal(b.report(host(3), true, 5), 'none');
    assert.equal(isOut(b, 3), true);
  });

  test('the k-th ejection (k >= 2) needs eject_base x 2^(k-2) of passing probes; a failed probe restarts it', () => {
    const b = adaptive({ eject_base: 30 });
    b.setHosts(hosts(1, 2, 3, 4, 5), 0);
    // Down [0, 5 s), [10 s, 15 s) then [20 s, 25 s) again once re-admitted, then healthy.
    const down = [[0, 5_000], [10_000, 15_000]] as const;
    const isDown = (now: number) => down.some(([from, to]) => now >= from && now < to);
    const run = drive(b, 0, 200_000, 1, (name, now) => (name === 'h5' && isDown(now) ? { ok: false, latencyMs: 1 } : healthy()));
    const h5 = run.events.filter((e) => e.name === 'h5').map((e) => `${e.event}@${Math.floor(e.at / 1000)}`);
    assert.equal(h5[0], 'ejected@0');
    assert.match(h5[1]!, /^readmitted@(5|6|7)$/, 'first: the first good probe');
    assert.match(h5[2]!, /^ejected@1[0-4]$/, 'down again: ejected again');
    const second = Number(h5[3]!.split('@')[1]);
    assert.ok(h5[3]!.startsWith('readmitted@') && second >= 15 + 30 && second <= 15 + 30 + 2 * 2.4, `second: 30 s of good probes after recovering, got ${h5[3]}`);
    assert.equal(h5.length, 4);
  });

  test('each eject_max served without an ejection forgets one', () => {
    const b = adaptive({ eject_base: 30, eject_max: 60 });
    b.setHosts(hosts(1, 2, 3), 0);
    const ejectAt = (now: number) => {
      for (let i = 0; i < 3; i++) b.report(host(3), false, now);
    };
    const ejections = () => b.hosts().find((h) => h.port === host(3).port)!.ejections;
    ejectAt(0);
    assert.equal(ejections(), 1);
    drive(b, 0, 10_000, 1, healthy);
    assert.equal(isOut(b, 3), false);
    ejectAt(10_000);
    assert.equal(ejections(), 2, 'ejected again soon after: remembered');
    drive(b, 10_000, 60_000, 1, healthy);
    assert.equal(isOut(b, 3), false);
    const readmittedAt = b.hosts().find((h) => h.port === host(3).port)!.stateSince;
    ejectAt(readmittedAt + 61_000);
    assert.equal(ejections(), 2, 'one eject_max served: one of the two forgotten, then this one');
  });
});

describe('adaptive: choosing among admitted hosts', () => {
  test('a host 10x slower gets under 2 % of the calls once its latency is seen', () => {
    const b = adaptive();
    b.setHosts(hosts(1, 2, 3, 4, 5), 0);
    const { calls } = drive(b, 0, 60_000, 1, (name) => ({ ok: true, latencyMs: name === 'h5' ? 100 : 10 }));
    assert.ok(calls.h5! / 60_000 < 0.02, `slow host share ${calls.h5! / 60_000}`);
    assert.ok(calls.h5! > 0, 'but it is still tried now and then (its estimate decays)');
  });

  test('without durations (Lars clients) it balances on calls in flight: a host holding calls open gets fewer', () => {
    const b = adaptive();
    b.setHosts(hosts(1, 2), 0);
    for (let i = 0; i < 8; i++) b.pick(0);
    const held = b.hosts().map((h) => h.inFlight);
    assert.deepEqual(held.slice().sort(), [4, 4], 'equal hosts share the calls');
    // h1 answers its calls, h2 keeps them open: the next calls go to h1.
    for (let i = 0; i < 4; i++) b.report(host(1), true, 1);
    const next = Array.from({ length: 4 }, () => label(b.pick(2)));
    assert.ok(next.filter((n) => n === 'h1').length >= 3, `picks after h2 held its calls: ${next.join(' ')}`);
  });

  test('unequal weights set the shares of alike hosts, and a slow one still loses its share', () => {
    const b = adaptive();
    b.setHosts([{ ...host(1), weight: 1 }, { ...host(2), weight: 3 }, { ...host(3), weight: 2 }] as HostInput[], 0);
    const alike = drive(b, 0, 60_000, 1, healthy).calls;
    assert.ok(Math.abs(alike.h1! / 60_000 - 1 / 6) < 0.03, `weight 1 of 6: ${alike.h1! / 60_000}`);
    assert.ok(Math.abs(alike.h2! / 60_000 - 3 / 6) < 0.03, `weight 3 of 6: ${alike.h2! / 60_000}`);
    const slowed = drive(b, 60_000, 120_000, 1, (name) => ({ ok: true, latencyMs: name === 'h2' ? 100 : 10 })).calls;
    assert.ok(slowed.h2! / 60_000 < 0.02, `the heaviest host, 10x slower: ${slowed.h2! / 60_000}`);
  });

  test('a re-admitted host ramps up over slow_start instead of taking its share at once', () => {
    const b = adaptive({ slow_start: 2 });
    b.setHosts(hosts(1, 2, 3, 4, 5), 0);
    let now = 0;
    for (; now < 3_000 || isOut(b, 5); now += 100) drive(b, now, now + 100, 0.5, deadHost('h5', 3_000));
    const share = (from: number, to: number) => (drive(b, from, to, 0.5, healthy).calls.h5 ?? 0) / ((to - from) / 0.5);
    const first = share(now, now + 200);
    const settled = share(now + 3_000, now + 8_000);
    assert.ok(first < 0.08, `share in the first 0.2 s after re-admission: ${first}`);
    assert.ok(settled > 0.15 && settled < 0.25, `share once warm: ${settled}`);
  });
});
