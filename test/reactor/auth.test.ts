/**
 * Service-port authentication by token (docs/reactor.md, "Authentication"):
 * the check itself, then a real dns and reporter that require tokens, spoken
 * to by raw clients and by our own agent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/service.js';
import { LarsClient } from '../../src/client/lars-client.js';
import type { DnsService } from '../../src/dns/service.js';
import { ipToInt32 } from '../../src/protocol/ip.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { parseTokens, TokenCheck } from '../../src/reactor/auth.js';
import type { Reporter } from '../../src/reporter/index.js';
import { CallStatus, openStore, RouteAdmin, type Store } from '../../src/store/index.js';
import { captureLogs, RawTcpClient, waitFor } from '../support/net.js';
import { startAgentHere, startDnsHere, startReporterHere, type LocalService } from '../support/services.js';

const logs = captureLogs('info');
after(() => logs.restore());

describe('TokenCheck', () => {
  test('accepts each configured token and nothing else; no token configured is off', () => {
    const check = new TokenCheck(parseTokens(' old-token , new-token,, '));
    assert.equal(check.enabled, true);
    assert.equal(check.accepts('old-token'), true);
    assert.equal(check.accepts('new-token'), true);
    assert.equal(check.accepts('new-token '), false);
    assert.equal(check.accepts(''), false);
    assert.equal(new TokenCheck(parseTokens('')).enabled, false);
  });
});

describe('dns and reporter that require a token', () => {
  const TOKENS = ['reactor.auth_tokens=old-token,new-token', 'reactor.auth_timeout_ms=300'];
  let dir: string;
  let store: Store;
  let dns: LocalService<DnsService>;
  let reporter: LocalService<Reporter>;
  const clients: RawTcpClient[] = [];
  const raw = async (port: number) => {
    const client = await RawTcpClient.connect(port);
    clients.push(client);
    return client;
  };
  const failures = (service: LocalService<unknown>, name: string) =>
    Number(/_auth_failures_total (\d+)/.exec(service.metrics.render().split('\n').find((l) => l.startsWith(`lars_${name}_auth_failures_total`)) ?? '')?.[1] ?? 0);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lars-auth-'));
    store = await openStore(`sqlite:${join(dir, 'lars.db')}`);
    const admin = new RouteAdmin(store);
    await admin.addModule({ modid: 1, cmdid: 1 });
    await admin.addHost({ modid: 1, cmdid: 1, ip: '10.0.0.1', port: 80 });
    dns = await startDnsHere({ store, set: TOKENS });
    reporter = await startReporterHere({ store, set: TOKENS });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await reporter.stop();
    await dns.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a client without a token cannot subscribe: told why, closed, counted, and not subscribed', async () => {
    const client = await raw(dns.port);
    client.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
    const refused = await client.nextMessage(MsgId.AuthRefused);
    assert.match(refused.reason, /the first frame must be an AuthRequest \(id 110\), got id 1/);
    await client.whenClosed();
    assert.equal(dns.service.health().subscribedRoutes, 0);
    assert.equal(failures(dns, 'dns'), 1);
    await dns.waitForLine(/auth_failed .*reason=/);
  });

  test('a wrong token is refused; a silent connection is cut after auth_timeout_ms', async () => {
    const wrong = await raw(dns.port);
    wrong.send(MsgId.AuthRequest, { token: 'guess' });
    assert.equal((await wrong.nextMessage(MsgId.AuthRefused)).reason, 'token not accepted');
    await wrong.whenClosed();
    const silent = await raw(dns.port);
    assert.match((await silent.nextMessage(MsgId.AuthRefused)).reason, /no AuthRequest within 300 ms/);
    await silent.whenClosed();
  });

  test('either accepted token (rolling from old to new) opens the connection as Lars would see it', async () => {
    for (const token of ['old-token', 'new-token']) {
      const client = await raw(dns.port);
      client.send(MsgId.AuthRequest, { token });
      client.send(MsgId.GetRouteRequest, { modid: 1, cmdid: 1 });
      const route = await client.nextMessage(MsgId.GetRouteResponse);
      assert.deepEqual(route.host.map((h) => h.port), [80]);
    }
  });

  test('a report without the token is not stored', async () => {
    const client = await raw(reporter.port);
    client.send(MsgId.ReportStatusRequest, { modid: 1, cmdid: 1, caller: ipToInt32('10.9.9.9'), results: [{ ip: ipToInt32('10.0.0.1'), port: 80, succ: 5, err: 0, overload: false }], ts: 0 });
    await client.nextMessage(MsgId.AuthRefused);
    await client.whenClosed();
    assert.equal(reporter.service.stats().reports, 0, 'the frame never reached the report handler');
    assert.equal(reporter.service.stats().resultsAccepted, 0);
    assert.equal(failures(reporter, 'reporter'), 1);
  });

  test('our agent with the token gets routes and its reports are stored', async () => {
    const agent: LocalService<Agent> = await startAgentHere({ dns: dns.addr, reporter: reporter.addr, set: ['reactor.auth_token=new-token', 'agent.report_interval_s=0.1'] });
    const client = new LarsClient({ host: '127.0.0.1', basePort: agent.port, timeoutMs: 2000 });
    try {
      const picked = await client.getHost(1, 1);
      assert.equal(picked.host?.port, 80);
      client.report(1, 1, picked.host!, 0);
      await waitFor(async () => (await new CallStatus(store).list({ modid: 1, cmdid: 1 })).length > 0, { message: 'the report in the store' });
    } finally {
      await client.close();
      await agent.stop();
    }
  });
});

test('a token sent to a service that asks for none is ignored: authentication can be rolled out clients first', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lars-auth-off-'));
  const store = await openStore(`sqlite:${join(dir, 'lars.db')}`);
  const dns = await startDnsHere({ store });
  const client = await RawTcpClient.connect(dns.port);
  try {
    client.send(MsgId.AuthRequest, { token: 'new-token' });
    client.send(MsgId.GetRouteRequest, { modid: 5, cmdid: 5 });
    assert.deepEqual((await client.nextMessage(MsgId.GetRouteResponse)).host, []);
  } finally {
    await client.close();
    await dns.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
