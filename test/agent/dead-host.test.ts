/**
 * The `dead` scenario through the real agent over UDP (docs/simulator.md,
 * docs/balancer.md): a route of five hosts from a real dns, one of them
 * failing every call, getHost+report at a fixed rate. With the lars strategy
 * the dead host gets exactly Lars's C++ figures: 15 failures in a row
 * overload it, then one request in probe_num + 1 probes it. With adaptive it
 * gets the three failures that eject it and then no more than the probe
 * budget (one call in 1/probe_share).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/service.js';
import { LarsClient } from '../../src/client/lars-client.js';
import type { StrategyName } from '../../src/balancer/types.js';
import { DEFAULT_LOADBALANCE_PARAMS } from '../../src/balancer/params.js';
import { driveDeadHost } from '../support/dead-host.js';
import { RawFrameServer, realDns, testAgent } from './helpers.js';

const MODID = 41;
const CMDID = 1;
const HOSTS = [1, 2, 3, 4, 5].map((n) => ({ ip: `10.0.41.${n}`, port: 9100 + n }));
const DEAD = HOSTS[2]!;
const RATE = 1000;
const CALLS = 4000;

let dns: Awaited<ReturnType<typeof realDns>>;
let reporter: RawFrameServer;

before(async () => {
  dns = await realDns();
  reporter = await RawFrameServer.start();
  await dns.admin.addModule({ modid: MODID, cmdid: CMDID, description: 'dead host' });
  for (const host of HOSTS) await dns.admin.addHost({ modid: MODID, cmdid: CMDID, ...host });
  await dns.sync();
});
after(async () => {
  await reporter.close();
  await dns.close();
});

async function withAgent<T>(strategy: StrategyName, run: (client: LarsClient, agent: Agent) => Promise<T>): Promise<T> {
  const agent = await testAgent({
    dns: [{ host: '127.0.0.1', port: dns.port }],
    reporter: [{ host: '127.0.0.1', port: reporter.port }],
    loadbalance: { strategy },
  });
  const client = new LarsClient({ basePort: agent.ports[0]!, timeoutMs: 2000 });
  try {
    return await run(client, agent);
  } finally {
    await client.close();
    await agent.close();
  }
}

test('lars: 15 failures in a row, then one request in probe_num + 1 (Lars C++)', async () => {
  const run = await withAgent('lars', (client) => driveDeadHost(client, { modid: MODID, cmdid: CMDID, dead: DEAD, rate: RATE, calls: CALLS }));
  assert.equal(run.noHost, 0);
  const { contin_err_limit: overloadAfter, probe_num: probeNum } = DEFAULT_LOADBALANCE_PARAMS;
  // Round robin over five hosts until the 15th failure: about 75 calls; then every 11th.
  const expected = overloadAfter + (CALLS - overloadAfter * HOSTS.length) / (probeNum + 1);
  assert.ok(Math.abs(run.toDead - expected) <= 2, `dead host got ${run.toDead} of ${CALLS} calls, Lars's rule gives ${expected.toFixed(1)}`);
});

test('adaptive: three failures eject the dead host, then only budgeted probes reach it', async () => {
  await withAgent('adaptive', async (client) => {
    const run = await driveDeadHost(client, { modid: MODID, cmdid: CMDID, dead: DEAD, rate: RATE, calls: CALLS });
    assert.equal(run.noHost, 0);
    const probes = Math.ceil(CALLS * DEFAULT_LOADBALANCE_PARAMS.probe_share);
    assert.ok(run.toDead >= 1 && run.toDead <= DEFAULT_LOADBALANCE_PARAMS.eject_consecutive + probes, `dead host got ${run.toDead} of ${CALLS} calls`);
    const status = await client.routeStatus(MODID, CMDID);
    assert.equal(status.strategy, 'adaptive');
    const dead = status.hosts.find((h) => h.ip === DEAD.ip && h.port === DEAD.port)!;
    assert.equal(dead.overloaded, true, 'ejected');
    assert.ok(dead.ejections! >= 1);
    const healthy = status.hosts.filter((h) => h !== dead);
    assert.ok(healthy.every((h) => !h.overloaded && h.latencyMs! > 0), 'the others are in, with the durations the client reported');
  });
});
