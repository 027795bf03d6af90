/**
 * `lars agent` as a process of its own, the way every host runs it. From
 * dist (npm test) that is the bundled agent (scripts/bundle-agent.mjs;
 * docs/agent.md, "Memory"): these tests check that the bundle serves in both
 * thread models, reports errors and --help as every other command does, and
 * loads only its own chunks and none of Node's modules it has no use for.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intToIp } from '../../src/protocol/ip.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { RetCode } from '../../src/protocol/retcode.js';
import { chooseIo } from '../../src/reactor/udp-port.js';
import { lars, portOf, REPO, startLars, TEST_COMPILED, type LarsProcess } from '../support/cli.js';
import { RawUdpClient } from '../support/net.js';
import { startPortRouteServices, type PortRouteServices } from '../support/port-routes.js';

let services: PortRouteServices;

before(async () => {
  services = await startPortRouteServices(9);
});
after(() => services?.stop());

for (const threads of [1, 3] as const) {
  describe(`lars agent --set agent.threads=${threads}`, () => {
    let agent: LarsProcess;
    before(async () => {
      agent = await startLars(['agent', '--dns', services.dns.addr, '--reporter', services.reporter.addr, '--udp-base-port', '0', '--admin', '127.0.0.1:0', '--set', `agent.threads=${threads}`]);
    });
    after(async () => {
      await agent?.stop();
    });

    test('every port answers getHost for the route it owns', async () => {
      const [host, ports] = [agent.ready.udp!.slice(0, agent.ready.udp!.indexOf(':')), agent.ready.udp!.split(',').map(portOf)];
      assert.equal(ports.length, 3, agent.ready.udp);
      for (const [index, route] of services.routes.entries()) {
        const client = await RawUdpClient.open(ports[index]!, host);
        try {
          client.sendMessage(MsgId.GetHostRequest, { seq: 70 + index, ...route });
          const answer = await client.nextMessage(MsgId.GetHostResponse);
          assert.equal(answer.retcode, RetCode.SUCC, `route ${route.modid}/${route.cmdid}`);
          assert.deepEqual({ ip: intToIp(answer.host!.ip), port: answer.host!.port }, services.hostOf(index));
        } finally {
          await client.close();
        }
      }
    });

    test('its admin endpoint says which thread model runs', async () => {
      const health = (await (await fetch(`http://${agent.ready.admin}/healthz`)).json()) as { threads: number };
      assert.equal(health.threads, threads);
    });
  });
}

test('lars agent: an unknown flag is a usage error (exit 2, the forms hint), not a stack trace', async () => {
  const run = await lars(['agent', '--bogus']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^lars agent: Unknown option '--bogus'.*\n\(run lars --help for the forms\)\n$/s);
});

test('lars agent: a failed start is one line with the reason (exit 1)', async () => {
  const run = await lars(['agent', '--dns', services.dns.addr, '--reporter', services.reporter.addr, '--udp-base-port', '0', '--admin', 'off', '--set', 'agent.threads=2']);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /^lars agent: .*expected one of auto, 1, 3/);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
});

test('lars agent --help prints the agent form', async () => {
  const run = await lars(['agent', '--help']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /lars agent +--dns HOST:PORT/);
});

const FROM_SOURCE = 'runs from src through tsx: the bundle exists in dist only (npm test runs dist)';

test('an idle lars agent (threads = 1, admin off) has loaded neither node:worker_threads, nor node:fs/promises, nor node:dgram on the native path', { skip: TEST_COMPILED ? false : FROM_SOURCE }, async () => {
  // A preloaded script that prints the Node modules loaded so far when asked: what the agent itself loaded, nothing of the test's.
  const probe = join(tmpdir(), `lars-agent-builtins-${process.pid}.cjs`);
  await writeFile(probe, "process.on('SIGUSR2', () => process.stderr.write('builtins ' + process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)).join(',') + '\\n'));\n");
  const agent = await startLars(['agent', '--dns', services.dns.addr, '--reporter', services.reporter.addr, '--udp-base-port', '0', '--admin', 'off'], { NODE_OPTIONS: `--require ${probe}` });
  try {
    agent.child.kill('SIGUSR2');
    const loaded = new Set((await agent.waitForLine(/^builtins /)).slice('builtins '.length).split(','));
    assert.ok(loaded.has('net') && loaded.has('os'), [...loaded].join(' '));
    const unwanted = ['worker_threads', 'fs/promises', ...(chooseIo({ host: '127.0.0.1', io: 'auto' }).io === 'native' ? ['dgram'] : [])];
    assert.deepEqual(unwanted.filter((name) => loaded.has(name)), []);
  } finally {
    await agent.stop();
    await rm(probe, { force: true });
  }
});

test('the built lars agent imports nothing of the project but its own chunks (and usage.js for --help)', { skip: TEST_COMPILED ? false : FROM_SOURCE }, async () => {
  const seen = new Set<string>();
  const pending = ['dist/src/cli/agent-main.js', 'dist/src/agent/port-thread.js'];
  const foreign: string[] = [];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(join(REPO, file), 'utf8');
    const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)"([^"]+)"/g)].map((m) => m[1]!);
    for (const specifier of specifiers) {
      if (specifier.startsWith('node:') || specifier === './usage.js') continue;
      const chunk = /^\.{1,2}\/(?:cli\/)?(agent-chunk-\w+\.js)$/.exec(specifier);
      if (chunk) pending.push(`dist/src/cli/${chunk[1]}`);
      else foreign.push(`${file}: ${specifier}`);
    }
  }
  assert.deepEqual(foreign, []);
  assert.ok(seen.size >= 3, `entries and chunks: ${[...seen].join(', ')}`);
});
