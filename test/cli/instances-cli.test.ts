/**
 * `lars instances` (list, drain, weight, undrain) and the registered hosts in
 * `lars route list`, as processes against a real store on every reachable
 * engine, with instances written the way the dns writes them
 * (InstanceRegistry); and once end to end: a server registers with a real
 * dns over TCP and reports a load, the CLI shows it, and a drain from the CLI
 * reaches a subscribed agent as weight 0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipToInt32, ipToUint32 } from '../../src/protocol/ip.js';
import { decodeBody } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { routeKey } from '../../src/protocol/route-key.js';
import { InstanceRegistry, type InstanceRegistration } from '../../src/store/registry.js';
import { RouteAdmin } from '../../src/store/route-admin.js';
import { RouteReader } from '../../src/store/route-reader.js';
import { openStore, type Store } from '../../src/store/store.js';
import { assertFailure, assertUsageError, jsonOutput, lars, type Run } from '../support/cli.js';
import { forEachEngine } from '../support/engines.js';
import { RawTcpClient, waitFor } from '../support/net.js';
import { registerOverTcp } from '../support/registration.js';
import { startDnsHere } from '../support/services.js';

/** Table lines with their columns split (single spaces). */
const tableLines = (run: Run) => run.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/).join(' | '));

const OWNER = 'dns-test-node';

function registration(modid: number, cmdid: number, ip: string, port: number, weight: number, metadata: Record<string, string> = {}): InstanceRegistration {
  return { modid, cmdid, ip: ipToUint32(ip), port, weight, ttlMs: 5000, metadata };
}

/** The weight dns would serve for ip:port in 10:1 (RouteReader is what dns reads). */
async function servedWeight(store: Store, ip: string, port: number): Promise<number | undefined> {
  const { routes } = await new RouteReader(store).loadRoutes();
  return routes.get(routeKey(10, 1))?.hosts.find((h) => h.ip === ipToUint32(ip) && h.port === port)?.weight;
}

