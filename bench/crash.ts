/**
 * npm run bench -- crash [--seconds 20] [--rate 4000] [--routes 100] [--engines sqlite,mysql,postgres]
 *
 * `kill -9` of the reporter under load, during a store stall, then a restart
 * (docs/reporter.md, "Acknowledgements"). Per engine: `lars dns`, `lars
 * reporter` and `lars agent` children; this process makes `--rate`
 * getHost+report calls a second over `--routes` routes of 5 hosts each
 * through the agent. A quarter into the run the store stalls (SQLite:
 * another connection holds the write lock; MySQL/PostgreSQL: the reporter's
 * path to the server is cut), so the reporter holds everything in memory;
 * half-way through it is killed with SIGKILL; the stall ends at 60 % and the
 * reporter is started again at 65 % (a SQLite store held locked would keep a
 * new reporter from opening it). After the load stops and the agent has nothing
 * unacknowledged, the store's call_series counts are compared with what the
 * agent was told (its lars_agent_requests_total{kind="report"}).
 *
 * Env: LARS_TEST_MYSQL_URL / LARS_TEST_PG_URL as the tests take them.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { LarsClient } from '../src/client/lars-client.js';
import { openStore, RouteAdmin } from '../src/store/index.js';
import { kyselyOf, type Store } from '../src/store/store.js';
import { portOf, startLars, type LarsProcess } from '../test/support/cli.js';
import { discoverEngines, type EngineName } from '../test/support/engines.js';
import { unusedPort } from '../test/support/net.js';
import { storeOutage } from '../test/reporter/helpers.js';
import { table } from './stats.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const started = performance.now();
const progress = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
const MODID = 7;

/** One value of a Prometheus text page, summed over its labels; 0 when absent. */
async function scrape(admin: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://${admin}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => l.includes(labels))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function storedCalls(store: Store): Promise<number> {
  const { rows } = await sql<{ calls: number | string | null }>`select sum(succ + err) as calls from call_series where modid = ${MODID}`.execute(kyselyOf(store));
  return Number(rows[0]?.calls ?? 0);
}

/** Paced getHost+report loops: `rate` calls a second in all, spread over the routes. */
async function drive(client: LarsClient, rate: number, routes: number, until: () => boolean): Promise<number> {
  let calls = 0;
  const t0 = performance.now();
  while (!until()) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    const burst: Promise<void>[] = [];
    for (; calls < due; calls++) {
      const cmdid = 1 + (calls % routes);
      burst.push(
        client.getHost(MODID, cmdid).then((result) => {
          if (result.host) client.report(MODID, cmdid, result.host, 0);
        }),
      );
    }
    await Promise.all(burst);
    await sleep(5);
  }
  return calls;
}

interface Outcome {
  engine: EngineName;
  told: number;
  stored: number;
  resent: number;
  dropped: number;
}

async function runOn(engine: EngineName, url: string, seconds: number, rate: number, routes: number): Promise<Outcome> {
  const store = await openStore(url);
  const admin = new RouteAdmin(store);
  for (let cmdid = 1; cmdid <= routes; cmdid++) {
    await admin.addModule({ modid: MODID, cmdid });
    for (let h = 1; h <= 5; h++) await admin.addHost({ modid: MODID, cmdid, ip: `10.7.${cmdid}.${h}`, port: 9000 + h });
  }
  const outage = await storeOutage(engine, url);
  const reporterPort = await unusedPort();
  const agentAdmin = `127.0.0.1:${await unusedPort()}`;
  const reporterArgs = ['reporter', '--store', outage.url, '--listen', `127.0.0.1:${reporterPort}`, '--admin', 'off'];
  const procs: LarsProcess[] = [];
  let reporter: LarsProcess | undefined;
  let client: LarsClient | undefined;
  try {
    const dns = await startLars(['dns', '--store', url, '--listen', '127.0.0.1:0', '--admin', 'off']);
    procs.push(dns);
    reporter = await startLars(reporterArgs);
    const agent = await startLars(['agent', '--dns', dns.ready.addr!, '--reporter', `127.0.0.1:${reporterPort}`, '--udp-base-port', '0', '--caller', '10.7.0.1', '--admin', agentAdmin]);
    procs.push(agent);
    client = new LarsClient({ basePort: portOf(agent.ready.udp!.split(',')[0]!), timeoutMs: 2000 });
    let stop = false;
    const load = drive(client, rate, routes, () => stop);
    const t0 = performance.now();
    const at = (fraction: number) => sleep(Math.max(0, t0 + fraction * seconds * 1000 - performance.now()));
    const status = setInterval(async () => {
      const kept = await scrape(agentAdmin, 'lars_agent_reporter_queued').catch(() => NaN);
      progress(`${engine}: agent keeps ${kept} unacknowledged reports, store has ${await storedCalls(store).catch(() => NaN)} calls`);
    }, 1000);
    try {
      await at(0.25);
      await outage.begin();
      progress(`${engine}: store stalled`);
      await at(0.5);
      await reporter.kill();
      progress(`${engine}: reporter killed (SIGKILL) with its queue in memory`);
      await at(0.6);
      await outage.end();
      progress(`${engine}: store back`);
      await at(0.65);
      reporter = await startLars(reporterArgs);
      progress(`${engine}: reporter restarted`);
      await at(1);
      stop = true;
      const calls = await load;
      progress(`${engine}: load stopped after ${calls} calls; waiting for the last reports to be acknowledged`);
      await sleep(2500);
      const deadline = performance.now() + 60_000;
      while ((await scrape(agentAdmin, 'lars_agent_reporter_queued')) > 0 && performance.now() < deadline) await sleep(250);
    } finally {
      clearInterval(status);
    }
    return {
      engine,
      told: await scrape(agentAdmin, 'lars_agent_requests_total', 'kind="report"'),
      stored: await storedCalls(store),
      resent: await scrape(agentAdmin, 'lars_agent_reports_resent_total'),
      dropped: await scrape(agentAdmin, 'lars_agent_reports_dropped_total'),
    };
  } finally {
    await client?.close();
    await reporter?.kill();
    for (const p of procs) await p.kill();
    await outage.close();
    await store.close();
  }
}

export default async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '20' },
      rate: { type: 'string', default: '4000' },
      routes: { type: 'string', default: '100' },
      engines: { type: 'string', default: 'sqlite,mysql,postgres' },
    },
  });
  const wanted = values.engines.split(',');
  const { available, skipped } = await discoverEngines();
  for (const s of skipped) if (wanted.includes(s.name)) console.log(`skipped ${s.name}: ${s.reason}`);
  const outcomes: Outcome[] = [];
  for (const engine of available.filter((e) => wanted.includes(e.name))) {
    const database = await engine.createDatabase();
    try {
      outcomes.push(await runOn(engine.name, database.url, Number(values.seconds), Number(values.rate), Number(values.routes)));
    } finally {
      await database.drop();
    }
  }
  table(
    ['engine', 'calls the agent was told', 'calls in the store', 'lost', 'reports resent', 'reports dropped by the agent'],
    outcomes.map((o) => [o.engine, o.told, o.stored, o.told - o.stored, o.resent, o.dropped]),
  );
}
