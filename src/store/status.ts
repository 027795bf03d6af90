/**
 * Call status and call series (CallStatus): what the reporter writes and what
 * the console and `lars status` read.
 *
 * - call_status keeps the latest report per (modid, cmdid, ip, port, caller):
 *   a row is replaced only by a report at least as new (reported_at), so a
 *   late, older report never overwrites a newer one.
 * - call_series keeps one row per (modid, cmdid, ip, port, caller, window_ts)
 *   whose counts are REPLACED on conflict, so a window sent twice is stored
 *   once. Writes are therefore idempotent: a batch whose commit was lost on
 *   the wire can be written again without double counting.
 *
 * Writes are multi-row upserts chunked under every engine's parameter limit
 * (dialects/parameters.ts), one transaction per batch, rows in key order
 * (consistent lock order between concurrent writers on MySQL and PostgreSQL).
 */
import { sql, type ExpressionBuilder, type Kysely, type RawBuilder } from 'kysely';
import { intToIp } from '../protocol/ip.js';
import { routeKey, type RouteKey } from '../protocol/route-key.js';
import { statementChunks } from './dialects/parameters.js';
import type { CallStatusTable, Database } from './schema.js';
import { kyselyOf, type Store } from './store.js';
import type { StoreKind } from './url.js';

/** One host result of one report, as stored: ip and caller are unsigned 32-bit values. */
export type StatusRow = { [K in Exclude<keyof CallStatusTable, 'reported_at'>]: number } & {
  /** Unix seconds: the end of the report's window. */
  ts: number;
};

/** The duration fields of a result that carried no durations (Lars's agents). */
export const NO_DURATIONS: Readonly<Pick<StatusRow, 'timed' | 'duration_us' | 'max_duration_us'>> = Object.freeze({ timed: 0, duration_us: 0, max_duration_us: 0 });

/** Fields of a StatusRow in a fixed order, for packing rows into numeric arrays. */
export const STATUS_ROW_FIELDS = ['modid', 'cmdid', 'ip', 'port', 'caller', 'succ', 'err', 'overload', 'timed', 'duration_us', 'max_duration_us', 'ts'] as const;

/** A Kysely handle: the store's db or a transaction. */
type Db = Kysely<Database>;

function compareKeys(a: StatusRow, b: StatusRow): number {
  return a.modid - b.modid || a.cmdid - b.cmdid || a.ip - b.ip || a.port - b.port || a.caller - b.caller;
}

function hostKey(row: StatusRow): string {
  return `${row.modid}:${row.cmdid}:${row.ip}:${row.port}:${row.caller}`;
}

export interface CoalescedRows {
  /** The newest row per status key (ties: the later one), in key order. */
  latest: StatusRow[];
  /** The last row per series key (status key + window), in key order. */
  windows: StatusRow[];
}

/**
 * Applies the store's rules within one batch, before the database sees it:
 * one statement may not touch a row twice (PostgreSQL refuses it), and the
 * outcome must not depend on the order rows happen to sit in a statement.
 */
export function coalesceRows(rows: readonly StatusRow[]): CoalescedRows {
  const latest = new Map<string, StatusRow>();
  const windows = new Map<string, StatusRow>();
  for (const row of rows) {
    const key = hostKey(row);
    const current = latest.get(key);
    if (current === undefined || row.ts >= current.ts) latest.set(key, row);
    windows.set(`${key}:${row.ts}`, row);
  }
  return {
    latest: [...latest.values()].sort(compareKeys),
    windows: [...windows.values()].sort((a, b) => compareKeys(a, b) || a.ts - b.ts),
  };
}

/** One report's counts under its key; call_status stamps it reported_at, call_series window_ts. */
function countsOf(row: StatusRow) {
  const { modid, cmdid, ip, port, caller, succ, err, timed, duration_us, max_duration_us } = row;
  return { modid, cmdid, ip, port, caller, succ, err, timed, duration_us, max_duration_us };
}

/** The columns a newer report or a re-sent window replaces, besides overload and reported_at. */
const COUNT_COLUMNS = ['succ', 'err', 'timed', 'duration_us', 'max_duration_us'] as const;

const statusValues = (row: StatusRow) => ({ ...countsOf(row), overload: row.overload, reported_at: row.ts });
const seriesValues = (row: StatusRow) => ({ ...countsOf(row), window_ts: row.ts });

const STATUS_KEY = ['modid', 'cmdid', 'ip', 'port', 'caller'] as const;
const SERIES_KEY = [...STATUS_KEY, 'window_ts'] as const;

/**
 * Latest status upsert: replace only with a report at least as new. Runs in
 * the caller's transaction; exported for bench/reporter.ts, whose
 * baseline is Lars's one autocommitted statement per result.
 */
