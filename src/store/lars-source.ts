/**
 * Reading a Lars database for `lars import lars` (docs/store.md, "Moving from
 * Lars"): its RouteData and ServerCallStatus tables, checked row by row and
 * turned into our model (a module per (modid, cmdid), a host per row, the
 * latest status per host and caller) before anything is written. Read only:
 * one consistent read, on a connection of its own.
 */
import { sql, type Kysely } from 'kysely';
import { toUint32 } from '../protocol/ip.js';
import { openMysql } from './dialects/mysql.js';
import { StoreUrlError, ValidationError } from './errors.js';
import { moduleId, type WantedModule } from './route-document.js';
import type { Database } from './schema.js';
import { coalesceRows, NO_DURATIONS, type StatusRow } from './status.js';
import { readConsistently } from './store.js';
import { describeLocation, parseStoreUrl, type MysqlLocation } from './url.js';
import { checkInteger, LIMITS, type HostKey } from './validate.js';

/** The columns read; a Lars database has the four tables (RouteVersion and RouteChange are dns's, not imported). */
const LARS_COLUMNS = {
  RouteData: ['id', 'modid', 'cmdid', 'serverip', 'serverport'],
  RouteVersion: ['id', 'version'],
  RouteChange: ['id', 'modid', 'cmdid', 'version'],
  ServerCallStatus: ['modid', 'cmdid', 'ip', 'port', 'caller', 'succ_cnt', 'err_cnt', 'ts', 'overload'],
} as const;

type LarsTables = {
  RouteData: { id: number; modid: number; cmdid: number; serverip: number; serverport: number };
  ServerCallStatus: { modid: number; cmdid: number; ip: number; port: number; caller: number; succ_cnt: number; err_cnt: number; ts: number; overload: string };
};

/** A RouteData row left out because an earlier row (by id) names the same host. */
export interface DuplicateRow {
  id: number;
  sameAs: number;
}

export interface LarsSource {
  /** The source URL without its password. */
  source: string;
  /** One per (modid, cmdid) of RouteData, in order of first appearance, each with its hosts. */
  modules: WantedModule[];
  routeRows: number;
  duplicates: DuplicateRow[];
  /** The latest status per host and caller, in key order. */
  status: StatusRow[];
  statusRows: number;
}

/**
 * modid and cmdid are unsigned in Lars's tables and int32 on our wire, so
 * both bounds hold; an address may come from an unsigned column (Lars's
 * RouteData) or a signed one (some ServerCallStatus), the same 32 bits.
 */
const ID = [0, LIMITS.idMax] as const;
const ADDRESS = [-(2 ** 31), 2 ** 32 - 1] as const;
const COUNT = [0, Number.MAX_SAFE_INTEGER] as const;

/** Runs a row's checks; a failure names the row (RouteData id=7: serverport: must be between 1 and 65535, got 0). */
function inRow<T>(row: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(row, err.message);
    throw err;
  }
}

/** Lars writes Y or N (some tools 1 or 0). */
function overloadOf(value: unknown): number {
  if (value === 'Y' || value === '1') return 1;
  if (value === 'N' || value === '0') return 0;
  throw new ValidationError('overload', `must be Y or N, got ${JSON.stringify(value)}`);
}