await forEachEngine('lars instances and route list with registered instances', (store, _engine, { url }) => {
  const registry = new InstanceRegistry(store);
  const admin = new RouteAdmin(store);
  const run = (...args: string[]) => lars([...args, '--store', url]);

  before(async () => {
    await admin.addModule({ modid: 10, cmdid: 1 }, 'fixture');
    await admin.addModule({ modid: 11, cmdid: 1 }, 'fixture');
    await admin.addHost({ modid: 10, cmdid: 1, ip: '10.0.0.1', port: 80 }, 'fixture');
    await registry.write(OWNER, [
      { kind: 'register', instance: registration(10, 1, '10.0.0.1', 80, 3) },
      { kind: 'register', instance: registration(10, 1, '10.0.0.2', 80, 3, { zone: 'a' }) },
      { kind: 'register', instance: registration(11, 1, '10.1.0.1', 90, 1) },
    ]);
    await registry.flushLoads(OWNER, [{ key: { modid: 10, cmdid: 1, ip: ipToUint32('10.0.0.2'), port: 80 }, load: { inFlight: 4, connections: 2, cpuPermille: 150, score: 420 } }]);
  });

  test('--json: one document of instances (load, heartbeat, shadowed by a configured host); route list adds them with source, heartbeat and load', async () => {
    const [all, one, routes] = await Promise.all([run('instances', '--json'), run('instances', '10', '1', '--json'), run('route', 'list', '10', '1', '--json')]);
    const doc = jsonOutput(all);
    assert.deepEqual(Object.keys(doc), ['instances']);
    assert.deepEqual(
      doc.instances.map((i: any) => [i.modid, i.cmdid, i.ip, i.port, i.weight, i.shadowed, i.drained, i.load?.score ?? null]),
      [
        [10, 1, '10.0.0.1', 80, 3, true, false, null],
        [10, 1, '10.0.0.2', 80, 3, false, false, 420],
        [11, 1, '10.1.0.1', 90, 1, false, false, null],
      ],
    );
    const loaded = doc.instances[1];
    assert.deepEqual(loaded.load, { inFlight: 4, connections: 2, cpuPermille: 150, score: 420 });
    assert.deepEqual([loaded.ttl, loaded.owner, loaded.source, loaded.metadata, loaded.overrideWeight], [5, OWNER, 'registered', { zone: 'a' }, null]);
    assert.ok(Math.abs(loaded.lastHeartbeat - Date.now() / 1000) < 600, `lastHeartbeat ${loaded.lastHeartbeat}`);
    assert.deepEqual(jsonOutput(one).instances.map((i: any) => i.ip), ['10.0.0.1', '10.0.0.2']);

    const listed = jsonOutput(routes);
    assert.equal(listed.version, await admin.version());
    assert.deepEqual(
      listed.routes.map(({ modid, cmdid, ip, port, weight, source, load }: any) => ({ modid, cmdid, ip, port, weight, source, score: load?.score ?? null })),
      [
        { modid: 10, cmdid: 1, ip: '10.0.0.1', port: 80, weight: 1, source: 'static', score: null },
        { modid: 10, cmdid: 1, ip: '10.0.0.2', port: 80, weight: 3, source: 'registered', score: 420 },
      ],
      'the configured host wins at 10.0.0.1:80, as dns serves it',
    );
    const [configured, registered] = listed.routes;
    assert.equal(configured.lastHeartbeat, null);
    assert.equal(typeof configured.createdAt, 'number', 'the existing fields stay');
    assert.equal(registered.lastHeartbeat, loaded.lastHeartbeat);
  });

  test('drain, weight and undrain: what dns serves changes, a drain survives re-registration, each answers with the route version', async () => {
    const start = await admin.version();
    const drained = jsonOutput(await run('instances', 'drain', '10', '1', '10.0.0.2', '80', '--json'));
    assert.deepEqual(drained, { action: 'drain', modid: 10, cmdid: 1, ip: '10.0.0.2', port: 80, weight: 0, registered: true, version: start + 1 });
    assert.equal(await servedWeight(store, '10.0.0.2', 80), 0);

    await registry.write(OWNER, [{ kind: 'register', instance: registration(10, 1, '10.0.0.2', 80, 3) }]);
    const again = (await admin.listInstances({ modid: 10, cmdid: 1 })).instances.find((i) => i.ip === '10.0.0.2')!;
    assert.deepEqual([again.weight, again.registeredWeight, again.overrideWeight, again.drained], [0, 3, 0, true], 'still drained after the server registered again');

    const weighted = jsonOutput(await run('instances', 'weight', '10', '1', '10.0.0.2', '80', '7', '--json'));
    assert.deepEqual([weighted.action, weighted.weight, weighted.version > drained.version], ['weight', 7, true]);
    assert.equal(await servedWeight(store, '10.0.0.2', 80), 7);

    const undrained = jsonOutput(await run('instances', 'undrain', '10', '1', '10.0.0.2', '80', '--json'));
    assert.deepEqual(undrained, { action: 'undrain', modid: 10, cmdid: 1, ip: '10.0.0.2', port: 80, registered: true, version: weighted.version + 1 });
    assert.equal(await servedWeight(store, '10.0.0.2', 80), 3, 'the registered weight again');
    assertFailure(await run('instances', 'undrain', '10', '1', '10.0.0.2', '80'), /^lars instances: instance 10\.0\.0\.2:80 of module 10:1 has no operator weight$/);

    // A weight for an instance that has not registered (yet) is kept, and the command says so.
    const ahead = await run('instances', 'drain', '10', '1', '10.0.0.9', '80');
    assert.equal(ahead.code, 0, ahead.stderr);
    assert.match(ahead.stdout, /^drained instance 10\.0\.0\.9:80 of module 10:1 \(route version \d+\)\n$/);
    assert.equal(ahead.stderr, 'note: no instance 10.0.0.9:80 of module 10:1 is registered now; the weight applies when it registers\n');
    assert.equal(jsonOutput(await run('instances', 'undrain', '10', '1', '10.0.0.9', '80', '--json')).registered, false);
  });

  test('human output: tables with heartbeat age, load, DRAINED and SHADOWED; route list has SOURCE, HEARTBEAT, LOAD', async () => {
    const drained = await run('instances', 'drain', '10', '1', '10.0.0.2', '80');
    assert.match(drained.stdout, /^drained instance 10\.0\.0\.2:80 of module 10:1 \(route version \d+\)\n$/);
    const [instances, routes] = await Promise.all([run('instances', '10', '1'), run('route', 'list', '10', '1')]);
    const lines = tableLines(instances);
    assert.equal(lines[0], 'MODID | CMDID | IP | PORT | WEIGHT | LOAD | HEARTBEAT | TTL | OWNER | NOTE');
    assert.match(lines[1]!, new RegExp(`^10 \\| 1 \\| 10\\.0\\.0\\.1 \\| 80 \\| 3 \\| - \\| \\d+s ago \\| 5s \\| ${OWNER} \\| SHADOWED: a configured host at this address serves instead$`));
    assert.match(lines[2]!, new RegExp(`^10 \\| 1 \\| 10\\.0\\.0\\.2 \\| 80 \\| 0 \\| 420 \\| \\d+s ago \\| 5s \\| ${OWNER} \\| DRAINED$`));
    const routeLines = tableLines(routes);
    assert.match(routeLines[0]!, /^route version \d+ in \S+$/);
    assert.deepEqual(routeLines.slice(1, 3), ['MODID | CMDID | IP | PORT | WEIGHT | SOURCE | HEARTBEAT | LOAD', '10 | 1 | 10.0.0.1 | 80 | 1 | static | - | -']);
    assert.match(routeLines[3]!, /^10 \| 1 \| 10\.0\.0\.2 \| 80 \| 0 \| registered \| \d+s ago \| 420$/);
    assert.equal((await run('instances', 'undrain', '10', '1', '10.0.0.2', '80')).code, 0);
    assert.match((await run('instances', '12', '1')).stdout, /^\(no registered instances in \S+\)\n$/);
  });

  test('refused edits exit 1 with one line naming the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['instances', 'weight', '10', '1', '10.0.0.2', '80', '1001'], /^lars instances: weight: must be between 0 and 1000, got 1001$/],
      [['instances', 'drain', '99', '1', '10.0.0.2', '80'], /^lars instances: module 99:1 does not exist$/],
      [['instances', 'drain', '10', '1', '10.0.0.300', '80'], /^lars instances: ip: must be a dotted IPv4 address/],
      [['instances', 'drain', '10', '1', '10.0.0.2', '0'], /^lars instances: port: must be between 1 and 65535, got 0$/],
    ];
    const runs = await Promise.all(cases.map(([args]) => run(...args)));
    runs.forEach((r, i) => assertFailure(r, cases[i]![1]));
    assert.equal((await admin.listInstances({ modid: 10, cmdid: 1 })).instances.every((i) => i.overrideWeight === null), true, 'nothing was set');
  });
});

