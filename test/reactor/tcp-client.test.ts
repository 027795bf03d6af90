import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame } from '../../src/protocol/frame.js';
import { MsgId } from '../../src/protocol/msgid.js';
import type { Endpoint } from '../../src/reactor/endpoint.js';
import { TcpClient } from '../../src/reactor/tcp-client.js';
import { TcpServer } from '../../src/reactor/tcp-server.js';
import { captureLogs, unusedPort, waitFor, type LogCapture } from '../support/net.js';

/** A route server that records the subscriptions it gets and answers each. */
async function subscriptionServer(name: string, port = 0) {
  const subscriptions: string[] = [];
  const server = new TcpServer({ name, host: '127.0.0.1', port, closeGraceMs: 200 });
  server.handle(MsgId.GetRouteRequest, (conn, request) => {
    subscriptions.push(`${request.modid}/${request.cmdid}`);
    conn.send(MsgId.GetRouteResponse, { modid: request.modid, cmdid: request.cmdid, host: [{ ip: 1, port: address.port }] });
  });
  server.handle(MsgId.ReportStatusRequest, (_conn, report) => {
    subscriptions.push(`report ${report.caller}`);
  });
  const address = await server.listen();
  return { server, port: address.port, subscriptions };
}

const fastReconnect = { initialMs: 20, maxMs: 200 };

