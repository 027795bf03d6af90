/**
 * The agent's two thread models (docs/agent.md, "Thread model"), each with
 * the real dns and reporter on one SQLite store: `threads = 1` serves the
 * three ports on the main thread, `threads = 3` gives each port a worker
 * thread. Either way every port answers its routes, reports reach the
 * reporter, a route edit is pushed to the port that owns the route, and
 * counters land on the agent's metrics per port.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/service.js';
import { intToIp, ipToInt32 } from '../../src/protocol/ip.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { RawUdpClient, waitFor } from '../support/net.js';
import { startPortRouteServices, type PortRouteServices } from '../support/port-routes.js';
import { startAgentHere, type LocalService } from '../support/services.js';

let services: PortRouteServices;

before(async () => {
  services = await startPortRouteServices(7, ['dns.poll_interval_ms=50']);
});
after(() => services?.stop());

for (const threads of [1, 3] as const) {
  describe(`[agent] threads = ${threads}`, () => {
    let agent: LocalService<Agent>;
    let clients: RawUdpClient[] = [];

    before(async () => {
      agent = await startAgentHere({ dns: services.dns.addr, reporter: services.reporter.addr, set: [`agent.threads=${threads}`, 'agent.report_interval_s=0.1'] });
      clients = await Promise.all(agent.service.ports.map((port) => RawUdpClient.open(port)));
    });
    after(async () => {
      for (const client of clients) await client.close();
      await agent?.stop();
    });

    test('the agent says which model runs; port lines come from the main thread only with threads = 1', () => {
      assert.equal(agent.service.threads, threads);
      assert.equal(agent.service.health().threads, threads);
      const portLines = agent.lines.filter((line) => / udp_port port=\d+ io=/.test(line));
      assert.equal(portLines.length, threads === 1 ? 3 : 0, portLines.join('\n'));
    });

    test('each port answers the route it owns, and counts it under its own port', async () => {
      for (const [index, route] of services.routes.entries()) {
        const client = clients[index]!;
        client.sendMessage(MsgId.GetHostRequest, { seq: 40 + index, ...route });
        const answer = await client.nextMessage(MsgId.GetHostResponse);
        assert.equal(answer.retcode, RetCode.SUCC, `route ${route.modid}/${route.cmdid}`);
        assert.equal(answer.seq, 40 + index);
        assert.deepEqual({ ip: intToIp(answer.host!.ip), port: answer.host!.port }, services.hostOf(index));
      }
      for (const port of agent.service.ports) {
        const counted = new RegExp(`^lars_agent_requests_total\\{kind="gethost",port="${port}"\\} 1$`, 'm');
        await waitFor(() => counted.test(agent.metrics.render()), { message: `one getHost counted on port ${port}` });
      }
    });

    test('reported calls reach the reporter from every port', async () => {
      const before = services.reporter.service.stats().resultsWritten;
      for (const [index, route] of services.routes.entries()) {
        const { ip, port } = services.hostOf(index);
        clients[index]!.sendMessage(MsgId.ReportRequest, { ...route, host: { ip: ipToInt32(ip), port }, retcode: RetCode.SUCC });
      }
      await waitFor(() => services.reporter.service.stats().resultsWritten >= before + services.routes.length, { message: 'three results stored' });
    });

    test('a route edit is pushed to the port that owns the route', async () => {
      const route = services.routes[2]!;
      const added = { ip: '10.7.9.9', port: 7999 + threads };
      await services.admin.addHost({ ...route, ...added });
      await waitFor(
        async () => {
          clients[2]!.sendMessage(MsgId.ApiGetRouteRequest, route);
          const answer = await clients[2]!.nextMessage(MsgId.ApiGetRouteResponse);
          return answer.host.some((h) => intToIp(h.ip) === added.ip && h.port === added.port);
        },
        { message: 'the new host in the route' },
      );
      await services.admin.delHost({ ...route, ...added });
    });
  });
}
