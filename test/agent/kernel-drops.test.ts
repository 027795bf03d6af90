/**
 * Kernel drops on the agent's UDP ports (docs/agent.md, "Kernel drops"): the
 * /proc/net/udp parser on hand-written lines, then a real agent with a tiny
 * receive buffer flooded over loopback, its /metrics against /proc.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Agent } from '../../src/agent/service.js';
import { parseUdpDrops, readUdpDrops } from '../../src/agent/kernel-drops.js';
import { frameOf, captureLogs, waitFor } from '../support/net.js';
import { startAgentHere, type LocalService } from '../support/services.js';
import { flood } from '../support/udp-flood.js';
import { MsgId } from '../../src/protocol/msgid.js';

const logs = captureLogs('info');
after(() => logs.restore());

test('parseUdpDrops sums the last column per local port, of the given inodes only, and skips what is not a socket line', () => {
  const text = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    ' 1021: 0100007F:22B8 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41231 2 0000000000000000 3',
    ' 1022: 0100007F:22B8 00000000:0000 07 00000000:00000A00 00:00000000 00000000     0        0 41232 2 0000000000000000 4',
    ' 1023: 00000000:22B9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41233 2 0000000000000000 0',
    'garbage',
    '',
  ].join('\n');
  assert.deepEqual([...parseUdpDrops(text)], [[0x22b8, 7], [0x22b9, 0]]);
  assert.deepEqual([...parseUdpDrops(text, new Set([41232, 41233]))], [[0x22b8, 4], [0x22b9, 0]], "another process's socket on the port (inode 41231) is not counted");
});

test("a flooded agent's /metrics shows the kernel's drops per port, as /proc counts them", { skip: process.platform !== 'linux' && 'needs /proc/net/udp' }, async (t) => {
  const agent: LocalService<Agent> = await startAgentHere({ dns: '127.0.0.1:9', reporter: '127.0.0.1:9', set: ['agent.udp_recv_buffer_bytes=4096'] });
  const sender = createSocket('udp4');
  try {
    const port = agent.port;
    const frame = frameOf(MsgId.GetHostRequest, { seq: 1, modid: 1, cmdid: 1 });
    const load = flood(sender, port, frame);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    load.stop();
    const proc = (await readUdpDrops([port]))!.get(port)!;
    t.diagnostic(`kernel drops on :${port} after 1.5 s of flooding a 4 KiB buffer: ${proc}`);
    const shown = () => Number(agent.metrics.render().split('\n').find((l) => l.startsWith(`lars_agent_udp_kernel_drops{port="${port}"}`))?.split(' ')[1]);
    await waitFor(async () => shown() === (await readUdpDrops([port]))!.get(port), { timeoutMs: 15_000, message: 'the gauge to catch up with /proc' });
    if (proc > 0) await agent.waitForLine(/udp_kernel_drops .*port=/, { timeoutMs: 15_000 });
    assert.ok(shown() >= proc);
  } finally {
    sender.close();
    await agent.stop();
  }
});
