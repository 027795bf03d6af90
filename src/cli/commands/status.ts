/**
 * lars status [MODID CMDID] [--json]              latest call status per host and caller
 * lars status MODID CMDID --series DURATION [--json]
 *     success and error counts per host over the last DURATION (e.g. 30m, 6h,
 *     7d), in 1-minute, 5-minute or 1-hour buckets depending on the range.
 */
import { UsageError, parseCommand, printJson, printTable } from '../args.js';
import { sparkline } from '../charts.js';
import { CallStatus, type HostStatus, type SeriesResult } from '../../store/status.js';
import { STORE_OPTIONS, integerArg, withStore } from './db.js';

const FORMS = 'lars status [MODID CMDID] [--json] | lars status MODID CMDID --series DURATION [--json]';

const OPTIONS = { ...STORE_OPTIONS, series: { type: 'string' } } as const;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90s", "30m", "6h", "7d" -> seconds. */
function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2]!]! : 0;
  if (seconds < 1) throw new UsageError(`--series takes a duration like 30m, 6h or 7d, got ${JSON.stringify(text)}`);
  return seconds;
}

/** Unix seconds as UTC, to the second. */
function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** where: the store read, named when there is nothing to show (an empty store reads as lost data). */
function printStatus(rows: HostStatus[], where: string): void {
  printTable(
    ['MODID', 'CMDID', 'HOST', 'CALLER', 'SUCC', 'ERR', 'STATE', 'REPORTED'],
    rows.map((r) => [r.modid, r.cmdid, `${r.ip}:${r.port}`, r.caller, r.succ, r.err, r.overload ? 'overload' : 'ok', formatTime(r.reportedAt)]),
    `(no status reported in ${where})`,
  );
}

function printSeries(series: SeriesResult, from: number, to: number): void {
  process.stdout.write(`${formatTime(from)} .. ${formatTime(to)} in ${series.bucketSeconds} s buckets, summed over callers\n`);
  printTable(
    ['HOST', 'BUCKET', 'SUCC', 'ERR'],
    series.points.map((p) => [`${p.ip}:${p.port}`, formatTime(p.bucket), p.succ, p.err]),
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
    const to = Math.floor(Date.now() / 1000);
    const from = to - parseDuration(values.series);
    const series = await withStore(values, 'read', (store) => new CallStatus(store).series({ ...service, from, to }));
    if (values.json) printJson({ ...service, from, to, ...series });
    else printSeries(series, from, to);
    return 0;
  }
  const { status, where } = await withStore(values, 'read', async (store) => ({ status: await new CallStatus(store).list(service), where: store.describe() }));
  if (values.json) printJson({ status });
  else printStatus(status, where);
  return 0;
}
