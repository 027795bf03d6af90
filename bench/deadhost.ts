/**
 * `npm run bench -- deadhost [--rate N] [--seconds S] [--strategy NAME[,NAME...]]`:
 * the simulator's `dead` scenario through real `lars agent` processes over
 * UDP (docs/simulator.md). Starts a SQLite store with a route of five hosts,
 * `lars dns`, `lars reporter` and one `lars agent` per strategy (from the
 * build in dist/), then drives each agent with getHost+report at a fixed rate
 * (default 2,000 calls/s for 40 s), one host failing every call. Prints the
 * dead host's share per strategy, with a progress line a second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { STRATEGY_NAMES, type StrategyName } from '../src/balancer/types.js';
import { LarsClient } from '../src/client/lars-client.js';
import { openStore, RouteAdmin } from '../src/store/index.js';
import { portOf, startLars, type LarsProcess } from '../test/support/cli.js';
import { driveDeadHost } from '../test/support/dead-host.js';
import { table } from './stats.js';

const MODID = 51;
const CMDID = 1;
const HOSTS = [1, 2, 3, 4, 5].map((n) => ({ ip: `10.0.51.${n}`, port: 9200 + n }));
const DEAD = HOSTS[4]!;

export default async function deadhost(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { rate: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '40' }, strategy: { type: 'string' } } });
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const strategies = (values.strategy?.split(',') ?? ['lars', 'weighted_round_robin', 'least_request', 'consistent_hash', 'adaptive']) as StrategyName[];
  for (const s of strategies) if (!STRATEGY_NAMES.includes(s)) throw new Error(`unknown strategy ${s}: one of ${STRATEGY_NAMES.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'lars-deadhost-'));
  const services: LarsProcess[] = [];
  try {
    const storeUrl = `sqlite:${join(dir, 'lars.db')}`;
    const store = await openStore(storeUrl);
    const admin = new RouteAdmin(store);
    await admin.addModule({ modid: MODID, cmdid: CMDID, description: 'bench deadhost' });
    for (const host of HOSTS) await admin.addHost({ modid: MODID, cmdid: CMDID, ...host });
    await store.close();
    const compiled = { compiled: true };
    const dns = await startLars(['dns', '--store', storeUrl, '--listen', '127.0.0.1:0', '--admin', 'off'], {}, compiled);
    services.push(dns);
    const reporter = await startLars(['reporter', '--store', storeUrl, '--listen', '127.0.0.1:0', '--admin', 'off'], {}, compiled);
    services.push(reporter);
    console.log(`route ${MODID}:${CMDID} of ${HOSTS.length} hosts, ${DEAD.ip}:${DEAD.port} fails every call; ${rate} calls/s for ${seconds} s per strategy`);
    const rows: (string | number)[][] = [];
    for (const strategy of strategies) {
      const agent = await startLars(
        ['agent', '--dns', dns.ready.addr!, '--reporter', reporter.ready.addr!, '--udp-base-port', '0', '--admin', 'off', '--set', `loadbalance.strategy=${strategy}`],
        {},
        compiled,
      );
      services.push(agent);
      const client = new LarsClient({ basePort: portOf(agent.ready.udp!.split(',')[0]!), timeoutMs: 2000 });
      try {
        const run = await driveDeadHost(client, {
          modid: MODID,
          cmdid: CMDID,
          dead: DEAD,
          rate,
          calls: Math.round(rate * seconds),
          onProgress: (done, toDead) => process.stdout.write(`\r${strategy}: ${done} calls, ${toDead} to the dead host (${((100 * toDead) / done).toFixed(3)} %)   `),
        });
        process.stdout.write('\n');
        rows.push([strategy, run.calls, run.toDead, `${((100 * run.toDead) / run.calls).toFixed(3)} %`, run.noHost, Math.round(run.calls / run.seconds)]);
      } finally {
        await client.close();
        await agent.stop();
      }
    }
    table(['strategy', 'calls', 'to dead host', 'share', 'no host', 'calls/s'], rows);
  } finally {
    for (const service of services.reverse()) await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
