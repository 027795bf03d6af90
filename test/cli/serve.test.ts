/**
 * `lars serve` as a process against the real dns (in-process, SQLite in a
 * temp dir): it registers, echoes lines, and on SIGTERM leaves the route
 * before it exits while its clients still get every answer; usage errors
 * exit 2, a refusal exits 1 with one line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsService } from '../../src/dns/service.js';
import { openStore, RouteAdmin, type Store } from '../../src/store/index.js';
import { lars, portOf, startLars } from '../support/cli.js';
import { waitForRoute } from '../support/dns-route.js';
import { waitFor } from '../support/net.js';
import { startDnsHere, type LocalService } from '../support/services.js';

let dir: string;
let store: Store;
let dns: LocalService<DnsService>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lars-serve-'));
  store = await openStore('sqlite:' + join(dir, 'lars.db'));
  await new RouteAdmin(store).addModule({ modid: 11, cmdid: 1, description: 'echo' });
  dns = await startDnsHere({ store, set: ['dns.poll_interval_ms=50'] });
});

after(async () => {
  await dns.stop();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A line client that keeps every byte the server sent back. */
async function lineClient(port: number): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    received += chunk;
  });
  return { socket, received: () => received };
}

test('lars serve registers its port; on SIGTERM it deregisters first, answers every line sent while draining, then exits 0', async () => {
  const serve = await startLars(['serve', '--listen', '127.0.0.1:0', '--register', '11', '1', '--dns', dns.addr, '--ttl', '2']);
  const port = portOf(serve.ready.addr!);
  const instance = `127.0.0.1:${port}`;
  assert.equal(serve.ready.instance, instance);
  await waitForRoute(dns.port, 11, 1, (hosts) => hosts.has(instance));

  const client = await lineClient(port);
  client.socket.write('before\n');
  await waitFor(() => client.received() === 'before\n', { message: 'the echo' });
  const exit = serve.stop();
  await serve.waitForLine(/ serve\.registration deregistered /);
  await waitForRoute(dns.port, 11, 1, (hosts) => !hosts.has(instance));
  assert.equal(serve.child.exitCode, null, 'out of the route while still serving');
  const during = Array.from({ length: 20 }, (_, i) => `draining ${i}\n`);
  for (const line of during) client.socket.write(line);
  await waitFor(() => client.received() === 'before\n' + during.join(''), { message: 'every line sent during the drain answered' });
  assert.equal(serve.child.exitCode, null, 'still draining while a client is connected');
  client.socket.end();
  assert.equal(await exit, 0);
});

test('lars serve --help prints the form; usage errors exit 2', async () => {
  const help = await lars(['serve', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /lars serve --listen HOST:PORT --register MODID CMDID --dns HOST:PORT\[,\.\.\.\] \[--ttl SECONDS\] \[--weight W\]/);
  for (const args of [
    ['--listen', '127.0.0.1:0', '--dns', dns.addr],
    ['--listen', '127.0.0.1:0', '--register', '11', '--dns', dns.addr],
    ['--listen', '127.0.0.1:0', '--register', 'x', '1', '--dns', dns.addr],
    ['--register', '11', '1', '--dns', dns.addr],
    ['--listen', '127.0.0.1:0', '--register', '11', '1'],
    ['--listen', '127.0.0.1:0', '--register', '11', '1', '--dns', dns.addr, '--ttl', '0'],
  ]) {
    const run = await lars(['serve', ...args]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /^lars serve: /);
  }
});

test('lars serve into a module that does not exist exits 1 with one line naming NO_MODULE', async () => {
  const run = await lars(['serve', '--listen', '127.0.0.1:0', '--register', '11', '99', '--dns', dns.addr]);
  assert.equal(run.code, 1);
  const lines = run.stderr.trim().split('\n');
  assert.match(lines.at(-1)!, /^lars serve: registration refused: NO_MODULE/);
});

test('lars serve --auth-token-file registers with a dns that requires a token; without it the dns refuses and serve exits 1', async () => {
  const guarded = await startDnsHere({ store, set: ['reactor.auth_tokens=s3cret', 'reactor.auth_timeout_ms=200'] });
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, 's3cret\n');
  try {
    const serve = await startLars(['serve', '--listen', '127.0.0.1:0', '--register', '11', '1', '--dns', guarded.addr, '--auth-token-file', tokenFile]);
    // Ready only once the dns accepted the registration.
    assert.match(serve.ready.lease!, /^\d+$/);
    assert.equal(await serve.stop(), 0);
    const refused = await lars(['serve', '--listen', '127.0.0.1:0', '--register', '11', '1', '--dns', guarded.addr]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr.trim().split('\n').at(-1)!, /^lars serve: no dns accepted the registration within \d+ ms \(last: 127\.0\.0\.1:\d+ refused the token: /);
    const missing = await lars(['serve', '--listen', '127.0.0.1:0', '--register', '11', '1', '--dns', guarded.addr, '--auth-token-file', join(dir, 'nope')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read --auth-token-file/);
  } finally {
    await guarded.stop();
  }
});
