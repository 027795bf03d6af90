/**
 * The agent benchmark's C programs, run for real: bench/clients/qps.c (a
 * Lars client that shares no code with the agent) against `lars agent` and
 * against bench/clients/null-agent.c, synchronous and pipelined. Guards the
 * benchmark's tools and shows an independent client's getHost and report
 * datagrams being understood by the agent. Asserts only what load cannot
 * change: a request can time out on a busy machine (qps asks again), but
 * every answer is SUCC and every report of an answered call is counted.
 * Without a C compiler this is skipped, saying why; under CI=true it fails.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LarsClient } from '../../src/client/lars-client.js';
import { openStore, RouteAdmin } from '../../src/store/index.js';
import { portOf, REPO, startLars, type LarsProcess } from '../support/cli.js';
import { waitFor } from '../support/net.js';
import { describeIfAvailable } from '../support/prerequisites.js';
import type { QpsResult } from '../../bench/clients/qps-result.js';

const MODID = 1;
const CMDID = 2;

function compilerMissing(): string | false {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'no C compiler (cc) on this machine: the benchmark clients cannot be built';
  }
}

/** qps HOST BASE 1 2 THREADS 1 MODE 0 DEPTH; resolves with its final JSON line. */
function runQps(binary: string, base: number, threads: number, mode: 'loop' | 'gethost', depth: number): Promise<QpsResult> {
  const args = ['127.0.0.1', String(base), String(MODID), String(CMDID), String(threads), '1', mode, '0', String(depth)];
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`qps ${args.join(' ')}: ${err.message} ${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as QpsResult);
    });
  });
}

describeIfAvailable('the agent benchmark clients (bench/clients/*.c)', compilerMissing(), () => {
  let dir = '';
  let qps = '';
  let nullAgent: ChildProcess | undefined;
  let nullBase = 0;
  const services: LarsProcess[] = [];
  let agentBase = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lars-bench-clients-'));
    qps = join(dir, 'qps');
    const nullBinary = join(dir, 'null-agent');
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-pthread', '-o', qps, join(REPO, 'bench/clients/qps.c')]);
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-pthread', '-o', nullBinary, join(REPO, 'bench/clients/null-agent.c')]);

    nullAgent = spawn(nullBinary, ['127.0.0.1', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    nullBase = await new Promise<number>((resolve, reject) => {
      nullAgent!.once('exit', (code) => reject(new Error(`null-agent exited ${code}`)));
      nullAgent!.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(Number(/^ready (\d+)/.exec(line)?.[1])));
    });

    const storeUrl = `sqlite:${join(dir, 'lars.db')}`;
    const store = await openStore(storeUrl);
    const admin = new RouteAdmin(store);
    await admin.addModule({ modid: MODID, cmdid: CMDID, description: 'bench clients' });
    for (let h = 1; h <= 3; h++) await admin.addHost({ modid: MODID, cmdid: CMDID, ip: `10.9.0.${h}`, port: 7000 + h });
    await store.close();
    const dns = await startLars(['dns', '--store', storeUrl, '--listen', '127.0.0.1:0', '--admin', 'off']);
    services.push(dns);
    const reporter = await startLars(['reporter', '--store', storeUrl, '--listen', '127.0.0.1:0', '--admin', 'off']);
    services.push(reporter);
    const agent = await startLars([
      'agent', '--dns', dns.ready.addr!, '--reporter', reporter.ready.addr!, '--udp-base-port', '0', '--admin', 'off',
      // No window ends during the test, so the agent's counters hold every report.
      '--set', 'loadbalance.idle_timeout=600', '--set', 'loadbalance.update_timeout=600',
    ]);
    services.push(agent);
    agentBase = portOf(agent.ready.udp!.split(',')[0]!);
  });

  after(async () => {
    nullAgent?.kill();
    for (const service of services.reverse()) await service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('the null responder answers the C client, synchronous and pipelined', async () => {
    for (const depth of [1, 4]) {
      const result = await runQps(qps, nullBase, 2, 'loop', depth);
      assert.equal(result.depth, depth);
      assert.equal(result.threads, 2);
      assert.ok(result.calls > 0, `depth ${depth}: some calls complete`);
      assert.equal(result.not_succ, 0, `depth ${depth}: every answer is SUCC`);
    }
  });

  test('lars agent serves the independent C client; every report it sends is counted', async () => {
    const client = new LarsClient({ host: '127.0.0.1', basePort: agentBase, timeoutMs: 2000 });
    try {
      const succeeded = async (): Promise<number> =>
        (await client.routeStatus(MODID, CMDID)).hosts.reduce((sum, host) => sum + (host.rsucc ?? 0), 0);
      let calls = 0;
      for (const [mode, depth] of [['gethost', 1], ['loop', 1], ['loop', 4]] as const) {
        const result = await runQps(qps, agentBase, 2, mode, depth);
        assert.ok(result.calls > 0, `${mode} depth ${depth}: some calls complete`);
        assert.equal(result.not_succ, 0, `${mode} depth ${depth}: every answer is SUCC`);
        if (mode === 'loop') calls += result.calls;
      }
      const status = await client.routeStatus(MODID, CMDID);
      assert.equal(status.status, 'active');
      assert.deepEqual(status.hosts.map((h) => `${h.ip}:${h.port}`).sort(), ['10.9.0.1:7001', '10.9.0.2:7002', '10.9.0.3:7003']);
      await waitFor(async () => ((await succeeded()) === calls ? true : undefined), {
        timeoutMs: 5000,
        message: `the agent's success counts reach the ${calls} reported calls`,
      });
    } finally {
      await client.close();
    }
  });
});