export async function upsertStatus(db: Db, kind: StoreKind, rows: readonly StatusRow[]): Promise<void> {
  if (rows.length === 0) return;
  const insert = db.insertInto('call_status').values(rows.map(statusValues));
  if (kind === 'mysql') {
    // MySQL applies the assignments left to right: reported_at must come last,
    // so the comparisons before it still see the stored value.
    const newer = sql`values(reported_at) >= reported_at`;
    const ifNewer = (column: string) => sql`if(${newer}, values(${sql.ref(column)}), ${sql.ref(column)})`;
    await insert
      .onDuplicateKeyUpdate({
        ...Object.fromEntries([...COUNT_COLUMNS, 'overload'].map((column) => [column, ifNewer(column)])),
        reported_at: sql`greatest(reported_at, values(reported_at))`,
      })
      .execute();
    return;
  }
  await insert
    .onConflict((oc) =>
      oc
        .columns([...STATUS_KEY])
        .doUpdateSet((eb) => ({
          ...EXCLUDED_COUNTS,
          overload: eb.ref('excluded.overload'),
          reported_at: eb.ref('excluded.reported_at'),
        }))
        .whereRef('excluded.reported_at', '>=', 'call_status.reported_at'),
    )
    .execute();
}

/** Each count column set from the conflicting row: `excluded.C` (SQLite and PostgreSQL) or `values(C)` (MySQL). */
function countsFrom(source: (column: RawBuilder<unknown>) => RawBuilder<number>): Record<(typeof COUNT_COLUMNS)[number], RawBuilder<number>> {
  return Object.fromEntries(COUNT_COLUMNS.map((column) => [column, source(sql.ref(column))])) as Record<(typeof COUNT_COLUMNS)[number], RawBuilder<number>>;
}
const EXCLUDED_COUNTS = countsFrom((column) => sql<number>`excluded.${column}`);
const VALUES_COUNTS = countsFrom((column) => sql<number>`values(${column})`);

/** Series upsert: a window's counts replace what was stored for it. */
async function upsertSeries(db: Db, kind: StoreKind, rows: readonly StatusRow[]): Promise<void> {
  if (rows.length === 0) return;
  const insert = db.insertInto('call_series').values(rows.map(seriesValues));
  if (kind === 'mysql') {
    await insert.onDuplicateKeyUpdate(VALUES_COUNTS).execute();
    return;
  }
  await insert.onConflict((oc) => oc.columns([...SERIES_KEY]).doUpdateSet(EXCLUDED_COUNTS)).execute();
}

/** Mean and longest duration of the calls that reported one, ms; null when none did (docs/reporter.md, "Call durations"). */
export interface CallLatency {
  latencyMs: number | null;
  maxLatencyMs: number | null;
}

/** Durations as stored (sums maybe as strings) to what readers get; µs to ms, kept to the µs. */
export function latencyOf(timed: number | string, durationUs: number | string, maxDurationUs: number | string): CallLatency {
  const count = Number(timed);
  if (!(count > 0)) return { latencyMs: null, maxLatencyMs: null };
  return { latencyMs: Math.round(Number(durationUs) / count) / 1000, maxLatencyMs: Number(maxDurationUs) / 1000 };
}

/** A latest report: one caller's (HostStatus), or one host's with every caller folded in (samplesByRoute). */
export interface StatusSample {
  overload: boolean;
  succ: number;
  err: number;
  /** Unix seconds. */
  reportedAt: number;
}

/** Latest status of one host as seen by one caller, for people and the console. */
export interface HostStatus extends StatusSample, CallLatency {
  modid: number;
  cmdid: number;
  /** Dotted IPv4. */
  ip: string;
  port: number;
  /** Dotted IPv4 of the reporting agent's host. */
  caller: string;
}

/** Calls of one host as seen by one caller, summed over a range of windows. */
export type CallTotals = Omit<HostStatus, 'overload' | 'reportedAt'>;

type Count = number | string;

/** A host and caller's counts as read (addresses as integers, sums maybe as strings) to what callers get. */
function callsOf(r: { modid: number; cmdid: number; ip: number; port: number; caller: number; succ: Count; err: Count; timed: Count; duration_us: Count; max_duration_us: Count }): CallTotals {
  return {
    modid: r.modid,
    cmdid: r.cmdid,
    ip: intToIp(r.ip),
    port: r.port,
    caller: intToIp(r.caller),
    succ: Number(r.succ),
    err: Number(r.err),
    ...latencyOf(r.timed, r.duration_us, r.max_duration_us),
  };
}

/** Sums of the count columns and the longest duration, for a GROUP BY over call_series. */
function summedCounts(eb: ExpressionBuilder<Database, 'call_series'>) {
  return [
    eb.fn.sum<Count>('succ').as('succ'),
    eb.fn.sum<Count>('err').as('err'),
    eb.fn.sum<Count>('timed').as('timed'),
    eb.fn.sum<Count>('duration_us').as('duration_us'),
    eb.fn.max<Count>('max_duration_us').as('max_duration_us'),
  ];
}

