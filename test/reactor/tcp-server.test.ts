import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, HEADER_SIZE } from '../../src/protocol/frame.js';
import { encodeBody } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { MetricsRegistry } from '../../src/reactor/metrics.js';
import { TcpServer, type TcpConnection } from '../../src/reactor/tcp-server.js';
import { captureLogs, frameOf, hexBytes, RawTcpClient, waitFor, type LogCapture } from '../support/net.js';

const ECHO_RAW = 100;
const PUSH_ALL = 101;

/** A small route service: answers GetRouteRequest, echoes msgid 100 raw, pushes to everyone on 101. */
function routeServer(options: Partial<ConstructorParameters<typeof TcpServer<Set<string>>>[0]> = {}) {
  const events: string[] = [];
  const server = new TcpServer<Set<string>>({
    name: 'test_tcp',
    host: '127.0.0.1',
    port: 0,
    createContext: () => new Set(),
    onConnect: (conn) => events.push(`connect ${conn.id}`),
    onClose: (conn) => events.push(`close ${conn.id} [${[...conn.context].join(',')}]`),
    ...options,
  });
  server.handle(MsgId.GetRouteRequest, (conn, request) => {
    conn.context.add(`${request.modid}/${request.cmdid}`);
    conn.send(MsgId.GetRouteResponse, { modid: request.modid, cmdid: request.cmdid, host: [{ ip: 0x0a000001, port: 80 }] });
  });
  server.handleRaw(ECHO_RAW, (conn, body) => {
    conn.sendRaw(ECHO_RAW, body);
  });
  server.handleRaw(PUSH_ALL, () => {
    const frame = encodeFrame(MsgId.GetRouteResponse, encodeBody(MsgId.GetRouteResponse, { modid: 9, cmdid: 9, host: [] }));
    for (const conn of server.connectionList()) conn.sendFrame(frame);
  });
  return { server, events };
}

