/**
 * An idle port sends the main thread nothing (docs/agent.md, "Design"): with
 * no traffic a PortServer posts no statistics batch however many intervals
 * pass, so a port thread never wakes the main thread for nothing; the first
 * request after the silence is counted in the next batch.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PortToMain } from '../../src/agent/port-thread-protocol.js';
import { PortServer } from '../../src/agent/port-server.js';
import { DEFAULT_LOADBALANCE_PARAMS } from '../../src/balancer/params.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { captureLogs, frameOf, RawUdpClient, waitFor } from '../support/net.js';

const REPORT_INTERVAL_MS = 20;
const logs = captureLogs();
const messages: PortToMain[] = [];
let server: PortServer;
let client: RawUdpClient;

before(async () => {
  server = new PortServer({
    index: 0,
    host: '127.0.0.1',
    params: { ...DEFAULT_LOADBALANCE_PARAMS },
    routeWaitMs: 0,
    maxUnknownRoutes: 100,
    reportIntervalMs: REPORT_INTERVAL_MS,
    recvBufferSize: 0,
    udpIo: 'auto',
    busyPollUs: 0,
    toMain: (message) => messages.push(message),
  });
  server.start();
  await server.handle({ type: 'listen', port: 0 });
  const listening = messages.find((m) => m.type === 'listening');
  assert.ok(listening?.type === 'listening');
  client = await RawUdpClient.open(listening.port);
});
after(async () => {
  await client.close();
  await server.stop();
  logs.restore();
});

const batches = () => messages.filter((m) => m.type === 'stats');

test('an idle port posts no statistics, interval after interval', async () => {
  await new Promise((resolve) => setTimeout(resolve, REPORT_INTERVAL_MS * 15));
  assert.deepEqual(batches(), []);
});

test('a request after the silence is in the next batch, and silence after it posts nothing again', async () => {
  client.send(frameOf(MsgId.GetHostRequest, { seq: 1, modid: 4, cmdid: 5 }));
  await client.nextMessage(MsgId.GetHostResponse);
  await waitFor(() => batches().length > 0, { message: 'a statistics batch' });
  const [first] = batches();
  assert.ok(first?.type === 'stats');
  assert.equal(first.counters.getHost, 1);
  const seen = batches().length;
  await new Promise((resolve) => setTimeout(resolve, REPORT_INTERVAL_MS * 15));
  assert.equal(batches().length, seen, 'nothing more once idle again');
});
