/** Shared pieces of the command line: errors with exit codes, flag parsing, output. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { join } from 'node:path';
import { EndpointError, parseEndpoint, parseEndpointList, type Endpoint } from '../reactor/endpoint.js';

/** Exit code 2: the command line itself is wrong. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit code 1 with this one line on stderr. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
export type ParsedCommand<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/** A negative number: a value (modid, cmdid, weight, seed), never an option. */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;
/** Stands for the '-' of a negative positional while parseArgs runs (it would take "-1" for an option). */
const MINUS = '\u2212';

/**
 * util.parseArgs with usage errors instead of TypeErrors, and negative
 * numbers taken as values: `--weight -1` as `--weight=-1`, and `-1` where a
 * positional goes as that positional (store ids may be negative).
 */
export function parseCommand<O extends Options>(argv: string[], options: O): ParsedCommand<O> {
  const takesValue = (token: string | undefined) => {
    const name = token?.startsWith('--') && !token.includes('=') ? token.slice(2) : undefined;
    return name !== undefined && options[name]?.type === 'string';
  };
  const args: string[] = [];
  const end = argv.indexOf('--');
  argv.forEach((token, i) => {
    if ((end >= 0 && i > end) || !NEGATIVE_NUMBER.test(token)) args.push(token);
    else if (takesValue(args.at(-1))) args.push(`${args.pop()}=${token}`);
    else args.push(MINUS + token.slice(1));
  });
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { ...parsed, positionals: parsed.positionals.map((p) => (p.startsWith(MINUS) ? `-${p.slice(1)}` : p)) };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Decimal, no leading zeros: "080" is refused as the IP octet "04" is (either could be read as octal). */
export function parseIntArg(name: string, text: string | undefined, min = -2147483648, max = 2147483647): number {
  if (text === undefined) throw new UsageError(`missing ${name}`);
  if (!/^-?\d+$/.test(text)) throw new UsageError(`${name} must be an integer, got ${JSON.stringify(text)}`);
  if (/^-?0\d/.test(text)) throw new UsageError(`${name} must be written without leading zeros, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${text}`);
  return value;
}

/** An endpoint flag ("HOST:PORT", ":PORT" or "PORT"; the host then defaults); a bad one is a usage error. */
export function parseEndpointArg(text: string, defaultHost: string): Endpoint {
  return asUsage(() => parseEndpoint(text, defaultHost));
}

export function parseEndpointListArg(text: string, defaultHost: string): Endpoint[] {
  return asUsage(() => parseEndpointList(text, defaultHost));
}

function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof EndpointError) throw new UsageError(err.message);
    throw err;
  }
}

export const DEFAULT_DATA_DIR = 'lars-data';

export function dataDir(flag: string | undefined): string {
  return flag ?? process.env.LARS_DATA_DIR ?? DEFAULT_DATA_DIR;
}

/** --store, then $LARS_STORE, then the SQLite file in the data directory. */
export function storeUrl(flag: string | undefined, dataDirFlag?: string): string {
  return flag ?? process.env.LARS_STORE ?? `sqlite:${join(dataDir(dataDirFlag), 'lars.db')}`;
}

/** True when the command line or the environment named the store; false when it is ./lars-data by default. */
export function storeNamed(flag: string | undefined, dataDirFlag?: string): boolean {
  return Boolean(flag ?? process.env.LARS_STORE ?? dataDirFlag ?? process.env.LARS_DATA_DIR);
}

export function printJson(doc: unknown): void {
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}

/** A plain aligned table; an empty list prints the given line instead. */
export function printTable(columns: string[], rows: (string | number | boolean | null | undefined)[][], empty = '(none)'): void {
  if (rows.length === 0) {
    process.stdout.write(empty + '\n');
    return;
  }
  const cells = [columns, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  for (const row of cells) {
    process.stdout.write(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n');
  }
}

/** How long ago a unix-seconds time was, for tables: "3s ago", "5m ago", "2h ago", "4d ago". */
/** Unix seconds as UTC to the second, e.g. 2026-12-03T07:50:07Z. */
export function isoSeconds(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function ageText(unixSeconds: number, nowSeconds: number): string {
  const s = Math.max(0, Math.round(nowSeconds - unixSeconds));
  if (s < 120) return `${s}s ago`;
  if (s < 2 * 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 2 * 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
