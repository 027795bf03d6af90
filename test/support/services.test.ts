/**
 * The in-process services of services.ts do what the `lars` processes do
 * for each other: the agent pulls a route from dns and sends the calls it
 * is told about to the reporter, which writes them to the store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipToInt32 } from '../../src/protocol/ip.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { openStore } from '../../src/store/store.js';
import { RawUdpClient, waitFor } from './net.js';
import { startAgentHere, startDnsHere, startReporterHere, type LocalService } from './services.js';

// (2 + 1) % 3 = 0: the agent's base port serves this route.
const ROUTE = { modid: 2, cmdid: 1 };

let dir = '';
let url = '';
const running: LocalService<unknown>[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-services-'));
  url = `sqlite:${join(dir, 'lars.db')}`;
  const store = await openStore(url);
  const routes = new RouteAdmin(store);
  await routes.addModule({ ...ROUTE, description: 'in-process' });
  await routes.addHost({ ...ROUTE, ip: '10.2.0.1', port: 2001 });
  await store.close();
});
after(async () => {
  for (const service of running.reverse()) await service.stop();
  await rm(dir, { recursive: true, force: true });
});

test('dns, reporter and agent started here serve a getHost and carry its report to the store', async () => {
  const dns = await startDnsHere({ store: url });
  running.push(dns);
  const reporter = await startReporterHere({ store: url });
  running.push(reporter);
  // The first request for the route waits for dns however busy the machine is.
  const agent = await startAgentHere({ dns: dns.addr, reporter: reporter.addr, set: ['agent.route_wait_ms=10000', 'agent.report_interval_s=0.1'] });
  running.push(agent);
  assert.match(dns.addr, /^127\.0\.0\.1:\d+$/);
  assert.equal(agent.service.ports[0], agent.port);

  const client = await RawUdpClient.open(agent.port);
  try {
    client.sendMessage(MsgId.GetHostRequest, { seq: 1, ...ROUTE, key: '' });
    const answer = await client.nextMessage(MsgId.GetHostResponse);
    assert.equal(answer.retcode, RetCode.SUCC);
    assert.deepEqual([answer.host?.ip, answer.host?.port], [ipToInt32('10.2.0.1'), 2001]);

    client.sendMessage(MsgId.ReportRequest, { ...ROUTE, host: answer.host!, retcode: RetCode.SUCC });
    await waitFor(() => reporter.service.stats().resultsWritten >= 1, { timeoutMs: 30_000, message: 'the report in the store' });
    assert.ok(await agent.waitForLine(new RegExp(` info agent\\.dns connected address=${dns.addr} `)));
  } finally {
    await client.close();
  }
});