/** Chart bucket sizes, seconds: 1 minute, 5 minutes, 1 hour. */
export const SERIES_BUCKETS = [60, 300, 3600] as const;

/** The bucket for a chart range: at most 6 h in minutes, 2 days in 5 minutes, longer in hours. */
export function chooseBucket(rangeSeconds: number): number {
  if (rangeSeconds <= 6 * 3600) return 60;
  if (rangeSeconds <= 48 * 3600) return 300;
  return 3600;
}

export interface SeriesQuery {
  modid: number;
  cmdid: number;
  /** Unix seconds: windows ending in (from, to] are counted. */
  from: number;
  to: number;
  /** Defaults to chooseBucket(to - from). */
  bucketSeconds?: number;
}

export interface SeriesPoint extends CallLatency {
  /** Dotted IPv4. */
  ip: string;
  port: number;
  /** Unix seconds: the bucket's start. */
  bucket: number;
  succ: number;
  err: number;
}

export interface SeriesResult {
  bucketSeconds: number;
  /** Ordered by host, then bucket; buckets without data are absent. */
  points: SeriesPoint[];
}

/** The call_status and call_series tables: the reporter's writes, the console's and `lars status`'s reads. */
export class CallStatus {
  private readonly db: Db;
  private readonly kind: StoreKind;

  constructor(store: Store) {
    this.db = kyselyOf(store);
    this.kind = store.kind;
  }

  /** Writes one batch of host results (any order, duplicates allowed) in one transaction. */
  async write(rows: readonly StatusRow[]): Promise<void> {
    if (rows.length === 0) return;
    const { latest, windows } = coalesceRows(rows);
    await this.db.transaction().execute(async (trx) => {
      for (const chunk of statementChunks(this.kind, latest)) await upsertStatus(trx, this.kind, chunk);
      for (const chunk of statementChunks(this.kind, windows)) await upsertSeries(trx, this.kind, chunk);
    });
  }

