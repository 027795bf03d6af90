/**
 * Managed mode, all real processes: `lars dispatch --workers 4` starts the
 * dispatcher and four built-in echo workers; this test is the client.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { DispatchStatus } from '../../src/dispatcher/index.js';
import { nodeArgs } from '../support/cli.js';
import {
  EchoClient,
  killPid,
  maxMinRatio,
  portOf,
  shortExchange,
  startDispatch,
  statusOf,
  stopProcess,
  testSocketDir,
  totalConnections,
  waitFor,
  waitForStatus,
  type LarsProcess,
} from './helpers.js';

const dir = testSocketDir();

const WORKERS = 4;

function startManaged(socketPath: string): LarsProcess {
  return startDispatch('--listen', '127.0.0.1:0', '--workers', String(WORKERS), '--socket', socketPath, '--drain-timeout', '20');
}

function countsOf(status: DispatchStatus): number[] {
  return status.workers.map((w) => w.connections);
}

describe('least connections under a skewed mix, a killed worker, a reload', () => {
  const socketPath = dir.path('managed.sock');
  let managed: LarsProcess;
  let start: DispatchStatus;
  let port: number;
  const longLived: EchoClient[] = [];

  after(async () => {
    await Promise.all(longLived.map((c) => c.close()));
    if (managed) await stopProcess(managed);
  });

  test('starts the dispatcher and four workers', async () => {
    managed = startManaged(socketPath);
    start = await waitForStatus(socketPath, `${WORKERS} workers`, (s) => s.workers.length === WORKERS, 60_000);
    port = portOf(start);
    assert.ok(!start.workers.some((w) => w.pid === start.pid), 'the workers are processes of their own');
  });

  test('idle workers take turns', async () => {
    for (let i = 0; i < 2 * WORKERS; i++) {
      const client = await EchoClient.connect(port);
      longLived.push(client);
      assert.equal(await client.request(`long ${i}`), `long ${i}`);
    }
    const status = await waitForStatus(socketPath, 'reports', (s) => totalConnections(s) === 2 * WORKERS);
    assert.deepEqual(countsOf(status), [2, 2, 2, 2]);
  });

  test('long-lived connections stay spread while short ones come and go', async () => {
    const LONG_BATCHES = 14;
    const ratios: number[] = [];
    let shortCount = 0;
    for (let batch = 0; batch < LONG_BATCHES; batch++) {
      // Each round: 8 long-lived connections opened alongside 4 short ones that live one exchange.
      const shorts = Array.from({ length: 4 }, () => shortExchange(port, `short ${shortCount++}`));
      const longs = await Promise.all(Array.from({ length: 8 }, () => EchoClient.connect(port)));
      await Promise.all([...longs.map((c, i) => c.request(`long ${batch}.${i}`)), ...shorts]);
      longLived.push(...longs);
      const during = await statusOf(socketPath);
      if (during && totalConnections(during) >= 60) ratios.push(maxMinRatio(during));
    }
    const total = longLived.length;
    const status = await waitForStatus(socketPath, `${total} live connections reported`, (s) => totalConnections(s) === total);
    assert.ok(maxMinRatio(status) <= 1.25, `live connections per worker ${countsOf(status).join('/')} exceed a 1.25 max/min ratio`);
    assert.ok(ratios.length > 0 && ratios.every((r) => r <= 1.25), `ratios while short connections churned: ${ratios.join(', ')}`);
    assert.equal(status.dropped, 0);
    assert.equal(status.handedOver, total + shortCount, 'every connection, short or long, went through the dispatcher');
  });

  test('a worker killed with SIGKILL loses only its own connections and is replaced', async () => {
    const before = (await statusOf(socketPath))!;
    const victim = before.workers[1]!;
    const closedBefore = longLived.filter((c) => c.isClosed).length;
    killPid(victim.pid, 'SIGKILL');

    const after = await waitForStatus(
      socketPath,
      'a replacement worker',
      (s) => s.workers.length === WORKERS && !s.workers.some((w) => w.pid === victim.pid),
    );
    await waitFor('the victim\'s clients to see the close', () => longLived.filter((c) => c.isClosed).length - closedBefore === victim.connections);
    const survivors = longLived.filter((c) => !c.isClosed);
    assert.equal(survivors.length, longLived.length - closedBefore - victim.connections);
    await Promise.all(survivors.map((c, i) => c.request(`survivor ${i}`)));
    assert.equal(after.pid, before.pid, 'the dispatcher kept running');

    const replacement = after.workers.find((w) => !before.workers.some((b) => b.pid === w.pid))!;
    assert.equal(replacement.connections, 0);
    // The fresh worker holds the fewest, so the next connections go to it until it catches up.
    const catchUp = Math.min(...after.workers.filter((w) => w !== replacement).map((w) => w.connections));
    const refill = await Promise.all(Array.from({ length: catchUp }, () => EchoClient.connect(port)));
    await Promise.all(refill.map((c, i) => c.request(`refill ${i}`)));
    longLived.push(...refill);
    const refilled = await waitForStatus(socketPath, 'the refill reported', (s) => totalConnections(s) === survivors.length + refill.length);
    assert.equal(refilled.workers.find((w) => w.pid === replacement.pid)?.connections, catchUp);
    assert.equal(await longLived.find((c) => !c.isClosed)!.request('still served'), 'still served');
  });

  test('the dispatcher process leaks no descriptor across all of this', async () => {
    await Promise.all(longLived.splice(0).map((c) => c.close()));
    // Same links (4 workers) as at the start, so no more descriptors than then. (It can be
    // one fewer: a descriptor in passing at the start, such as another status request's.)
    const limit = start.openFds;
    assert.ok(limit !== null, 'the dispatcher counts its descriptors (/proc/self/fd)');
    const idle = await waitForStatus(
      socketPath,
      'every close reported and the descriptors back to the start count',
      (s) => totalConnections(s) === 0 && s.openFds !== null && s.openFds <= limit,
    );
    assert.ok(idle.openFds! <= limit, `${idle.openFds} descriptors open, ${limit} at the start`);
  });

  test('SIGHUP replaces the workers one at a time; connections on the old ones keep working', async () => {
    const onOld = await EchoClient.connect(port);
    longLived.push(onOld);
    assert.equal(await onOld.request('old'), 'old');
    const oldPids = new Set((await statusOf(socketPath))!.workers.map((w) => w.pid));

    managed.child.kill('SIGHUP');
    const reloaded = await waitForStatus(
      socketPath,
      'four new workers',
      (s) => s.workers.length === WORKERS && s.workers.every((w) => !oldPids.has(w.pid)),
      60_000,
    );
    assert.equal(await onOld.request('old worker still serving'), 'old worker still serving');
    const onNew = await EchoClient.connect(portOf(reloaded));
    longLived.push(onNew);
    assert.equal(await onNew.request('new'), 'new');
  });
});

describe('drain on SIGTERM', () => {
  test('stops accepting, lets open connections finish, then exits 0', async () => {
    const socketPath = dir.path('drain.sock');
    const managed = startManaged(socketPath);
    try {
      const status = await waitForStatus(socketPath, `${WORKERS} workers`, (s) => s.workers.length === WORKERS, 60_000);
      const port = portOf(status);
      const open = await EchoClient.connect(port);
      assert.equal(await open.request('before'), 'before');

      managed.child.kill('SIGTERM');
      await waitFor('the listener to close', () => EchoClient.connect(port).then((c) => (c.socket.destroy(), false), () => true));
      assert.equal(managed.child.exitCode, null, 'still running while a connection is open');
      assert.equal(await open.request('during the drain'), 'during the drain');
      await open.close();
      assert.equal(await managed.exited, 0);
      assert.ok(!existsSync(socketPath), 'the socket file is removed');
    } finally {
      await stopProcess(managed);
    }
  });
});

describe('-- COMMAND', () => {
  test('starts N copies of the given command, each told the socket to attach to', async () => {
    const socketPath = dir.path('command.sock');
    const managed = startDispatch(
      '--listen', '127.0.0.1:0', '--workers', '2', '--socket', socketPath,
      '--', process.execPath, ...nodeArgs('src/dispatcher/echo-worker'),
    );
    try {
      const status = await waitForStatus(socketPath, 'two workers', (s) => s.workers.length === 2, 60_000);
      const clients = await Promise.all([0, 1].map(() => EchoClient.connect(portOf(status))));
      assert.deepEqual(await Promise.all(clients.map((c, i) => c.request(`via command ${i}`))), ['via command 0', 'via command 1']);
      const loaded = await waitForStatus(socketPath, 'one each', (s) => totalConnections(s) === 2);
      assert.deepEqual(countsOf(loaded), [1, 1]);
      await Promise.all(clients.map((c) => c.close()));
      assert.equal(await stopProcess(managed), 0);
    } finally {
      await stopProcess(managed);
    }
  });
});
