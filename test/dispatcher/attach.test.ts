/**
 * Socket mode with workers started by hand: this test process is the worker
 * (attachToDispatcher), `lars dispatch --socket` runs as a real child process.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { attachToDispatcher, serveLineEcho, type DispatcherAttachment } from '../../src/dispatcher/index.js';
import {
  EchoClient,
  openFds,
  portOf,
  startDispatch,
  statusOf,
  stopProcess,
  testSocketDir,
  waitFor,
  waitForStatus,
  type LarsProcess,
} from './helpers.js';

const dir = testSocketDir();

function startSocketMode(socketPath: string): LarsProcess {
  return startDispatch('--listen', '127.0.0.1:0', '--socket', socketPath);
}

async function attached(attachment: DispatcherAttachment): Promise<void> {
  if (!attachment.attached) await once(attachment, 'attached');
}

describe('hand-started workers', () => {
  const socketPath = dir.path('hand.sock');
  let dispatcher: LarsProcess;
  let serverWorker: DispatcherAttachment;
  let functionWorker: DispatcherAttachment;
  const clients: EchoClient[] = [];
  const viaFunction = new Set<Socket>();

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await serverWorker?.close();
    await functionWorker?.close();
    if (dispatcher) await stopProcess(dispatcher);
  });

  test('a worker attached with attachToDispatcher receives connections, as net.Server or as a function', async () => {
    dispatcher = startSocketMode(socketPath);
    await waitForStatus(socketPath, 'the dispatcher', () => true);
    const fdsBefore = openFds();
    serverWorker = attachToDispatcher(socketPath, createServer((socket) => serveLineEcho(socket)));
    await attached(serverWorker);
    functionWorker = attachToDispatcher(socketPath, (socket) => {
      viaFunction.add(socket);
      serveLineEcho(socket);
    });
    await attached(functionWorker);
    const status = await waitForStatus(socketPath, 'two workers', (s) => s.workers.length === 2);
    assert.deepEqual(status.workers.map((w) => w.pid), [process.pid, process.pid]);

    for (let i = 0; i < 10; i++) {
      const client = await EchoClient.connect(portOf(status));
      clients.push(client);
      assert.equal(await client.request(`line ${i}`), `line ${i}`);
    }
    // Equal loads take turns, so each worker got half.
    assert.equal(serverWorker.connections, 5);
    assert.equal(functionWorker.connections, 5);
    assert.equal(viaFunction.size, 5);
    const loaded = await waitForStatus(socketPath, 'reports of 5 + 5', (s) => s.workers.every((w) => w.connections === 5));
    assert.equal(loaded.handedOver, 10);
    assert.equal(loaded.dropped, 0);

    await Promise.all(clients.splice(0).map((c) => c.close()));
    await waitFor('the workers to see every close', () => serverWorker.connections + functionWorker.connections === 0);
    await waitForStatus(socketPath, 'reports of 0 connections', (s) => s.workers.every((w) => w.connections === 0));
    // Two control links are the only descriptors the workers keep.
    await waitFor(`worker descriptors back to ${fdsBefore} + 2 links`, () => openFds() === fdsBefore + 2);
  });

  test('the dispatcher holds no descriptor per connection once it is handed over and closed', async () => {
    const { openFds: before, listening } = (await statusOf(socketPath))!;
    assert.ok(before !== null, 'the dispatcher counts its descriptors (Linux /proc)');
    const port = Number(listening[0]!.split(':').pop());
    const batch = await Promise.all(Array.from({ length: 40 }, () => EchoClient.connect(port)));
    await Promise.all(batch.map((c, i) => c.request(`x${i}`)));
    const during = (await statusOf(socketPath))!;
    assert.equal(during.openFds, before, 'handed-over connections are not held by the dispatcher');
    await Promise.all(batch.map((c) => c.close()));
    const settled = await waitForStatus(socketPath, 'all closes reported', (s) => s.workers.every((w) => w.connections === 0));
    assert.equal(settled.openFds, before);
    assert.equal(settled.dropped, 0);
  });

  test('a dispatcher restart: open connections keep working, workers reconnect, new connections flow', async () => {
    const port = portOf((await statusOf(socketPath))!);
    const survivor = await EchoClient.connect(port);
    clients.push(survivor);
    assert.equal(await survivor.request('before'), 'before');

    await stopProcess(dispatcher, 'SIGKILL');
    await waitFor('the workers to notice', () => !serverWorker.attached && !functionWorker.attached);
    assert.equal(await survivor.request('while the dispatcher is down'), 'while the dispatcher is down');

    dispatcher = startSocketMode(socketPath); // the dead one's socket file is still there
    const status = await waitForStatus(socketPath, 'both workers back', (s) => s.workers.length === 2);
    assert.equal(status.workers.reduce((sum, w) => sum + w.connections, 0), 1, 'the survivor is reported on reattach');

    const fresh = await EchoClient.connect(portOf(status));
    clients.push(fresh);
    assert.equal(await fresh.request('after'), 'after');
    // The new one went to the worker that did not hold the survivor.
    assert.equal(serverWorker.connections, 1);
    assert.equal(functionWorker.connections, 1);
    assert.equal(await survivor.request('still here'), 'still here');
  });

  test('a detached worker gets no new connections but keeps its open ones', async () => {
    await functionWorker.close();
    const status = await waitForStatus(socketPath, 'one worker left', (s) => s.workers.length === 1);
    assert.equal(functionWorker.connections, 1);
    const before = serverWorker.connections;
    const client = await EchoClient.connect(portOf(status));
    clients.push(client);
    assert.equal(await client.request('only one worker'), 'only one worker');
    assert.equal(serverWorker.connections, before + 1);
    for (const c of clients) assert.equal(await c.request('all alive'), 'all alive');
  });
});

describe('without workers', () => {
  test('a connection waits for a worker, then is closed cleanly and counted as dropped', async () => {
    const socketPath = dir.path('empty.sock');
    const dispatcher = startSocketMode(socketPath);
    try {
      const status = await waitForStatus(socketPath, 'the dispatcher', () => true);
      const client = await EchoClient.connect(portOf(status));
      await client.closed;
      const after = await waitForStatus(socketPath, 'the drop to be counted', (s) => s.dropped === 1);
      assert.equal(after.handedOver, 0);
      assert.equal(after.openFds, status.openFds);
    } finally {
      await stopProcess(dispatcher);
    }
  });

  test('a connection held while no worker is attached goes to the first one that attaches', async () => {
    const socketPath = dir.path('late.sock');
    const dispatcher = startSocketMode(socketPath);
    let worker: DispatcherAttachment | undefined;
    try {
      const status = await waitForStatus(socketPath, 'the dispatcher', () => true);
      const client = await EchoClient.connect(portOf(status));
      const reply = client.request('waited');
      worker = attachToDispatcher(socketPath, createServer((socket) => serveLineEcho(socket)));
      assert.equal(await reply, 'waited');
      await client.close();
    } finally {
      await worker?.close();
      await stopProcess(dispatcher);
    }
  });

  test('a second dispatcher refuses to take over a live one\'s socket', async () => {
    const socketPath = dir.path('taken.sock');
    const first = startSocketMode(socketPath);
    try {
      await waitForStatus(socketPath, 'the first dispatcher', () => true);
      const second = startSocketMode(socketPath);
      assert.equal(await second.exited, 1);
      assert.match(second.stderr(), /another dispatcher is listening/);
      assert.ok(await statusOf(socketPath), 'the first one still answers');
    } finally {
      await stopProcess(first);
    }
  });

  test('/metrics has one connections series per attached worker and drops it when the worker goes', async () => {
    const socketPath = dir.path('metrics.sock');
    const dispatcher = startDispatch('--listen', '127.0.0.1:0', '--socket', socketPath, '--admin', '127.0.0.1:0');
    const workers: DispatcherAttachment[] = [];
    try {
      const admin = await waitFor('the admin address', () => /admin_listening addr=(\S+)/.exec(dispatcher.stderr())?.[1]);
      const series = async (): Promise<string[]> => {
        const text = await (await fetch(`http://${admin}/metrics`)).text();
        return text.split('\n').filter((line) => line.startsWith('lars_dispatch_worker_connections{'));
      };
      for (let i = 0; i < 2; i++) {
        const worker = attachToDispatcher(socketPath, (socket) => serveLineEcho(socket));
        workers.push(worker);
        await attached(worker);
      }
      const two = await waitFor('two series', async () => ((await series()).length === 2 ? series() : undefined));
      // Both workers live in this process: the link id, not the pid, tells them apart.
      for (const line of two) assert.match(line, new RegExp(`^lars_dispatch_worker_connections\\{pid="${process.pid}",worker="\\d+"\\} 0$`));
      await workers.shift()!.close();
      const one = await waitFor('one series left', async () => ((await series()).length === 1 ? series() : undefined));
      assert.ok(two.includes(one[0]!), 'the remaining worker keeps its series');
    } finally {
      for (const worker of workers) await worker.close();
      await stopProcess(dispatcher);
    }
  });

  test('a worker\'s child processes inherit neither the control link nor the connections it received', async () => {
    const socketPath = dir.path('exec.sock');
    const dispatcher = startSocketMode(socketPath);
    let worker: DispatcherAttachment | undefined;
    let client: EchoClient | undefined;
    try {
      const status = await waitForStatus(socketPath, 'the dispatcher', () => true);
      const before = new Set(socketInodes('self'));
      const received: Socket[] = [];
      worker = attachToDispatcher(socketPath, (socket) => {
        received.push(socket);
        serveLineEcho(socket);
      });
      await attached(worker);
      client = await EchoClient.connect(portOf(status));
      assert.equal(await client.request('inherit?'), 'inherit?');
      assert.equal(received.length, 1);
      const opened = socketInodes('self').filter((inode) => !before.has(inode));
      const connection = socketInode(received[0]!);
      assert.ok(opened.includes(connection), 'the received connection is one of the new sockets');
      assert.ok(opened.length >= 3, 'the control link, the received connection and the client end are new');
      // `ls` lists its own descriptors: whatever it inherited from this process.
      const child = execFileSync('ls', ['-l', '/proc/self/fd'], { encoding: 'utf8' });
      const inherited = [...child.matchAll(/socket:\[(\d+)\]/g)].map((m) => m[1]!);
      assert.deepEqual(opened.filter((inode) => inherited.includes(inode)), [], 'no socket opened by the attachment reaches the child');
    } finally {
      await client?.close();
      await worker?.close();
      await stopProcess(dispatcher);
    }
  });
});

/** Inodes of the sockets a process holds, from /proc/PID/fd. */
function socketInodes(pid: 'self' | number): string[] {
  return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? [];
    } catch {
      return []; // closed while listing
    }
  });
}

function socketInode(socket: Socket): string {
  const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
  return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))![1]!;
}

