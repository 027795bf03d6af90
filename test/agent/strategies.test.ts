/**
 * The agent's other strategies through the wire extensions: the affinity key
 * (GetHostRequest field 4) with consistent_hash, where equal keys land on the
 * same host, and route weights (HostInfo field 3) with weighted_round_robin.
 * Request bytes without the extensions are exactly Lars's. least_request
 * needs no extension: it counts getHost answers not yet reported.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/service.js';
import { LarsClient, type Host } from '../../src/client/lars-client.js';
import { encodeBody } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { hexBytes } from '../support/net.js';
import { fakeDns, RawFrameServer, testAgent } from './helpers.js';

// (4, 2) -> 10.0.0.1:9001, 10.0.0.2:9001, 10.0.0.3:9001, written out by hand.
const HOSTS = ['08 81 80 80 50 10 a9 46', '08 82 80 80 50 10 a9 46', '08 83 80 80 50 10 a9 46'];
const ROUTE = hexBytes(`02 00 00 00  22 00 00 00  08 04 10 02 ${HOSTS.map((h) => `1a 08 ${h}`).join(' ')}`);
// (5, 1) -> 10.0.0.1:9001 weight 3 (field 3), 10.0.0.2:9001 weight 1 (left out, as dns does).
const WEIGHTED_ROUTE = hexBytes(`02 00 00 00  1a 00 00 00  08 05 10 01 1a 0a ${HOSTS[0]} 18 03 1a 08 ${HOSTS[1]}`);

let dns: RawFrameServer;
let reporter: RawFrameServer;
let agent: Agent;
let client: LarsClient;

before(async () => {
  dns = await fakeDns({ '08041002': ROUTE, '08051001': WEIGHTED_ROUTE });
  reporter = await RawFrameServer.start();
  agent = await testAgent({
    dns: [{ host: '127.0.0.1', port: dns.port }],
    reporter: [{ host: '127.0.0.1', port: reporter.port }],
    loadbalance: { strategy: 'consistent_hash' },
  });
  client = new LarsClient({ basePort: agent.ports[0]! });
});
after(async () => {
  await client.close();
  await agent.close();
  await dns.close();
  await reporter.close();
});

/** A second agent with another strategy; both routes of this file are on its first port ((5 + 1) % 3 = (4 + 2) % 3 = 0). */
async function withStrategy(strategy: 'weighted_round_robin' | 'least_request', run: (client: LarsClient) => Promise<void>): Promise<void> {
  const strategyAgent = await testAgent({
    dns: [{ host: '127.0.0.1', port: dns.port }],
    reporter: [{ host: '127.0.0.1', port: reporter.port }],
    loadbalance: { strategy },
  });
  const strategyClient = new LarsClient({ basePort: strategyAgent.ports[0]! });
  try {
    await run(strategyClient);
  } finally {
    await strategyClient.close();
    await strategyAgent.close();
  }
}

/** Calls getHost `calls` times (each answer must be SUCC, and goes to onHost); returns the calls per ip. */
async function tallyHosts(client: LarsClient, modid: number, cmdid: number, calls: number, onHost: (host: Host) => void = () => {}): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < calls; i++) {
    const answer = await client.getHost(modid, cmdid);
    assert.equal(answer.retcode, RetCode.SUCC);
    counts[answer.host!.ip] = (counts[answer.host!.ip] ?? 0) + 1;
    onHost(answer.host!);
  }
  return counts;
}

test('weighted_round_robin: dns weights 3 and 1 split the traffic 3 to 1', () =>
  withStrategy('weighted_round_robin', async (weightedClient) => {
    assert.deepEqual(await tallyHosts(weightedClient, 5, 1, 40), { '10.0.0.1': 30, '10.0.0.2': 10 });
  }));

test('least_request: a host whose calls are never reported gets no more calls while others answer', () =>
  // Reports travel on the getHost socket, so each arrives before the next getHost.
  withStrategy('least_request', async (leastClient) => {
    // 10.0.0.1 is "slow": its call never finishes; the others report at once.
    const counts = await tallyHosts(leastClient, 4, 2, 30, (host) => {
      if (host.ip !== '10.0.0.1') leastClient.report(4, 2, host, RetCode.SUCC);
    });
    assert.equal(counts['10.0.0.1'], 1, 'only the first call went to the slow host');
    assert.equal(counts['10.0.0.2']! + counts['10.0.0.3']!, 29);
    assert.ok(Math.abs(counts['10.0.0.2']! - counts['10.0.0.3']!) <= 1, 'the two answering hosts take turns');
  }));

test('a GetHostRequest without a key encodes as Lars does; a key adds field 4', () => {
  assert.deepEqual(Buffer.from(encodeBody(MsgId.GetHostRequest, { seq: 1, modid: 4, cmdid: 2 })), hexBytes('08 01 10 04 18 02'));
  assert.deepEqual(Buffer.from(encodeBody(MsgId.GetHostRequest, { seq: 1, modid: 4, cmdid: 2, key: 'u1' })), hexBytes('08 01 10 04 18 02 22 02 75 31'));
});

test('with consistent_hash, equal keys get the same host and different keys spread', async () => {
  const hostFor = async (key: string) => {
    const answer = await client.getHost(4, 2, { key });
    assert.equal(answer.retcode, RetCode.SUCC);
    return `${answer.host!.ip}:${answer.host!.port}`;
  };
  const first = await hostFor('user-7');
  for (let i = 0; i < 20; i++) assert.equal(await hostFor('user-7'), first, 'the same key stays on its host');
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) seen.add(await hostFor(`user-${i}`));
  assert.equal(seen.size, 3, `60 keys over 3 hosts reached ${[...seen].join(', ')}`);
});