describe('lars instances: usage, help and an unreachable store', () => {
  test('usage errors exit 2; --help prints each form and exits 0', async () => {
    const cases: [string[], RegExp][] = [
      [['instances', 'drain', '10', '1', '10.0.0.2'], /^lars instances: expected drain MODID CMDID IP PORT: /],
      [['instances', 'weight', '10', '1', '10.0.0.2', '80'], /^lars instances: expected weight MODID CMDID IP PORT W: /],
      [['instances', 'weight', '10', '1', '10.0.0.2', '80', 'heavy'], /^lars instances: W must be an integer, got "heavy"$/],
      [['instances', '10'], /^lars instances: expected \[MODID CMDID\]: /],
      [['instances', 'ten', '1'], /^lars instances: MODID must be an integer, got "ten"$/],
      [['instances', '--bogus'], /Unknown option '--bogus'/],
      [['instances', '--store', 'redis://x'], /unknown store URL/],
    ];
    const helps: [string[], RegExp][] = [
      [['instances', '--help'], /^usage: lars instances \[MODID CMDID\] \[--store URL\] \[--json\]\n/],
      [['instances', 'drain', '--help'], /^usage: lars instances drain MODID CMDID IP PORT .*\n\nGives the instance the operator weight 0/],
      [['instances', 'weight', '-h'], /^usage: lars instances weight MODID CMDID IP PORT W /],
      [['instances', 'undrain', '--help'], /^usage: lars instances undrain MODID CMDID IP PORT /],
      [['--help'], /\n {2}lars instances \[MODID CMDID\] \| drain MODID CMDID IP PORT/],
    ];
    const [usageRuns, helpRuns] = await Promise.all([Promise.all(cases.map(([args]) => lars(args))), Promise.all(helps.map(([args]) => lars(args)))]);
    usageRuns.forEach((r, i) => assertUsageError(r, cases[i]![1]));
    helpRuns.forEach((r, i) => {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, helps[i]![1]);
    });
  });

  test('an unreachable store: exit 1, one line, no password', async () => {
    const runs = await Promise.all([
      lars(['instances', '--store', 'mysql://root:hunter2@127.0.0.1:1/lars']),
      lars(['instances', 'drain', '1', '1', '10.0.0.1', '80', '--store', 'mysql://root:hunter2@127.0.0.1:1/lars']),
    ]);
    for (const r of runs) {
      assertFailure(r, /^lars instances: cannot reach mysql at 127\.0\.0\.1:1\/lars: /);
      assert.ok(!r.stderr.includes('hunter2'));
    }
  });
});

