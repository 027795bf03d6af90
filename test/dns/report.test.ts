/**
 * What a dns reports with its liveness beat for the console's Connected page
 * (docs/console.md, "Connected"): its route version, connections, and each
 * subscribed agent with its routes and last push, read back from the store
 * on every engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsgId } from '../../src/protocol/msgid.js';
import { InstanceRegistry } from '../../src/store/registry.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { forEachEngine } from '../support/engines.js';
import { jsonOutput, lars } from '../support/cli.js';
import { RawTcpClient, waitFor } from '../support/net.js';
import { startDnsHere } from '../support/services.js';

await forEachEngine('dns report for people', (store, _engine, { url }) => {
  test('a subscribed agent shows in its dns report with its routes and, after an edit, its last push; the route version is the one served', async () => {
    const admin = new RouteAdmin(store);
    await admin.addModule({ modid: 80, cmdid: 1 });
    await admin.addModule({ modid: 80, cmdid: 2 });
    const dns = await startDnsHere({ store: url, set: ['registry.node_heartbeat_ms=100', 'dns.poll_interval_ms=100'] });
    const agent = await RawTcpClient.connect(dns.port);
    try {
      agent.send(MsgId.GetRouteRequest, { modid: 80, cmdid: 1 });
      agent.send(MsgId.GetRouteRequest, { modid: 80, cmdid: 2 });
      const registry = new InstanceRegistry(store);
      const mine = async () => (await registry.nodeViews()).find((n) => n.nodeId === dns.service.health().node);
      const peer = () => mine().then((n) => n?.report?.peers.find((p) => p.address === `127.0.0.1:${agent.localPort}`));
      const subscribed = await waitFor(async () => ((await peer())?.routes === 2 ? peer() : undefined), { message: 'the agent in the report with its two routes' });
      assert.ok(Math.abs(subscribed!.since - Date.now() / 1000) < 60, 'connected since');
      const editedAt = Math.floor(Date.now() / 1000);
      const version = await admin.addHost({ modid: 80, cmdid: 1, ip: '10.80.0.1', port: 80 });
      await waitFor(async () => ((await peer())?.lastPushAt ?? 0) >= editedAt, { message: 'the push of the edit in the report' });
      const node = await waitFor(async () => ((await mine())?.report?.routeVersion === version ? mine() : undefined), { message: 'the served route version' });
      assert.deepEqual([node!.report!.connections, node!.report!.subscribedRoutes, node!.report!.morePeers], [1, 2, 0]);
      assert.equal(node!.address, `127.0.0.1:${dns.port}`, 'the bound port, not 0');
      // The same from the command line.
      const cli = jsonOutput(await lars(['connected', '--store', url, '--json'])) as { dns: { nodeId: string; report: { peers: { address: string }[] } }[] };
      assert.ok(cli.dns.find((n) => n.nodeId === node!.nodeId)?.report.peers.some((p) => p.address === `127.0.0.1:${agent.localPort}`));
      const table = await lars(['connected', '--store', url]);
      assert.match(table.stdout, new RegExp(`\\nagents of ${node!.nodeId}:\\nAGENT +CONNECTED +ROUTES +LAST PUSH\\n127\\.0\\.0\\.1:${agent.localPort} `));
    } finally {
      await agent.close();
      await dns.stop();
    }
  });
});
