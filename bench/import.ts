/**
 * npm run bench -- import [--engines sqlite,mysql,postgres] [--rows 10000] [--modules 100]
 *
 * `lars import lars` at scale (docs/store.md, "Moving from Lars"): a Lars
 * database in MariaDB with ROWS RouteData rows over MODULES modules and one
 * ServerCallStatus row per host, imported into a fresh store of each engine
 * that test/support/engines.ts reaches (dropped after). Prints per engine the
 * first import (every route edit with its version and change row, the status
 * rows, one transaction) and the second, which finds nothing to change; then
 * the same routes as a `lars import json` document into another fresh store.
 * The goal is under 5 s for 10,000 rows.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { intToIp } from '../src/protocol/ip.js';
import { LarsImport } from '../src/store/lars-import.js';
import { openStore, RouteAdmin } from '../src/store/index.js';
import { discoverEngines, type TestEngine } from '../test/support/engines.js';
import { createLarsSource, larsSourceServer, type LarsRouteRow } from '../test/support/lars-source.js';
import { table } from './stats.js';

/** The first address of the hosts: above 128.0.0.0, as most private networks' are. */
const FIRST_IP = 0xc0a80000;
const TS = 1_764_740_000;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

async function onFreshStore<T>(engine: TestEngine, work: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const database = await engine.createDatabase();
  const store = await openStore(database.url);
  try {
    return await work(store);
  } finally {
    await store.close();
    await database.drop();
  }
}

export default async function importBench(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { engines: { type: 'string' }, rows: { type: 'string' }, modules: { type: 'string' } } });
  const rows = Number(values.rows ?? 10_000);
  const moduleCount = Number(values.modules ?? 100);
  const server = await larsSourceServer();
  if ('skip' in server) {
    console.log(`SKIP: ${server.skip}`);
    return;
  }
  const wanted = values.engines?.split(',');
  const engines = (await discoverEngines()).available.filter((e) => !wanted || wanted.includes(e.name));
  const routes: LarsRouteRow[] = Array.from({ length: rows }, (_, i) => ({ id: i + 1, modid: 1 + (i % moduleCount), cmdid: 1, ip: intToIp(FIRST_IP + i), port: 8000 + (i % 100) }));
  const status = routes.map((r) => ({ modid: r.modid, cmdid: r.cmdid, ip: r.ip, port: r.port, caller: '10.0.0.1', succ: r.id, err: r.id % 3, ts: TS, overload: r.id % 10 === 0 ? 'Y' : 'N' }));
  const built = await timed(() => createLarsSource(server.serverUrl, { routes, status }));
  console.log(`Lars database ${built.value.name}: ${rows} RouteData rows over ${moduleCount} modules, ${status.length} ServerCallStatus rows, built in ${Math.round(built.ms)} ms`);
  const results: (string | number)[][] = [];
  try {
    for (const engine of engines) {
      const row = await onFreshStore(engine, async (store) => {
        const first = await timed(() => new LarsImport(store).run(built.value.url, 'bench'));
        const second = await timed(() => new LarsImport(store).run(built.value.url, 'bench'));
        if (second.value.edits.length !== 0 || second.value.status.written !== 0) throw new Error(`${engine.name}: the second run changed something`);
        return { first, second, document: await new RouteAdmin(store).exportRoutes() };
      });
      const json = await onFreshStore(engine, (store) => timed(() => new RouteAdmin(store).importRoutes(row.document, 'bench')));
      results.push([
        engine.name,
        row.first.value.edits.length,
        row.first.value.status.written,
        Math.round(row.first.ms),
        Math.round(row.second.ms),
        Math.round(json.ms),
      ]);
      console.log(`${engine.name}: done`);
    }
  } finally {
    await built.value.drop();
  }
  table(['engine', 'edits', 'status rows', 'import ms', 'second run ms', 'json import ms'], results);
}