describe('TcpClient', () => {
  let logs: LogCapture;
  before(() => {
    logs = captureLogs();
  });
  after(() => logs.restore());

  test('sends typed requests and routes replies; onConnected names the address', async () => {
    const { server, port } = await subscriptionServer('replies');
    const connectedTo: Endpoint[] = [];
    const replies: string[] = [];
    const client = new TcpClient({
      name: 'replies_client',
      addresses: [{ host: '127.0.0.1', port }],
      onConnected: (address) => connectedTo.push(address),
    });
    client.handle(MsgId.GetRouteResponse, (response) => {
      replies.push(`${response.modid}/${response.cmdid}@${response.host[0]?.port}`);
    });
    try {
      assert.equal(client.connected, false);
      client.start();
      await waitFor(() => client.connected);
      assert.deepEqual(connectedTo, [{ host: '127.0.0.1', port }]);
      assert.deepEqual(client.address, { host: '127.0.0.1', port });
      assert.equal(client.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 2 }), true, 'written at once');
      assert.equal(client.send(MsgId.GetRouteRequest, { modid: 3, cmdid: 4 }), true);
      await waitFor(() => replies.length === 2);
      assert.deepEqual(replies, [`1/2@${port}`, `3/4@${port}`]);
    } finally {
      await client.close();
      await server.close();
    }
    assert.equal(client.connected, false);
    assert.equal(client.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 }), false, 'nothing is sent after close');
  });

  test('fails over to the next address, and re-subscribes after the server restarts', async () => {
    const deadPort = await unusedPort();
    let { server, port, subscriptions } = await subscriptionServer('restarting');
    const wanted = new Set(['7/1', '7/2']);
    const connects: number[] = [];
    let disconnects = 0;
    const client = new TcpClient({
      name: 'failover_client',
      addresses: [
        { host: '127.0.0.1', port: deadPort },
        { host: '127.0.0.1', port },
      ],
      reconnect: fastReconnect,
      onConnected: (address) => {
        connects.push(address.port);
        for (const key of wanted) {
          const [modid, cmdid] = key.split('/').map(Number);
          client.send(MsgId.GetRouteRequest, { modid: modid!, cmdid: cmdid! });
        }
      },
      onDisconnected: () => {
        disconnects += 1;
      },
    });
    try {
      client.start();
      await waitFor(() => subscriptions.length === 2, { message: 'subscriptions on the first server' });
      assert.deepEqual(connects, [port], 'the dead first address was skipped');
      assert.ok(client.counters.connectFailures.get() >= 1);
      await logs.waitFor(new RegExp(`warn failover_client connect_failed address=127.0.0.1:${deadPort} reason=ECONNREFUSED`));

      await server.close();
      await waitFor(() => disconnects === 1, { message: 'the client to notice the server left' });
      assert.equal(client.connected, false);

      ({ server, subscriptions } = await subscriptionServer('restarting', port));
      await waitFor(() => subscriptions.length === 2, { message: 're-subscriptions on the restarted server' });
      assert.deepEqual(subscriptions, ['7/1', '7/2']);
      assert.deepEqual(connects, [port, port]);
      assert.equal(client.counters.connects.get(), 2);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('moves to the next address when the connection is lost', async () => {
    const first = await subscriptionServer('first');
    const second = await subscriptionServer('second');
    const connects: number[] = [];
    const client = new TcpClient({
      name: 'moving_client',
      addresses: [
        { host: '127.0.0.1', port: first.port },
        { host: '127.0.0.1', port: second.port },
      ],
      reconnect: fastReconnect,
      onConnected: (address) => connects.push(address.port),
    });
    try {
      client.start();
      await waitFor(() => connects.length === 1);
      await first.server.close();
      await waitFor(() => connects.length === 2, { message: 'a connection to the second server' });
      assert.deepEqual(connects, [first.port, second.port]);
      client.send(MsgId.GetRouteRequest, { modid: 2, cmdid: 2 });
      await waitFor(() => second.subscriptions.length === 1);
    } finally {
      await client.close();
      await Promise.all([first.server.close(), second.server.close()]);
    }
  });

  test('queues frames while disconnected, dropping the oldest past maxQueue, and flushes them on connect', async () => {
    const port = await unusedPort();
    const client = new TcpClient({
      name: 'queue_client',
      addresses: [{ host: '127.0.0.1', port }],
      reconnect: fastReconnect,
      maxQueue: 3,
    });
    let server: TcpServer | undefined;
    try {
      client.start();
      for (let caller = 1; caller <= 5; caller++) {
        const sent = client.send(MsgId.ReportStatusRequest, { modid: 1, cmdid: 1, caller, results: [], ts: 0 });
        assert.equal(sent, false, 'queued, not written');
      }
      assert.equal(client.queued, 3);
      assert.equal(client.counters.queueDropped.get(), 2);
      await logs.waitFor(/warn queue_client queue_full maxQueue=3/);

      const started = await subscriptionServer('late_server', port);
      server = started.server;
      await waitFor(() => started.subscriptions.length === 3, { message: 'the queued reports' });
      assert.deepEqual(started.subscriptions, ['report 3', 'report 4', 'report 5']);
      assert.equal(client.queued, 0);
    } finally {
      await client.close();
      await server?.close();
    }
  });

  test('an unknown msgid from the server is dropped and counted; the connection stays', async () => {
    const server = new TcpServer({ name: 'pushy', host: '127.0.0.1', port: 0 });
    server.handle(MsgId.GetRouteRequest, (conn, request) => {
      conn.sendFrame(encodeFrame(555, Buffer.from('from the future')));
      conn.send(MsgId.GetRouteResponse, { modid: request.modid, cmdid: request.cmdid, host: [] });
    });
    const { port } = await server.listen();
    const responses: number[] = [];
    const client = new TcpClient({ name: 'old_client', addresses: [{ host: '127.0.0.1', port }] });
    client.handle(MsgId.GetRouteResponse, (response) => {
      responses.push(response.modid);
    });
    try {
      client.start();
      await waitFor(() => client.connected);
      client.send(MsgId.GetRouteRequest, { modid: 8, cmdid: 1 });
      await waitFor(() => responses.length === 1);
      assert.equal(client.counters.framesDropped.get(), 1);
      assert.equal(client.connected, true);
      await logs.waitFor(/warn old_client frame_dropped msgid=555 reason="unknown msgid 555"/);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('close() stops reconnecting', async () => {
    const { server, port } = await subscriptionServer('closed_client_server');
    const client = new TcpClient({ name: 'closing_client', addresses: [{ host: '127.0.0.1', port }], reconnect: fastReconnect });
    try {
      client.start();
      await waitFor(() => server.connectionCount === 1);
      await client.close();
      assert.equal(client.connected, false);
      // close() resolves after the socket's close handlers ran, and a lost
      // connection schedules its reconnect there, logging it at once.
      assert.equal(logs.matching(/ closing_client disconnected /).length, 1);
      assert.deepEqual(logs.matching(/ closing_client reconnect_scheduled /), [], 'no reconnect was scheduled');
      await waitFor(() => server.connectionCount === 0);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
