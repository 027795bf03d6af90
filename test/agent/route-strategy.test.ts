/**
 * A module's strategy end to end (docs/balancer.md, "Per-route strategy"):
 * dns and the agent started here on one SQLite store, the agent with
 * update_timeout 600 s so only dns's pushes can bring an edit. Setting the
 * module's strategy switches the agent's route to it (its route view and
 * route status say so), "default" switches it back, and a name the agent
 * does not know (written behind RouteAdmin, as a newer lars would) serves
 * the agent's own strategy and is counted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/service.js';
import type { DnsService } from '../../src/dns/service.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { kyselyOf, openStore, type Store } from '../../src/store/store.js';
import { RawUdpClient, waitFor } from '../support/net.js';
import { startAgentHere, startDnsHere, type LocalService } from '../support/services.js';

// (3 + 3) % 3 = 0: the agent's base port serves this route.
const ROUTE = { modid: 3, cmdid: 3 };
const UNKNOWN = 'adaptive_v9';

let dir = '';
let store: Store;
let admin: RouteAdmin;
let dns: LocalService<DnsService>;
let agent: LocalService<Agent>;
let client: RawUdpClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-route-strategy-'));
  const url = `sqlite:${join(dir, 'lars.db')}`;
  store = await openStore(url);
  admin = new RouteAdmin(store);
  await admin.addModule(ROUTE);
  await admin.addHost({ ...ROUTE, ip: '10.3.0.1', port: 3001 });
  await admin.addHost({ ...ROUTE, ip: '10.3.0.2', port: 3002 });
  dns = await startDnsHere({ store, set: ['dns.poll_interval_ms=50'] });
  agent = await startAgentHere({
    dns: dns.addr,
    reporter: '127.0.0.1:1',
    set: ['agent.route_wait_ms=10000', 'agent.report_interval_s=0.1', 'loadbalance.update_timeout=600'],
  });
  client = await RawUdpClient.open(agent.port);
});
after(async () => {
  await client?.close();
  await agent?.stop();
  await dns?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The strategy the agent's route runs, from its route view. */
async function viewStrategy(): Promise<string | null | undefined> {
  return (await agent.service.routes()).find((r) => r.modid === ROUTE.modid && r.cmdid === ROUTE.cmdid)?.strategy;
}

/** Waits until the agent's route view shows the strategy, then checks route status (101) agrees and a getHost succeeds. */
async function expectStrategy(strategy: string): Promise<void> {
  await waitFor(async () => (await viewStrategy()) === strategy, { timeoutMs: 30_000, message: `the agent's route to run ${strategy}` });
  client.sendMessage(MsgId.RouteStatusRequest, ROUTE);
  const status = await client.nextMessage(MsgId.RouteStatusResponse);
  assert.deepEqual([status.status, status.strategy, status.hosts.length], ['active', strategy, 2]);
  client.sendMessage(MsgId.GetHostRequest, { seq: 9, ...ROUTE });
  assert.equal((await client.nextMessage(MsgId.GetHostResponse)).retcode, RetCode.SUCC);
}

test("setting a module's strategy switches the agent's route to it, and default switches it back", async () => {
  client.sendMessage(MsgId.GetHostRequest, { seq: 1, ...ROUTE });
  assert.equal((await client.nextMessage(MsgId.GetHostResponse)).retcode, RetCode.SUCC);
  assert.equal(await viewStrategy(), 'lars', "without an override the agent's own [loadbalance] strategy");

  await admin.updateModule({ ...ROUTE, strategy: 'least_request' });
  await expectStrategy('least_request');

  // The agent's answer to a client (API_GetRoute, id 8) never carries the strategy: it is Lars's bytes.
  client.sendMessage(MsgId.ApiGetRouteRequest, ROUTE);
  const route = await client.nextDatagram();
  assert.equal(route.readInt32LE(0), MsgId.ApiGetRouteResponse);
  assert.equal(route.includes(Buffer.from('least_request')), false);

  await admin.updateModule({ ...ROUTE, strategy: 'consistent_hash' });
  await expectStrategy('consistent_hash');
  await admin.updateModule({ ...ROUTE, strategy: 'default' });
  await expectStrategy('lars');
});

test('a strategy the agent does not know serves its own strategy and is counted', async () => {
  await admin.updateModule({ ...ROUTE, strategy: 'weighted_round_robin' });
  await expectStrategy('weighted_round_robin');
  // A newer lars may store a name this one does not know; the next edit of the module makes dns read it.
  await kyselyOf(store).updateTable('modules').set({ strategy: UNKNOWN }).where('modid', '=', ROUTE.modid).where('cmdid', '=', ROUTE.cmdid).execute();
  await admin.updateModule({ ...ROUTE, description: 'named by a newer lars' });
  await expectStrategy('lars');
  await waitFor(() => /lars_agent_events_total\{kind="unknown_strategy"\} 1\n/.test(agent.metrics.render()), {
    timeoutMs: 30_000,
    message: 'the unknown strategy counted once',
  });
});