describe('TcpServer', () => {
  let logs: LogCapture;
  before(() => {
    logs = captureLogs();
  });
  after(() => logs.restore());

  test('routes typed and raw messages, runs hooks, keeps per-connection context', async () => {
    const { server, events } = routeServer();
    const { port } = await server.listen();
    assert.ok(port > 0, 'port 0 binds a free port');
    const client = await RawTcpClient.connect(port);
    try {
      client.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 2 });
      const response = await client.nextMessage(MsgId.GetRouteResponse);
      assert.deepEqual([response.modid, response.cmdid, response.host[0]?.ip, response.host[0]?.port], [1, 2, 0x0a000001, 80]);

      client.write(encodeFrame(ECHO_RAW, Buffer.from('raw body')));
      const echo = await client.nextFrame();
      assert.equal(echo.msgid, ECHO_RAW);
      assert.equal(echo.body.toString(), 'raw body');

      client.send(MsgId.GetRouteRequest, { modid: 3, cmdid: 4 });
      await client.nextMessage(MsgId.GetRouteResponse);
      assert.equal(server.connectionCount, 1);
      const [conn] = server.connectionList();
      assert.equal(conn!.remote, `127.0.0.1:${client.localPort}`);
      assert.deepEqual([...conn!.context], ['1/2', '3/4']);
    } finally {
      await client.close();
    }
    await waitFor(() => server.connectionCount === 0);
    assert.deepEqual(events, ['connect 1', 'close 1 [1/2,3/4]']);
    assert.equal(server.counters.framesReceived.get(), 3);
    await server.close();
  });

  test('a frame written one byte at a time and frames coalesced in one write are both handled', async () => {
    const { server } = routeServer();
    const { port } = await server.listen();
    const client = await RawTcpClient.connect(port);
    try {
      client.socket.setNoDelay(true);
      const frame = frameOf(MsgId.GetRouteRequest, { modid: 5, cmdid: 6 });
      for (const byte of frame) {
        client.write(Buffer.from([byte]));
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal((await client.nextMessage(MsgId.GetRouteResponse)).cmdid, 6);

      const three = Buffer.concat([1, 2, 3].map((cmdid) => frameOf(MsgId.GetRouteRequest, { modid: 7, cmdid })));
      client.write(three);
      for (const cmdid of [1, 2, 3]) assert.equal((await client.nextMessage(MsgId.GetRouteResponse)).cmdid, cmdid);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('one pre-encoded frame pushed to every connection', async () => {
    const { server } = routeServer();
    const { port } = await server.listen();
    const clients = await Promise.all([1, 2, 3].map(() => RawTcpClient.connect(port)));
    try {
      await waitFor(() => server.connectionCount === 3);
      clients[0]!.write(encodeFrame(PUSH_ALL, Buffer.alloc(0)));
      for (const client of clients) assert.equal((await client.nextMessage(MsgId.GetRouteResponse)).modid, 9);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    }
  });

  const protocolErrors: { name: string; bytes: Buffer; reason: RegExp }[] = [
    { name: 'negative length', bytes: hexBytes('01 00 00 00  fe ff ff ff'), reason: /negative body length -2/ },
    {
      name: 'length over the cap',
      bytes: Buffer.concat([hexBytes('01 00 00 00'), (() => { const b = Buffer.alloc(4); b.writeInt32LE(1 << 20); return b; })()]),
      reason: /exceeds the cap of 65536/,
    },
    { name: 'unknown msgid', bytes: encodeFrame(4242, Buffer.alloc(0)), reason: /unknown msgid 4242/ },
    // GetRouteRequest whose modid varint never ends.
    { name: 'truncated protobuf', bytes: encodeFrame(MsgId.GetRouteRequest, hexBytes('08 ff ff')), reason: /malformed body for msgid 1/ },
  ];
  for (const bad of protocolErrors) {
    test(`${bad.name} closes only that connection, with a log line naming the peer and reason`, async () => {
      const { server } = routeServer({ maxFrame: 65536 });
      const { port } = await server.listen();
      const good = await RawTcpClient.connect(port);
      const offender = await RawTcpClient.connect(port);
      try {
        offender.write(bad.bytes);
        await offender.whenClosed();
        const peer = `127.0.0.1:${offender.localPort}`;
        const line = await logs.waitFor(new RegExp(`protocol_error peer=${peer}`));
        assert.match(line, /^\S+ warn test_tcp protocol_error /);
        assert.match(line, bad.reason);
        assert.equal(server.counters.protocolErrors.get(), 1);

        good.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
        assert.equal((await good.nextMessage(MsgId.GetRouteResponse)).modid, 1, 'the other connection keeps working');
        assert.equal(good.closed, false);
        await waitFor(() => server.connectionCount === 1);
      } finally {
        await Promise.all([good.close(), offender.close()]);
        await server.close();
      }
    });
  }

  test('a handler that throws costs a log line, not the connection', async () => {
    const server = new TcpServer({ name: 'throwing', host: '127.0.0.1', port: 0 });
    server.handle(MsgId.GetHostRequest, (conn, request) => {
      if (request.seq === 1) throw new Error('handler bug');
      conn.send(MsgId.GetHostResponse, { seq: request.seq, modid: 0, cmdid: 0, retcode: 0 });
    });
    server.handle(MsgId.ReportRequest, async () => {
      throw new Error('async handler bug');
    });
    const { port } = await server.listen();
    const client = await RawTcpClient.connect(port);
    try {
      client.send(MsgId.GetHostRequest, { seq: 1, modid: 1, cmdid: 1 });
      client.send(MsgId.ReportRequest, { modid: 1, cmdid: 1, retcode: 0 });
      client.send(MsgId.GetHostRequest, { seq: 2, modid: 1, cmdid: 1 });
      assert.equal((await client.nextMessage(MsgId.GetHostResponse)).seq, 2);
      await waitFor(() => server.counters.handlerErrors.get() === 2);
      assert.equal(logs.matching(/error throwing handler_failed .*msgid=4 .*error="handler bug"/).length, 1);
      assert.equal(logs.matching(/error throwing handler_failed .*msgid=6 .*error="async handler bug"/).length, 1);
      assert.equal(client.closed, false);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('connections over maxConnections are closed at once with a log line and counted (when every slot is working)', async () => {
    const metrics = new MetricsRegistry();
    const { server } = routeServer({ name: 'limited', maxConnections: 2, metrics });
    const { port } = await server.listen();
    const first = await RawTcpClient.connect(port);
    const second = await RawTcpClient.connect(port);
    await waitFor(() => server.connectionCount === 2);
    // Each completes a frame: otherwise the oldest would make room (test/reactor/slow-clients.test.ts).
    for (const [i, client] of [first, second].entries()) {
      client.send(MsgId.GetRouteRequest, { modid: 10 + i, cmdid: 1 });
      await client.nextMessage(MsgId.GetRouteResponse);
    }
    const third = await RawTcpClient.connect(port);
    try {
      await third.whenClosed();
      await logs.waitFor(/warn limited connection_rejected .*reason="connection limit" limit=2/);
      assert.equal(server.counters.rejected.get(), 1);
      assert.match(metrics.render(), /lars_limited_connections_rejected_total 1/);
      assert.equal(server.connectionCount, 2);

      second.send(MsgId.GetRouteRequest, { modid: 2, cmdid: 2 });
      assert.equal((await second.nextMessage(MsgId.GetRouteResponse)).modid, 2);

      await first.close();
      await waitFor(() => server.connectionCount === 1);
      const fourth = await RawTcpClient.connect(port);
      fourth.send(MsgId.GetRouteRequest, { modid: 4, cmdid: 4 });
      assert.equal((await fourth.nextMessage(MsgId.GetRouteResponse)).modid, 4, 'a freed slot takes a new connection');
      await fourth.close();
    } finally {
      await Promise.all([first.close(), second.close(), third.close()]);
      await server.close();
    }
  });

  test('a peer that stops reading pauses reading from it until its output drains', async () => {
    const bigReply = encodeFrame(ECHO_RAW, Buffer.alloc(256 * 1024, 1));
    let conn: TcpConnection | undefined;
    const server = new TcpServer({
      name: 'backpressure',
      host: '127.0.0.1',
      port: 0,
      outputHighWater: 64 * 1024,
      onConnect: (c) => {
        conn = c;
      },
    });
    server.handleRaw(ECHO_RAW, (c) => {
      c.sendFrame(bigReply);
    });
    const { port } = await server.listen();
    const client = await RawTcpClient.connect(port);
    try {
      client.pauseReading();
      const request = encodeFrame(ECHO_RAW, Buffer.alloc(0));
      let sent = 0;
      await waitFor(
        () => {
          client.write(request);
          sent += 1;
          return conn?.paused;
        },
        { message: 'the server to pause reading' },
      );
      assert.ok(server.counters.readPauses.get() >= 1);
      assert.ok(conn!.pendingOutput >= 64 * 1024);

      // While paused, further requests are not read. The five are in the
      // server's receive buffer once the write callback ran; a round trip on a
      // second connection then takes the server's event loop through a poll
      // that would have read them too, had it been reading.
      const received = server.counters.framesReceived.get();
      for (let i = 0; i < 5; i++) client.write(request);
      sent += 5;
      await new Promise((resolve) => client.socket.write(Buffer.alloc(0), resolve));
      const other = await RawTcpClient.connect(port);
      try {
        other.write(request);
        await other.nextFrame();
      } finally {
        await other.close();
      }
      assert.equal(server.counters.framesReceived.get(), received + 1, 'only the other connection was read while paused');

      client.resumeReading();
      await waitFor(() => client.frames.length === sent, { message: `${sent} replies` });
      assert.equal(server.counters.framesReceived.get(), sent + 1, 'every request was eventually read');
      assert.equal(conn!.paused, false);
      assert.ok(client.frames.every((f) => f.msgid === ECHO_RAW && f.body.length === bigReply.length - HEADER_SIZE));
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('an idle connection is closed after idleTimeoutMs', async () => {
    const { server } = routeServer({ name: 'idle', idleTimeoutMs: 150 });
    const { port } = await server.listen();
    const client = await RawTcpClient.connect(port);
    try {
      await client.whenClosed();
      await logs.waitFor(new RegExp(`info idle idle_timeout peer=127.0.0.1:${client.localPort} `));
      assert.equal(server.counters.idleTimeouts.get(), 1);
      await waitFor(() => server.connectionCount === 0);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('close() ends connections gracefully and resolves once they are gone', async () => {
    const { server, events } = routeServer({ name: 'closing' });
    const { port } = await server.listen();
    const client = await RawTcpClient.connect(port);
    client.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
    await client.nextMessage(MsgId.GetRouteResponse);
    await server.close();
    assert.equal(server.connectionCount, 0);
    assert.deepEqual(events, ['connect 1', 'close 1 [1/1]']);
    await client.whenClosed();
    await assert.rejects(RawTcpClient.connect(port), /ECONNREFUSED/);
  });

  test('close() destroys a connection whose peer lingers past the grace period', async () => {
    const { server } = routeServer({ name: 'lingering', closeGraceMs: 100 });
    const { port } = await server.listen();
    const client = await RawTcpClient.connect(port, '127.0.0.1', { allowHalfOpen: true });
    try {
      await waitFor(() => server.connectionCount === 1);
      await server.close();
      assert.equal(server.connectionCount, 0);
      await logs.waitFor(new RegExp(`lingering disconnected peer=127.0.0.1:${client.localPort} conn=1 reason="server closing"`));
    } finally {
      await client.close();
    }
  });

  test('listen() on a port in use rejects', async () => {
    const { server: first } = routeServer();
    const { port } = await first.listen();
    const { server: second } = routeServer({ port });
    await assert.rejects(second.listen(), /EADDRINUSE/);
    await first.close();
    await second.close();
  });
});
