/**
 * lars status [MODID CMDID] [--window DURATION] [--json]
 *     per host and caller: the calls of the last DURATION (default 5m) and
 *     the state of the latest report (docs/reporter.md, "Reading the status")
 * lars status MODID CMDID --series DURATION [--json]
 *     success and error counts and call durations per host over the last DURATION (e.g. 30m, 6h,
 *     7d), in 1-minute, 5-minute or 1-hour buckets depending on the range.
 */
import { UsageError, parseCommand, printJson, printTable } from '../args.js';
import { sparkline } from '../charts.js';
import { hostStateName } from '../host-state.js';
import { CallStatus, type CallTotals, type HostStatus, type SeriesResult } from '../../store/status.js';
import { STORE_OPTIONS, integerArg, withStore } from './db.js';

const FORMS = 'lars status [MODID CMDID] [--window DURATION] [--json] | lars status MODID CMDID --series DURATION [--json]';

const OPTIONS = { ...STORE_OPTIONS, series: { type: 'string' }, window: { type: 'string' } } as const;

/** lars status without --window: several report intervals, and still "now". */
const DEFAULT_WINDOW = '5m';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90s", "30m", "6h", "7d" -> seconds. */
function parseDuration(flag: string, text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2]!]! : 0;
  if (seconds < 1) throw new UsageError(`${flag} takes a duration like 30m, 6h or 7d, got ${JSON.stringify(text)}`);
  return seconds;
}

/** A latest report with the calls of the window beside it (0, or null durations, where the window holds none). */
interface StatusRow extends HostStatus {
  windowSucc: number;
  windowErr: number;
  windowLatencyMs: number | null;
  windowMaxLatencyMs: number | null;
}

function withTotals(latest: HostStatus[], totals: CallTotals[]): StatusRow[] {
  const key = (r: CallTotals) => `${r.modid}/${r.cmdid}/${r.ip}/${r.port}/${r.caller}`;
  const sums = new Map(totals.map((t) => [key(t), t]));
  return latest.map((r) => {
    const window = sums.get(key(r));
    return {
      ...r,
      windowSucc: window?.succ ?? 0,
      windowErr: window?.err ?? 0,
      windowLatencyMs: window?.latencyMs ?? null,
      windowMaxLatencyMs: window?.maxLatencyMs ?? null,
    };
  });
}

/** A duration in ms for a table cell: '-' when no call reported one. */
function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  return ms >= 100 ? ms.toFixed(0) : ms.toPrecision(3);
}

/** Unix seconds as UTC, to the second. */
function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** where: the store read, named when there is nothing to show (an empty store reads as lost data). */
function printStatus(rows: StatusRow[], window: string, where: string): void {
  if (rows.length > 0) {
    process.stdout.write(`SUCC, ERR: calls in the last ${window} (--window); MEAN MS, MAX MS: their durations, where callers report them; STATE: the latest report's\n`);
  }
  printTable(
    ['MODID', 'CMDID', 'HOST', 'CALLER', 'SUCC', 'ERR', 'ERR%', 'MEAN MS', 'MAX MS', 'STATE', 'REPORTED'],
    rows.map((r) => [
      r.modid,
      r.cmdid,
      `${r.ip}:${r.port}`,
      r.caller,
      r.windowSucc,
      r.windowErr,
      r.windowSucc + r.windowErr === 0 ? '-' : ((100 * r.windowErr) / (r.windowSucc + r.windowErr)).toFixed(1),
      formatMs(r.windowLatencyMs),
      formatMs(r.windowMaxLatencyMs),
      hostStateName(r.overload),
      formatTime(r.reportedAt),
    ]),
    `(no status reported in ${where})`,
  );
}

function printSeries(series: SeriesResult, from: number, to: number): void {
  process.stdout.write(`${formatTime(from)} .. ${formatTime(to)} in ${series.bucketSeconds} s buckets, summed over callers\n`);
  printTable(
    ['HOST', 'BUCKET', 'SUCC', 'ERR', 'MEAN MS', 'MAX MS'],
    series.points.map((p) => [`${p.ip}:${p.port}`, formatTime(p.bucket), p.succ, p.err, formatMs(p.latencyMs), formatMs(p.maxLatencyMs)]),
    '(no calls in this range)',
  );
  if (series.points.length > 0) printSeriesPicture(series, from, to);
}

/** A sparkline is at most this many characters; longer ranges merge neighbouring buckets. */
const PICTURE_COLUMNS = 60;

/**
 * Per host, successes and errors over the range as two sparklines on one
 * scale (the host's busiest column), so the errors' height compares with
 * the successes'. Buckets without data count as no calls.
 */
function printSeriesPicture(series: SeriesResult, from: number, to: number): void {
  const size = series.bucketSeconds;
  const first = Math.floor(from / size) * size;
  const buckets = Math.floor(to / size) - first / size + 1;
  const merge = Math.ceil(buckets / PICTURE_COLUMNS);
  const columns = Math.ceil(buckets / merge);
  const hosts = new Map<string, { succ: number[]; err: number[] }>();
  for (const point of series.points) {
    const name = `${point.ip}:${point.port}`;
    let host = hosts.get(name);
    if (!host) hosts.set(name, (host = { succ: new Array<number>(columns).fill(0), err: new Array<number>(columns).fill(0) }));
    const column = Math.min(columns - 1, Math.max(0, Math.floor((point.bucket - first) / size / merge)));
    host.succ[column]! += point.succ;
    host.err[column]! += point.err;
  }
  const width = Math.max(...[...hosts.keys()].map((name) => name.length));
  process.stdout.write(`\ncalls over time, one character per ${merge * size} s, each host on its own scale:\n`);
  for (const [name, { succ, err }] of hosts) {
    const top = Math.max(...succ.map((s, i) => s + err[i]!));
    process.stdout.write(`${name.padEnd(width)}  succ ${sparkline(succ, top)}  err ${sparkline(err, top)}\n`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, OPTIONS);
  if (positionals.length !== 0 && positionals.length !== 2) throw new UsageError(`expected [MODID CMDID]: ${FORMS}`);
  const service = positionals.length === 2 ? { modid: integerArg('MODID', positionals[0]), cmdid: integerArg('CMDID', positionals[1]) } : undefined;
  if (values.series !== undefined) {
    if (!service) throw new UsageError(`--series needs MODID CMDID: ${FORMS}`);
    if (values.window !== undefined) throw new UsageError(`--window is for the table; --series takes its own range: ${FORMS}`);
    const to = Math.floor(Date.now() / 1000);
    const from = to - parseDuration('--series', values.series);
    const series = await withStore(values, 'read', (store) => new CallStatus(store).series({ ...service, from, to }));
    if (values.json) printJson({ ...service, from, to, ...series });
    else printSeries(series, from, to);
    return 0;
  }
  const window = values.window ?? DEFAULT_WINDOW;
  const to = Math.floor(Date.now() / 1000);
  const from = to - parseDuration('--window', window);
  const { status, where } = await withStore(values, 'read', async (store) => {
    const calls = new CallStatus(store);
    return { status: withTotals(await calls.list(service), await calls.totals({ from, to, ...service })), where: store.describe() };
  });
  if (values.json) printJson({ from, to, status });
  else printStatus(status, window, where);
  return 0;
}
