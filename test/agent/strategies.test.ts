/**
 * The agent's other strategies through the wire extensions: the affinity key
 * (GetHostRequest field 4) with consistent_hash, where equal keys land on the
 * same host, and route weights (HostInfo field 3) with weighted_round_robin.
 * Request bytes without the extensions are exactly Lars's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../src/agent/service.js';
import { LarsClient } from '../../src/client/lars-client.js';
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

test('weighted_round_robin: dns weights 3 and 1 split the traffic 3 to 1', async () => {
  const weightedAgent = await testAgent({
    dns: [{ host: '127.0.0.1', port: dns.port }],
    reporter: [{ host: '127.0.0.1', port: reporter.port }],
    loadbalance: { strategy: 'weighted_round_robin' },
  });
  // (5 + 1) % 3 = 0: the first port.
  const weightedClient = new LarsClient({ basePort: weightedAgent.ports[0]! });
  try {
    const counts = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const answer = await weightedClient.getHost(5, 1);
      assert.equal(answer.retcode, RetCode.SUCC);
      counts.set(answer.host!.ip, (counts.get(answer.host!.ip) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), { '10.0.0.1': 30, '10.0.0.2': 10 });
  } finally {
    await weightedClient.close();
    await weightedAgent.close();
  }
});

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