describe('a server registered with a real dns, seen and drained from the CLI', () => {
  let dir = '';
  let url = '';
  let store: Store;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lars-instances-'));
    url = `sqlite:${join(dir, 'lars.db')}`;
    store = await openStore(url);
    await new RouteAdmin(store).addModule({ modid: 20, cmdid: 1 }, 'fixture');
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The weights of 127.0.0.2:9000 in every route push the agent got from index `from` on. */
  const pushedWeights = (agent: RawTcpClient, from: number) =>
    agent.frames
      .slice(from)
      .filter((f) => f.msgid === MsgId.GetRouteResponse)
      .map((f) => decodeBody(MsgId.GetRouteResponse, f.body).host.find((h) => h.ip === ipToInt32('127.0.0.2') && h.port === 9000)?.weight);

  test('register and renew with a load over TCP; lars instances shows it; drain and undrain reach the agent', async () => {
    const dns = await startDnsHere({ store: url, set: ['registry.load_flush_ms=100'] });
    const agent = await RawTcpClient.connect(dns.port);
    try {
      agent.send(MsgId.GetRouteRequest, { modid: 20, cmdid: 1 });
      await agent.nextMessage(MsgId.GetRouteResponse);
      const server = await registerOverTcp(dns.port, { modid: 20, cmdid: 1, ip: '127.0.0.2', port: 9000, weight: 2 });
      await server.renew({ inFlight: 3, connections: 1, cpuPermille: 250, score: 610 });
      const admin = new RouteAdmin(store);
      await waitFor(async () => (await admin.listInstances({ modid: 20, cmdid: 1 })).instances[0]?.load?.score === 610, { message: 'the dns to write the load' });

      const [listed] = jsonOutput(await lars(['instances', '20', '1', '--store', url, '--json'])).instances;
      assert.deepEqual([listed.ip, listed.port, listed.weight, listed.load.score, listed.load.inFlight], ['127.0.0.2', 9000, 2, 610, 3]);
      assert.ok(listed.owner.length > 0);

      const beforeDrain = agent.frames.length;
      jsonOutput(await lars(['instances', 'drain', '20', '1', '127.0.0.2', '9000', '--store', url, '--json']));
      await waitFor(() => pushedWeights(agent, beforeDrain).includes(0), { message: 'dns to push weight 0 for the drained instance' });
      const beforeUndrain = agent.frames.length;
      jsonOutput(await lars(['instances', 'undrain', '20', '1', '127.0.0.2', '9000', '--store', url, '--json']));
      await waitFor(() => pushedWeights(agent, beforeUndrain).includes(2), { message: 'dns to push the registered weight again' });

      await server.client.close();
      await waitFor(async () => (await admin.listInstances({ modid: 20, cmdid: 1 })).instances.length === 0, { message: 'the lease to end after its connection closed' });
      assert.deepEqual(jsonOutput(await lars(['instances', '20', '1', '--store', url, '--json'])), { instances: [] });
    } finally {
      await agent.close();
      await dns.stop();
    }
  });
});
