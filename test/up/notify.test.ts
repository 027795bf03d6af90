/**
 * Under `lars up` every service shares one process and one store, so an
 * edit in the console reaches dns through the in-process change feed
 * (docs/dns.md, "Notification"), with nothing else to run. dns polls only
 * once a minute here, so a prompt push can only come from the notification.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intToIp } from '../../src/protocol/ip.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { portOf, type LarsProcess } from '../support/cli.js';
import { RawTcpClient } from '../support/net.js';
import { consoleSession, startUp } from '../support/up.js';

let dir: string;
let up: LarsProcess;
let output: Record<string, string>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-up-notify-'));
  ({ up, output } = await startUp(dir, ['--set', 'dns.poll_interval_ms=60000', '--set', 'dns.full_reload_interval_s=3600']));
});

after(async () => {
  assert.equal(await up.stop(), 0);
  await rm(dir, { recursive: true, force: true });
});

test('lars up says which transport it uses, and why', async () => {
  const line = await up.waitForLine(/ notify transport=/);
  assert.match(line, /transport=in-process reason="every service runs in this process"/);
});

test('a host added in the console is pushed to a subscribed agent at once', async () => {
  const agent = await RawTcpClient.connect(portOf(output.dns!));
  try {
    agent.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
    await agent.nextMessage(MsgId.GetRouteResponse);
    const added = await fetch(`${output.console!}api/v1/modules/1/1/hosts`, {
      method: 'POST',
      headers: await consoleSession(output),
      body: JSON.stringify({ ip: '127.0.0.1', port: 9005 }),
    });
    assert.equal(added.status, 201, await added.text());
    const pushed = await agent.nextMessage(MsgId.GetRouteResponse, { message: 'the push of the new host' });
    assert.ok(pushed.host.some((h) => intToIp(h.ip) === '127.0.0.1' && h.port === 9005));
  } finally {
    await agent.close();
  }
});
