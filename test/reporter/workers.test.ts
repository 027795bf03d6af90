/** `lars reporter --workers 2`: two reporter processes behind the least-connections dispatcher. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestStatus } from '../../src/dispatcher/index.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { lars, portOf, startLars } from '../support/cli.js';
import { RawTcpClient, waitFor } from '../support/net.js';

const dir = await mkdtemp(join(tmpdir(), 'lars-reporter-workers-'));
after(() => rm(dir, { recursive: true, force: true }));

test('reports sent on connections spread over two workers all reach lars status', async () => {
  const store = `sqlite:${join(dir, 'lars.db')}`;
  const reporter = await startLars(['reporter', '--workers', '2', '--store', store, '--listen', '127.0.0.1:0', '--admin', 'off']);
  const clients: RawTcpClient[] = [];
  try {
    for (let i = 0; i < 4; i++) clients.push(await RawTcpClient.connect(portOf(reporter.ready.addr!)));
    const status = await waitFor(async () => {
      const s = await requestStatus(join(tmpdir(), `lars-reporter-${reporter.child.pid}.sock`));
      return s.workers.reduce((sum, w) => sum + w.connections, 0) === 4 ? s : undefined;
    });
    assert.deepEqual(status.workers.map((w) => w.connections).sort(), [2, 2]);

    const ts = Math.floor(Date.now() / 1000);
    clients.forEach((client, i) =>
      client.send(MsgId.ReportStatusRequest, {
        modid: 90,
        cmdid: 1,
        caller: 0x0a000001,
        ts,
        results: [{ ip: 0x0a000100 + i, port: 80, succ: 10 + i, err: i, overload: false }],
      }),
    );
    const rows = await waitFor(async () => {
      const run = await lars(['status', '90', '1', '--store', store, '--json']);
      const list = run.code === 0 ? (JSON.parse(run.stdout) as { status: unknown[] }).status : [];
      return list.length === 4 ? list : undefined;
    }, { timeoutMs: 30_000, message: 'four host rows in lars status' });
    assert.equal(rows.length, 4);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    assert.equal(await reporter.stop(), 0);
  }
});