/** The tables and columns read must be there: anything else is not a Lars database, said before any row is read. */
async function checkSchema(db: Kysely<Database>, source: string): Promise<void> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select table_name as table_name, column_name as column_name from information_schema.columns where table_schema = database()`.execute(db);
  const present = new Set(rows.map((r) => `${r.table_name}.${r.column_name}`.toLowerCase()));
  const tables = Object.keys(LARS_COLUMNS).join(', ');
  for (const [table, columns] of Object.entries(LARS_COLUMNS)) {
    const missing = columns.filter((c) => !present.has(`${table}.${c}`.toLowerCase()));
    if (missing.length === columns.length) throw new ValidationError('from', `${source} is not a Lars database: it has no table ${table} (a Lars database has ${tables})`);
    if (missing.length > 0) throw new ValidationError('from', `${source} is not a Lars database: table ${table} has no column ${missing.join(', ')}`);
  }
}

function routeModules(rows: readonly LarsTables['RouteData'][]): Pick<LarsSource, 'modules' | 'duplicates'> {
  const modules = new Map<string, WantedModule & { hosts: { key: HostKey }[] }>();
  const firstRow = new Map<string, number>();
  const duplicates: DuplicateRow[] = [];
  for (const r of rows) {
    const key = inRow(`RouteData id=${r.id}`, () => ({
      modid: checkInteger('modid', r.modid, ...ID),
      cmdid: checkInteger('cmdid', r.cmdid, ...ID),
      ip: toUint32(checkInteger('serverip', r.serverip, ...ADDRESS)),
      port: checkInteger('serverport', r.serverport, LIMITS.portMin, LIMITS.portMax),
    }));
    const hostId = `${moduleId(key)}:${key.ip}:${key.port}`;
    const sameAs = firstRow.get(hostId);
    if (sameAs !== undefined) {
      duplicates.push({ id: r.id, sameAs });
      continue;
    }
    firstRow.set(hostId, r.id);
    const module = modules.get(moduleId(key)) ?? { key: { modid: key.modid, cmdid: key.cmdid }, hosts: [] };
    module.hosts.push({ key });
    modules.set(moduleId(key), module);
  }
  return { modules: [...modules.values()], duplicates };
}

function statusRowOf(r: LarsTables['ServerCallStatus']): StatusRow {
  return inRow(`ServerCallStatus modid=${r.modid} cmdid=${r.cmdid} ip=${r.ip} port=${r.port} caller=${r.caller}`, () => ({
    modid: checkInteger('modid', r.modid, ...ID),
    cmdid: checkInteger('cmdid', r.cmdid, ...ID),
    ip: toUint32(checkInteger('ip', r.ip, ...ADDRESS)),
    port: checkInteger('port', r.port, LIMITS.portMin, LIMITS.portMax),
    caller: toUint32(checkInteger('caller', r.caller, ...ADDRESS)),
    succ: checkInteger('succ_cnt', r.succ_cnt, ...COUNT),
    err: checkInteger('err_cnt', r.err_cnt, ...COUNT),
    overload: overloadOf(r.overload),
    ...NO_DURATIONS,
    // Lars's reporter stamps a row with the unix second it wrote it, the end of the window it reports: our reported_at.
    ts: checkInteger('ts', r.ts, ...COUNT),
  }));
}

function mysqlLocationOf(url: string): MysqlLocation {
  const location = parseStoreUrl(url);
  if (location.kind !== 'mysql') throw new StoreUrlError('a Lars database is MySQL or MariaDB: --from mysql://USER[:PASSWORD]@HOST:PORT/DB');
  return location;
}

/**
 * Reads and checks the Lars database at `url` (mysql:// or mariadb://). Throws
 * StoreUrlError for another URL, StoreUnavailableError when it cannot be
 * reached, and ValidationError when it is not a Lars database or a row is out
 * of range (naming the row); no message holds the password.
 */
export async function readLarsSource(url: string, options: { connectTimeoutMs?: number } = {}): Promise<LarsSource> {
  const location = mysqlLocationOf(url);
  const source = describeLocation(location);
  const dialect = await openMysql(location, { connectTimeoutMs: options.connectTimeoutMs ?? 10_000, poolSize: 1 });
  try {
    await checkSchema(dialect.db, source);
    const { routes, status } = await readConsistently(dialect.db, async (trx) => {
      const lars = trx.withTables<LarsTables>();
      return {
        routes: await lars.selectFrom('RouteData').select(LARS_COLUMNS.RouteData).orderBy('id').execute(),
        status: await lars.selectFrom('ServerCallStatus').select(LARS_COLUMNS.ServerCallStatus).execute(),
      };
    });
    return {
      source,
      ...routeModules(routes),
      routeRows: routes.length,
      status: coalesceRows(status.map(statusRowOf)).latest,
      statusRows: status.length,
    };
  } finally {
    await dialect.close();
  }
}
