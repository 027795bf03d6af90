/**
 * End to end with real processes on loopback: store (SQLite) -> `lars dns`
 * -> `lars agent` -> clients, with `lars reporter` taking the statistics.
 * Route edits go through RouteAdmin, as the CLI and console make them. The
 * agent's update_timeout is 600 s, so within a test only a dns push (or the
 * re-subscription after a dns restart) can bring it a route edit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LarsClient } from '../../src/client/lars-client.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { openStore, RouteAdmin, type Store } from '../../src/store/index.js';
import { waitFor } from '../support/net.js';
import { lars, ServiceProcess } from './helpers.js';

const SERVICE_ADDR = /\b(?:listening|ready) addr=(\S+)/;
const AGENT_READY = /agent listening udp=127\.0\.0\.1:(\d+),(\d+),(\d+)/;

describe('lars agent end to end (dns, reporter, agent as processes)', () => {
  let dir = '';
  let storeUrl = '';
  let store: Store;
  let admin: RouteAdmin;
  let dns: ServiceProcess;
  let dnsAddr = '';
  let reporter: ServiceProcess;
  let agent: ServiceProcess;
  let agentArg = '';
  let client: LarsClient;

  const startDns = async (listen: string) => {
    const started = await ServiceProcess.start(
      ['dns', '--store', storeUrl, '--listen', listen, '--admin', 'off', '--set', 'dns.poll_interval_ms=200'],
      SERVICE_ADDR,
    );
    return { service: started.service, addr: started.match[1]! };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lars-agent-e2e-'));
    storeUrl = `sqlite:${join(dir, 'lars.db')}`;
    store = await openStore(storeUrl);
    admin = new RouteAdmin(store);
    await admin.addModule({ modid: 1, cmdid: 2, description: 'e2e' });
    await admin.addModule({ modid: 2, cmdid: 1, description: 'simulator' });
    await admin.addModule({ modid: 3, cmdid: 1, description: 'statistics' });
    for (let i = 1; i <= 5; i++) {
      await admin.addHost({ modid: 1, cmdid: 2, ip: `10.0.0.${i}`, port: 9000 + i });
      await admin.addHost({ modid: 2, cmdid: 1, ip: `10.0.1.${i}`, port: 9100 + i });
    }
    for (let i = 1; i <= 2; i++) await admin.addHost({ modid: 3, cmdid: 1, ip: `10.0.2.${i}`, port: 9200 + i });
    ({ service: dns, addr: dnsAddr } = await startDns('127.0.0.1:0'));
    const startedReporter = await ServiceProcess.start(['reporter', '--store', storeUrl, '--listen', '127.0.0.1:0', '--admin', 'off'], SERVICE_ADDR);
    reporter = startedReporter.service;
    const startedAgent = await ServiceProcess.start(
      [
        'agent',
        '--dns', dnsAddr,
        '--reporter', startedReporter.match[1]!,
        '--udp-base-port', '0',
        '--caller', '10.20.30.40',
        '--admin', 'off',
        '--set', 'agent.report_interval_s=0.2',
        '--set', 'reactor.reconnect_initial_ms=50',
        '--set', 'reactor.reconnect_max_ms=300',
        '--set', 'loadbalance.overload_timeout=2',
        '--set', 'loadbalance.update_timeout=600',
      ],
      AGENT_READY,
    );
    agent = startedAgent.service;
    const base = Number(startedAgent.match[1]);
    assert.deepEqual([Number(startedAgent.match[2]), Number(startedAgent.match[3])], [base + 1, base + 2]);
    agentArg = `127.0.0.1:${base}`;
    client = new LarsClient({ host: '127.0.0.1', basePort: base, timeoutMs: 2000 });
  });

  after(async () => {
    await client?.close();
    const codes = await Promise.all([agent?.stop(), reporter?.stop(), dns?.stop()]);
    await store?.close();
    await rm(dir, { recursive: true, force: true });
    assert.equal(codes[0], 0, 'the agent stops cleanly on SIGTERM');
  });

  test('lars gethost / getroute / report against the agent', async () => {
    const got = await lars(['gethost', '1', '2', '--agent', agentArg, '--json']);
    assert.equal(got.code, 0, got.stderr);
    const answer = JSON.parse(got.stdout) as { retcode: number; retcodeName: string; host: { ip: string; port: number } };
    assert.equal(answer.retcodeName, 'SUCC');
    assert.match(`${answer.host.ip}:${answer.host.port}`, /^10\.0\.0\.[1-5]:900[1-5]$/);

    const route = await lars(['getroute', '1', '2', '--agent', agentArg, '--json']);
    assert.equal(route.code, 0, route.stderr);
    const hosts = (JSON.parse(route.stdout) as { hosts: { ip: string; port: number }[] }).hosts;
    assert.deepEqual(hosts.map((h) => `${h.ip}:${h.port}`).sort(), [1, 2, 3, 4, 5].map((i) => `10.0.0.${i}:${9000 + i}`));

    const reported = await lars(['report', '1', '2', answer.host.ip, String(answer.host.port), '0', '--agent', agentArg]);
    assert.equal(reported.code, 0, reported.stderr);
    assert.match(reported.stdout, /^reported SUCC for 10\.0\.0\.\d:900\d of 1:2\n$/);

    const unknown = await lars(['gethost', '77', '1', '--agent', agentArg]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /NOEXIST: no host for 77:1/);
  });

  test('a route edit is pushed to the agent: getRoute shows it with no pull', async () => {
    assert.equal((await client.getRoute(1, 2)).length, 5);
    await admin.addHost({ modid: 1, cmdid: 2, ip: '10.0.0.6', port: 9006 });
    const hosts = await waitFor(async () => {
      const route = await client.getRoute(1, 2);
      return route.length === 6 ? route : undefined;
    }, { intervalMs: 50, message: 'the pushed route (6 hosts)' });
    assert.ok(hosts.some((h) => h.ip === '10.0.0.6' && h.port === 9006));
  });

  test('reported calls reach the store through the reporter, counted exactly with their durations (lars status)', async () => {
    const expected = new Map<string, { succ: number; err: number }>();
    const durations = new Map<string, number[]>();
    for (let i = 0; i < 20; i++) {
      const answer = await client.getHost(3, 1);
      assert.equal(answer.retcode, RetCode.SUCC);
      const ok = i % 4 !== 0;
      // Every other call says how long it took: 1.5, 3.5, ... ms.
      const durationMs = i % 2 === 1 ? i + 0.5 : undefined;
      client.report(3, 1, answer.host!, ok ? RetCode.SUCC : RetCode.SYSTEM_ERROR, { durationMs });
      const counts = expected.get(answer.host!.ip) ?? { succ: 0, err: 0 };
      counts[ok ? 'succ' : 'err']++;
      expected.set(answer.host!.ip, counts);
      if (durationMs !== undefined) durations.set(answer.host!.ip, [...(durations.get(answer.host!.ip) ?? []), durationMs]);
    }
    type Row = { ip: string; caller: string; succ: number; err: number; windowLatencyMs: number | null; windowMaxLatencyMs: number | null };
    type Point = { ip: string; succ: number; err: number };
    const totals = await waitFor(async () => {
      const series = await lars(['status', '3', '1', '--series', '1h', '--store', storeUrl, '--json']);
      if (series.code !== 0) return undefined;
      const sums = new Map<string, { succ: number; err: number }>();
      for (const point of (JSON.parse(series.stdout) as { points: Point[] }).points) {
        const sum = sums.get(point.ip) ?? { succ: 0, err: 0 };
        sum.succ += point.succ;
        sum.err += point.err;
        sums.set(point.ip, sum);
      }
      const reported = [...sums.values()].reduce((n, s) => n + s.succ + s.err, 0);
      return reported === 20 ? sums : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500, message: 'the 20 reported calls in the store' });
    const sorted = (counts: Map<string, { succ: number; err: number }>) => [...counts].sort(([a], [b]) => a.localeCompare(b));
    assert.deepEqual(sorted(totals), sorted(expected), 'per host, the successes and failures the client reported');
    assert.equal([...expected.values()].reduce((n, c) => n + c.err, 0), 5);
    const status = await lars(['status', '3', '1', '--store', storeUrl, '--json']);
    const rows = (JSON.parse(status.stdout) as { status: Row[] }).status;
    assert.deepEqual([...new Set(rows.map((row) => row.caller))], ['10.20.30.40'], 'the agent reports as its --caller');
    assert.deepEqual(rows.map((row) => row.ip).sort(), [...expected.keys()].sort());
    for (const row of rows) {
      const reported = durations.get(row.ip) ?? [];
      const mean = reported.length === 0 ? null : Math.round((1000 * reported.reduce((a, b) => a + b, 0)) / reported.length) / 1000;
      const longest = reported.length === 0 ? null : Math.max(...reported);
      assert.deepEqual([row.windowLatencyMs, row.windowMaxLatencyMs], [mean, longest], `${row.ip}: the mean and longest of the durations reported for it (${reported.join(', ')} ms)`);
    }
  });

  test('lars simulator: a host failing every call goes to overload and back (overload_timeout 2 s)', async () => {
    const run = await lars(['simulator', '2', '1', '0', '1000', '--fail', '10.0.1.3:9103', '--rate', '250', '--agent', agentArg, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as {
      hosts: { host: string; succ: number; err: number; probes: number; overloads: number; recoveries: number }[];
      transitions: { host: string; to: string; call: number }[];
    };
    const failing = result.hosts.find((h) => h.host === '10.0.1.3:9103')!;
    assert.ok(failing.overloads >= 1 && failing.recoveries >= 1, JSON.stringify(failing));
    assert.equal(failing.succ, 0);
    const moves = result.transitions.filter((t) => t.host === '10.0.1.3:9103').map((t) => t.to);
    assert.deepEqual(moves.slice(0, 2), ['overloaded', 'healthy']);
    // 15 failures in a row take it out (contin_err_limit), the healthy hosts never leave.
    for (const host of result.hosts.filter((h) => h.host !== '10.0.1.3:9103')) {
      assert.equal(host.overloads, 0, host.host);
      assert.equal(host.err, 0, host.host);
    }
  });

  test('lars simulator draws each host\'s share of the calls', async () => {
    const run = await lars(['simulator', '2', '1', '0', '300', '--agent', agentArg]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split('\n');
    const header = lines.findIndex((line) => line.startsWith('HOST '));
    assert.match(lines[header]!, /STATE +SHARE OF CALLS$/);
    const rows = lines.slice(header + 1).filter((line) => /^10\.0\.1\.\d:\d+ /.test(line));
    assert.equal(rows.length, 5);
    const shares = rows.map((row) => {
      const match = / (\d+\.\d)% (█*[▏▎▍▌▋▊▉]?)$/.exec(row);
      assert.ok(match, row);
      return Number(match[1]);
    });
    assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 100) < 0.5, `shares sum to 100: ${shares.join(' ')}`);
  });

  test('lars qps prints calls each second, a sparkline of them and the average; --json gives the figures', async () => {
    const run = await lars(['qps', '1', '2', '2', '--seconds', '2', '--agent', agentArg]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^second 1: \d+ calls\/s\nsecond 2: \d+ calls\/s\ncalls\/s over time: [▁▂▃▄▅▆▇█]{2} {2}\(min \d+, max \d+\)\naverage \d+ calls\/s over [\d.]+ s with 2 client\(s\) \(gethost\+report\); p50 [\d.]+ ms, p99 [\d.]+ ms/,
    );
    const json = await lars(['qps', '1', '2', '1', '--seconds', '1', '--gethost-only', '--agent', agentArg, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { mode: string; concurrency: number; calls: number; average: number; perSecond: number[] };
    assert.equal(doc.mode, 'gethost');
    assert.equal(doc.concurrency, 1);
    assert.equal(doc.perSecond.length, 1);
    assert.ok(doc.calls > 0 && doc.average > 0);
  });

  test('dns killed: the agent keeps serving; dns back on its port: routes are re-subscribed', async () => {
    await dns.stop('SIGKILL');
    for (let i = 0; i < 10; i++) assert.equal((await client.getHost(1, 2)).retcode, RetCode.SUCC);
    await admin.addHost({ modid: 1, cmdid: 2, ip: '10.0.0.7', port: 9007 });
    ({ service: dns } = await startDns(dnsAddr));
    // The new dns learns of the edit from the store; the agent sees it only if it re-subscribed.
    await admin.addHost({ modid: 1, cmdid: 2, ip: '10.0.0.8', port: 9008 });
    const hosts = await waitFor(async () => {
      const route = await client.getRoute(1, 2);
      return route.some((h) => h.ip === '10.0.0.8') ? route : undefined;
    }, { timeoutMs: 20_000, intervalMs: 100, message: 'the route with 10.0.0.8 after dns came back' });
    assert.equal(hosts.length, 8);
  });
});