  /** Deletes series rows whose window ended before cutoff (unix seconds); returns how many went. */
  async pruneSeries(cutoff: number): Promise<number> {
    const result = await this.db.deleteFrom('call_series').where('window_ts', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Every latest status row, or one service's, in key order. */
  async list(filter?: { modid: number; cmdid: number }): Promise<HostStatus[]> {
    let query = this.db
      .selectFrom('call_status')
      .select(['modid', 'cmdid', 'ip', 'port', 'caller', 'succ', 'err', 'overload', 'reported_at', 'timed', 'duration_us', 'max_duration_us'])
      .orderBy('modid')
      .orderBy('cmdid')
      .orderBy('ip')
      .orderBy('port')
      .orderBy('caller');
    if (filter) query = query.where('modid', '=', filter.modid).where('cmdid', '=', filter.cmdid);
    const rows = await query.execute();
    return rows.map((r) => ({ ...callsOf(r), overload: Number(r.overload) !== 0, reportedAt: Number(r.reported_at) }));
  }

  /** Every caller (agent host) that has reported, with how many host rows it keeps and its latest report: "who reports". */
  async callers(): Promise<{ caller: string; hosts: number; routes: number; lastReportAt: number }[]> {
    const rows = await this.db
      .selectFrom('call_status')
      .select('caller')
      .select((eb) => [eb.fn.countAll<number>().as('hosts'), eb.fn.max<number>('reported_at').as('last')])
      .groupBy('caller')
      .orderBy('caller')
      .execute();
    const routes = await this.db.selectFrom('call_status').select(['caller', 'modid', 'cmdid']).distinct().execute();
    const routeCount = new Map<number, number>();
    for (const r of routes) routeCount.set(Number(r.caller), (routeCount.get(Number(r.caller)) ?? 0) + 1);
    return rows.map((r) => ({ caller: intToIp(r.caller), hosts: Number(r.hosts), routes: routeCount.get(Number(r.caller)) ?? 0, lastReportAt: Number(r.last) }));
  }

  /**
   * Successes and errors per host and caller in the windows ending in
   * (from, to], every service's or one's: what `lars status` shows beside
   * the latest report, which holds one report interval only.
   */
  async totals(query: { from: number; to: number; modid?: number; cmdid?: number }): Promise<CallTotals[]> {
    let select = this.db
      .selectFrom('call_series')
      .select(['modid', 'cmdid', 'ip', 'port', 'caller'])
      .select(summedCounts)
      .where('window_ts', '>', query.from)
      .where('window_ts', '<=', query.to);
    if (query.modid !== undefined && query.cmdid !== undefined) select = select.where('modid', '=', query.modid).where('cmdid', '=', query.cmdid);
    const rows = await select.groupBy(['modid', 'cmdid', 'ip', 'port', 'caller']).execute();
    return rows.map(callsOf);
  }

  /**
   * Success and error counts per host per bucket, summed across callers,
   * with the mean and longest call duration of the bucket. A
   * window is counted in the bucket holding its last second (window_ts - 1): a
   * one-minute window ending at 12:01:00 belongs to the 12:00 bucket.
   */
  async series(query: SeriesQuery): Promise<SeriesResult> {
    const bucketSeconds = query.bucketSeconds ?? chooseBucket(query.to - query.from);
    if (!Number.isSafeInteger(bucketSeconds) || bucketSeconds < 1) throw new RangeError(`bucketSeconds must be a positive integer, got ${bucketSeconds}`);
    // The bucket size is a validated integer written as a literal, so the
    // SELECT and GROUP BY expressions are textually identical (PostgreSQL
    // would not match two separately bound parameters).
    const bucket = sql<number>`(window_ts - 1) - ((window_ts - 1) % ${sql.lit(bucketSeconds)})`;
    const rows = await this.db
      .selectFrom('call_series')
      .select(['ip', 'port'])
      .select((eb) => [bucket.as('bucket'), ...summedCounts(eb)])
      .where('modid', '=', query.modid)
      .where('cmdid', '=', query.cmdid)
      .where('window_ts', '>', query.from)
      .where('window_ts', '<=', query.to)
      .groupBy(['ip', 'port', bucket])
      .orderBy('ip')
      .orderBy('port')
      .orderBy(bucket)
      .execute();
    return {
      bucketSeconds,
      points: rows.map((r) => ({
        ip: intToIp(r.ip),
        port: r.port,
        bucket: Number(r.bucket),
        succ: Number(r.succ),
        err: Number(r.err),
        ...latencyOf(r.timed, r.duration_us, r.max_duration_us),
      })),
    };
  }

  /**
   * Per service (routeKey), one sample per route host that has a report, all
   * callers folded in SQL (a page of every route would otherwise load every
   * caller's row). Hosts no longer in the route are left out.
   */
  async samplesByRoute(): Promise<Map<RouteKey, StatusSample[]>> {
    const rows = await this.db
      .selectFrom('call_status as s')
      .innerJoin('routes as r', (join) =>
        join.onRef('r.modid', '=', 's.modid').onRef('r.cmdid', '=', 's.cmdid').onRef('r.ip', '=', 's.ip').onRef('r.port', '=', 's.port'),
      )
      .select(['s.modid', 's.cmdid', 's.ip', 's.port'])
      .select((eb) => [
        eb.fn.max<number>('s.overload').as('overload'),
        eb.fn.sum<number>('s.succ').as('succ'),
        eb.fn.sum<number>('s.err').as('err'),
        eb.fn.max<number>('s.reported_at').as('reported_at'),
      ])
      .groupBy(['s.modid', 's.cmdid', 's.ip', 's.port'])
      .execute();
    const byRoute = new Map<RouteKey, StatusSample[]>();
    for (const r of rows) {
      const key = routeKey(r.modid, r.cmdid);
      const samples = byRoute.get(key) ?? [];
      samples.push({ overload: Number(r.overload) !== 0, succ: Number(r.succ), err: Number(r.err), reportedAt: Number(r.reported_at) });
      byRoute.set(key, samples);
    }
    return byRoute;
  }
}

/** SQLite result codes (extended codes start with these) that retrying the same rows cannot fix. */
const SQLITE_DATA_ERRORS = ['SQLITE_CONSTRAINT', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG', 'SQLITE_RANGE'];
/**
 * MySQL errnos about the values themselves: null, duplicate, foreign key, out
 * of range, bad value, too long, truncated, and a CHECK constraint (MySQL
 * 3819, MariaDB 4025).
 */
const MYSQL_DATA_ERRNOS = new Set([1048, 1062, 1264, 1265, 1292, 1366, 1406, 1452, 3819, 4025]);

/**
 * True when a write failed because of the rows themselves (a constraint, a
 * value out of range), so retrying them would fail forever. Everything else —
 * a lost connection, a lock, a locked or missing database, even a missing
 * table that a migration will create — is worth retrying.
 */
export function isDataError(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown; sqlState?: unknown };
  if (typeof e?.code === 'string' && SQLITE_DATA_ERRORS.some((code) => (e.code as string).startsWith(code))) return true;
  if (typeof e?.errno === 'number' && typeof e.sqlState === 'string') return MYSQL_DATA_ERRNOS.has(e.errno);
  // PostgreSQL SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation).
  return typeof e?.code === 'string' && /^2[23][0-9A-Z]{3}$/.test(e.code);
}
