/**
 * Fuzzed frames thrown at running services (docs/protocol.md, "Fuzzing"): a
 * dns (its TcpServer) and an agent (its three UDP ports, on the native batch
 * path when the addon is built, node:dgram otherwise) started here on one
 * SQLite store get mutated frames and random bytes from a seeded generator;
 * afterwards both still answer a good client. FUZZ_SEED=N replays a run,
 * FUZZ_ITERATIONS sets the number of datagrams (a sixtieth: connections).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Agent } from '../../src/agent/service.js';
import { LarsClient } from '../../src/client/lars-client.js';
import type { DnsService } from '../../src/dns/service.js';
import { AGENT_PORT_COUNT } from '../../src/protocol/agent-ports.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { chooseIo } from '../../src/reactor/udp-port.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { openStore, type Store } from '../../src/store/store.js';
import { routeOf } from '../support/dns-route.js';
import { mutate, randomBytes, validFrames } from '../support/fuzz.js';
import { RawTcpClient, RawUdpClient, seededRandom, waitFor } from '../support/net.js';
import { startAgentHere, startDnsHere, type LocalService } from '../support/services.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
// Scaled by FUZZ_ITERATIONS as `npm run fuzz` sets it; npm test's default takes a few seconds.
const DATAGRAMS = Number(process.env.FUZZ_ITERATIONS ?? 20_000);
const CONNECTIONS = Math.ceil(DATAGRAMS / 60);
const ROUTE = { modid: 1, cmdid: 2 };

let dir = '';
let store: Store;
let dns: LocalService<DnsService>;
let agent: LocalService<Agent>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-fuzz-services-'));
  store = await openStore(`sqlite:${join(dir, 'lars.db')}`);
  const admin = new RouteAdmin(store);
  await admin.addModule(ROUTE);
  await admin.addHost({ ...ROUTE, ip: '10.1.0.1', port: 1001 });
  dns = await startDnsHere({ store, set: ['dns.poll_interval_ms=50'] });
  agent = await startAgentHere({ dns: dns.addr, reporter: '127.0.0.1:1', set: ['agent.route_wait_ms=10000'] });
});
after(async () => {
  await agent?.stop();
  await dns?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A mutated valid frame, or (one time in five) random bytes. */
function fuzzedFrame(random: () => number): Buffer {
  if (random() < 0.2) return randomBytes(random, 1 + Math.floor(random() * 64));
  return mutate(random, validFrames[Math.floor(random() * validFrames.length)]!);
}

test(`dns answers a good client after ${CONNECTIONS} connections of fuzzed frames (seed ${SEED})`, async () => {
  const random = seededRandom(SEED + 3);
  for (let n = 0; n < CONNECTIONS; n++) {
    const attacker = await RawTcpClient.connect(dns.port);
    for (let i = 0; i < 1 + random() * 8; i++) attacker.write(fuzzedFrame(random));
    await attacker.close();
  }
  const hosts = await routeOf(dns.port, ROUTE.modid, ROUTE.cmdid);
  assert.ok(hosts.has('10.1.0.1:1001'), `the route after fuzzing: ${JSON.stringify([...hosts])}`);
});

test(`the agent's ports answer a good client after ${DATAGRAMS} fuzzed datagrams (seed ${SEED})`, async (t) => {
  const io = chooseIo({ host: '127.0.0.1', io: 'auto' });
  t.diagnostic(`the agent reads its ports with ${io.io === 'native' ? 'the native batch path' : `node:dgram (${io.reason})`}`);
  const random = seededRandom(SEED + 4);
  const attackers = await Promise.all(agent.service.ports.map((port) => RawUdpClient.open(port)));
  try {
    for (let n = 0; n < DATAGRAMS; n++) {
      attackers[n % AGENT_PORT_COUNT]!.send(fuzzedFrame(random));
      // Sends are queued by node: yield now and then, so the agent reads them as they come.
      if (n % 100 === 99) await yieldToLoop();
    }
  } finally {
    await Promise.all(attackers.map((a) => a.close()));
  }
  const client = new LarsClient({ host: '127.0.0.1', basePort: agent.port, timeoutMs: 2000 });
  try {
    const answer = await waitFor(async () => {
      const got = await client.getHost(ROUTE.modid, ROUTE.cmdid).catch(() => undefined);
      return got?.retcode === RetCode.SUCC ? got : undefined;
    }, { timeoutMs: 15_000, message: 'the agent to answer getHost after fuzzing' });
    assert.equal(answer.host.port, 1001);
  } finally {
    await client.close();
  }
});
