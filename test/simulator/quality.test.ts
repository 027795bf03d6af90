/**
 * The quality simulator (docs/simulator.md): deterministic for a seed, its
 * metrics as defined on a hand-built record, the targets the strategies are
 * held to, and `lars simulate` as an operator runs it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUCKET_MS, runScenario, type RunRecord } from '../../src/simulator/engine.js';
import { measure, quantile } from '../../src/simulator/metrics.js';
import { runQuality } from '../../src/simulator/quality.js';
import { SCENARIOS, scenarioNamed, type Scenario } from '../../src/simulator/scenarios.js';
import { checkTargets } from '../../src/simulator/targets.js';
import { DEFAULT_LOADBALANCE_PARAMS } from '../../src/balancer/params.js';
import { seededRandom } from '../../src/simulator/random.js';
import { lars } from '../support/cli.js';

const dead = scenarioNamed('dead')!;

describe('simulator: runs', () => {
  test('the same seed gives the same run, another seed another', () => {
    const short: Scenario = { ...dead, durationMs: 20_000 };
    const run = (seed: number) => measure(runScenario(short, 'adaptive', { params: DEFAULT_LOADBALANCE_PARAMS, seed }), null);
    assert.deepEqual(run(3), run(3));
    assert.notDeepEqual(run(3), run(4));
    const a = seededRandom(9);
    const b = seededRandom(9);
    const drawn = Array.from({ length: 5 }, () => a());
    assert.deepEqual(drawn, Array.from({ length: 5 }, () => b()));
    assert.ok(drawn.every((x) => x >= 0 && x < 1));
  });

  test('with Lars rules a dead host of five gets 1 call in probe_num + 1 once overloaded, as Lars C++ does', () => {
    const record = runScenario(dead, 'lars', { params: DEFAULT_LOADBALANCE_PARAMS, seed: 1 });
    const m = measure(record, null);
    assert.ok(Math.abs(m.badShare! - 1 / 11) < 0.002, `dead host share ${m.badShare}`);
    const ruleOf5 = measure(runScenario(dead, 'lars', { params: { ...DEFAULT_LOADBALANCE_PARAMS, probe_num: 4 }, seed: 1 }), null);
    assert.ok(Math.abs(ruleOf5.badShare! - 1 / 5) < 0.004, `probe_num 4: ${ruleOf5.badShare}`);
  });
});

describe('simulator: reported loads', () => {
  test('loaded: adaptive sends the host reporting 900 clearly less than the same run without load reports; lars ignores loads', () => {
    const loaded = scenarioNamed('loaded')!;
    const unreported: Scenario = { ...loaded, hosts: loaded.hosts.map((h) => ({ ...h, load: () => null })) };
    const badShare = (scenario: Scenario, strategy: 'adaptive' | 'lars') => measure(runScenario(scenario, strategy, { params: DEFAULT_LOADBALANCE_PARAMS, seed: 1 }), null).badShare!;
    const [withLoads, without] = [badShare(loaded, 'adaptive'), badShare(unreported, 'adaptive')];
    assert.ok(withLoads < 0.75 * without, `with load reports ${withLoads}, without ${without}`);
    assert.ok(without < 0.2, `the agent's own latency view already gives it less than its fair share: ${without}`);
    assert.equal(badShare(loaded, 'lars'), badShare(unreported, 'lars'));
  });
});

describe('simulator: metrics', () => {
  test('quantile is the nearest rank', () => {
    const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(quantile(sorted, 0.5), 5);
    assert.equal(quantile(sorted, 0.99), 10);
    assert.equal(quantile(sorted, 0), 1);
    assert.ok(Number.isNaN(quantile(new Float64Array(0), 0.5)));
  });

  test('shares, ejection and recovery times, ramp and balance from a hand-built record', () => {
    // Two hosts, 10 s; the bad one (h2) is hurt from 2 s to 6 s. Per 100 ms: 10 calls.
    const scenario: Scenario = { ...dead, durationMs: 10_000, agents: 1, hosts: dead.hosts.slice(3), bad: 1, fault: { startMs: 2_000, endMs: 6_000 } };
    const buckets = 10_000 / BUCKET_MS;
    const calls = new Uint32Array(buckets * 2);
    const badCallsIn = (b: number) => {
      if (b < 20 || b >= 90) return 5; // fair
      if (b < 25) return 3; // the first 0.5 s of the fault: still 30 %
      if (b < 60) return 0; // ejected
      if (b < 70) return 2; // ramping
      return 6; // overshooting

    };
    for (let b = 0; b < buckets; b++) {
      calls[b * 2 + 1] = badCallsIn(b);
      calls[b * 2] = 10 - badCallsIn(b);
    }
    const record: RunRecord = {
      scenario,
      strategy: 'adaptive',
      buckets,
      calls,
      total: new Uint32Array(buckets).fill(10),
      failed: new Uint32Array(buckets).fill(0).map((_, b) => (b >= 20 && b < 25 ? 3 : 0)),
      latencies: Float64Array.from({ length: 100 }, (_, i) => i + 1),
      out: new Uint16Array(buckets * 2).fill(0).map((_, i) => (i % 2 === 1 && i >= 50 && i < 120 ? 1 : 0)),
      readmissions: [6_000],
    };
    const m = measure(record, 50);
    assert.equal(m.calls, 1000);
    assert.equal(m.success, 1 - 15 / 1000);
    assert.equal(m.badCalls, 15);
    assert.equal(m.badShare, 15 / 400);
    assert.equal(m.badShareSettled, 0);
    assert.equal(m.ejectS, 0.6, 'the first 100 ms under 10 % of the fair share ends 0.6 s in');
    assert.equal(m.recoverS, 1.5, 'the first whole second with 80 % of fair (40 of 100 calls) ends 1.5 s after the fault');
    assert.equal(m.rampPeak, 1.2, 'the largest one-second share after the fault (0.6) over fair (0.5)');
    assert.equal(m.p50, 50);
    assert.equal(m.p99, 99);
    assert.equal(m.p99Ratio, 99 / 50);
    assert.equal(m.healthyMaxMin, 1, 'one healthy host');
    assert.equal(m.readmits, 1);
    assert.equal(m.herd, null, 'one agent: no herd');
    assert.equal(m.outAvg, 35 / 100);
  });
});

describe('simulator: targets (deterministic, seed 1)', () => {
  test('adaptive meets every target and lars gives Lars C++ figures, in every scenario', () => {
    const results = runQuality({ scenarios: SCENARIOS, strategies: ['adaptive', 'lars'] });
    const outcomes = checkTargets(results.flatMap((r) => r.metrics));
    assert.ok(outcomes.length >= 13, 'every target was checked');
    const missed = outcomes.filter((o) => !o.met).map((o) => `${o.target.scenario}/${o.target.strategy}: ${o.target.figure} = ${o.value}`);
    assert.deepEqual(missed, []);
    assert.equal(results.length, SCENARIOS.length);
    for (const r of results) assert.ok(r.shares.length > 0 && r.shares.every((p) => p.share >= 0 && p.share <= 1), `${r.scenario.name} chart data`);
  });
});

describe('lars simulate', () => {
  test('--json prints metrics, targets and chart series; --svg writes one chart per scenario', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lars-simulate-'));
    try {
      const run = await lars(['simulate', '--scenario', 'dead,weighted', '--strategy', 'lars,adaptive', '--svg', dir, '--json']);
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { metrics: Array<{ scenario: string; strategy: string; badShare: number | null }>; targets: Array<{ met: boolean }>; charts: string[] };
      assert.deepEqual(out.metrics.map((m) => `${m.scenario}/${m.strategy}`), ['dead/lars', 'dead/adaptive', 'weighted/lars', 'weighted/adaptive']);
      assert.ok(out.metrics[1]!.badShare! < 0.0005);
      assert.ok(out.targets.length >= 3 && out.targets.every((t) => t.met));
      assert.deepEqual(out.charts, [join(dir, 'dead.svg'), join(dir, 'weighted.svg')]);
      const svg = readFileSync(join(dir, 'dead.svg'), 'utf8');
      assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /dead: share of calls per host/);
      assert.match(run.stderr, /\[1\/4\] dead \/ lars/, 'progress on stderr');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the table names every column; unknown names and bad seeds are usage errors', async () => {
    const table = await lars(['simulate', '--scenario', 'brownout', '--strategy', 'adaptive']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /SCENARIO\s+STRATEGY\s+SUCCESS\s+BAD SHARE/);
    assert.match(table.stdout, /^met\s+brownout\s+adaptive\s+success/m);
    for (const [args, message] of [
      [['--scenario', 'nope'], /unknown scenario "nope": one of dead, slow/],
      [['--strategy', 'lars,random'], /unknown strategy "random"/],
      [['--seed=-1'], /--seed must be between 0 and/],
      [['--seed', 'x'], /--seed must be an integer/],
      [['extra'], /unexpected argument "extra"/],
    ] as const) {
      const run = await lars(['simulate', ...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });
});
